"""The background loops of federation: received activities, outbox events, deliveries.

Owns: running the queues until told to stop, woken by PostgreSQL NOTIFY and a slow poll as fallback, so any number
of workers in any number of processes cooperate through the database alone (server/db/queue.py: SKIP LOCKED, leases
held by a registered worker); taking back the leases of workers that are gone, when starting and every few seconds;
every step's exception logged (with the item's id where there is one) and the loop going on; running the registered
housekeeping jobs (server/housekeeping.py) every 10 minutes; `last_beat` for /readyz.
Never: decides what an item means (inbound handlers, outbox and delivery do), or what housekeeping removes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

import asyncpg

from federation import delivery, handle_domain_check, inbox, outbox, remote_badges, vocab, webhooks
from federation.archive_notes import note_builder
from federation.context import Federation
from federation.inbound import HANDLERS
from server import accounts, archive_jobs, housekeeping, scheduled, voting, webcare_hooks
from server.db import queue
from server.db.pool import connection, transaction

log = logging.getLogger("ambtenaar.worker")
POLL_SECONDS = 2.0
STALLED_AFTER = 300.0
RECLAIM_EVERY = 5.0  # seconds between looks for workers that are gone (and heartbeats of this one)
CHANNELS = (inbox.NOTIFY_CHANNEL, delivery.NOTIFY_CHANNEL, "ambtenaar_outbox", webcare_hooks.NOTIFY_CHANNEL)


async def process_inbox(fed: Federation, limit: int = 20, *, worker: int | None = None) -> int:
    async with transaction(fed.deps.pool) as conn:
        items = await inbox.claim_items(conn, fed.deps.now(), limit, worker=worker)
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
            error = queue.error_text(exc)
            async with connection(fed.deps.pool) as conn:
                gave_up = await inbox.fail_item(conn, item, error, fed.deps.now())
            log.warning("inbox item failed", extra={"item": item.id, "activity": item.activity_uri,
                                                    "attempt": item.attempts, "gave_up": gave_up, "error": error})
    return len(items)


HOUSEKEEPING_EVERY = 600.0


class Worker:
    """One cooperating worker; `ambtenaar serve` runs one in-process, `ambtenaar worker` runs them alone."""

    def __init__(self, fed: Federation, *, delivery_batch: int = 200) -> None:
        self.fed = fed
        self.delivery_batch = delivery_batch
        self.sender = delivery.Sender(fed, max_in_flight=delivery_batch)
        self._wake = asyncio.Event()
        self.last_beat: float | None = None  # loop time of the last turn: /readyz reports a stalled worker
        self.worker_id: int | None = None  # registered in queue_workers while run() runs
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def stalled(self, now: float, after: float = STALLED_AFTER) -> bool:
        """Whether the loop has not come round for `after` seconds (it turns at least every POLL_SECONDS when
        idle; a turn with slow remote servers takes longer, hence the wide margin)."""
        return self.last_beat is not None and now - self.last_beat > after

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _step(self) -> int:
        done = 0
        steps = (("outbox", lambda: outbox.process_events(self.fed)),
                 ("inbox", lambda: process_inbox(self.fed, worker=self.worker_id)),
                 ("remote badges", lambda: remote_badges.process_checks(self.fed, worker=self.worker_id)),
                 # Polls whose time is up close, and changed counts go out, within a turn of this loop.
                 ("polls", lambda: voting.run_poll_job(self.fed.deps)),
                 ("deliveries", self.sender.step),
                 ("webcare webhooks", lambda: webhooks.process_webhooks(self.fed, worker=self.worker_id)),
                 # Due scheduled posts go out within a turn of this loop (at most POLL_SECONDS when idle).
                 ("scheduled posts", lambda: scheduled.publish_due(self.fed.deps)),
                 # Live handle domains are checked again once a day (issue 17); a failure marks them failing.
                 ("handle domains", lambda: handle_domain_check.recheck_due(self.fed)),
                 ("archive exports", lambda: archive_jobs.run_due(self.fed.deps, worker=self.worker_id,
                                                                  note_json=note_builder(self.fed.deps.settings))))
        for name, step in steps:
            try:
                done += await step()
            except Exception as exc:  # whatever one step raises, the worker goes on (CancelledError passes)
                log.warning("worker step failed", extra={"step": name, "error": repr(exc)}, exc_info=not isinstance(
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

    async def _reclaim(self, listener: asyncpg.Connection) -> None:
        """Heartbeat, and the leases of workers that are gone back to the queues (logged when there were any)."""
        assert self.worker_id is not None
        if not await queue.heartbeat(listener, self.worker_id, self.fed.deps.now()):
            log.warning("worker row went missing", extra={"worker": self.worker_id})
        back = await queue.reclaim(listener)
        if back:
            log.warning("took back the leases of stopped workers", extra={"worker": self.worker_id, **back})
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        listener: asyncpg.Connection | None = None
        last_housekeeping = last_reclaim = 0.0
        loop = asyncio.get_running_loop()
        try:
            listener = await self.fed.deps.pool.acquire()
            # This connection is the worker's life: its advisory lock (queue.register_worker) holds the worker's
            # leases; when the process dies, PostgreSQL ends the backend and the next reclaim frees them.
            self.worker_id = self.sender.worker = await queue.register_worker(listener, self.name, self.fed.deps.now())
            for channel in CHANNELS:
                await listener.add_listener(channel, self._on_notify)
            while not stop.is_set():
                self.last_beat = loop.time()
                if loop.time() - last_reclaim > RECLAIM_EVERY:
                    last_reclaim = loop.time()
                    await self._reclaim(listener)
                if loop.time() - last_housekeeping > HOUSEKEEPING_EVERY:
                    last_housekeeping = loop.time()
                    await housekeeping.run_all(self.fed.deps.pool, self.fed.deps.now(), self.fed.deps.settings)
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
                if self.worker_id is not None:
                    try:
                        await queue.unregister_worker(listener, self.worker_id)
                    except Exception:  # the pool does not reset released connections: close this one, so that
                        listener.terminate()  # PostgreSQL drops the lock and the others take the leases back
                await self.fed.deps.pool.release(listener)
            self.worker_id = None
