"""Housekeeping: removing what has served its purpose, so that no table or cache grows without end.

Owns: the registry of housekeeping jobs, which each module that owns a table or cache fills itself when it is
imported (`@register("name")`: sessions, sign-in failures, OAuth codes, idempotency keys, rate-limit buckets, the
media-proxy cache, handled inbox items and deliveries), and running them all (`run_all`), each on a connection of
its own, a failing job logged by its name without stopping the others. The worker runs them every 10 minutes.
Never: knows what a job removes or for how long anything is kept (the owner decides).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from server.config import Settings
from server.db.pool import connection

log = logging.getLogger("ambtenaar.housekeeping")
Job = Callable[[asyncpg.Connection, datetime, Settings], Awaitable[object]]
JOBS: dict[str, Job] = {}


def register(name: str) -> Callable[[Job], Job]:
    """Decorator: the job `name` (one per owner and table) runs with every round of housekeeping."""
    def add(job: Job) -> Job:
        JOBS[name] = job
        return job
    return add


async def run_all(pool: asyncpg.Pool, now: datetime, settings: Settings) -> list[str]:
    """Every registered job once, in name order; the names of those that failed (each logged)."""
    failed = []
    for name, job in sorted(JOBS.items()):
        try:
            async with connection(pool) as conn:
                await job(conn, now, settings)
        except Exception as exc:  # one job failing must not stop the others; CancelledError passes
            log.warning("housekeeping job failed", extra={"job": name, "error": repr(exc)})
            failed.append(name)
    return failed
