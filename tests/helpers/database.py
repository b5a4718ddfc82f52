"""Test databases: one PostgreSQL server per test session, a fresh database cloned from a migrated template.

With DATABASE_URL set, that server is used (its user must be allowed to create databases); otherwise an embedded
PostgreSQL (pgserver) runs in a throwaway folder and is removed at the end.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from server.db.migrate import migrate

TEMPLATE = "ambtenaar_test_template"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _admin_execute(admin_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


async def _build_template(admin_url: str) -> None:
    await _admin_execute(admin_url, f"DROP DATABASE IF EXISTS {TEMPLATE}", f"CREATE DATABASE {TEMPLATE}")
    conn = await asyncpg.connect(with_database(admin_url, TEMPLATE))
    try:
        await migrate(conn)
    finally:
        await conn.close()


class TestPostgres:
    """The session's PostgreSQL server and the databases made on it."""

    __test__ = False

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        run(_build_template(admin_url))

    def fresh_database(self) -> str:
        name = "t_" + secrets.token_hex(6)
        run(_admin_execute(self.admin_url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
        return with_database(self.admin_url, name)

    def empty_database(self) -> str:
        name = "e_" + secrets.token_hex(6)
        run(_admin_execute(self.admin_url, f"CREATE DATABASE {name}"))
        return with_database(self.admin_url, name)


@contextmanager
def test_postgres(database_url: str | None) -> Iterator[TestPostgres]:
    if database_url:
        yield TestPostgres(database_url)
        return
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="ambtenaar-test-pg-"))
    server = pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        yield TestPostgres(server.get_uri("postgres"))
    finally:
        server.cleanup()


def fetch(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run one query on a test database and return plain dicts: for asserting effects, not for setup."""
    async def go() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(url)
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()
    result: list[dict[str, Any]] = run(go())
    return result


def scalar(url: str, sql: str, *args: Any) -> Any:
    rows = fetch(url, sql, *args)
    return next(iter(rows[0].values())) if rows else None
