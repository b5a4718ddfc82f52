"""Likes (favourites) of posts; boosts live in server/posts.py because a boost is a post.

Owns: the favourites table and its SQL. Never: sends Like activities.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def insert_favourite(conn: asyncpg.Connection, account_id: int, post_id: int, now: datetime) -> bool:
    status = await conn.execute("INSERT INTO favourites (account_id, post_id, created_at) VALUES ($1, $2, $3) "
                                "ON CONFLICT DO NOTHING", account_id, post_id, now)
    return status.endswith(" 1")


async def delete_favourite(conn: asyncpg.Connection, account_id: int, post_id: int) -> bool:
    status = await conn.execute("DELETE FROM favourites WHERE account_id = $1 AND post_id = $2", account_id, post_id)
    return status.endswith(" 1")
