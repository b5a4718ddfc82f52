"""The archive export: an organisation's posts of a period as a BagIt bag (RFC 8493) with MDTO sidecars.

Owns: the layout of the bag and writing it, streamed and resumable. Never: SQL (server/archive_records.py reads),
the MDTO vocabulary (server/archive_mdto.py), ActivityStreams JSON (the caller passes `note_json`, built by the
composition root from federation/wire.py: server/ never imports federation/), or who may export (the caller checks).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from html import escape, unescape
from pathlib import Path
from typing import Any

import asyncpg

from server import (__version__, archive, archive_records, archive_webcare, handle_domains, media_store, organisations,
                    uris)
from server import voice as voices
from server import archive_mdto as mdto
from server.accounts import Account
from server.config import Settings
from server.db.pool import connection
from server.deps import utc_now
from server.errors import Conflict, Invalid, NotFound
from server.media import Attachment
from server.organisations import Organisation
from server.posts import Post

VOICES = ("all", "official")


@dataclass(frozen=True)
class NoteInput:
    """What a Note of one version needs: the post as it read then, and its context."""

    post: Post
    author: Account
    attachments: tuple[Attachment, ...]
    in_reply_to_uri: str | None
    mentioned: tuple[Account, ...]
    tags: tuple[str, ...]
    organisation: Organisation | None = None  # the one an official-voice post speaks for


# The ActivityStreams JSON of one version (server.cli.archive.note_builder wires federation/wire.py's note_to_json).
NoteJson = Callable[[NoteInput], dict[str, Any]]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the bag's directory, how many posts, files and payload bytes, and whether it went on
    from an earlier, interrupted run."""

    path: Path
    posts: int
    files: int
    payload_bytes: int
    resumed: bool


def _plain(html_text: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html_text)).split())


# The live handle domains (issue 17) of the exported organisation, by organisation id, for the export running in this
# task: set once by `export_bag`, read by `_handle`, so every name in the bag uses @anna@ede.nl where it is live.
_HANDLE_DOMAINS: ContextVar[Mapping[int, str]] = ContextVar("archive_handle_domains", default={})


def _handle(settings: Settings, account: Account) -> str:
    live = _HANDLE_DOMAINS.get().get(account.organisation_id) if account.is_local and account.organisation_id else None
    return f"@{account.username}@{live or account.domain or settings.domain}"


def _actor_ref(settings: Settings, account: Account | None) -> mdto.Ref | None:
    if account is None:
        return None
    name = f"{account.display_name} ({_handle(settings, account)})" if account.display_name else _handle(settings,
                                                                                                          account)
    return mdto.Ref(name, account.actor_uri or uris.actor(settings, account.username), "URI")


def post_uri(settings: Settings, post: Post, author: Account) -> str:
    return post.uri or uris.status(settings, author.username, post.id)


@dataclass
class _Context:
    """What every record of one export shares."""

    settings: Settings
    organisation: Organisation
    rules: archive.ArchiveSettings
    note_json: NoteJson
    at: datetime
    bag_name: str


class _Journal:
    """The payload written so far, one line per file (sha256, size, path), appended before a post's folder gets its
    final name; so a resumed run knows every finished file's checksum without reading it again."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def keep_existing(self, root: Path) -> None:
        """Drop lines of files that are not there (a post whose folder never got its name is written again)."""
        if not self.path.exists():
            return
        kept = self.path.with_suffix(".tmp")
        with self.path.open(encoding="utf-8") as old, kept.open("w", encoding="utf-8") as new:
            for line in old:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3 and line.endswith("\n") and (root / parts[2]).is_file():
                    new.write(line)
        kept.replace(self.path)

    def append(self, lines: list[tuple[str, int, str]]) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.writelines(f"{digest}\t{size}\t{path}\n" for digest, size, path in lines)
            out.flush()
            os.fsync(out.fileno())

    def entries(self) -> Iterator[tuple[str, int, str]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                digest, size, path = line.rstrip("\n").split("\t")
                yield digest, int(size), path


class _Folder:
    """One post's folder while it is written: under a temporary name, its files hashed as they are written."""

    def __init__(self, root: Path, final: Path) -> None:
        self.root, self.final = root, final
        self.temp = final.with_name(f".{final.name}.partial")
        shutil.rmtree(self.temp, ignore_errors=True)
        self.temp.mkdir(parents=True)
        self.written: list[tuple[str, int, str]] = []

    def rel(self, name: str) -> str:
        return (self.final / name).relative_to(self.root).as_posix()

    def write(self, name: str, data: bytes) -> tuple[str, int]:
        path = self.temp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        self.written.append((digest, len(data), self.rel(name)))
        return digest, len(data)

    def finish(self, journal: _Journal) -> None:
        journal.append(self.written)
        self.temp.rename(self.final)


