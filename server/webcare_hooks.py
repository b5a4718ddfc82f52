"""Webcare webhooks: an organisation's case system or webcare tool hears of its conversations as they happen.

Owns: the webcare_webhooks and webcare_webhook_deliveries tables (migration 0051) and their SQL; the events
(`conversation.opened`, `conversation.citizen_replied`, `conversation.status_changed`); the body and its signature
(HMAC-SHA256 over the exact body with the hook's secret, `X-Ambtenaar-Signature: sha256=<hex>`). Deliveries are a
`db/queue.py` queue with a 2-minute lease and the shared schedule (8 attempts over about a day), written in the
transaction of the change they report, so a change that rolls back tells nobody.
Never: sends anything: federation/webhooks.py (the one outgoing HTTP client) claims and POSTs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from server import audit, housekeeping
from server.db import queue
from server.errors import Invalid, NotFound
from server.ids import new_id

EVENTS = ("conversation.opened", "conversation.citizen_replied", "conversation.status_changed")
QUEUE = queue.Queue("webcare_webhook_deliveries", order_by="next_attempt_at", lease=timedelta(minutes=2))
MAX_HOOKS = 5
SIGNATURE_HEADER = "X-Ambtenaar-Signature"
EVENT_HEADER = "X-Ambtenaar-Event"
DELIVERY_HEADER = "X-Ambtenaar-Delivery"
NOTIFY_CHANNEL = "ambtenaar_webhooks"  # wakes the workers (federation/worker.py listens)
KEEP_FINISHED = timedelta(days=30)


@dataclass(frozen=True)
class Webhook:
    id: int
    organisation_id: int
    url: str
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook_id: int
    event: str
    body: str
    attempts: int
    url: str
    secret: str


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the body under the hook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_url(url: str) -> str:
    url = url.strip()
    if not url.startswith(("https://", "http://")) or len(url) > 2000 or any(c.isspace() for c in url):
        raise Invalid("A webhook address is an http(s) URL of at most 2,000 characters.")
    return url


async def list_webhooks(conn: asyncpg.Connection, organisation_id: int) -> list[Webhook]:
    rows = await conn.fetch("SELECT id, organisation_id, url, created_at FROM webcare_webhooks "
                            "WHERE organisation_id = $1 ORDER BY id", organisation_id)
    return [Webhook(**dict(r)) for r in rows]


async def add_webhook(conn: asyncpg.Connection, organisation_id: int, url: str, *, actor_id: int | None,
                      now: datetime) -> tuple[Webhook, str]:
    """A new hook and its secret, shown once (the receiver keeps it to check signatures)."""
    url = check_url(url)
    if await conn.fetchval("SELECT count(*) FROM webcare_webhooks WHERE organisation_id = $1",
                           organisation_id) >= MAX_HOOKS:
        raise Invalid("An organisation has at most 5 webhooks: remove one first.")
    secret = secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        "INSERT INTO webcare_webhooks (id, organisation_id, url, secret, created_by, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, organisation_id, url, created_at",
        new_id(now), organisation_id, url, secret, actor_id, now)
    await audit.record(conn, actor_id=actor_id, action="webcare.webhook_added", subject_type="organisation",
                       subject_id=organisation_id, detail={"url": url}, now=now)
    return Webhook(**dict(row)), secret


async def remove_webhook(conn: asyncpg.Connection, organisation_id: int, webhook_id: int, *, actor_id: int | None,
                         now: datetime) -> None:
    url = await conn.fetchval("DELETE FROM webcare_webhooks WHERE id = $1 AND organisation_id = $2 RETURNING url",
                              webhook_id, organisation_id)
    if url is None:
        raise NotFound("There is no webhook with that id.")
    await audit.record(conn, actor_id=actor_id, action="webcare.webhook_removed", subject_type="organisation",
                       subject_id=organisation_id, detail={"url": url}, now=now)


async def enqueue(conn: asyncpg.Connection, organisation_id: int, event: str, data: dict[str, Any],
                  now: datetime) -> int:
    """One delivery per hook of the organisation, in the caller's transaction; the number queued."""
    assert event in EVENTS, event
    hooks = await conn.fetch("SELECT id FROM webcare_webhooks WHERE organisation_id = $1", organisation_id)
    for hook in hooks:
        delivery_id = new_id(now)
        body = json.dumps({"id": str(delivery_id), "event": event, "created_at": now.isoformat(),
                           "data": data}, separators=(",", ":"), ensure_ascii=False)
        await conn.execute(
            "INSERT INTO webcare_webhook_deliveries (id, webhook_id, event, body, created_at, next_attempt_at) "
            "VALUES ($1, $2, $3, $4, $5, $5)", delivery_id, hook["id"], event, body, now)
    if hooks:
        await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    return len(hooks)


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int, *, worker: int | None) -> list[Delivery]:
    rows = await queue.claim(conn, QUEUE, now, limit, ("id", "webhook_id", "event", "body", "attempts"),
                             worker=worker)
    if not rows:
        return []
    hooks = {r["id"]: r for r in await conn.fetch("SELECT id, url, secret FROM webcare_webhooks WHERE id = ANY($1)",
                                                   list({r["webhook_id"] for r in rows}))}
    return [Delivery(id=r["id"], webhook_id=r["webhook_id"], event=r["event"], body=r["body"],
                     attempts=r["attempts"], url=hooks[r["webhook_id"]]["url"],
                     secret=hooks[r["webhook_id"]]["secret"]) for r in rows if r["webhook_id"] in hooks]


async def delivered(conn: asyncpg.Connection, delivery_id: int, now: datetime) -> None:
    await queue.done(conn, QUEUE, [delivery_id], values={"delivered_at": now})


async def failed(conn: asyncpg.Connection, delivery: Delivery, error: str, now: datetime, *,
                 retry_after: float | None = None, permanent: bool = False) -> bool:
    """Record a failed attempt; True when given up (a permanent refusal, or out of attempts)."""
    if permanent:
        await queue.give_up(conn, QUEUE, [delivery.id], error)
        return True
    return await queue.retry(conn, QUEUE, delivery.id, delivery.attempts, error, now, retry_after=retry_after)


async def list_deliveries(conn: asyncpg.Connection, organisation_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The latest deliveries of the organisation's hooks, for its settings page."""
    rows = await conn.fetch(
        "SELECT d.id, d.event, d.state, d.attempts, d.last_error, d.created_at, d.delivered_at, h.url "
        "FROM webcare_webhook_deliveries d JOIN webcare_webhooks h ON h.id = d.webhook_id "
        "WHERE h.organisation_id = $1 ORDER BY d.id DESC LIMIT $2", organisation_id, limit)
    return [dict(r) for r in rows]


@housekeeping.register("webcare webhook deliveries")
async def delete_old(conn: asyncpg.Connection, now: datetime, settings: object | None = None) -> None:
    """Housekeeping: finished deliveries are kept 30 days (the settings page shows them), then removed."""
    await conn.execute("DELETE FROM webcare_webhook_deliveries WHERE state <> 'pending' AND created_at < $1",
                       now - KEEP_FINISHED)
