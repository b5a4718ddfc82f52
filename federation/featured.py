"""Pinned posts on the wire: the actor's `featured` collection, and the Add and Remove its followers' servers get
when a person pins or unpins a post (as Mastodon sends them).

Owns: which pinned Notes the collection holds for whoever asks (the visibility rule for the signer, as Mastodon
filters featured posts with `show?`; unsigned: public and unlisted), and the outbox builders of `pin.created` and
`pin.removed`. Never: HTTP, or stores pins (server/pins.py; federation/inbound/pins.py for remote ones).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from federation import objects, wire
from server import accounts, follows, posts, timelines, uris, visibility
from server.accounts import Account
from server.config import Settings
from server.events import Event


async def collection_json(conn: asyncpg.Connection, settings: Settings, account: Account,
                          signer_id: int | None) -> dict[str, Any]:
    """The featured collection with its Notes inline (at most 5, so no pages), newest pin first."""
    ids = await timelines.pinned_ids(conn, signer_id, account.id)
    found = await posts.list_posts(conn, ids)
    items = [await objects.note_json(conn, settings, found[i], account, with_context=False)
             for i in ids if i in found and found[i].reblog_of_id is None]
    return wire.ordered_collection(settings, uris.featured(settings, account.username), len(items), items=items)


async def _change(conn: asyncpg.Connection, settings: Settings, event: Event, actor: Account, *,
                  remove: bool) -> tuple[dict[str, Any], list[str]] | None:
    post = await posts.get_post(conn, event.subject_id, include_deleted=True)
    pin_id = event.detail.get("pin_id")
    # Only a published post of the actor's own leaves the node (server/visibility.py).
    if post is None or post.account_id != actor.id or not visibility.is_published(post) or not pin_id:
        return None
    author = await accounts.get_account(conn, post.account_id)
    if author is None:
        return None
    actor_uri = uris.actor(settings, actor.username)
    change = wire.featured_change_to_json(
        settings, actor_uri, f"{actor_uri}#pins/{int(pin_id)}" + ("/remove" if remove else ""),
        wire.post_uri(settings, post, author), uris.featured(settings, actor.username), remove=remove)
    return change, await follows.list_follower_inboxes(conn, actor.id)


async def pin_created(conn: asyncpg.Connection, settings: Settings, event: Event, actor: Account
                      ) -> tuple[dict[str, Any], list[str]] | None:
    return await _change(conn, settings, event, actor, remove=False)


async def pin_removed(conn: asyncpg.Connection, settings: Settings, event: Event, actor: Account
                      ) -> tuple[dict[str, Any], list[str]] | None:
    return await _change(conn, settings, event, actor, remove=True)
