"""Muted conversations: a person who mutes a thread hears no more of it (Mastodon's conversation mutes).

Owns: the conversation_mutes table and its SQL, including the fragment that timelines.py and notifications.py
embed (`muted_sql`), so that a page of statuses and a new notification ask it in the query they already make.
A thread is known by its first post (posts.root_sql), so a mute covers every reply, also later ones.
Never: decides whether a post may be muted (server/post_rules.check_mute) or shows a post.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from server import post_rules
from server.accounts import Account
from server.posts import Post, get_root_id, root_sql


def muted_sql(post: str, viewer: str) -> str:
    """True when `viewer` (an SQL expression; NULL matches nothing) muted the thread of the post `post`. Asks
    first whether the viewer muted anything at all, so that the thread is walked up only for those who did."""
    return (f"(EXISTS (SELECT 1 FROM conversation_mutes cm0 WHERE cm0.account_id = {viewer}) "
            f"AND EXISTS (SELECT 1 FROM conversation_mutes cm WHERE cm.account_id = {viewer} "
            f"AND cm.root_id = {root_sql(post)}))")


async def mute(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> Post:
    """Mute the thread of a post the viewer may see; answered with that post."""
    post = await post_rules.check_mute(conn, viewer, post_id)
    await conn.execute("INSERT INTO conversation_mutes (account_id, root_id, created_at) VALUES ($1, $2, $3) "
                       "ON CONFLICT DO NOTHING", viewer.id, await get_root_id(conn, post.id), now)
    return post


async def unmute(conn: asyncpg.Connection, viewer: Account, post_id: int) -> Post:
    post = await post_rules.check_mute(conn, viewer, post_id)
    await conn.execute("DELETE FROM conversation_mutes WHERE account_id = $1 AND root_id = $2", viewer.id,
                       await get_root_id(conn, post.id))
    return post
