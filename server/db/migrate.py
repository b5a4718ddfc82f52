"""Schema migrations: ordered .sql files in server/db/migrations, applied once each.

Owns: the schema_migrations table and the advisory lock that serialises migrating processes.
Never: edits a migration after release; a change is a new file.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import asyncpg

# Any constant works as long as every process uses the same one; this spells "ambt".
MIGRATION_LOCK_ID = 0x616D6274


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str


def available_migrations() -> list[Migration]:
    folder = resources.files("server.db") / "migrations"
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
    return [Migration(version=f.name.removesuffix(".sql"), sql=f.read_text(encoding="utf-8")) for f in files]


async def applied_versions(conn: asyncpg.Connection) -> set[str]:
    exists = await conn.fetchval("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
    if not exists:
        return set()
    return {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}


async def pending_migrations(conn: asyncpg.Connection) -> list[Migration]:
    done = await applied_versions(conn)
    return [m for m in available_migrations() if m.version not in done]


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply what is missing, each file in its own transaction; return the versions applied now."""
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in await pending_migrations(conn):
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", migration.version)
            applied.append(migration.version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    return applied
