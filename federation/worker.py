"""The background loops of federation: received activities, outbox events, deliveries.

Owns: running the three queues until told to stop, woken by PostgreSQL NOTIFY and a slow poll as fallback, so
any number of workers in any number of processes cooperate through the database alone (SKIP LOCKED).
Never: decides what an item means (inbound handlers, outbox and delivery do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import asyncpg

from federation import delivery, inbox, media_proxy, outbox, remote_badges, vocab
from federation.context import Federation
from federation.inbound import HANDLERS
from server import accounts, idempotency, oauth, ratelimits, sessions
from server.db.pool import connection, transaction

log = logging.getLogger("ambtenaar.worker")
POLL_SECONDS = 2.0
STALLED_AFTER = 300.0
CHANNELS = (inbox.NOTIFY_CHANNEL, delivery.NOTIFY_CHANNEL, "ambtenaar_outbox")


async def process_inbox(fed: Federation, limit: int = 20) -> int:
    async with transaction(fed.deps.pool) as conn:
        items = await inbox.claim_items(conn, fed.deps.now(), limit)
    for item in items:
        try:
            activity = vocab.parse_activity(item.activity)
            async with connection(fed.deps.pool) as conn:
                sender = await accounts.get_account_by_actor_uri(conn, item.actor_uri)
            handler = HANDLERS.get(activity.type)
            # An account suspended after its activity arrived: dropped all the same.
            if sender is not None and handler is not None and inbox.heard_from(sender, activity):
                await handler(fed, activity, sender)
            async with connection(fed.deps.pool) as conn:
                await inbox.finish_item(conn, item.id)
        except Exception as exc:  # one bad item must not stop the queue; it is retried with backoff
            log.warning("inbox item failed", extra={"activity": item.activity_uri, "error": repr(exc)})
            async with connection(fed.deps.pool) as conn:
                await inbox.fail_item(conn, item, repr(exc), fed.deps.now())
    return len(items)


HOUSEKEEPING_EVERY = 600.0


async def housekeeping(fed: Federation) -> None:
    """Remove what has served its purpose, so that no table grows without end."""
    now = fed.deps.now()
    settings = fed.deps.settings
    async with connection(fed.deps.pool) as conn:
        await sessions.delete_expired(conn, now, timedelta(seconds=settings.login_window_seconds))
        await idempotency.delete_expired(conn, now)
        await oauth.delete_expired_codes(conn, now)
        await ratelimits.delete_old(conn, now - timedelta(hours=1))
        await inbox.delete_old_items(conn, now)
        await delivery.delete_old(conn, now)
    await asyncio.to_thread(media_proxy.prune_cache, settings.data_dir, now)


class Worker:
    """One cooperating worker; `ambtenaar serve` runs one in-process, `ambtenaar worker` runs them alone."""

    def __init__(self, fed: Federation, *, delivery_batch: int = 200) -> None:
        self.fed = fed
        self.delivery_batch = delivery_batch
        self.sender = delivery.Sender(fed, max_in_flight=delivery_batch)
        self._wake = asyncio.Event()
        self.last_beat: float | None = None  # loop time of the last turn: /readyz reports a stalled worker

    def stalled(self, now: float, after: float = STALLED_AFTER) -> bool:
        """Whether the loop has not come round for `after` seconds (it turns at least every POLL_SECONDS when
        idle; a turn with slow remote servers takes longer, hence the wide margin)."""
        return self.last_beat is not None and now - self.last_beat > after

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _step(self) -> int:
        done = 0
        for step in (lambda: outbox.process_events(self.fed), lambda: process_inbox(self.fed),
                     lambda: remote_badges.process_checks(self.fed), self.sender.step):
            try:
                done += await step()
            except Exception as exc:  # whatever one step raises, the worker goes on (CancelledError passes)
                log.warning("worker step failed", extra={"error": repr(exc)}, exc_info=not isinstance(
                    exc, (asyncpg.PostgresError, OSError)))
                await asyncio.sleep(1)
        return done

    async def run_until(self, stop: asyncio.Event) -> None:
        """run(), started again whenever it fails (the database went away while the listener was set up, say),
        until `stop` is set: the one way `serve` and `ambtenaar worker` run a worker."""
        while not stop.is_set():
            try:
                await self.run(stop)
            except Exception as exc:  # the worker restarts itself; CancelledError passes
                log.warning("worker restarting", extra={"error": repr(exc)})
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)

    async def run(self, stop: asyncio.Event) -> None:
        listener: asyncpg.Connection | None = None
        last_housekeeping = 0.0
        loop = asyncio.get_running_loop()
        try:
            listener = await self.fed.deps.pool.acquire()
            for channel in CHANNELS:
                await listener.add_listener(channel, self._on_notify)
            while not stop.is_set():
                self.last_beat = loop.time()
                if loop.time() - last_housekeeping > HOUSEKEEPING_EVERY:
                    last_housekeeping = loop.time()
                    try:
                        await housekeeping(self.fed)
                    except Exception as exc:  # housekeeping failing must not stop federation
                        log.warning("housekeeping failed", extra={"error": repr(exc)})
                self._wake.clear()
                if await self._step():
                    continue
                waiter = asyncio.create_task(self._wake.wait())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({waiter, stopper}, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                for task in (waiter, stopper):
                    task.cancel()
        finally:
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await self.sender.drain()
            if listener is not None:
                with contextlib.suppress(Exception):
                    for channel in CHANNELS:
                        await listener.remove_listener(channel, self._on_notify)
                await self.fed.deps.pool.release(listener)
