"""The one queue module: how every work queue (outbox events, inbox items, deliveries, and any later one) claims,
finishes, retries and gives up on its rows, and which worker holds a lease.

Owns: the queue columns every queue table has (`state`, `attempts`, `next_attempt_at`, `last_error`,
`locked_until`, `locked_by`) and the SQL on them; the allowed state transitions (`TRANSITIONS`, checked on every
update, also in the UPDATE's WHERE); capped exponential backoff with jitter (`next_attempt`); the error text a row
keeps (`error_text`, at most 1 KiB, as Fedify keeps); the `queue_workers` table and lease ownership: a worker holds a
session-level advisory lock on its listening connection for its whole life (`register_worker`), PostgreSQL releases
it when that backend ends (a SIGKILL of the worker's process closes the connection), and `reclaim` gives the
leases of workers whose lock is gone back to the queue at once, instead of after the lease runs out.
Never: what a row means (the owning module passes its `Queue`: table, key, order, lease, give-up rule and the
names of its states, and writes its own columns through `values`); identifiers from anywhere but code (every
table and column name is checked against `_IDENTIFIER` when a `Queue` is made or a column is named).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 8  # 30 s, 2 min, 8 min, 32 min, ~2 h, then 6 h: about a day in all
ERROR_LIMIT = 1024
LOCK_SPACE = 0x414F5157  # "AOQW": the first key of every worker's advisory lock (pg_advisory_lock(int, int))

# The states of a queue row, by meaning; a queue names them as its table spells them (Queue.states).
PENDING = "pending"  # waiting, leased, or waiting for a retry
DONE = "done"        # handled
FAILED = "failed"    # refused for good: never tried again (a 4xx answer, a domain policy)
DEAD = "dead"        # given up after the last retry

# The one table of allowed moves: a row only ever leaves `pending`, and a retry or a lease keeps it there.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    PENDING: frozenset({PENDING, DONE, FAILED, DEAD}),
    DONE: frozenset(),
    FAILED: frozenset(),
    DEAD: frozenset(),
}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_TYPES = frozenset({"integer", "bigint", "text", "timestamptz", "boolean"})


class InvalidTransition(ValueError):
    """A queue row was asked to move from a state to one the transitions table does not allow."""


def check(source: str, target: str) -> None:
    if target not in TRANSITIONS.get(source, frozenset()):
        raise InvalidTransition(f"a queue row may not move from {source!r} to {target!r}")


def sources(target: str) -> list[str]:
    """The states a row may be in to move to `target`."""
    return [s for s, targets in TRANSITIONS.items() if target in targets]


def _name(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(f"not an SQL identifier: {value!r}")
    return value


@dataclass(frozen=True)
class Queue:
    """One queue table as its owning module describes it.

    `lease`: how long a claimed row stays with its worker (None: the rows are locked only for the claiming
    transaction, which handles them before it commits). `states`: the table's spelling of a state, where it differs
    (deliveries say `sent` for done). `max_attempts` and `give_up_after` (age since the time the caller passes):
    when a retry becomes giving up; either may be None.
    """

    table: str
    key: str = "id"
    order_by: str = "id"
    lease: timedelta | None = None
    states: Mapping[str, str] = field(default_factory=dict)
    max_attempts: int | None = MAX_ATTEMPTS
    give_up_after: timedelta | None = None

    def __post_init__(self) -> None:
        for name in (self.table, self.key, self.order_by):
            _name(name)
        unknown = set(self.states) - set(TRANSITIONS)
        if unknown:
            raise ValueError(f"unknown queue states {sorted(unknown)}")
        for spelling in self.states.values():
            _name(spelling)  # written into the SQL as a literal, below
        if self.lease is not None:
            LEASED[self.table] = self

    def state(self, meaning: str) -> str:
        return self.states.get(meaning, meaning)

    def states_before(self, target: str) -> list[str]:
        return sorted({self.state(s) for s in sources(target)})


# Every queue with leases, by table (filled as the owning modules make their Queue): what `reclaim` goes through.
LEASED: dict[str, Queue] = {}


def next_attempt(attempts: int, now: datetime, *, retry_after: float | None = None,
                 max_attempts: int | None = MAX_ATTEMPTS, jitter: random.Random | None = None) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None to give up. The delay grows fourfold from 30 s,
    is capped at 6 hours, varies by ±20 % (so items that failed together do not all return together) and is at
    least a `retry_after` the other side asked for (capped the same)."""
    if max_attempts is not None and attempts >= max_attempts:
        return None
    return now + delay(attempts, retry_after=retry_after, jitter=jitter)


