"""The redacted Woo export: the hits of a search as HTML and JSON documents with personal data taken out, an
inventory (CSV) of every document and what was redacted on which ground, in one zip, written as it is read.

Owns: the woo_settings table (migration 0059: whether the organisation's officials are public-facing), the layout of
the zip (`LEESMIJ.txt`, `zoekopdracht.json`, `inventaris.csv`, `documenten/NNNN.html` and `.json`), who counts as a
citizen (every account that is not of an organisation on this node: remote accounts and local people without one)
and the audit of an export (`woo.exported`). Never: searches (server/woo.py), finds personal data
(server/woo_redaction.py and the policy detectors), publishes anything: the export is for the Woo coordinator,
who reviews it before any of it is made public.
"""

from __future__ import annotations

import csv
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import IO, Any

import asyncpg

from server import accounts, audit, policy_settings, posts, uris, woo
from server.accounts import Account
from server.config import Settings
from server.organisations import Organisation
from server.woo_redaction import (GROUND, MARKER, Person, Pseudonyms, Redaction, allowed_from_settings,
                                  count_kinds, plain_text, redact)

KIND_NAMES = {"bsn": "BSN", "iban": "IBAN", "phone": "telefoonnummer", "email": "e-mailadres",
              "address": "postcode met huisnummer", "citizen": "naam of handle van een burger",
              "official": "naam of handle van een ambtenaar"}
INVENTORY_FIELDS = ("nummer", "document", "soort", "datum", "versie", "verwijderd", "status", "beoordeling",
                    "weigeringsgrond", "gelakt")
README = """Woo-export van {org}

Zoekopdracht: {query}
Gemaakt: {made}

Deze map is een werkversie voor de Woo-coördinator. Niets hiervan is gepubliceerd: lees elk document na voordat
u het openbaar maakt.

- inventaris.csv: elk document, of het (deels) openbaar is, en wat er op welke grond is weggelakt.
- documenten/NNNN.html en NNNN.json: de gevonden berichten, één versie per document (ook eerdere versies van
  bewerkte berichten en verwijderde berichten), met persoonsgegevens weggelakt.
- [5.1.2e]: weggelakt op grond van artikel 5.1, tweede lid, aanhef en onder e, Woo (eerbiediging van de
  persoonlijke levenssfeer): een BSN, IBAN, telefoonnummer, e-mailadres of postcode met huisnummer.
- [burger N]: de naam of handle van een burger; binnen deze export steeds hetzelfde nummer voor dezelfde persoon.
- [ambtenaar N]: de naam van een ambtenaar die niet naar buiten optreedt (instelling van de organisatie).

Namen die zonder handle in een tekst staan, worden niet automatisch gevonden.
"""


async def get_officials_public(conn: asyncpg.Connection, organisation_id: int) -> bool:
    value = await conn.fetchval("SELECT officials_public FROM woo_settings WHERE organisation_id = $1",
                                organisation_id)
    return True if value is None else bool(value)


async def set_officials_public(conn: asyncpg.Connection, organisation_id: int, public: bool, *,
                               actor_id: int | None, now: datetime) -> None:
    """Whether the organisation's officials act in public (their names stay in an export); audited."""
    await conn.execute(
        "INSERT INTO woo_settings (organisation_id, officials_public, updated_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (organisation_id) DO UPDATE SET officials_public = $2, updated_at = $3",
        organisation_id, public, now)
    await audit.record(conn, actor_id=actor_id, action="woo.settings_changed", subject_type="organisation",
                       subject_id=organisation_id, detail={"officials_public": public}, now=now)


def person_of(account: Account) -> Person:
    role = ("organisation" if account.kind == "organisation"
            else "official" if account.is_local and account.organisation_id is not None else "citizen")
    return Person(account.id, account.username, account.domain, account.display_name, role)


@dataclass
class Summary:
    documents: int = 0
    redactions: dict[str, int] = field(default_factory=dict)

    def add(self, found: list[Redaction]) -> None:
        for kind, n in count_kinds(found).items():
            self.redactions[kind] = self.redactions.get(kind, 0) + n


def _local(moment: datetime | None) -> str:
    return moment.astimezone(woo.ZONE).isoformat(timespec="seconds") if moment else ""


