"""Likes (favourites) of posts; boosts live in server/posts.py because a boost is a post.

Owns: the favourites table and its SQL. Never: sends Like activities.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def insert_favourite(conn: asyncpg.Connection, account_id: int, post_id: int, now: datetime,
                           like_uri: str | None = None) -> bool:
    status = await conn.execute("INSERT INTO favourites (account_id, post_id, created_at, like_uri) "
                                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", account_id, post_id, now, like_uri)
    return status.endswith(" 1")


async def delete_favourite(conn: asyncpg.Connection, account_id: int, post_id: int) -> bool:
    status = await conn.execute("DELETE FROM favourites WHERE account_id = $1 AND post_id = $2", account_id, post_id)
    return status.endswith(" 1")


async def get_like_uri(conn: asyncpg.Connection, account_id: int, post_id: int) -> str | None:
    value = await conn.fetchval("SELECT like_uri FROM favourites WHERE account_id = $1 AND post_id = $2",
                                account_id, post_id)
    return str(value) if value else None


async def set_like_uri(conn: asyncpg.Connection, account_id: int, post_id: int, like_uri: str) -> None:
    await conn.execute("UPDATE favourites SET like_uri = $3 WHERE account_id = $1 AND post_id = $2",
                       account_id, post_id, like_uri)


async def get_favourite_by_like_uri(conn: asyncpg.Connection, like_uri: str) -> tuple[int, int] | None:
    """(account id, post id) of a remote Like, for its Undo."""
    row = await conn.fetchrow("SELECT account_id, post_id FROM favourites WHERE like_uri = $1", like_uri)
    return (row["account_id"], row["post_id"]) if row else None


async def delete_favourites_for_purge(conn: asyncpg.Connection, account_ids: list[int], post_ids: list[int]) -> int:
    """Likes given by these accounts, and likes of these posts (before the posts are purged)."""
    status = await conn.execute("DELETE FROM favourites WHERE account_id = ANY($1::bigint[]) "
                                "OR post_id = ANY($2::bigint[])", account_ids, post_ids)
    return int(status.split()[-1])
