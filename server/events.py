"""Outbox events: one row per change that other servers must hear about, written in the change's transaction.

Owns: the outbox_events table. Never: computes recipients or sends anything (federation/outbox.py will).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

KINDS = frozenset({"post.created", "post.updated", "post.deleted", "boost.created", "boost.deleted",
                   "favourite.created", "favourite.deleted", "follow.created", "follow.deleted",
                   "account.updated"})


async def record_event(conn: asyncpg.Connection, kind: str, subject_id: int, actor_id: int, now: datetime) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown outbox event kind {kind!r}")
    await conn.execute("INSERT INTO outbox_events (kind, subject_id, actor_id, created_at) VALUES ($1, $2, $3, $4)",
                       kind, subject_id, actor_id, now)