def _event(label: str, at: datetime | None, actor: mdto.Ref | None = None, result: str | None = None) -> mdto.Event:
    return mdto.Event(mdto.event_type(label), at, actor, result)


def _events(ctx: _Context, record: archive_records.Record, received: bool) -> list[mdto.Event]:
    """Creation, every edit, the reviewers' decisions, publication, federation and deletion, in time order."""
    post, settings = record.post, ctx.settings
    author = _actor_ref(settings, record.author)
    found: list[mdto.Event] = [_event("Creatie", post.created_at, author)]
    if received:
        found.append(_event("Ontvangst", post.created_at, None, f"Ontvangen van {_handle(settings, record.author)}"))
    found += [_event("Wijziging", v.at, author, f"Versie {v.number}") for v in record.versions[1:]]
    approved_at = None
    for happening in record.happenings:
        actor = _actor_ref(settings, happening.actor)
        if happening.kind == "review.approved":
            approved_at = happening.at
            found.append(_event("Accordering", happening.at, actor, "Goedgekeurd (vier ogen)"))
        elif happening.kind in ("review.rejected", "review.changes_requested"):
            found.append(_event("Accordering", happening.at, actor, "Niet goedgekeurd: "
                                + str(happening.detail.get("note") or happening.detail.get("reason") or "")))
        elif happening.kind.startswith("post.") and happening.detail.get("state") is not None:
            what = {"post.created": "Create", "post.updated": "Update", "post.deleted": "Delete"}[happening.kind]
            found.append(_event("Verzending", happening.at, actor,
                                f"ActivityPub {what} aan de volgers op andere servers ({happening.detail['state']})"))
    if not received and post.state == "published" and post.visibility in ("public", "unlisted"):
        found.append(_event("Publicatie", approved_at or post.created_at, author,
                            post_uri(settings, post, record.author)))
    if post.deleted_at:
        remover = next((h for h in record.happenings if h.kind == "post.removed"), None)
        by = _actor_ref(settings, remover.actor) if remover else author
        found.append(_event("Bevriezing", post.deleted_at, by,
                            "Verwijderd " + ("door een moderator" if remover else "door de auteur")
                            + ": niet meer op het platform en bij andere servers; dit archiefexemplaar blijft"))
    return sorted(found, key=lambda e: e.time or post.created_at)


def _restriction(record: archive_records.Record, received: bool) -> mdto.Beperking:
    if received:
        return mdto.Beperking(mdto.Begrip("Overig", mdto.BEPERKINGEN), PERSONAL_DATA)
    if record.post.voice == "personal":
        return mdto.Beperking(mdto.Begrip("Overig", mdto.BEPERKINGEN), "Persoonlijk bericht van een medewerker "
                              "(persoonsgegevens, AVG; Woo art. 5.1 lid 2 onder e)")
    if record.post.visibility in ("private", "direct"):
        return mdto.Beperking(mdto.Begrip("Overig", mdto.BEPERKINGEN), "Niet openbaar verzonden bericht")
    return mdto.Beperking(mdto.Begrip("Geen beperking", mdto.BEPERKINGEN))


PERSONAL_DATA = ("Bevat persoonsgegevens van een burger (AVG); openbaarmaking alleen na lakken op grond van "
                 "Woo art. 5.1 lid 2 onder e (eerbiediging van de persoonlijke levenssfeer)")


