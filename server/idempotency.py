"""Idempotency-Key on status creation: an app that retries after a timeout gets the first post back.

Owns: the idempotency_keys table. Never: creates posts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from server import housekeeping

KEEP_FOR = timedelta(hours=1)


async def get_post_id(conn: asyncpg.Connection, account_id: int, key: str, now: datetime) -> int | None:
    value = await conn.fetchval("SELECT post_id FROM idempotency_keys WHERE account_id = $1 AND key = $2 "
                                "AND created_at > $3", account_id, key, now - KEEP_FOR)
    return int(value) if value is not None else None


async def lock_key(conn: asyncpg.Connection, account_id: int, key: str) -> None:
    """Serialise two concurrent requests with the same key (inside the caller's transaction)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))", key, account_id)


async def insert_key(conn: asyncpg.Connection, account_id: int, key: str, post_id: int, now: datetime) -> None:
    await conn.execute("DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2", account_id, key)
    await conn.execute("INSERT INTO idempotency_keys (account_id, key, post_id, created_at) VALUES ($1, $2, $3, $4)",
                       account_id, key, post_id, now)


@housekeeping.register("idempotency_keys")
async def delete_expired(conn: asyncpg.Connection, now: datetime, settings: object = None) -> None:
    await conn.execute("DELETE FROM idempotency_keys WHERE created_at < $1", now - KEEP_FOR)
