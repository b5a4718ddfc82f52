"""The asyncpg connection pool and transactions.

Owns: opening and closing the pool, the JSON codec, and `transaction()`.
Never: names a table (each domain module owns its SQL).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

Connection = asyncpg.Connection
Pool = asyncpg.Pool


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """What a released connection must not carry to its next user. asyncpg's default reset (advisory unlock,
    CLOSE ALL, UNLISTEN, RESET ALL) costs a round trip on every release: the inbox acquires three times per
    activity. Our code leaves no session state behind (advisory locks are released or transaction-scoped, SET is
    never used, the one LISTEN connection is held for the worker's life). A connection released inside a
    transaction still gets asyncpg's full reset, which rolls it back."""
    if conn.is_in_transaction():
        await conn.reset()


async def open_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size, init=_init_connection,
                                     reset=_reset_connection, command_timeout=30)
    assert pool is not None
    return pool


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One connection in one transaction: committed when the block ends, rolled back on any exception."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn


@asynccontextmanager
async def connection(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn:
        yield conn
