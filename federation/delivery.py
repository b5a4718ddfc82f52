"""Delivering activities: one row per (activity, inbox), claimed by any number of workers, signed and POSTed.

Owns: the outbound_activities, deliveries and federation_domains tables; the deliveries queue (`QUEUE`, through
server/db/queue.py: claimed with FOR UPDATE SKIP LOCKED and a lease held by the worker, retried on the shared
schedule for two and a half days, as Mastodon retries a server that is down for days); the classification of
results in one pure function; domains marked unavailable after repeated failure (retried at most hourly) until
they answer again. Never: builds activity JSON (outbox.py and inbound handlers hand it over ready).
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from federation import keys, signatures
from federation.context import Federation
from federation.netguard import NetguardError
from moderation import domain_blocks
from server import accounts, housekeeping
from server.config import Settings
from server.db import queue
from server.db.pool import connection, transaction

log = logging.getLogger("ambtenaar.delivery")
NOTIFY_CHANNEL = "ambtenaar_deliveries"
GIVE_UP_AFTER = timedelta(days=2, hours=12)
MAX_BACKOFF = queue.MAX_DELAY
UNAVAILABLE_AFTER = timedelta(hours=1)
LEASE = timedelta(minutes=2)
ERROR_LIMIT = queue.ERROR_LIMIT
# Due rows in order of their next attempt; no limit on attempts, given up by age (a new delivery to a server that
# is down is tried about 15 times over the 2.5 days: 30 s, 2 min, 8 min, 32 min, ~2 h, then every 6 h).
QUEUE = queue.Queue("deliveries", order_by="next_attempt_at", lease=LEASE, states={queue.DONE: "sent"},
                    max_attempts=None, give_up_after=GIVE_UP_AFTER)


class Outcome(enum.Enum):
    DONE = "done"
    RETRY = "retry"
    GONE = "gone"
    DROP = "drop"


def classify(status: int | None) -> Outcome:
    """2xx done; 410 gone; 401, 408, 429, 5xx and no answer at all: retry; any other 4xx: give up. 401 is retried
    as Mastodon retries it: the receiver could not verify our signature, often because it could not fetch our key
    while this node (or its database) was briefly away."""
    if status is None or status in (401, 408, 429) or status >= 500:
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.DONE
    return Outcome.GONE if status == 410 else Outcome.DROP


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """The shared schedule (server/db/queue.py): 30 s, 2 min, 8 min, ... capped at 6 h, with jitter; honours
    Retry-After when it is longer."""
    return queue.delay(attempts, retry_after=retry_after)


_AUTHORITY = re.compile(r"https?://([^/?#]*)", re.IGNORECASE)


def domain_of(inbox: str) -> str:
    # The same as urlsplit(inbox).netloc.lower(), 5x faster for http(s) URLs: a fan-out asks this 10,000 times.
    match = _AUTHORITY.match(inbox)
    return (match.group(1) if match else urlsplit(inbox).netloc or "").lower()


def spread_by_domain(inboxes: Iterable[str]) -> list[tuple[str, str]]:
    """(inbox, domain) pairs in a stable order taking one per domain in turn (a.example/1, b.example/1, a.example/2).

    Workers claim due rows in insertion order, so this keeps every claim spread over many hosts: a host's inboxes
    do not crowd one claim (where the per-host limit of the network guard would throttle it and open up to 8
    connections to that host) but reach it one at a time over one kept-alive connection.
    """
    by_domain: dict[str, list[tuple[str, str]]] = {}
    for inbox in sorted(inboxes):
        domain = domain_of(inbox)
        by_domain.setdefault(domain, []).append((inbox, domain))
    rounds = itertools.zip_longest(*by_domain.values())
    return [target for batch in rounds for target in batch if target is not None]


async def enqueue(conn: asyncpg.Connection, activity: Mapping[str, Any], *, signer_id: int | None,
                  inboxes: Iterable[str], now: datetime) -> int:
    """Store the activity once and one delivery per distinct inbox, set-based, in the caller's transaction."""
    targets = spread_by_domain({i for i in inboxes if i.startswith(("https://", "http://"))})
    refused = await domain_blocks.refused_hosts(conn, {domain for _, domain in targets})
    if refused:  # nothing goes to a suspended domain (or, in allowlist mode, one not listed)
        targets = [t for t in targets if t[1] not in refused]
    if not targets:
        return 0
    body = json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode()
    activity_id = await conn.fetchval(
        "INSERT INTO outbound_activities (activity_uri, signer_id, body, created_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (activity_uri) DO UPDATE SET body = EXCLUDED.body RETURNING id",
        str(activity["id"]), signer_id, body, now)
    status = await conn.execute(
        "INSERT INTO deliveries (activity_id, inbox_uri, domain, next_attempt_at, created_at) "
        "SELECT $1, t.inbox, t.domain, $4, $4 FROM unnest($2::text[], $3::text[]) AS t(inbox, domain) "
        "ON CONFLICT (activity_id, inbox_uri) DO NOTHING",
        activity_id, [t[0] for t in targets], [t[1] for t in targets], now)
    await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    return int(status.split()[-1])


