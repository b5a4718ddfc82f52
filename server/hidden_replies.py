"""Replies hidden from a thread by the author of its first post: an official keeps abuse out of the conversation
under their own post without deleting anyone's words.

The reply stays where it is: on its own server, on its author's profile, in its author's followers' timelines, and
on its own page. Only this node's thread views (the context API and the thread page) leave it out, together with
the replies below it, except for the thread's author (who may unhide it) and the reply's author, who both see it
marked as hidden.

Owns: the hidden_replies table and all SQL on it (also the fragment that timelines.py's thread query embeds), and
who may hide what. Never: changes or deletes the reply, or tells other servers (ActivityPub has no word for this;
docs/client-api.md says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from server import accounts, audit, posts, read_cache
from server.accounts import Account
from server.errors import Forbidden, Invalid, NotFound


def is_hidden_sql(post: str) -> str:
    """True when the reply `post` is hidden from its thread (for counting replies, whoever looks)."""
    return f"EXISTS (SELECT 1 FROM hidden_replies hr WHERE hr.post_id = {post})"


def hidden_for_sql(post: str, author: str, viewer: str) -> str:
    """True when the reply `post` (written by `author`) is hidden from its thread for `viewer` (NULL: a visitor):
    hidden, and the viewer is neither the one who hid it nor its author."""
    return (f"EXISTS (SELECT 1 FROM hidden_replies hr WHERE hr.post_id = {post} "
            f"AND hr.hidden_by IS DISTINCT FROM {viewer} AND {author} IS DISTINCT FROM {viewer})")


async def get_thread_owner_id(conn: asyncpg.Connection, post_id: int) -> int | None:
    """The local author of the thread's first post: the one person who may hide replies in it."""
    return await _owner_of_root(conn, await posts.get_root_id(conn, post_id))


async def _owner_of_root(conn: asyncpg.Connection, root_id: int) -> int | None:
    root = await posts.get_post(conn, root_id, include_deleted=True)
    if root is None:
        return None
    owner = await accounts.get_account(conn, root.account_id)
    return owner.id if owner is not None and owner.is_local else None


async def list_hidden_ids(conn: asyncpg.Connection, post_ids: Sequence[int]) -> set[int]:
    rows = await conn.fetch("SELECT post_id FROM hidden_replies WHERE post_id = ANY($1::bigint[])", list(post_ids))
    return {r["post_id"] for r in rows}


async def _reply_in_own_thread(conn: asyncpg.Connection, owner: Account, reply_id: int) -> tuple[posts.Post, int]:
    reply = await posts.get_post(conn, reply_id)
    if reply is None or reply.reblog_of_id is not None:
        raise NotFound("That post does not exist.")
    if reply.in_reply_to_id is None:
        raise Invalid("Only replies can be hidden from a thread.")
    root_id = await posts.get_root_id(conn, reply.id)
    if await _owner_of_root(conn, root_id) != owner.id:
        raise Forbidden("Only the author of the thread's first post can hide replies in it.")
    if reply.account_id == owner.id:
        raise Invalid("You cannot hide your own reply; delete it instead.")
    return reply, root_id


async def hide(conn: asyncpg.Connection, owner: Account, reply_id: int, now: datetime) -> bool:
    """Hide a reply in the owner's thread; False when it was hidden already. Written to the audit log."""
    reply, root_id = await _reply_in_own_thread(conn, owner, reply_id)
    status = await conn.execute("INSERT INTO hidden_replies (post_id, root_id, hidden_by, created_at) "
                                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", reply.id, root_id, owner.id, now)
    if not status.endswith(" 1"):
        return False
    await read_cache.announce(conn, reply.id, owner.id)  # the thread's pages kept for visitors show it no more
    await audit.record(conn, actor_id=owner.id, action="reply.hidden", subject_type="post", subject_id=reply.id,
                       detail={"thread": str(root_id), "reply_author_id": str(reply.account_id)}, now=now)
    return True


async def unhide(conn: asyncpg.Connection, owner: Account, reply_id: int, now: datetime) -> bool:
    """Show a hidden reply in the thread again; False when it was not hidden."""
    reply, root_id = await _reply_in_own_thread(conn, owner, reply_id)
    status = await conn.execute("DELETE FROM hidden_replies WHERE post_id = $1", reply.id)
    if not status.endswith(" 1"):
        return False
    await read_cache.announce(conn, reply.id, owner.id)
    await audit.record(conn, actor_id=owner.id, action="reply.unhidden", subject_type="post", subject_id=reply.id,
                       detail={"thread": str(root_id), "reply_author_id": str(reply.account_id)}, now=now)
    return True