def delay(attempts: int, *, retry_after: float | None = None, jitter: random.Random | None = None) -> timedelta:
    base = min(FIRST_DELAY.total_seconds() * 4 ** max(attempts - 1, 0), MAX_DELAY.total_seconds())
    seconds = base * (jitter or random).uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, MAX_DELAY.total_seconds()))
    return timedelta(seconds=seconds)


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]


def _assignments(values: Mapping[str, Any] | None, first: int) -> tuple[str, list[Any]]:
    """`, col = $n, ...` for the owning module's own columns, and their values."""
    if not values:
        return "", []
    parts = [f", {_name(column)} = ${first + i}" for i, column in enumerate(values)]
    return "".join(parts), list(values.values())


async def claim(conn: asyncpg.Connection, q: Queue, now: datetime, limit: int, columns: Sequence[str], *,
                worker: int | None = None) -> list[dict[str, Any]]:
    """Due pending rows, `limit` at most, in the queue's order (FOR UPDATE SKIP LOCKED: other workers skip them).

    With a lease, the rows are leased to `worker` until now + lease and their attempt is counted now (so an item
    that kills its worker still runs out of attempts); without, they stay locked until the caller's transaction
    ends and the caller counts a failed attempt through `retry`.
    """
    wanted = ", ".join(_name(c) for c in columns)
    table, key, order = q.table, q.key, q.order_by
    # The pending state as a literal, not a parameter: a generic plan could not use the partial indexes on it.
    pending = q.state(PENDING)
    if q.lease is None:
        rows = await conn.fetch(
            f"SELECT {wanted} FROM {table} WHERE state = '{pending}' AND next_attempt_at <= $1 "
            f"ORDER BY {order} LIMIT $2 FOR UPDATE SKIP LOCKED", now, limit)
        return [dict(r) for r in rows]
    if worker is None:
        raise ValueError(f"a lease on {table} needs the worker that holds it")
    rows = await conn.fetch(
        f"""UPDATE {table} SET locked_until = $3, locked_by = $4, attempts = attempts + 1
            WHERE {key} IN (SELECT {key} FROM {table}
                            WHERE state = '{pending}' AND next_attempt_at <= $1
                              AND (locked_until IS NULL OR locked_until < $1)
                            ORDER BY {order} LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING {wanted}""", now, limit, now + q.lease, worker)
    return [dict(r) for r in rows]


async def done(conn: asyncpg.Connection, q: Queue, keys: Sequence[Any], *, values: Mapping[str, Any] | None = None,
               per_row: Mapping[str, tuple[str, Sequence[Any]]] | None = None) -> None:
    """Mark rows handled (their lease ends). `values`: the owner's columns, the same for every row; `per_row`:
    column -> (SQL type, one value per key), e.g. each delivery's HTTP status."""
    check(PENDING, DONE)
    if not keys:
        return
    extra, args = _assignments(values, 4)
    rows = dict(per_row or {})
    if any(kind not in _TYPES for kind, _ in rows.values()):
        raise ValueError(f"unsupported column types in {sorted(rows)}")
    first = 4 + len(args)
    arrays = "".join(f", ${first + i}::{kind}[]" for i, (kind, _) in enumerate(rows.values()))
    names = "".join(f", c{i}" for i in range(len(rows)))
    sets = "".join(f", {_name(column)} = r.c{i}" for i, column in enumerate(rows))
    await conn.execute(
        f"UPDATE {q.table} t SET state = $2, locked_until = NULL, locked_by = NULL{extra}{sets} "
        f"FROM unnest($1::bigint[]{arrays}) AS r(k{names}) WHERE t.{q.key} = r.k AND t.state = ANY($3::text[])",
        list(keys), q.state(DONE), q.states_before(DONE), *args, *(list(v) for _, v in rows.values()))


async def give_up(conn: asyncpg.Connection, q: Queue, keys: Sequence[Any], error: str, *, state: str = FAILED,
                  values: Mapping[str, Any] | None = None) -> None:
    """Stop trying rows: FAILED (refused for good) or DEAD (out of retries), the error kept on each."""
    check(PENDING, state)
    if not keys:
        return
    extra, args = _assignments(values, 5)
    await conn.execute(
        f"UPDATE {q.table} SET state = $2, last_error = $3, locked_until = NULL, locked_by = NULL{extra} "
        f"WHERE {q.key} = ANY($1) AND state = ANY($4::text[])",
        list(keys), q.state(state), error[:ERROR_LIMIT], q.states_before(state), *args)