@dataclass(frozen=True)
class Claimed:
    id: int
    inbox_uri: str
    domain: str
    attempts: int
    created_at: datetime
    body: bytes
    signer_id: int | None


_COLUMNS = ("id", "activity_id", "inbox_uri", "domain", "attempts", "created_at")


async def claim(conn: asyncpg.Connection, now: datetime, limit: int, worker: int) -> list[Claimed]:
    """Lease due deliveries to `worker`; when it dies, the lease ends with it (queue.reclaim) or runs out."""
    rows = await queue.claim(conn, QUEUE, now, limit, _COLUMNS, worker=worker)
    if not rows:
        return []
    bodies = {r["id"]: (r["body"], r["signer_id"]) for r in await conn.fetch(
        "SELECT id, body, signer_id FROM outbound_activities WHERE id = ANY($1::bigint[])",
        list({r["activity_id"] for r in rows}))}
    return [Claimed(id=r["id"], inbox_uri=r["inbox_uri"], domain=r["domain"], attempts=r["attempts"],
                    created_at=r["created_at"], body=bodies[r["activity_id"]][0], signer_id=bodies[r["activity_id"]][1])
            for r in rows]


async def without_refused(conn: asyncpg.Connection, items: list[Claimed]) -> list[Claimed]:
    """Deliveries queued before their domain was blocked are not sent: marked failed, with the reason."""
    refused = await domain_blocks.refused_hosts(conn, {i.domain for i in items})
    if not refused:
        return items
    await queue.give_up(conn, QUEUE, [i.id for i in items if i.domain in refused], "refused by domain policy")
    return [i for i in items if i.domain not in refused]


async def _domain_answered(conn: asyncpg.Connection, domains: list[str], now: datetime) -> None:
    # Sorted, so that two workers recording the same domains lock their rows in the same order.
    await conn.execute(
        "INSERT INTO federation_domains (domain, last_success_at) SELECT unnest($1::text[]), $2 "
        "ON CONFLICT (domain) DO UPDATE SET last_success_at = $2, failing_since = NULL, unavailable = false",
        sorted(set(domains)), now)


async def record(conn: asyncpg.Connection, item: Claimed, status: int | None, error: str | None,
                 retry_after: float | None, now: datetime) -> Outcome:
    outcome = classify(status)
    if outcome is Outcome.DONE:
        await record_sent(conn, [item], [int(status or 0)], now)
        return outcome
    if outcome is Outcome.RETRY:
        failing_since = await conn.fetchval(
            "INSERT INTO federation_domains (domain, failing_since) VALUES ($1, $2) ON CONFLICT (domain) DO UPDATE "
            "SET failing_since = coalesce(federation_domains.failing_since, $2), "
            "unavailable = coalesce(federation_domains.failing_since, $2) < $3 RETURNING failing_since",
            item.domain, now, now - UNAVAILABLE_AFTER)
        unavailable = failing_since is not None and failing_since < now - UNAVAILABLE_AFTER
        await queue.retry(conn, QUEUE, item.id, item.attempts, error or "", now, retry_after=retry_after,
                          not_before=now + UNAVAILABLE_AFTER if unavailable else None, since=item.created_at,
                          values={"last_status": status})
        return outcome
    await queue.give_up(conn, QUEUE, [item.id], error or "", values={"last_status": status})
    return outcome


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A receiver's Retry-After (on 429 and 503) in seconds: either form HTTP allows, delay-seconds or an HTTP date;
    None when absent or unreadable (the usual backoff applies then)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = signatures.parse_http_date(text)
    except signatures.SignatureError:
        return None
    return max(0.0, (moment - now).total_seconds())


