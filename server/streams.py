"""Live events for the streaming API: what changed, announced with PostgreSQL NOTIFY in the changer's transaction.

Owns: the channel name (`CHANNEL`), the kinds of live event and their payload (a kind and one id, far below
NOTIFY's 8,000-byte limit; the listener reads the rest from the database), `publish` and `parse`. NOTIFY is
delivered when the transaction commits and not at all when it rolls back, so nothing is announced that did not
happen, and a held post is announced only when the reviewer's approval commits. Every web process listens
(web/api/streaming.py), so an event reaches the streams of all of them, with no server component of its own.
Never: decides who sees an event (the listener asks server/timelines.py, which applies server/visibility.py),
renders anything, or holds a connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from server import read_cache

CHANNEL = "ambtenaar_stream"

POST_PUBLISHED = "post.published"  # a post or boost went out: Mastodon's `update` (and `conversation` if direct)
POST_EDITED = "post.edited"  # a published post changed: `status.update`
POST_DELETED = "post.deleted"  # `delete`
NOTIFICATION_CREATED = "notification.created"  # `notification`
# Someone's keyword filters changed: `filters_changed` on their user streams, so apps fetch them again
# (server/filters.py calls `publish_filters_changed` in the transaction that changes them).
FILTERS_CHANGED = "filters.changed"
# An account's access changed: a token of it was revoked, or it was suspended or disabled. Every process checks the
# streams opened with that account's tokens again and closes those no longer allowed (as Mastodon does on revoke);
# server/oauth.py and server/accounts.py call `publish_access_changed` in the changing transaction.
ACCESS_CHANGED = "access.changed"
KINDS = frozenset({POST_PUBLISHED, POST_EDITED, POST_DELETED, NOTIFICATION_CREATED, FILTERS_CHANGED, ACCESS_CHANGED})


@dataclass(frozen=True)
class LiveEvent:
    kind: str
    subject_id: int  # a post id, a notification id, or an account id for FILTERS_CHANGED


async def publish(conn: asyncpg.Connection, kind: str, subject_id: int) -> None:
    """Announce a change to every web process, when (and only if) the caller's transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown live event kind {kind!r}")
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{kind} {subject_id}")
    if kind in (POST_PUBLISHED, POST_EDITED, POST_DELETED):
        # Also what no outbox event carries: a remote reply, boost, edit or deletion drops the read cache's copies
        # of the post, its parent and its author's pages (server/read_cache.py) at once, not after the expiry.
        await read_cache.announce(conn, subject_id, subject_id)


async def publish_filters_changed(conn: asyncpg.Connection, account_id: int) -> None:
    await publish(conn, FILTERS_CHANGED, account_id)


async def publish_access_changed(conn: asyncpg.Connection, account_ids: Iterable[int]) -> None:
    for account_id in sorted(set(account_ids)):
        await publish(conn, ACCESS_CHANGED, account_id)


def parse(payload: str) -> LiveEvent | None:
    """The event a NOTIFY payload names; None for anything else (another version of this code, a typing admin)."""
    kind, _, raw_id = payload.partition(" ")
    if kind not in KINDS or not raw_id.isdigit() or len(raw_id) > 19:
        return None
    return LiveEvent(kind, int(raw_id))
