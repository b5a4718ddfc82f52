"""Delivering activities: one row per (activity, inbox), claimed by any number of workers, signed and POSTed.

Owns: the outbound_activities, deliveries and federation_domains tables; claiming with FOR UPDATE SKIP LOCKED and
a lease; the classification of results in one pure function; backoff (at least two days of retries) and domains
marked unavailable after repeated failure until they answer again. Never: builds activity JSON (outbox.py and
inbound handlers hand it over ready).
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import json
import logging
import random
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
from server import accounts
from server.db.pool import connection, transaction

log = logging.getLogger("ambtenaar.delivery")
NOTIFY_CHANNEL = "ambtenaar_deliveries"
GIVE_UP_AFTER = timedelta(days=2, hours=12)
MAX_BACKOFF = timedelta(hours=6)
UNAVAILABLE_AFTER = timedelta(hours=1)
LEASE = timedelta(minutes=2)
ERROR_LIMIT = 1024


class Outcome(enum.Enum):
    DONE = "done"
    RETRY = "retry"
    GONE = "gone"
    DROP = "drop"


def classify(status: int | None) -> Outcome:
    """2xx done; 410 gone; 408, 429, 5xx and no answer at all: retry; any other 4xx: give up."""
    if status is None or status in (408, 429) or status >= 500:
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.DONE
    return Outcome.GONE if status == 410 else Outcome.DROP


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Exponential with jitter (30 s, 2 min, 8 min, ... capped at 6 h); honours Retry-After when it is longer."""
    base = min(30 * 4 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    delay = base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_BACKOFF.total_seconds()))
    return timedelta(seconds=delay)


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


async def claim(conn: asyncpg.Connection, now: datetime, limit: int) -> list[Claimed]:
    """Lease due deliveries; a worker that dies lets its lease run out and another takes the rows over."""
    rows = await conn.fetch(
        """WITH due AS (
             SELECT d.id FROM deliveries d
             LEFT JOIN federation_domains fd ON fd.domain = d.domain
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.locked_until IS NULL OR d.locked_until < $1)
             ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED)
           UPDATE deliveries d SET locked_until = $3, attempts = d.attempts + 1
           FROM due, outbound_activities a WHERE d.id = due.id AND a.id = d.activity_id
           RETURNING d.id, d.inbox_uri, d.domain, d.attempts, d.created_at, a.body, a.signer_id""",
        now, limit, now + LEASE)
    return [Claimed(**dict(r)) for r in rows]


async def without_refused(conn: asyncpg.Connection, items: list[Claimed]) -> list[Claimed]:
    """Deliveries queued before their domain was blocked are not sent: marked failed, with the reason."""
    refused = await domain_blocks.refused_hosts(conn, {i.domain for i in items})
    if not refused:
        return items
    await conn.execute("UPDATE deliveries SET state = 'failed', last_error = 'refused by domain policy', "
                       "locked_until = NULL WHERE id = ANY($1::bigint[])",
                       [i.id for i in items if i.domain in refused])
    return [i for i in items if i.domain not in refused]


async def record(conn: asyncpg.Connection, item: Claimed, status: int | None, error: str | None,
                 retry_after: float | None, now: datetime) -> Outcome:
    outcome = classify(status)
    if outcome is Outcome.DONE:
        await conn.execute("UPDATE deliveries SET state = 'sent', sent_at = $2, last_status = $3, locked_until = NULL "
                           "WHERE id = $1", item.id, now, status)
        await conn.execute(
            "INSERT INTO federation_domains (domain, last_success_at) VALUES ($1, $2) ON CONFLICT (domain) DO UPDATE "
            "SET last_success_at = $2, failing_since = NULL, unavailable = false", item.domain, now)
        return outcome
    if outcome is Outcome.RETRY:
        failing_since = await conn.fetchval(
            "INSERT INTO federation_domains (domain, failing_since) VALUES ($1, $2) ON CONFLICT (domain) DO UPDATE "
            "SET failing_since = coalesce(federation_domains.failing_since, $2), "
            "unavailable = coalesce(federation_domains.failing_since, $2) < $3 RETURNING failing_since",
            item.domain, now, now - UNAVAILABLE_AFTER)
        unavailable = failing_since is not None and failing_since < now - UNAVAILABLE_AFTER
        if now - item.created_at > GIVE_UP_AFTER:
            await conn.execute("UPDATE deliveries SET state = 'dead', last_status = $2, last_error = $3, "
                               "locked_until = NULL WHERE id = $1", item.id, status, (error or "")[:ERROR_LIMIT])
            return outcome
        delay = backoff(item.attempts, retry_after)
        if unavailable:
            delay = max(delay, UNAVAILABLE_AFTER)
        await conn.execute("UPDATE deliveries SET next_attempt_at = $2, last_status = $3, last_error = $4, "
                           "locked_until = NULL WHERE id = $1", item.id, now + delay, status, (error or "")[:ERROR_LIMIT])
        return outcome
    await conn.execute("UPDATE deliveries SET state = 'failed', last_status = $2, last_error = $3, locked_until = NULL "
                       "WHERE id = $1", item.id, status, (error or "")[:ERROR_LIMIT])
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
    """`record` for many successes at once: two statements, whatever the count (the usual case of a fan-out)."""
    if not items:
        return
    await conn.execute("UPDATE deliveries d SET state = 'sent', sent_at = $2, last_status = s.status, "
                       "locked_until = NULL FROM unnest($1::bigint[], $3::int[]) AS s(id, status) WHERE d.id = s.id",
                       [i.id for i in items], now, statuses)
    # Sorted, so that two workers recording the same domains lock their rows in the same order.
    await conn.execute(
        "INSERT INTO federation_domains (domain, last_success_at) SELECT unnest($1::text[]), $2 "
        "ON CONFLICT (domain) DO UPDATE SET last_success_at = $2, failing_since = NULL, unavailable = false",
        sorted({i.domain for i in items}), now)


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
                log.warning("delivery crashed", extra={"inbox": item.inbox_uri, "error": repr(result)})
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