async def send_one(fed: Federation, item: Claimed, key: keys.SigningKey) -> tuple[int | None, str | None, float | None]:
    """Sign and POST one delivery; (status, error text, Retry-After seconds)."""
    base_headers = {"Content-Type": "application/activity+json", "Accept": "application/activity+json"}
    signed = signatures.sign_request_cavage("POST", item.inbox_uri, base_headers, item.body,
                                            fed.private_key(key.private_key_pem), key.key_id, fed.deps.now())
    try:
        result = await fed.client.post(item.inbox_uri, item.body, {**base_headers, **signed})
    except NetguardError as exc:
        return None, str(exc), None
    raw = result.headers.get("retry-after") if result.headers else None
    retry_after = retry_after_seconds(raw, fed.deps.now())
    error = None if 200 <= result.status < 300 else result.body_prefix.decode("utf-8", "replace")[:ERROR_LIMIT]
    return result.status, error, retry_after


async def record_sent(conn: asyncpg.Connection, items: list[Claimed], statuses: list[int], now: datetime) -> None:
    """Successes, many at once: two statements, whatever the count (the usual case of a fan-out)."""
    if not items:
        return
    await queue.done(conn, QUEUE, [i.id for i in items], values={"sent_at": now},
                     per_row={"last_status": ("integer", statuses)})
    await _domain_answered(conn, [i.domain for i in items], now)


SendResult = tuple[int | None, str | None, float | None]


async def record_results(fed: Federation, results: list[tuple[Claimed, SendResult | BaseException]]) -> None:
    """Record finished sends in one transaction: successes set-based, the rest one by one."""
    sent = [(item, r) for item, r in results if not isinstance(r, BaseException) and classify(r[0]) is Outcome.DONE]
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        await record_sent(conn, [item for item, _ in sent], [int(r[0] or 0) for _, r in sent], now)
        for item, result in results:
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                log.warning("delivery crashed", extra={"delivery": item.id, "inbox": item.inbox_uri,
                                                       "error": repr(result)})
                await record(conn, item, None, repr(result), None, now)
            elif classify(result[0]) is not Outcome.DONE:
                await record(conn, item, *result, now)


async def _signer_keys(fed: Federation, items: list[Claimed]) -> dict[int | None, keys.SigningKey]:
    signer_keys: dict[int | None, keys.SigningKey] = {}
    async with connection(fed.deps.pool) as conn:
        for signer_id in {i.signer_id for i in items}:
            signer = await accounts.get_account(conn, signer_id) if signer_id is not None else None
            signer_keys[signer_id] = await keys.signer_key(conn, fed.deps.settings, signer)
    return signer_keys


