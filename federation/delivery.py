"""Delivering activities: one row per (activity, inbox), claimed by any number of workers, signed and POSTed.

Owns: the outbound_activities, deliveries and federation_domains tables; claiming with FOR UPDATE SKIP LOCKED and
a lease; the classification of results in one pure function; backoff (at least two days of retries) and domains
marked unavailable after repeated failure until they answer again. Never: builds activity JSON (outbox.py and
inbound handlers hand it over ready).
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from federation import keys, signatures
from federation.context import Federation
from federation.netguard import NetguardError
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


def domain_of(inbox: str) -> str:
    return (urlsplit(inbox).netloc or "").lower()


async def enqueue(conn: asyncpg.Connection, activity: Mapping[str, Any], *, signer_id: int | None,
                  inboxes: Iterable[str], now: datetime) -> int:
    """Store the activity once and one delivery per distinct inbox, set-based, in the caller's transaction."""
    targets = sorted({i for i in inboxes if i.startswith(("https://", "http://"))})
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
        activity_id, targets, [domain_of(t) for t in targets], now)
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


async def send_one(fed: Federation, item: Claimed, key: keys.SigningKey) -> tuple[int | None, str | None, float | None]:
    """Sign and POST one delivery; (status, error text, Retry-After seconds)."""
    base_headers = {"Content-Type": "application/activity+json", "Accept": "application/activity+json"}
    signed = signatures.sign_request_cavage("POST", item.inbox_uri, base_headers, item.body,
                                            fed.private_key(key.private_key_pem), key.key_id, fed.deps.now())
    try:
        result = await fed.client.post(item.inbox_uri, item.body, {**base_headers, **signed})
    except NetguardError as exc:
        return None, str(exc), None
    retry_after = None
    raw = result.headers.get("retry-after") if result.headers else None
    if raw and raw.strip().isdigit():
        retry_after = float(raw.strip())
    error = None if 200 <= result.status < 300 else result.body_prefix.decode("utf-8", "replace")[:ERROR_LIMIT]
    return result.status, error, retry_after


async def run_batch(fed: Federation, limit: int = 200) -> int:
    """Claim a batch, send it concurrently (netguard limits each host), record every result; the count sent."""
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        items = await claim(conn, now, limit)
    if not items:
        return 0
    signer_keys: dict[int | None, keys.SigningKey] = {}
    async with connection(fed.deps.pool) as conn:
        for signer_id in {i.signer_id for i in items}:
            signer = await accounts.get_account(conn, signer_id) if signer_id is not None else None
            signer_keys[signer_id] = await keys.signer_key(conn, fed.deps.settings, signer)
    results = await asyncio.gather(*(send_one(fed, item, signer_keys[item.signer_id]) for item in items),
                                   return_exceptions=True)
    async with transaction(fed.deps.pool) as conn:
        for item, result in zip(items, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                log.warning("delivery crashed", extra={"inbox": item.inbox_uri, "error": repr(result)})
                await record(conn, item, None, repr(result), None, fed.deps.now())
            else:
                await record(conn, item, *result, fed.deps.now())
    return len(items)


async def delete_old(conn: asyncpg.Connection, now: datetime, keep: timedelta = timedelta(days=7)) -> None:
    """Housekeeping: finished deliveries are kept a week, then removed with activities nobody points at."""
    await conn.execute("DELETE FROM deliveries WHERE state <> 'pending' AND created_at < $1", now - keep)
    await conn.execute("DELETE FROM outbound_activities a WHERE a.created_at < $1 AND NOT EXISTS "
                       "(SELECT 1 FROM deliveries d WHERE d.activity_id = a.id)", now - keep)