async def run_batch(fed: Federation, limit: int = 200) -> int:
    """Claim a batch, send it concurrently (netguard limits each host), record every result; the count sent."""
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        items = await without_refused(conn, await claim(conn, now, limit))
    if not items:
        return 0
    signer_keys = await _signer_keys(fed, items)
    results = await asyncio.gather(*(send_one(fed, item, signer_keys[item.signer_id]) for item in items),
                                   return_exceptions=True)
    await record_results(fed, list(zip(items, results, strict=True)))
    return len(items)


class Sender:
    """Keeps up to `max_in_flight` deliveries in flight, claiming more as sends finish and recording results in
    small batches, so a slow or dead host holds up only its own deliveries, never a whole batch (a batch that waited
    for its slowest member made one 5-second host stall every live inbox behind it).

    `step()` is one turn of the worker loop; `drain()` at shutdown waits for what is in flight and records it
    (anything still unfinished is cancelled and retried once its lease runs out).
    """

    RECORD_WAIT = 0.02  # after the first send finishes, let others finish too, to record them together

    def __init__(self, fed: Federation, max_in_flight: int = 200) -> None:
        self.fed = fed
        self.max_in_flight = max_in_flight
        self._in_flight: dict[asyncio.Future[SendResult], Claimed] = {}

    def in_flight(self) -> int:
        return len(self._in_flight)

    async def _claim_and_start(self, room: int) -> int:
        async with transaction(self.fed.deps.pool) as conn:
            items = await without_refused(conn, await claim(conn, self.fed.deps.now(), room))
        if items:
            signer_keys = await _signer_keys(self.fed, items)
            for item in items:
                task = asyncio.ensure_future(send_one(self.fed, item, signer_keys[item.signer_id]))
                self._in_flight[task] = item
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
        return len(finished)

    async def step(self) -> int:
        """Claim what fits, wait (briefly) for sends to finish, record them; how many were claimed or recorded."""
        claimed = 0
        room = self.max_in_flight - len(self._in_flight)
        quarter = max(1, self.max_in_flight // 4)
        if room >= quarter:
            # A quarter at a time: each send signs (RSA) before its first await, so a claim of 200 would hold the
            # event loop for 200 signatures in a row (50-160 ms), which `serve`'s in-process worker makes requests
            # wait for.
            claimed = await self._claim_and_start(quarter)
        if not self._in_flight:
            return claimed
        done, _ = await asyncio.wait(self._in_flight, timeout=0 if claimed else 1.0,
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
        await self._record_finished()


async def delete_old(conn: asyncpg.Connection, now: datetime, keep: timedelta = timedelta(days=7)) -> None:
    """Housekeeping: finished deliveries are kept a week, then removed with activities nobody points at."""
    await conn.execute("DELETE FROM deliveries WHERE state <> 'pending' AND created_at < $1", now - keep)
    await conn.execute("DELETE FROM outbound_activities a WHERE a.created_at < $1 AND NOT EXISTS "
                       "(SELECT 1 FROM deliveries d WHERE d.activity_id = a.id)", now - keep)