class _Writer:
    """One export: the pseudonyms, the zip and the inventory, filled a batch of hits at a time."""

    def __init__(self, conn: asyncpg.Connection, settings: Settings, zf: zipfile.ZipFile, names: Pseudonyms,
                 allowed: Any) -> None:
        self.conn, self.settings, self.zf, self.names, self.allowed = conn, settings, zf, names, allowed
        self.summary = Summary()
        self.inventory = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8", newline="")
        self.rows = csv.DictWriter(self.inventory, fieldnames=INVENTORY_FIELDS)
        self.rows.writeheader()

    def _uri(self, uri: str | None, post_id: int, author: Account | None) -> str | None:
        """A post's address, unless it would name someone who gets a pseudonym (remote URIs carry the handle)."""
        if author is None:
            return None
        if self.names.label(person_of(author)) is not None:
            return MARKER
        return uri or uris.status(self.settings, author.username, post_id)

    async def batch(self, hits: list[woo.Hit]) -> None:
        parents = await posts.list_posts(self.conn, [h.in_reply_to_id for h in hits if h.in_reply_to_id])
        mentions = await woo.list_mentions(self.conn, [h.post_id for h in hits])
        people = await accounts.list_accounts_by_ids(self.conn, list(
            {h.account_id for h in hits} | {p.account_id for p in parents.values()}
            | {a for ids in mentions.values() for a in ids}))
        for hit in hits:
            author = people[hit.account_id]
            named = [person_of(author), *(person_of(people[a]) for a in mentions.get(hit.post_id, ()) if a in people)]
            self.document(hit, author, named, parents.get(hit.in_reply_to_id or 0), people)

    def document(self, hit: woo.Hit, author: Account, named: list[Person], parent: posts.Post | None,
                 people: dict[int, Account]) -> None:
        self.summary.documents += 1
        number = f"{self.summary.documents:04d}"
        text, found = redact(plain_text(hit.source_text, hit.content_html), named, self.names, self.allowed)
        subject, in_subject = redact(hit.spoiler_text, named, self.names, self.allowed)
        by = self.names.name(person_of(author))
        found += in_subject + ([Redaction("citizen" if by.startswith("[burger") else "official", 0, 0, by)]
                               if by.startswith("[") else [])
        self.summary.add(found)
        kinds = count_kinds(found)
        uri = self._uri(hit.uri, hit.post_id, author)
        reply_to = self._uri(parent.uri, parent.id, people.get(parent.account_id)) if parent else None
        data = {"number": number, "kind": hit.kind, "author": by, "uri": uri, "in_reply_to": reply_to,
                "voice": hit.voice, "visibility": hit.visibility, "state": hit.state,
                "published": _local(hit.created_at), "version": hit.version, "versions": hit.versions,
                "version_written": _local(hit.written_at), "current_version": hit.current,
                "deleted": _local(hit.deleted_at) or None, "summary": subject, "text": text,
                "redacted": [{"ground": GROUND, "kind": k, "count": n} for k, n in kinds.items()]}
        self.zf.writestr(f"documenten/{number}.json", json.dumps(data, ensure_ascii=False, indent=1))
        self.zf.writestr(f"documenten/{number}.html", _html(data))
        self.rows.writerow({
            "nummer": number, "document": f"documenten/{number}.html",
            "soort": "eigen bericht" if hit.kind == "own" else "ontvangen bericht",
            "datum": _local(hit.written_at)[:10], "versie": f"{hit.version} van {hit.versions}",
            "verwijderd": _local(hit.deleted_at)[:10], "status": hit.state,
            "beoordeling": "deels openbaar" if kinds else "openbaar", "weigeringsgrond": GROUND if kinds else "",
            "gelakt": "; ".join(f"{KIND_NAMES[k]}: {n}" for k, n in kinds.items())})


def _html(data: dict[str, Any]) -> str:
    """One document as a page that stands alone (no scripts, no outside resources)."""
    rows = [("Soort", "Eigen bericht" if data["kind"] == "own" else "Ontvangen bericht"), ("Auteur", data["author"]),
            ("Geplaatst", data["published"]),
            ("Versie", f"{data['version']} van {data['versions']}"
             + ("" if data["current_version"] else " (eerdere versie)") + f", geschreven {data['version_written']}"),
            ("Verwijderd", data["deleted"] or "nee"), ("Stem", data["voice"]), ("Zichtbaarheid", data["visibility"]),
            ("Status", data["state"]), ("Adres", data["uri"] or ""), ("Reactie op", data["in_reply_to"] or "")]
    meta = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in rows if v)
    summary = f"<p><strong>Inhoudswaarschuwing:</strong> {escape(data['summary'])}</p>" if data["summary"] else ""
    body = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in data["text"].split("\n\n") if p.strip())
    grounds = "; ".join(f"{KIND_NAMES[r['kind']]}: {r['count']}" for r in data["redacted"])
    footer = (f"<p>Gelakt op grond van artikel 5.1, tweede lid, onder e, Woo ({GROUND}): {escape(grounds)}.</p>"
              if grounds else "")
    return (f'<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8"><title>Document {data["number"]}</title>'
            f'</head><body><h1>Document {data["number"]}</h1><dl>{meta}</dl>{summary}{body}{footer}</body></html>\n')


async def write_export(conn: asyncpg.Connection, org: Organisation, scope: woo.Scope, query: str, out: IO[bytes], *,
                       settings: Settings, now: datetime) -> Summary:
    """Write the zip of every hit to `out` (the caller holds a transaction, which the cursor needs)."""
    names = Pseudonyms(officials_public=await get_officials_public(conn, org.id))
    allowed = allowed_from_settings(policy_settings.settings_document(
        await policy_settings.list_settings(conn, org.id)))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        writer = _Writer(conn, settings, zf, names, allowed)
        async for hits in woo.iter_hits(conn, scope, query):
            await writer.batch(hits)
        zf.writestr("LEESMIJ.txt", README.format(org=org.name, query=query, made=_local(now)))
        zf.writestr("zoekopdracht.json", json.dumps(
            {"organisation": org.slug, **woo.describe(scope, query), "made": _local(now),
             "documents": writer.summary.documents, "redacted": writer.summary.redactions,
             "officials_public": names.officials_public}, ensure_ascii=False, indent=1))
        writer.inventory.seek(0)
        with zf.open("inventaris.csv", "w") as target:
            while chunk := writer.inventory.read(1 << 16):
                target.write(chunk.encode("utf-8"))
        writer.inventory.close()
    return writer.summary


async def record_export(conn: asyncpg.Connection, *, actor_id: int | None, organisation_id: int, scope: woo.Scope,
                        query: str, summary: Summary, via: str, now: datetime) -> None:
    await audit.record(conn, actor_id=actor_id, action="woo.exported", subject_type="organisation",
                       subject_id=organisation_id, detail={**woo.describe(scope, query), "documents": summary.documents,
                                                           "redacted": summary.redactions, "via": via}, now=now)


def spooled() -> IO[bytes]:
    """Where the web page builds an export before sending it: memory up to 8 MiB, then a temporary file."""
    return tempfile.SpooledTemporaryFile(max_size=8 << 20)  # type: ignore[return-value]
