"""What every area of the `ambtenaar` command shares: the parser class, command groups, the refusal the CLI raises
itself, and the lookups and value parsers several areas use.

Owns: argparse plumbing (`Parser`, `Group`), `CliError`, running a command in one transaction. Never: SQL, or a
step of an action (the domain functions of server/ and moderation/ validate, write and audit).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, NoReturn

import asyncpg

from server import accounts, organisations, passwords
from server.config import Settings
from server.db.pool import transaction
from server.errors import NotFound

# A command's work: most run in one transaction (`Handler`); one that must do network work first, before any
# transaction is open, gets the pool and opens its own (`PoolHandler`).
Handler = Callable[[asyncpg.Connection, Settings, argparse.Namespace], Awaitable[str]]
PoolHandler = Callable[[asyncpg.Pool, Settings, argparse.Namespace], Awaitable[str]]
# A command that runs a process rather than one piece of work (serve, worker).
Starter = Callable[[Settings], None]


class CliError(Exception):
    """A command cannot be carried out as given."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line and exits 1, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"ambtenaar: error: {message} (see '{self.prog} --help')\n")


def in_transaction(handler: Handler) -> PoolHandler:
    """The handler in one transaction: committed when it returns, nothing kept when it raises."""
    async def run(pool: asyncpg.Pool, settings: Settings, args: argparse.Namespace) -> str:
        async with transaction(pool) as conn:
            return await handler(conn, settings, args)
    return run


class Group:
    """The commands of one level (`ambtenaar COMMAND`, or `ambtenaar AREA ACTION`); every command also takes the
    setting flags (`common`), so they may come before or after it."""

    def __init__(self, subparsers: Any, common: Parser) -> None:
        self._subparsers = subparsers
        self._common = common

    def command(self, name: str, help_text: str, handler: Handler | None = None, *,
                pool_handler: PoolHandler | None = None, starter: Starter | None = None) -> Parser:
        sub: Parser = self._subparsers.add_parser(name, help=help_text, description=help_text,
                                                  parents=[self._common])
        run = in_transaction(handler) if handler is not None else pool_handler
        sub.set_defaults(run=run, start=starter)
        return sub

    def area(self, name: str, help_text: str) -> Group:
        sub = self._subparsers.add_parser(name, help=help_text)
        return Group(sub.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser),
                     self._common)


def read_password(from_stdin: bool) -> tuple[str, bool]:
    """The password, and whether we generated it (and so must show it once)."""
    if not from_stdin:
        return secrets.token_urlsafe(15), True
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError("no password on standard input")
    passwords.check_strength(password)
    return password, False


async def organisation(conn: asyncpg.Connection, slug: str) -> organisations.Organisation:
    org = await organisations.get_organisation_by_slug(conn, slug)
    if org is None:
        raise NotFound("There is no organisation with slug %(slug)s.", slug=slug)
    return org


async def local_account(conn: asyncpg.Connection, username: str) -> accounts.Account:
    account = await accounts.get_account_by_username(conn, username.lstrip("@"))
    if account is None:
        raise NotFound("There is no account @%(username)s here.", username=username.lstrip("@")[:40])
    return account


def parse_date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"{flag} must be a date as YYYY-MM-DD, not {value[:40]!r}") from None