def archiefvormer(organisation: Organisation) -> mdto.Ref:
    if organisation.tooi_code:
        return mdto.Ref(organisation.name, organisation.tooi_code, "TOOI")
    return mdto.Ref(organisation.name)


def _informatieobject(ctx: _Context, record: archive_records.Record, *, received: bool, dossier: mdto.Ref,
                      files: list[mdto.Ref], related: list[tuple[mdto.Ref, str]], naam: str) -> bytes:
    post, rules = record.post, ctx.rules
    kind = "received" if received else post.voice
    retention = rules.retention(kind)
    created = post.created_at.date()
    voice_word = {"official": "officiële stem", "personal": "persoonlijke stem"}[post.voice]
    role = "Auteur (burger)" if received else f"Auteur ({voice_word})"
    category = (mdto.Begrip(rules.category_label, rules.selectielijst or "Selectielijst", rules.category_code)
                if rules.category_label else None)
    return mdto.informatieobject_xml(mdto.Informatieobject(
        identificatie=((post_uri(ctx.settings, post, record.author), "URI"),
                       (str(post.id), f"Ambtenaar Online {ctx.settings.domain}")),
        naam=naam, aggregatieniveau="Archiefstuk", waardering=rules.waardering,
        archiefvormer=archiefvormer(ctx.organisation), beperkingen=(_restriction(record, received),),
        omschrijving=f"Bericht op de fediverse ({post.visibility}, {post.state}); {len(record.versions)} versie(s)",
        dekking=("Publicatieperiode", created, post.deleted_at.date() if post.deleted_at else None),
        taal=(post.language,), events=tuple(_events(ctx, record, received)),
        bewaartermijn=mdto.Termijn(mdto.event_type("Creatie"), created, retention.iso, retention.add_to(created))
        if rules.waardering == "V" else None,
        informatiecategorie=category, is_onderdeel_van=(dossier,), heeft_representatie=tuple(files),
        gerelateerd=tuple(related), betrokkenen=((role, _actor_ref(ctx.settings, record.author)),)))  # type: ignore[arg-type]


def _html(ctx: _Context, record: archive_records.Record, version: archive_records.Version,
          media_names: list[tuple[str, str]]) -> bytes:
    """A self-contained page of one version: no scripts, no remote resources, images by relative path."""
    post, author = record.post, record.author
    images = "".join(f'<figure><img src="{escape(src)}" alt="{escape(alt)}"><figcaption>{escape(alt)}</figcaption>'
                     f"</figure>" for src, alt in media_names)
    summary = f"<p><strong>{escape(version.spoiler_text)}</strong></p>" if version.spoiler_text else ""
    voice_line = voices.line(post.voice, "nl", ctx.organisation if post.voice == "official" else None)
    page = (f'<!DOCTYPE html>\n<html lang="{escape(post.language)}"><head><meta charset="utf-8">'
            f"<title>{escape(_handle(ctx.settings, author))}, {version.at:%Y-%m-%d %H:%M} UTC</title></head><body>"
            f"<article><header><p>{escape(author.display_name or author.username)} "
            f"({escape(_handle(ctx.settings, author))}) · {escape(voice_line)}</p>"
            f"<p>Versie {version.number} van {len(record.versions)} · {version.at:%Y-%m-%d %H:%M:%S} UTC</p>"
            f"</header>{summary}<div>{version.content_html}</div>{images}"
            f"<footer><p>{escape(post_uri(ctx.settings, post, author))}</p></footer></article></body></html>\n")
    return page.encode("utf-8")


def _file_ref(folder: _Folder, name: str) -> mdto.Ref:
    return mdto.Ref(name, folder.rel(name), "BagIt")


def _bestand(ctx: _Context, folder: _Folder, name: str, media_type: str, digest: str, size: int,
             of: mdto.Ref) -> None:
    folder.write(f"{name}.bestand.mdto.xml", mdto.bestand_xml(mdto.Bestand(
        identificatie=(folder.rel(name), f"BagIt {ctx.bag_name}"), naam=name, omvang=size, media_type=media_type,
        sha256=digest, checksum_at=ctx.at, is_representatie_van=of)))


