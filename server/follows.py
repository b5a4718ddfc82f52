"""Who follows whom on this node.

Owns: the follows table and its SQL. Never: sends Follow activities (federation/ reads the outbox events).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from server.errors import Invalid


async def insert_follow(conn: asyncpg.Connection, follower_id: int, followed_id: int, now: datetime) -> bool:
    """Follow; False when the follow already existed."""
    if follower_id == followed_id:
        raise Invalid("You cannot follow yourself.")
    status = await conn.execute("INSERT INTO follows (follower_id, followed_id, created_at) VALUES ($1, $2, $3) "
                                "ON CONFLICT DO NOTHING", follower_id, followed_id, now)
    return status.endswith(" 1")


async def delete_follow(conn: asyncpg.Connection, follower_id: int, followed_id: int) -> bool:
    status = await conn.execute("DELETE FROM follows WHERE follower_id = $1 AND followed_id = $2",
                                follower_id, followed_id)
    return status.endswith(" 1")


async def exists_follow(conn: asyncpg.Connection, follower_id: int, followed_id: int) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = $1 AND followed_id = $2)",
                                    follower_id, followed_id))


async def count_follows(conn: asyncpg.Connection, account_id: int) -> tuple[int, int]:
    """(followers, following) of an account."""
    row = await conn.fetchrow("SELECT (SELECT count(*) FROM follows WHERE followed_id = $1) AS followers, "
                              "(SELECT count(*) FROM follows WHERE follower_id = $1) AS following", account_id)
    return int(row["followers"]), int(row["following"])
