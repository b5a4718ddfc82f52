"""Outbox events: one row per change that other servers must hear about, written in the change's transaction.

Owns: the outbox_events table: recording an event, claiming due ones, marking them processed, and retrying or
giving up on one that failed (server/db/queue.py's schedule). Never: computes recipients or sends anything
(federation/outbox.py does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from server.db import queue

KINDS = frozenset({"post.created", "post.updated", "post.deleted", "boost.created", "boost.deleted",
                   "favourite.created", "favourite.deleted", "follow.created", "follow.deleted", "follow.authorized", "follow.rejected",
                   "account.updated",
                   # a local person blocks or unblocks a remote account (server/relationships.py)
                   "block.created", "block.removed",
                   # a report about a remote account, sent to its server as a Flag (moderation/reports.py)
                   "report.forwarded"})


async def record_event(conn: asyncpg.Connection, kind: str, subject_id: int, actor_id: int, now: datetime,
                       detail: Mapping[str, Any] | None = None) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown outbox event kind {kind!r}")
    await conn.execute("INSERT INTO outbox_events (kind, subject_id, actor_id, created_at, detail) "
                       "VALUES ($1, $2, $3, $4, $5)", kind, subject_id, actor_id, now, dict(detail or {}))
    await conn.execute("NOTIFY ambtenaar_outbox")


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    subject_id: int
    actor_id: int
    created_at: datetime
    detail: dict[str, Any]
    attempts: int = 0


async def claim_events(conn: asyncpg.Connection, limit: int, now: datetime) -> list[Event]:
    """Unprocessed events that are due, oldest first, locked for this transaction (other workers skip them)."""
    rows = await conn.fetch("SELECT id, kind, subject_id, actor_id, created_at, detail, attempts FROM outbox_events "
                            "WHERE processed_at IS NULL AND next_attempt_at <= $2 "
                            "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", limit, now)
    return [Event(**dict(r)) for r in rows]


async def fail_event(conn: asyncpg.Connection, event: Event, error: str, now: datetime) -> bool:
    """Record a failed attempt: retried later with backoff, or given up (processed, with failed_at) after the
    last attempt; True when given up. The error is kept on the row either way."""
    attempts = event.attempts + 1
    retry_at = queue.next_attempt(attempts, now)
    await conn.execute(
        "UPDATE outbox_events SET attempts = $2, last_error = $3, next_attempt_at = coalesce($4, next_attempt_at), "
        "failed_at = CASE WHEN $4::timestamptz IS NULL THEN $5::timestamptz END, "
        "processed_at = CASE WHEN $4::timestamptz IS NULL THEN $5::timestamptz END WHERE id = $1",
        event.id, attempts, error[:queue.ERROR_LIMIT], retry_at, now)
    return retry_at is None


async def mark_processed(conn: asyncpg.Connection, event_ids: list[int], now: datetime) -> None:
    await conn.execute("UPDATE outbox_events SET processed_at = $2 WHERE id = ANY($1::bigint[])", event_ids, now)
