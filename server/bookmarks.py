"""Bookmarks: the posts a person keeps for later, seen only by them (Mastodon's bookmarks).

Owns: the bookmarks table and its SQL, including the fragment timelines.py embeds (`bookmarked_sql`) so that
hydrating a page and listing the bookmarks stay one indexed query each. Never: decides whether a post may be
bookmarked (server/post_rules.check_bookmark) or shows a post (timelines.py applies the visibility rule).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from server import post_rules
from server.accounts import Account
from server.ids import new_id
from server.posts import Post


def bookmarked_sql(post: str, viewer: str) -> str:
    """True when `viewer` (an SQL expression; NULL matches nothing) bookmarked the post `post` (a column)."""
    return f"EXISTS (SELECT 1 FROM bookmarks bm WHERE bm.post_id = {post} AND bm.account_id = {viewer})"


async def insert_bookmark(conn: asyncpg.Connection, account_id: int, post_id: int, now: datetime) -> None:
    await conn.execute("INSERT INTO bookmarks (id, account_id, post_id, created_at) VALUES ($1, $2, $3, $4) "
                       "ON CONFLICT (account_id, post_id) DO NOTHING", new_id(now), account_id, post_id, now)


async def delete_bookmark(conn: asyncpg.Connection, account_id: int, post_id: int) -> None:
    await conn.execute("DELETE FROM bookmarks WHERE account_id = $1 AND post_id = $2", account_id, post_id)


async def bookmark(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> Post:
    """Keep a post the viewer may see (a boost: the post it boosts); answered with the post bookmarked."""
    post = await post_rules.check_bookmark(conn, viewer, post_id)
    await insert_bookmark(conn, viewer.id, post.id, now)
    return post


async def unbookmark(conn: asyncpg.Connection, viewer: Account, post_id: int) -> Post:
    """Forget a bookmark; as in Mastodon, only of a post the viewer can still see (otherwise: not found)."""
    post = await post_rules.check_bookmark(conn, viewer, post_id)
    await delete_bookmark(conn, viewer.id, post.id)
    return post