def _name(ctx: _Context, record: archive_records.Record) -> str:
    text = _plain(record.versions[-1].content_html) or "(zonder tekst)"
    return f"{text[:80]}{'…' if len(text) > 80 else ''} ({_handle(ctx.settings, record.author)}, " \
           f"{record.post.created_at:%Y-%m-%d})"


def _write_record(ctx: _Context, folder: _Folder, prefix: str, record: archive_records.Record, *, received: bool,
                  dossier: mdto.Ref, related: list[tuple[mdto.Ref, str]], images: Mapping[str, bytes]) -> mdto.Ref:
    """The files of one post (each version as JSON and HTML, the images) and their sidecars, then its own sidecar.
    `images` holds the bytes of the post's own image files, by name (read from the media store beforehand)."""
    naam = _name(ctx, record)
    me = mdto.Ref(naam, post_uri(ctx.settings, record.post, record.author), "URI")
    files: list[mdto.Ref] = []
    media_names: list[tuple[str, str]] = []
    for attachment in record.attachments:
        data = images.get(attachment.file_name) if attachment.file_name else None
        if data is None:
            continue  # a remote image is a link, not a file of ours
        name = f"{prefix}media/{attachment.file_name}"
        digest, size = folder.write(name, data)
        _bestand(ctx, folder, name, attachment.content_type, digest, size, me)
        files.append(_file_ref(folder, name))
        media_names.append((f"media/{attachment.file_name}", attachment.description))
    parent_uri = post_uri(ctx.settings, *record.parent) if record.parent else record.post.in_reply_to_uri
    for version in record.versions:
        as_then = replace(record.post, source_text=version.source_text, content_html=version.content_html,
                          spoiler_text=version.spoiler_text,
                          edited_at=version.at if version.number > 1 else None)
        note = ctx.note_json(NoteInput(as_then, record.author, record.attachments, parent_uri, record.mentioned,
                                       record.tags, ctx.organisation if record.post.voice == "official" else None))
        for name, data, media_type in (
                (f"{prefix}v{version.number}.json", json.dumps(note, ensure_ascii=False, indent=1).encode("utf-8"),
                 "application/activity+json"),
                (f"{prefix}v{version.number}.html", _html(ctx, record, version, media_names), "text/html")):
            digest, size = folder.write(name, data)
            _bestand(ctx, folder, name, media_type, digest, size, me)
            files.append(_file_ref(folder, name))
    if parent_uri and not received:
        related = [*related, (mdto.Ref(parent_uri, parent_uri, "URI"), "Refereert aan")]
    folder.write(f"{prefix}{record.post.id}.mdto.xml", _informatieobject(
        ctx, record, received=received, dossier=dossier, files=files, related=related, naam=naam))
    return me


STATE = ".ambtenaar-export.json"
JOURNAL = ".ambtenaar-export.journal"


def _open_bag(out_dir: Path, params: dict[str, Any]) -> bool:
    """Start a bag in `out_dir`, or go on with the unfinished one there; whether it goes on. Refuses a finished bag,
    another export's unfinished one, and a folder holding anything else."""
    state = out_dir / STATE
    if (out_dir / "tagmanifest-sha256.txt").exists():
        raise Conflict("%(dir)s already holds a finished bag; choose a new folder.", dir=str(out_dir))
    if state.exists():
        if json.loads(state.read_text(encoding="utf-8")) != params:
            raise Conflict("%(dir)s holds an unfinished export of another organisation, period or voice; finish it "
                           "with the same options or choose a new folder.", dir=str(out_dir))
        for partial in (out_dir / "data").glob("**/.*.partial"):
            shutil.rmtree(partial, ignore_errors=True)
        _Journal(out_dir / JOURNAL).keep_existing(out_dir)
        return True
    if out_dir.exists() and any(out_dir.iterdir()):
        raise Conflict("%(dir)s is not empty; the export writes a new bag into an empty or new folder.",
                       dir=str(out_dir))
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(params), encoding="utf-8")
    return False


