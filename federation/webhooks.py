"""Sending webcare webhooks: the organisation's case system or webcare tool hears of its conversations.

Owns: claiming due webhook deliveries (server/webcare_hooks.py owns the queue and the bodies), POSTing each through
the node's one outgoing client (federation/netguard.py: its address rules, so `--allow-private-addresses` applies
as for federation, its time and size limits), signed with the hook's secret, and the classification of the
answer: 2xx delivered; 408, 429, 5xx, a timeout or a refused connection retried on the shared schedule (honouring
Retry-After); 410 and any other 4xx given up at once (the receiver says it will never take it).
Never: builds a body or decides who hears what (webcare_hooks.enqueue does, in the change's transaction).
"""

from __future__ import annotations

import asyncio
import logging

from federation.context import Federation
from federation.delivery import retry_after_seconds
from federation.netguard import NetguardError
from server import webcare_hooks
from server.db import queue
from server.db.pool import connection, transaction
from server.webcare_hooks import Delivery

log = logging.getLogger("ambtenaar.webhooks")
BATCH = 20
TIMEOUT_SECONDS = 10.0


def gives_up(status: int) -> bool:
    """Whether a refusal is final: 410 and the 4xx that are not 408 (timeout) or 429 (too many requests)."""
    return 400 <= status < 500 and status not in (408, 429)


async def send_one(fed: Federation, delivery: Delivery) -> None:
    body = delivery.body.encode()
    headers = {"Content-Type": "application/json", webcare_hooks.EVENT_HEADER: delivery.event,
               webcare_hooks.DELIVERY_HEADER: str(delivery.id),
               webcare_hooks.SIGNATURE_HEADER: webcare_hooks.sign(delivery.secret, body)}
    status: int | None = None
    retry_after: float | None = None
    try:
        result = await fed.client.post(delivery.url, body, headers, timeout=TIMEOUT_SECONDS)
        status = result.status
        retry_after = retry_after_seconds(result.headers.get("retry-after"), fed.deps.now())
        error = f"HTTP {status}: " + result.body_prefix.decode("utf-8", "replace")
    except NetguardError as exc:  # refused address, timeout, connection refused, DNS
        error = str(exc)
    async with connection(fed.deps.pool) as conn:
        if status is not None and 200 <= status < 300:
            await webcare_hooks.delivered(conn, delivery.id, fed.deps.now())
            return
        gave_up = await webcare_hooks.failed(conn, delivery, error[:queue.ERROR_LIMIT], fed.deps.now(),
                                             retry_after=retry_after,
                                             permanent=status is not None and gives_up(status))
    log.info("webhook delivery failed", extra={"delivery": delivery.id, "url": delivery.url, "status": status,
                                               "attempt": delivery.attempts, "gave_up": gave_up})


async def _send_or_retry(fed: Federation, delivery: Delivery) -> None:
    try:
        await send_one(fed, delivery)
    except Exception as exc:  # one bad delivery must not stop the others; it is retried (CancelledError passes)
        async with connection(fed.deps.pool) as conn:
            await webcare_hooks.failed(conn, delivery, queue.error_text(exc), fed.deps.now())
        log.warning("webhook delivery raised", extra={"delivery": delivery.id, "error": repr(exc)})


async def process_webhooks(fed: Federation, *, worker: int | None) -> int:
    """Claim due deliveries and send them side by side (so one slow receiver holds the worker's turn for at most
    TIMEOUT_SECONDS); how many were claimed (the worker turns again at once while there are)."""
    async with transaction(fed.deps.pool) as conn:
        due = await webcare_hooks.claim_due(conn, fed.deps.now(), BATCH, worker=worker)
    await asyncio.gather(*(_send_or_retry(fed, delivery) for delivery in due))
    return len(due)
