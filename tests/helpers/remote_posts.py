"""A post from another server, stored as federation/inbound/notes.py stores one, for tests that need one without a
second node: the remote account and its public post through the domain functions, on the node's own database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone

import asyncpg

from server import accounts, posts


async def connect(database_url: str) -> asyncpg.Connection:
    """A connection with the pool's JSON codec (server/db/pool.py), for the domain functions."""
    conn = await asyncpg.connect(database_url)
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    return conn


async def remote_post(database_url: str, *, username: str, domain: str, number: int, text: str,
                      tags: Sequence[str] = ()) -> int:
    """`@username@domain`'s public post `number` (its account made on first use); the post's id here."""
    now = datetime.now(timezone.utc)
    actor = f"https://{domain}/users/{username}"
    conn = await connect(database_url)
    try:
        account = await accounts.upsert_remote_account(conn, accounts.RemoteProfile(
            actor_uri=actor, username=username, domain=domain, actor_type="Person", display_name=username,
            summary_html="", profile_url=f"https://{domain}/@{username}", inbox_uri=f"{actor}/inbox",
            shared_inbox_uri=f"https://{domain}/inbox", followers_uri=None, key_id=None, public_key_pem=None,
            avatar_url=None, manually_approves_followers=False), now)
        uri = f"https://{domain}/notes/{number}"
        post, _ = await posts.upsert_remote_post(
            conn, account_id=account.id, uri=uri, url=uri, content_html=f"<p>{text}</p>", spoiler_text="",
            visibility="public", language="nl", in_reply_to_id=None, in_reply_to_uri=None, tags=list(tags),
            mention_ids=[], published=now, updated=None, now=now)
        return post.id
    finally:
        await conn.close()
