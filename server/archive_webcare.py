"""Webcare conversations in the archive export: each conversation of the period as a dossier of its own.

Owns: what a conversation is in the bag (`data/webcare/<id>/`): `conversation.json` (the citizen, status, labels,
the messages by their post URIs with direction and, for the organisation's answers, who wrote them, and the whole
history, internal notes marked `internal`) with its MDTO sidecar (aggregatieniveau Dossier, an event per message in
(Ontvangst) and per answer (Verzending), the citizen as betrokkene, beperkingGebruik for personal data and internal
notes, related to every message's archiefstuk). The posts themselves are archiefstukken elsewhere in the bag (the
organisation's answers under its account's dossier, the citizens' replies as received records), so a conversation
refers to them rather than copying them. Written like a post's folder (server/archive_export.py): under a partial
name, hashed into the journal, renamed when whole, so a resumed export skips finished conversations.
Never: SQL (server/webcare.py), deciding who may export (the callers).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from server import accounts, archive_export, posts, webcare
from server import archive_mdto as mdto
from server.accounts import Account
from server.db.pool import connection

PAGE = 200


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def _document(conn: asyncpg.Connection, ctx: archive_export._Context, conversation: webcare.Conversation
                    ) -> tuple[dict[str, Any], list[webcare.Message], dict[int, Account], dict[int, str]]:
    """The conversation as JSON, its messages, the people it names, and each message's post URI."""
    messages = await webcare.list_messages(conn, conversation.id)
    history = await webcare.list_events(conn, conversation.id)
    ids = {conversation.citizen_account_id, *(i for i in (conversation.assignee_id,) if i)}
    ids |= {m.written_by_id for m in messages if m.written_by_id} | {e.actor_id for e in history if e.actor_id}
    people = await accounts.list_accounts_by_ids(conn, list(ids))
    found = await posts.list_posts(conn, [m.post_id for m in messages])
    authors = await accounts.list_accounts_by_ids(conn, list({p.account_id for p in found.values()}))
    post_uris = {i: archive_export.post_uri(ctx.settings, p, authors[p.account_id])
                 for i, p in found.items() if p.account_id in authors}

    def who(account_id: int | None) -> str | None:
        person = people.get(account_id) if account_id else None
        return archive_export._handle(ctx.settings, person) if person else None

    document = {
        "id": str(conversation.id), "organisation": ctx.organisation.slug,
        "citizen": who(conversation.citizen_account_id), "status": conversation.status,
        "assignee": who(conversation.assignee_id), "labels": conversation.labels,
        "visibility": conversation.visibility, "created_at": _when(conversation.created_at),
        "last_activity_at": _when(conversation.last_activity_at),
        "first_response_at": _when(conversation.first_response_at),
        "messages": [{"post": post_uris.get(m.post_id), "direction": m.direction, "written_by": who(m.written_by_id),
                      "at": _when(m.created_at)} for m in messages],
        "history": [{"kind": e.kind, "at": _when(e.created_at), "actor": who(e.actor_id),
                     "post": post_uris.get(e.post_id) if e.post_id else None, "detail": e.detail,
                     "internal": e.kind == "note"} for e in history]}
    return document, messages, people, post_uris


def _informatieobject(ctx: archive_export._Context, conversation: webcare.Conversation, citizen: Account | None,
                      messages: list[webcare.Message], post_uris: dict[int, str], file: mdto.Ref) -> bytes:
    ident = f"{ctx.settings.base_url}/orgs/{ctx.organisation.slug}/webcare/{conversation.id}"
    handle = archive_export._handle(ctx.settings, citizen) if citizen else "een burger"
    citizen_ref = archive_export._actor_ref(ctx.settings, citizen)
    events = [archive_export._event("Ontvangst", m.created_at, citizen_ref) if m.direction == "in"
              else archive_export._event("Verzending", m.created_at, None, ctx.organisation.name) for m in messages]
    related = tuple((mdto.Ref(uri, uri, "URI"), "Refereert aan") for uri in post_uris.values())
    return mdto.informatieobject_xml(mdto.Informatieobject(
        identificatie=((ident, "URI"), (str(conversation.id), f"Ambtenaar Online {ctx.settings.domain}")),
        naam=f"Webcaregesprek met {handle} ({conversation.created_at:%Y-%m-%d})", aggregatieniveau="Dossier",
        waardering=ctx.rules.waardering, archiefvormer=archive_export.archiefvormer(ctx.organisation),
        beperkingen=(mdto.Beperking(mdto.Begrip("Overig", mdto.BEPERKINGEN),
                                    "Bevat persoonsgegevens van een burger en interne notities van het team"),),
        omschrijving=f"Gesprek van het webcareteam van {ctx.organisation.name} met {handle}: "
                     f"{len(messages)} bericht(en), status {conversation.status}",
        dekking=("Publicatieperiode", conversation.created_at.date(), conversation.last_activity_at.date()),
        taal=("nl",), events=tuple(events), heeft_representatie=(file,), gerelateerd=related,
        betrokkenen=(("Auteur (burger)", archive_export._actor_ref(ctx.settings, citizen)),) if citizen else ()))


async def write_conversations(pool: asyncpg.Pool, ctx: archive_export._Context, out_dir: Path,
                              journal: archive_export._Journal, organisation_id: int, since: datetime,
                              until: datetime) -> int:
    """Every conversation of the organisation opened in [since, until) into `data/webcare/`; how many."""
    after, count = 0, 0
    while True:
        async with connection(pool) as conn:
            batch = await webcare.list_for_archive(conn, organisation_id, since, until, after_id=after, limit=PAGE)
            if not batch:
                return count
            for conversation in batch:
                after, count = conversation.id, count + 1
                final = out_dir / "data" / "webcare" / str(conversation.id)
                if final.is_dir():
                    continue  # written by an earlier run of this export
                document, messages, people, post_uris = await _document(conn, ctx, conversation)
                folder = archive_export._Folder(out_dir, final)
                data = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
                digest, size = folder.write("conversation.json", data)
                me = mdto.Ref(f"Webcaregesprek {conversation.id}", f"{ctx.settings.base_url}/orgs/"
                              f"{ctx.organisation.slug}/webcare/{conversation.id}", "URI")
                archive_export._bestand(ctx, folder, "conversation.json", "application/json", digest, size, me)
                folder.write(f"{conversation.id}.mdto.xml", _informatieobject(
                    ctx, conversation, people.get(conversation.citizen_account_id), messages, post_uris,
                    archive_export._file_ref(folder, "conversation.json")))
                folder.finish(journal)
