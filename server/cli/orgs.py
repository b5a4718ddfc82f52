"""`ambtenaar org ...`: create, list, verify and update organisations.

Owns: the org commands' arguments and output. Never: SQL, or a step of an action (server/organisations.py and
server/org_verification.py validate, write and audit).
"""

from __future__ import annotations

import argparse
import json

import asyncpg

from server import accounts, org_verification, organisations, voice
from server.cli import handle_domains
from server.cli.base import Group, organisation
from server.config import Settings
from server.db.pool import connection, transaction
from server.deps import utc_now

LABELS = ("official_label_nl", "official_label_en", "personal_label_nl", "personal_label_en")


async def cmd_org_create(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org, account = await organisations.create_organisation(
        conn, name=args.name, slug=args.slug, kind=args.kind, website=args.website,
        language=settings.default_language, actor_id=None, now=utc_now())
    return f"Created organisation {org.slug} ({org.name}) with account @{account.username}"


async def cmd_org_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    orgs = await organisations.list_organisations(conn)
    if args.json:
        return json.dumps([{"slug": o.slug, "name": o.name, "kind": o.kind, "website": o.website} for o in orgs])
    return "\n".join(f"{o.slug}\t{o.kind}\t{o.name}\t{o.website}" for o in orgs)


async def cmd_org_update(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.slug)
    if args.tooi is not None:
        org = await organisations.change_tooi_code(conn, org, args.tooi, actor_id=None, now=utc_now())
    updated = await organisations.change_voice_settings(conn, org, auto_boost=args.auto_boost,
                                                        labels={name: getattr(args, name) for name in LABELS},
                                                        actor_id=None, now=utc_now())
    return (f"{updated.slug}: automatic boosts {'on' if updated.auto_boost else 'off'}; official line "
            f"\"{voice.line('official', 'nl', updated)}\" / \"{voice.line('official', 'en', updated)}\""
            + (f"; TOOI code {updated.tooi_code}" if updated.tooi_code else ""))


async def cmd_org_verify(pool: asyncpg.Pool, settings: Settings, args: argparse.Namespace) -> str:
    """As the admins' page does it: the website is fetched before the transaction that records the proof, so a
    slow website never holds a transaction open."""
    from federation.websites import verify_website
    from server.app import outgoing_client

    async with connection(pool) as conn:
        org = await organisation(conn, args.slug)
        org_account = await accounts.get_organisation_account(conn, org.id)
    org_verification.check_website(org.website)
    async with outgoing_client(settings) as client:
        proof = await verify_website(client, organisation=org,
                                     org_username=org_account.username if org_account else None,
                                     base_url=settings.base_url, domain=settings.domain)
    async with transaction(pool) as conn:
        await org_verification.record_verification(conn, org, proof, actor=None, now=utc_now())
    return f"Verified {org.slug}: {proof.detail}"


def add_commands(root: Group) -> None:
    org = root.area("org", "organisations")
    create = org.command("create", "create an organisation and its organisation account", cmd_org_create)
    create.add_argument("--name", required=True, help="full name, e.g. 'Gemeente Ede'")
    create.add_argument("--slug", required=True, help="short name in URLs, e.g. gemeente-ede")
    create.add_argument("--kind", required=True, choices=organisations.KINDS)
    create.add_argument("--website", default="", help="the organisation's website, e.g. https://www.ede.nl")
    org.command("list", "list organisations", cmd_org_list).add_argument("--json", action="store_true")
    verify = org.command("verify", "check that the organisation's website vouches for its account here "
                         "(a rel=\"me\" link, or /.well-known/ambtenaar-online.json) and record it",
                         pool_handler=cmd_org_verify)
    verify.add_argument("slug", help="the organisation's slug")
    update = org.command("update", "the organisation's voice wording and whether its account boosts official "
                         "posts", cmd_org_update)
    update.add_argument("slug", help="the organisation's slug")
    update.add_argument("--auto-boost", dest="auto_boost", default=None, action=argparse.BooleanOptionalAction,
                        help="the organisation's account boosts its officials' official-voice posts")
    update.add_argument("--tooi", default=None, help="the organisation's TOOI code, e.g. gm0228 (the archiefvormer "
                        "in its archive export; empty clears it)")
    for label in LABELS:
        update.add_argument("--" + label.replace("_", "-"), dest=label, default=None,
                            help="wording of the visible voice line ({org} is the name; empty resets)")
    handle_domains.add_commands(org)
