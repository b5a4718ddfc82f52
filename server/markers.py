"""Read positions in the home timeline and notifications, shared between a person's apps.

Owns: the markers table. Never: decides what is unread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

TIMELINES = ("home", "notifications")


@dataclass(frozen=True)
class Marker:
    timeline: str
    last_read_id: int
    version: int
    updated_at: datetime


async def list_markers(conn: asyncpg.Connection, account_id: int, timelines: list[str]) -> list[Marker]:
    rows = await conn.fetch("SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = $1 "
                            "AND timeline = ANY($2::text[])", account_id, timelines)
    return [Marker(**dict(r)) for r in rows]


async def upsert_marker(conn: asyncpg.Connection, account_id: int, timeline: str, last_read_id: int,
                        now: datetime) -> Marker:
    row = await conn.fetchrow(
        "INSERT INTO markers (account_id, timeline, last_read_id, updated_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = EXCLUDED.last_read_id, "
        "version = markers.version + 1, updated_at = EXCLUDED.updated_at "
        "RETURNING timeline, last_read_id, version, updated_at", account_id, timeline, last_read_id, now)
    return Marker(**dict(row))
