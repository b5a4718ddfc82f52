"""Fixed-window rate limits counted in PostgreSQL, so that every web process sees the same counts.

Owns: the rate_limit_hits table, counted two ways: `hit`/`hit_many` (one round trip per request, exact across
processes: the client API's limit) and `LocalWindows` (counted in memory and flushed, adding its counts and
reading back the totals, about once a second: the inbox's limits, issue 18, where a round trip per activity is
most of the cost). Never: decides which requests are limited (callers name the bucket).

How far `LocalWindows` can be off: each process decides from the total it last read back plus its own hits since,
so with P processes the other P-1 processes' hits since their last flush are not seen: a limit can be exceeded by
at most (P-1) x flush interval x the rate they admit in the meantime, and by nothing with one process. Hits not yet
flushed when a process stops (at most one interval's) are not counted.
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


class LocalWindows:
    """Fixed windows counted in this process and flushed to rate_limit_hits: `hit` decides from memory, `flush`
    (call it when `flush_due`, at most one at a time) adds the process's counts and learns everyone's totals."""

    def __init__(self, window: timedelta, *, flush_every: float = 1.0, max_buckets: int = 100_000) -> None:
        self.window = window
        self.flush_every = flush_every
        self.max_buckets = max_buckets
        self._start: datetime | None = None
        self._known: dict[str, int] = {}  # the totals read back at the last flush, this window
        self._pending: dict[str, int] = {}  # this process's hits since then
        self._last_flush = 0.0

    def _roll(self, now: datetime) -> datetime:
        start = window_start(now, self.window)
        if start != self._start:  # a new window: the old counts decide nothing any more
            self._start, self._known, self._pending = start, {}, {}
        return start

    def hit_many(self, limits: Sequence[tuple[str, int]], *, now: datetime) -> list[Verdict]:
        """Count one hit in each bucket (refused or not, as `hit_many` in PostgreSQL does) and decide."""
        start = self._roll(now)
        verdicts = []
        for bucket, limit in limits:
            pending = self._pending.get(bucket, 0) + 1
            self._pending[bucket] = pending
            hits = self._known.get(bucket, 0) + pending
            verdicts.append(Verdict(allowed=hits <= limit, limit=limit, remaining=max(0, limit - hits),
                                    reset_at=start + self.window))
        if len(self._known) > self.max_buckets:
            self._known = {}  # forget the totals of quiet buckets; the next flush reads back the busy ones
        return verdicts

    def flush_due(self, clock: float) -> bool:
        return bool(self._pending) and clock - self._last_flush >= self.flush_every

    async def flush(self, conn: asyncpg.Connection, clock: float) -> None:
        """Add this process's hits to the table in one statement and keep the totals it answers with."""
        self._last_flush = clock
        if not self._pending or self._start is None:
            return
        start, pending = self._start, self._pending
        self._pending = {}
        try:
            rows = await conn.fetch(
                "INSERT INTO rate_limit_hits (bucket, window_start, hits) "
                "SELECT b, $3, n FROM unnest($1::text[], $2::int[]) AS t(b, n) "
                "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_hits.hits + EXCLUDED.hits "
                "RETURNING bucket, hits", list(pending), list(pending.values()), start)
        except BaseException:
            for bucket, n in pending.items():  # counted again at the next flush
                self._pending[bucket] = self._pending.get(bucket, 0) + n
            raise
        if self._start == start:
            for row in rows:
                # Our own hits since this flush began are in _pending still, on top of the total read here.
                self._known[row["bucket"]] = row["hits"]


async def delete_old(conn: asyncpg.Connection, before: datetime) -> None:
    await conn.execute("DELETE FROM rate_limit_hits WHERE window_start < $1", before)


@housekeeping.register("rate_limit_hits")
async def housekeep(conn: asyncpg.Connection, now: datetime, settings: object) -> None:
    """Buckets are counted per window of at most an hour; older ones count for nothing."""
    await delete_old(conn, now - timedelta(hours=1))