async def retry(conn: asyncpg.Connection, q: Queue, key: Any, attempts: int, error: str, now: datetime, *,
                retry_after: float | None = None, not_before: datetime | None = None, since: datetime | None = None,
                values: Mapping[str, Any] | None = None, values_if_given_up: Mapping[str, Any] | None = None) -> bool:
    """Record a failed attempt (`attempts` counts it): the row is tried again on the schedule, no earlier than
    `not_before`, or given up (DEAD) after the queue's last attempt or once older than its `give_up_after`
    (measured from `since`). True when given up. The error is kept on the row either way; `values` are the
    owner's columns to write either way, `values_if_given_up` only when giving up."""
    when = next_attempt(attempts, now, retry_after=retry_after, max_attempts=q.max_attempts)
    if q.give_up_after is not None and since is not None and now - since > q.give_up_after:
        when = None
    if when is None:
        await give_up(conn, q, [key], error, state=DEAD,
                      values={"attempts": attempts, **(values or {}), **(values_if_given_up or {})})
        return True
    check(PENDING, PENDING)
    if not_before is not None:
        when = max(when, not_before)
    extra, args = _assignments(values, 6)
    await conn.execute(
        f"UPDATE {q.table} SET attempts = $2, next_attempt_at = $3, last_error = $4, locked_until = NULL, "
        f"locked_by = NULL{extra} WHERE {q.key} = $1 AND state = ANY($5::text[])",
        key, attempts, when, error[:ERROR_LIMIT], q.states_before(PENDING), *args)
    return False


# ------------------------------------------------------------------ workers and the leases they hold

async def register_worker(conn: asyncpg.Connection, name: str, now: datetime) -> int:
    """A new worker's id, its advisory lock taken on `conn`, which must stay open (and be this worker's alone) for
    as long as the worker runs. Row and lock appear together: another worker never sees the row without the lock."""
    async with conn.transaction():
        worker = int(await conn.fetchval("INSERT INTO queue_workers (name, started_at, heartbeat_at) "
                                         "VALUES ($1, $2, $2) RETURNING id", name[:200], now))
        await conn.execute("SELECT pg_advisory_lock($1, $2)", LOCK_SPACE, worker)
    return worker


async def heartbeat(conn: asyncpg.Connection, worker: int, now: datetime) -> bool:
    """Note that the worker is alive (for operators: `queue_workers.heartbeat_at`); False if its row is gone."""
    status = await conn.execute("UPDATE queue_workers SET heartbeat_at = $2 WHERE id = $1", worker, now)
    return status != "UPDATE 0"


_HOLDS_LOCK = """EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid::bigint = $1 AND l.objid::bigint = w.id)"""


async def reclaim(conn: asyncpg.Connection) -> dict[str, int]:
    """Forget workers that no longer exist (their advisory lock is gone) and end their leases in every leased
    queue, so that their rows are claimed again now; how many rows came back, per table."""
    async with conn.transaction():
        dead = [r["id"] for r in await conn.fetch(
            f"DELETE FROM queue_workers w WHERE NOT {_HOLDS_LOCK} RETURNING w.id", LOCK_SPACE)]
        if not dead:
            return {}
        back: dict[str, int] = {}
        for table, q in sorted(LEASED.items()):
            status = await conn.execute(
                f"UPDATE {table} SET locked_until = NULL, locked_by = NULL "
                f"WHERE locked_by = ANY($1::int[]) AND state = '{q.state(PENDING)}'", dead)
            back[table] = int(status.split()[-1])
        return back


async def unregister_worker(conn: asyncpg.Connection, worker: int) -> None:
    """A worker stopping: its leases end (what it did not finish is claimed again at once), its row and lock go."""
    async with conn.transaction():
        for table, q in sorted(LEASED.items()):
            await conn.execute(f"UPDATE {table} SET locked_until = NULL, locked_by = NULL "
                               f"WHERE locked_by = $1 AND state = '{q.state(PENDING)}'", worker)
        await conn.execute("DELETE FROM queue_workers WHERE id = $1", worker)
    await conn.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_SPACE, worker)
