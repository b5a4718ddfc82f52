"""`ambtenaar trust ...`: the government nodes whose badges this node trusts.

Owns: the trust commands' arguments and output. Never: SQL, or a step of an action (server/trust.py adds and
removes, and audits, as for the admins' page).
"""

from __future__ import annotations

import argparse
import json

import asyncpg

from server import trust
from server.cli.base import Group
from server.config import Settings
from server.deps import utc_now


async def cmd_trust_add(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    domain = await trust.add(conn, args.trusted_domain, actor=None, now=utc_now())
    return f"Badges from {domain} are now trusted (existing remote accounts are checked again when refetched)"


async def cmd_trust_remove(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    domain = await trust.remove(conn, args.trusted_domain, actor=None, now=utc_now())
    return f"Badges from {domain} are no longer trusted"


async def cmd_trust_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    found = await trust.list_trusted(conn)
    return json.dumps(found) if args.json else "\n".join(found)


def add_commands(root: Group) -> None:
    area = root.area("trust", "government nodes whose badges this node trusts")
    # dest differs from the --domain setting, which every command also accepts.
    area.command("add", "trust badges issued by organisations on DOMAIN", cmd_trust_add).add_argument(
        "trusted_domain", metavar="DOMAIN")
    area.command("remove", "stop trusting badges from DOMAIN", cmd_trust_remove).add_argument(
        "trusted_domain", metavar="DOMAIN")
    area.command("list", "list trusted nodes", cmd_trust_list).add_argument("--json", action="store_true")
