"""Outbox events: one row per change that other servers must hear about, written in the change's transaction.

Owns: the outbox_events table: recording an event, and its queue (`QUEUE`: claimed, done, retried or given up
through server/db/queue.py; rows are locked for the claiming transaction, no lease; processed_at says when an event
was done or given up, failed_at that it was given up). Never: computes recipients or sends anything
(federation/outbox.py does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from server import read_cache
from server.db import queue

KINDS = frozenset({"post.created", "post.updated", "post.deleted", "boost.created", "boost.deleted",
                   "favourite.created", "favourite.deleted", "follow.created", "follow.deleted", "follow.authorized", "follow.rejected",
                   "account.updated",
                   # a local person blocks or unblocks a remote account (server/relationships.py)
                   "block.created", "block.removed",
                   # a report about a remote account, sent to its server as a Flag (moderation/reports.py)
                   "report.forwarded",
                   # a local person pins or unpins a post (server/pins.py): Add or Remove of the featured collection
                   "pin.created", "pin.removed",
                   # the author of a quoted post revokes the quote's authorisation (server/quotes.py): its Delete
                   "quote.revoked",
                   # polls (server/voting.py): our person's vote in another server's poll (its Notes, to the
                   # poll's author), and a poll of ours whose counts changed or that closed (its Update)
                   "poll.voted", "poll.updated"})


async def record_event(conn: asyncpg.Connection, kind: str, subject_id: int, actor_id: int, now: datetime,
                       detail: Mapping[str, Any] | None = None) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown outbox event kind {kind!r}")
    await conn.execute("INSERT INTO outbox_events (kind, subject_id, actor_id, created_at, detail) "
                       "VALUES ($1, $2, $3, $4, $5)", kind, subject_id, actor_id, now, dict(detail or {}))
    await conn.execute("NOTIFY ambtenaar_outbox")
    await read_cache.announce(conn, subject_id, actor_id)


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    subject_id: int
    actor_id: int
    created_at: datetime
    detail: dict[str, Any]
    attempts: int = 0


QUEUE = queue.Queue("outbox_events", states={queue.DEAD: "failed"})
_COLUMNS = ("id", "kind", "subject_id", "actor_id", "created_at", "detail", "attempts")


async def claim_events(conn: asyncpg.Connection, limit: int, now: datetime) -> list[Event]:
    """Pending events that are due, oldest first, locked for this transaction (other workers skip them)."""
    return [Event(**row) for row in await queue.claim(conn, QUEUE, now, limit, _COLUMNS)]


async def fail_event(conn: asyncpg.Connection, event: Event, error: str, now: datetime) -> bool:
    """Record a failed attempt: retried later with backoff, or given up (processed, with failed_at) after the
    last attempt; True when given up. The error is kept on the row either way."""
    return await queue.retry(conn, QUEUE, event.id, event.attempts + 1, error, now,
                             values_if_given_up={"processed_at": now, "failed_at": now})


async def mark_processed(conn: asyncpg.Connection, event_ids: list[int], now: datetime) -> None:
    await queue.done(conn, QUEUE, event_ids, values={"processed_at": now})