def _dossier(ctx: _Context, out_dir: Path, journal: _Journal, author: Account, start: date, end: date) -> mdto.Ref:
    """The dossier of one account and period: its folder and sidecar, written once."""
    folder = out_dir / "data" / author.username
    naam = f"Berichten van {author.display_name or author.username} ({_handle(ctx.settings, author)}), " \
           f"{start.isoformat()} t/m {end.isoformat()}"
    ident = f"{author.actor_uri or uris.actor(ctx.settings, author.username)}#archief-{start}-{end}"
    ref = mdto.Ref(naam, ident, "URI")
    sidecar = folder / f"{author.username}.mdto.xml"
    if sidecar.exists():
        return ref
    folder.mkdir(parents=True, exist_ok=True)
    rules = ctx.rules
    data = mdto.informatieobject_xml(mdto.Informatieobject(
        identificatie=((ident, "URI"),), naam=naam, aggregatieniveau="Dossier", waardering=rules.waardering,
        archiefvormer=archiefvormer(ctx.organisation),
        beperkingen=(mdto.Beperking(mdto.Begrip("Overig", mdto.BEPERKINGEN),
                                    "Elk archiefstuk noemt zijn eigen beperking; ontvangen reacties van burgers "
                                    "bevatten persoonsgegevens"),),
        omschrijving=f"Fediverse-berichten van {_handle(ctx.settings, author)} voor {ctx.organisation.name}, met "
                     f"elke versie, besluiten, verzending, verwijdering en ontvangen reacties",
        dekking=("Publicatieperiode", start, end), events=(_event("Export", ctx.at, None, "Ambtenaar Online"),),
        betrokkenen=(("Auteur", _actor_ref(ctx.settings, author)),)))  # type: ignore[arg-type]
    temp = sidecar.with_name(f".{sidecar.name}.partial")
    temp.write_bytes(data)
    journal.append([(hashlib.sha256(data).hexdigest(), len(data), sidecar.relative_to(out_dir).as_posix())])
    temp.rename(sidecar)
    return ref


