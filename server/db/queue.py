"""The policy every work queue shares: how long to wait before the next attempt, when to give up, and how much
of an error to keep.

Owns: capped exponential backoff with jitter (`next_attempt`), the number of attempts before giving up, and the
error text a row keeps (`error_text`: the exception's type and message, at most 1 KiB, as Fedify keeps).
Outbox events use it (server/events.py); the inbox and deliveries keep their own schedules for now
(docs/architecture.md says what issue 12 still asks of one queue module).
Never: a table name or SQL; the module that owns a queue's table writes these values.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 8  # 30 s, 2 min, 8 min, 32 min, ~2 h, then 6 h: about a day in all
ERROR_LIMIT = 1024


def next_attempt(attempts: int, now: datetime, *, retry_after: float | None = None,
                 max_attempts: int = MAX_ATTEMPTS, jitter: random.Random | None = None) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None to give up. The delay grows fourfold from 30 s,
    is capped at 6 hours, varies by ±20 % (so items that failed together do not all return together) and is at
    least a `retry_after` the other side asked for (capped the same)."""
    if attempts >= max_attempts:
        return None
    base = min(FIRST_DELAY.total_seconds() * 4 ** max(attempts - 1, 0), MAX_DELAY.total_seconds())
    delay = base * (jitter or random).uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY.total_seconds()))
    return now + timedelta(seconds=delay)


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
