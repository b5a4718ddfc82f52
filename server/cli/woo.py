"""`ambtenaar woo ...`: search an organisation's record for a Woo request, write the redacted export, and say
whether its officials' names are public-facing.

Owns: the woo commands' arguments and output; writing the export to `FILE.zip.part` and renaming it only when
complete, so a failed run leaves nothing half-written. Never: SQL, or a step of an action (server/woo.py searches,
server/woo_export.py redacts, writes the zip and audits; the operator acts without an account, as for `org update`).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import asyncpg

from server import woo, woo_export
from server.cli.base import CliError, Group, organisation, parse_date
from server.config import Settings
from server.deps import utc_now
from server.woo_redaction import plain_text


async def _scope(conn: asyncpg.Connection, args: argparse.Namespace) -> tuple[woo.Scope, int]:
    org = await organisation(conn, args.org)
    scope = woo.Scope(org.id, voice=args.voice, start=parse_date(args.date_from, "--from"),
                      end=parse_date(args.date_to, "--to"))
    return scope, org.id


def _line(hit: woo.Hit) -> str:
    marks = [f"version {hit.version} of {hit.versions}", hit.kind]
    if hit.deleted_at:
        marks.append("deleted")
    if hit.state != "published":
        marks.append(hit.state)
    text = " ".join(plain_text(hit.source_text, hit.content_html).split())
    return f"{hit.created_at.astimezone(woo.ZONE):%Y-%m-%d %H:%M}  post {hit.post_id}  ({', '.join(marks)})  " \
           f"{text[:100]}"


def _json(hit: woo.Hit) -> dict[str, object]:
    return {"post_id": str(hit.post_id), "kind": hit.kind, "version": hit.version, "versions": hit.versions,
            "current_version": hit.current, "uri": hit.uri, "account_id": str(hit.account_id), "voice": hit.voice,
            "visibility": hit.visibility, "state": hit.state, "created_at": hit.created_at.isoformat(),
            "version_written_at": hit.written_at.isoformat(),
            "deleted_at": hit.deleted_at.isoformat() if hit.deleted_at else None, "spoiler_text": hit.spoiler_text,
            "text": plain_text(hit.source_text, hit.content_html)}


async def cmd_search(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    scope, org_id = await _scope(conn, args)
    found: list[woo.Hit] = []
    async for hits in woo.iter_hits(conn, scope, args.query):
        found += hits
    await woo.record_search(conn, actor_id=None, organisation_id=org_id, scope=scope, query=args.query,
                            hits=len(found), via="cli", now=utc_now())
    if args.json:
        return json.dumps([_json(h) for h in found], ensure_ascii=False, indent=1)
    return "\n".join([_line(h) for h in found] + [f"{len(found)} hits"])


async def cmd_export(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    out = Path(args.out)
    if out.exists():
        raise CliError(f"{out} exists already: choose another file name")
    if not out.parent.is_dir():
        raise CliError(f"there is no folder {out.parent}")
    scope, org_id = await _scope(conn, args)
    org = await organisation(conn, args.org)
    part = out.with_name(out.name + ".part")
    now = utc_now()
    try:
        with part.open("wb") as target:
            summary = await woo_export.write_export(conn, org, scope, args.query, target, settings=settings, now=now)
        await woo_export.record_export(conn, actor_id=None, organisation_id=org_id, scope=scope, query=args.query,
                                       summary=summary, via="cli", now=now)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    redacted = ", ".join(f"{kind} {n}" for kind, n in summary.redactions.items()) or "nothing"
    return f"wrote {out}: {summary.documents} documents; redacted: {redacted}"


async def cmd_settings(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    if args.officials_public is not None:
        await woo_export.set_officials_public(conn, org.id, args.officials_public == "yes", actor_id=None,
                                              now=utc_now())
    public = await woo_export.get_officials_public(conn, org.id)
    return f"{org.slug}: officials' names {'stay' if public else 'are redacted'} in Woo exports"


def _search_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--org", required=True, help="the organisation's slug")
    command.add_argument("--query", required=True, help='search words (Dutch text search; "a phrase", or, -without)')
    command.add_argument("--from", dest="date_from", help="posts created on or after this day, YYYY-MM-DD")
    command.add_argument("--to", dest="date_to", help="posts created on or before this day, YYYY-MM-DD")
    command.add_argument("--voice", choices=woo.VOICES, default="official",
                         help="official: the organisation's official posts (default); all: also its members' "
                              "personal posts")


def add_commands(root: Group) -> None:
    area = root.area("woo", "Woo requests: search the organisation's posts and write a redacted export")
    search = area.command("search", "every version of the organisation's posts and received replies that match, "
                                    "deleted ones included", cmd_search)
    _search_arguments(search)
    search.add_argument("--json", action="store_true", help="print the hits as JSON (not redacted)")
    export = area.command("export", "write the hits as a zip of redacted HTML and JSON documents with an inventory",
                          cmd_export)
    _search_arguments(export)
    export.add_argument("--out", required=True, help="the zip file to write (must not exist yet)")
    choice = area.command("settings", "whether the organisation's officials' names stay in Woo exports",
                          cmd_settings)
    choice.add_argument("--org", required=True, help="the organisation's slug")
    choice.add_argument("--officials-public", dest="officials_public", choices=("yes", "no"),
                        help="yes: officials act in public and keep their names (default); no: [ambtenaar N]")