def _finish(out_dir: Path, journal: _Journal, bag_info: dict[str, str]) -> tuple[int, int]:
    """manifest-sha256.txt from the journal, bag-info.txt with the Payload-Oxum, bagit.txt, and last the tag
    manifest, which marks the bag finished. (files, bytes) of the payload."""
    files = size = 0
    with (out_dir / "manifest-sha256.txt").open("w", encoding="utf-8") as manifest:
        for digest, length, path in journal.entries():
            manifest.write(f"{digest}  {path}\n")
            files, size = files + 1, size + length
    info = {**bag_info, "Payload-Oxum": f"{size}.{files}"}
    (out_dir / "bag-info.txt").write_text("".join(f"{k}: {v}\n" for k, v in info.items()), encoding="utf-8")
    (out_dir / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
    lines = [f"{hashlib.sha256((out_dir / n).read_bytes()).hexdigest()}  {n}\n"
             for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")]
    temp = out_dir / ".tagmanifest.partial"
    temp.write_text("".join(lines), encoding="utf-8")
    temp.rename(out_dir / "tagmanifest-sha256.txt")
    (out_dir / STATE).unlink(missing_ok=True)
    (out_dir / JOURNAL).unlink(missing_ok=True)
    return files, size


async def export_bag(pool: asyncpg.Pool, organisation_id: int, *, settings: Settings, start: date, end: date,
                     out_dir: Path, note_json: NoteJson, voice: str = "all", progress: Progress | None = None,
                     now: Callable[[], datetime] | None = None) -> ExportResult:
    """Write (or finish) the bag of an organisation's posts created from `start` up to and including `end` (UTC).

    Streams: posts are read a page at a time and each file is written and hashed as it goes, so memory stays flat
    whatever the size. Resumable: an interrupted run into the same `out_dir` (killed, or stopped by a crash) is
    continued: finished posts are kept and not written again, a half-written one is written anew, and the manifests
    and bag-info.txt come last. `progress(done, total)` is called after every post. The webcare conversations of
    the period follow the posts, each a dossier (server/archive_webcare.py).
    """
    if voice not in VOICES:
        raise Invalid("The voice is all or official.")
    if end < start:
        raise Invalid("The period ends before it starts.")
    at = (now or utc_now)()
    start_at = datetime.combine(start, time.min, timezone.utc)
    end_at = datetime.combine(end + timedelta(days=1), time.min, timezone.utc)
    async with connection(pool) as conn:
        organisation = await organisations.get_organisation(conn, organisation_id)
        if organisation is None:
            raise NotFound("There is no such organisation.")
        rules = await archive.get_settings(conn, organisation_id)
        total = await archive_records.count_posts(conn, organisation_id, start_at, end_at, voice)
        _HANDLE_DOMAINS.set(await handle_domains.list_live_domains(conn, [organisation_id]))
    out_dir = out_dir.resolve()
    resumed = _open_bag(out_dir, {"organisation_id": organisation_id, "start": start.isoformat(),
                                  "end": end.isoformat(), "voice": voice})
    journal = _Journal(out_dir / JOURNAL)
    ctx = _Context(settings, organisation, rules, note_json, at, out_dir.name)
    dossiers: dict[int, mdto.Ref] = {}  # one per account: as many as the organisation has people
    done = after = 0
    while True:
        async with connection(pool) as conn:
            ids = await archive_records.list_post_ids(conn, organisation_id, start_at, end_at, voice, after_id=after)
            records = await archive_records.load_records(conn, ids) if ids else []
        if not ids:
            break
        after = ids[-1]
        for record in records:
            author = record.author
            if author.id not in dossiers:
                dossiers[author.id] = _dossier(ctx, out_dir, journal, author, start, end)
            final = out_dir / "data" / author.username / str(record.post.id)
            if not final.is_dir():
                _write_post(ctx, out_dir, final, record, dossiers[author.id], journal, await _images(ctx, record))
            done += 1
            if progress:
                progress(done, total)
    await archive_webcare.write_conversations(pool, ctx, out_dir, journal, organisation_id, start_at, end_at)
    files, size = _finish(out_dir, journal, {
        "Source-Organization": organisation.name,
        "External-Identifier": f"{organisation.tooi_code} (TOOI)" if organisation.tooi_code else organisation.slug,
        "External-Description": f"Fediverse-berichten van {organisation.name}, {start.isoformat()} t/m "
                                f"{end.isoformat()} (stem: {'alleen officieel' if voice == 'official' else 'alle'}), "
                                f"met MDTO-metagegevens",
        "Bagging-Date": at.date().isoformat(),
        "Bag-Software-Agent": f"Ambtenaar Online {__version__} ({settings.domain})",
        "Bag-Count": "1 of 1"})
    return ExportResult(out_dir, done, files, size, resumed)


async def _images(ctx: _Context, record: archive_records.Record) -> dict[str, bytes]:
    """The image files of a post and of the replies it received, from the media store: one post's at a time, so
    memory stays flat (at most 4 images a post)."""
    store = media_store.for_settings(ctx.settings)
    images = {}
    for attachment in (a for r in (record, *record.received) for a in r.attachments):
        if attachment.file_name and not attachment.remote_url and attachment.file_name not in images:
            data = await store.get("media", attachment.file_name)
            if data is not None:
                images[attachment.file_name] = data
    return images


def _write_post(ctx: _Context, out_dir: Path, final: Path, record: archive_records.Record, dossier: mdto.Ref,
                journal: _Journal, images: Mapping[str, bytes]) -> None:
    """One post's folder: the post and, under received/, the citizens' replies to it, each an archiefstuk."""
    folder = _Folder(out_dir, final)
    me_uri = post_uri(ctx.settings, record.post, record.author)
    replies: list[tuple[mdto.Ref, str]] = []
    for reply in record.received:
        ref = _write_record(ctx, folder, f"received/{reply.post.id}/", reply, received=True, dossier=dossier,
                            related=[(mdto.Ref(_name(ctx, record), me_uri, "URI"), "Refereert aan")], images=images)
        replies.append((ref, "Wordt aangehaald door"))
    _write_record(ctx, folder, "", record, received=False, dossier=dossier, related=replies, images=images)
    folder.finish(journal)