class Sender:
    """Keeps up to `max_in_flight` deliveries in flight, claiming more as sends finish and recording results in
    small batches, so a slow or dead host holds up only its own deliveries, never a whole batch (a batch that waited
    for its slowest member made one 5-second host stall every live inbox behind it).

    A send still running after `SLOW_AFTER` seconds (a host that answers slowly, or one that does not accept the
    connection and is waited for until the connect timeout) leaves the window: it goes on, but no longer keeps a
    live host's delivery from starting, up to `max_slow` such sends (issue 18: with 5 % slow and 5 % dead hosts
    they held most of the window, and the live ones waited). Window and slow sends together stay under the
    outgoing client's connection limit, so the slow ones cannot exhaust that either.

    `step()` is one turn of the worker loop; `drain()` at shutdown waits for what is in flight and records it
    (anything still unfinished is cancelled; its lease ends when the worker unregisters, so it is sent again at
    once by whichever worker claims it). `worker` is the id the worker registered (server/db/queue.py), whose
    leases these are.
    """

    RECORD_WAIT = 0.02  # after the first send finishes, let others finish too, to record them together
    SLOW_AFTER = 1.0  # a live host answers a delivery well within this, even on a busy machine

    def __init__(self, fed: Federation, max_in_flight: int = 200, worker: int | None = None,
                 max_slow: int = 300) -> None:
        self.fed = fed
        self.max_in_flight = max_in_flight
        self.max_slow = max_slow
        self.worker = worker
        self._in_flight: dict[asyncio.Future[SendResult], Claimed] = {}
        self._started: dict[asyncio.Future[SendResult], float] = {}

    def in_flight(self) -> int:
        return len(self._in_flight)

    def _room(self, now: float) -> tuple[int, float]:
        """Places free in the window, and how long until the oldest send in it turns slow (and frees its place)."""
        since = now - self.SLOW_AFTER
        fresh = [started for task, started in self._started.items() if started > since and not task.done()]
        slow = len(self._in_flight) - len(fresh)
        room = min(self.max_in_flight - len(fresh), self.max_in_flight + self.max_slow - len(self._in_flight))
        return max(0, room), (min(fresh) - since if fresh and slow < self.max_slow else 1.0)

    async def _claim_and_start(self, room: int) -> int:
        async with transaction(self.fed.deps.pool) as conn:
            items = await without_refused(conn, await claim(conn, self.fed.deps.now(), room, self.worker))
        if items:
            signer_keys = await _signer_keys(self.fed, items)
            loop = asyncio.get_running_loop()
            for item in items:
                task = asyncio.ensure_future(send_one(self.fed, item, signer_keys[item.signer_id]))
                self._in_flight[task] = item
                self._started[task] = loop.time()
        return len(items)

    async def _record_finished(self) -> int:
        finished = [task for task in self._in_flight if task.done()]
        if not finished:
            return 0
        results: list[tuple[Claimed, SendResult | BaseException]] = [
            (self._in_flight[task], task.exception() if task.exception() is not None else task.result())
            for task in finished]
        await record_results(self.fed, results)
        for task in finished:
            del self._in_flight[task]
            self._started.pop(task, None)
        return len(finished)

    async def step(self) -> int:
        """Claim what fits, wait (briefly) for sends to finish, record them; how many were claimed or recorded."""
        claimed = 0
        room, turns_slow = self._room(asyncio.get_running_loop().time())
        quarter = max(1, self.max_in_flight // 4)
        if room >= quarter:
            # A quarter at a time: each send signs (RSA) before its first await, so a claim of 200 would hold the
            # event loop for 200 signatures in a row (50-160 ms), which `serve`'s in-process worker makes requests
            # wait for.
            claimed = await self._claim_and_start(quarter)
        if not self._in_flight:
            return claimed
        # Until a send finishes, or the oldest in the window turns slow and makes room.
        done, _ = await asyncio.wait(self._in_flight, timeout=0 if claimed else max(0.01, min(1.0, turns_slow)),
                                     return_when=asyncio.FIRST_COMPLETED)
        if done and len(done) < self.max_in_flight // 4:
            await asyncio.sleep(self.RECORD_WAIT)
        recorded = await self._record_finished()
        # Sends still running count as work in hand: the worker loops on rather than sleeping until the next poll.
        return claimed + recorded + (1 if self._in_flight else 0)

    async def drain(self, timeout: float = 5.0) -> None:
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=timeout)
        for task in self._in_flight:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        for task in [t for t in self._in_flight if t.cancelled()]:
            del self._in_flight[task]
            self._started.pop(task, None)
        await self._record_finished()


@housekeeping.register("deliveries")
async def delete_old(conn: asyncpg.Connection, now: datetime, settings: Settings | None = None,
                     keep: timedelta = timedelta(days=7)) -> None:
    """Housekeeping: finished deliveries are kept a week, then removed with activities nobody points at."""
    await conn.execute("DELETE FROM deliveries WHERE state <> 'pending' AND created_at < $1", now - keep)
    await conn.execute("DELETE FROM outbound_activities a WHERE a.created_at < $1 AND NOT EXISTS "
                       "(SELECT 1 FROM deliveries d WHERE d.activity_id = a.id)", now - keep)
