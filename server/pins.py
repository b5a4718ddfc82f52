"""Pinned posts: the posts an account shows at the top of its profile (Mastodon's pins, federated as the actor's
`featured` collection).

Owns: the pins table and its SQL (with the fragment timelines.py embeds, `pinned_sql`), the limit of 5 pins of a
local account, and the order of steps when someone pins or unpins: the rule (server/post_rules.check_pin), the row,
and the outbox event (`pin.created` / `pin.removed`, which federation/outbox.py turns into an Add or Remove to the
followers). Pins of remote accounts are rows too, written when their server sends that Add or Remove.
Never: builds ActivityStreams JSON or shows a post (timelines.py applies the visibility rule).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from server import events, post_rules, visibility
from server.accounts import Account
from server.errors import Invalid, NotFound
from server.ids import new_id
from server.posts import Post

MAX_PINS = 5  # Mastodon's StatusPinValidator limit for local accounts


def pinned_sql(post: str, account: str) -> str:
    """True when `account` (an SQL expression) pinned the post `post` (a column)."""
    return f"EXISTS (SELECT 1 FROM pins pn WHERE pn.post_id = {post} AND pn.account_id = {account})"


async def insert_pin(conn: asyncpg.Connection, account_id: int, post_id: int, now: datetime) -> int | None:
    """The new pin's id, or None when the post was pinned already."""
    return await conn.fetchval("INSERT INTO pins (id, account_id, post_id, created_at) VALUES ($1, $2, $3, $4) "
                               "ON CONFLICT (account_id, post_id) DO NOTHING RETURNING id",
                               new_id(now), account_id, post_id, now)


async def delete_pin(conn: asyncpg.Connection, account_id: int, post_id: int) -> int | None:
    """The removed pin's id, or None when there was none."""
    return await conn.fetchval("DELETE FROM pins WHERE account_id = $1 AND post_id = $2 RETURNING id",
                               account_id, post_id)


async def count_pins(conn: asyncpg.Connection, account_id: int) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM pins p JOIN posts s ON s.id = p.post_id "
                                   "WHERE p.account_id = $1 AND s.deleted_at IS NULL", account_id))


async def list_pinned_post_ids(conn: asyncpg.Connection, account_id: int) -> list[int]:
    """Every post the account pinned, newest pin first, whoever may see it (callers apply the visibility rule)."""
    rows = await conn.fetch("SELECT post_id FROM pins WHERE account_id = $1 ORDER BY id DESC LIMIT 100", account_id)
    return [r["post_id"] for r in rows]


async def pin(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> Post:
    post = await post_rules.check_pin(conn, viewer, post_id)
    if await count_pins(conn, viewer.id) >= MAX_PINS:
        raise Invalid("You have pinned %(n)d posts already, the most there can be: unpin one first.", n=MAX_PINS)
    pin_id = await insert_pin(conn, viewer.id, post.id, now)
    if pin_id is not None:
        await events.record_event(conn, "pin.created", post.id, viewer.id, now, {"pin_id": pin_id})
    return post


async def unpin(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> Post:
    post = await visibility.get_visible_post(conn, post_id, viewer.id)
    if post is None:
        raise NotFound(post_rules.NOT_SEEN)
    pin_id = await delete_pin(conn, viewer.id, post.id)
    if pin_id is not None:
        await events.record_event(conn, "pin.removed", post.id, viewer.id, now, {"pin_id": pin_id})
    return post
