"""Fixed-window rate limits counted in PostgreSQL, so that every web process sees the same counts.

Owns: the rate_limit_hits table. Never: decides which requests are limited (callers name the bucket).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from server import housekeeping


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at: datetime


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


async def hit(conn: asyncpg.Connection, bucket: str, *, limit: int, window: timedelta, now: datetime) -> Verdict:
    return (await hit_many(conn, [(bucket, limit)], window=window, now=now))[0]


async def hit_many(conn: asyncpg.Connection, limits: Sequence[tuple[str, int]], *, window: timedelta,
                   now: datetime) -> list[Verdict]:
    """Count one hit in each (bucket, limit) in one round trip (the inbox counts a domain and an actor per request)."""
    if not limits:
        return []
    start = window_start(now, window)
    rows = await conn.fetch(
        "INSERT INTO rate_limit_hits (bucket, window_start) SELECT b, $2 FROM unnest($1::text[]) AS b "
        "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 RETURNING bucket, hits",
        [bucket for bucket, _ in limits], start)
    hits = {r["bucket"]: r["hits"] for r in rows}
    return [Verdict(allowed=hits[bucket] <= limit, limit=limit, remaining=max(0, limit - hits[bucket]),
                    reset_at=start + window) for bucket, limit in limits]


async def delete_old(conn: asyncpg.Connection, before: datetime) -> None:
    await conn.execute("DELETE FROM rate_limit_hits WHERE window_start < $1", before)


@housekeeping.register("rate_limit_hits")
async def housekeep(conn: asyncpg.Connection, now: datetime, settings: object) -> None:
    """Buckets are counted per window of at most an hour; older ones count for nothing."""
    await delete_old(conn, now - timedelta(hours=1))
