"""The `ambtenaar` command: serve the node, run workers, migrate, and administer organisations, accounts, badges,
policy checks, reviews, trust, domain policies and the archive.

Owns: the top parser (built from one module per area: process, orgs, people, badges, policy, trust, domains,
webcare),
running a database command on a migrated database, and turning every refusal into one line on stderr and exit
status 1. Never: SQL, or a step of an action (each area module calls the same domain function as the pages).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from server import media_store
from server.cli import archive, badges, domains, orgs, people, policy, process, trust, webcare, woo
from server.cli.base import CliError, Group, Parser
from server.config import SPECS, Settings, SettingsError, add_setting_flags, load_settings
from server.db.migrate import migrate
from server.db.pgembed import EmbeddedDatabaseError, EmbeddedPostgres
from server.errors import DomainError

__all__ = ["CliError", "build_parser", "main"]

T = TypeVar("T")


def build_parser() -> Parser:
    settings_flags = Parser(add_help=False)
    add_setting_flags(settings_flags)
    parser = Parser(prog="ambtenaar", description="Ambtenaar Online: a Fediverse server for government bodies.",
                    parents=[settings_flags])
    root = Group(parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser),
                 settings_flags)
    for add_commands in (process.add_commands, orgs.add_commands, people.add_user_commands, badges.add_commands,
                         policy.add_commands, trust.add_commands, domains.add_commands, webcare.add_commands,
                         woo.add_commands, archive.add_commands, people.add_admin_commands):
        add_commands(root)
    return parser


def _settings_flags(args: argparse.Namespace) -> dict[str, object]:
    return {spec.name: getattr(args, spec.name) for spec in SPECS if hasattr(args, spec.name)}


async def _with_database(settings: Settings, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """Run `work` on a migrated database (most commands' work is one transaction: base.in_transaction)."""
    embedded = None if settings.database_url else EmbeddedPostgres(settings.data_dir)
    url = settings.database_url or embedded.start()  # type: ignore[union-attr]
    try:
        pool = await process.open_database(url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            return await work(pool)
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            embedded.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(_settings_flags(args))
        media_store.parse(settings)  # a bad --media-store is one line before anything starts, for every command
        if args.start is not None:  # serve, worker: a process, not one piece of work
            args.start(settings)
            return 0
        if getattr(args, "offline", None) is not None:  # works on files alone (archive verify): no database
            output = args.offline(settings, args)
        else:
            output = asyncio.run(_with_database(settings, lambda pool: args.run(pool, settings, args)))
    except (CliError, SettingsError, DomainError, EmbeddedDatabaseError) as error:
        print(f"ambtenaar: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a file the command reads or writes
        where = f": {error.filename}" if error.filename else ""
        print(f"ambtenaar: error: {error.strerror or type(error).__name__}{where}", file=sys.stderr)
        return 1
    except asyncpg.PostgresError as error:
        print(f"ambtenaar: error: the database refused the command: {error}".splitlines()[0], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if output:
        print(output)
    return 0
