"""The one queue module on a real PostgreSQL: a lease belongs to the worker that holds it, a worker that is gone
(its connection closed, as a SIGKILL closes it) gives its leases back at the next reclaim, a live one keeps them, and
a finished row never moves again whatever a late worker records."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import asyncpg

from federation import inbox
from server import accounts, badges
from server.db import queue
from server.db.pool import open_pool
from tests.helpers.database import TestPostgres


async def _scenario(url: str) -> None:
    first, second, plain = [await asyncpg.connect(url) for _ in range(3)]
    try:
        await plain.execute("INSERT INTO inbox_items (activity_uri, actor_uri, activity) "
                            "SELECT 'https://elders.example/a/' || i, 'https://elders.example/u', '{}' "
                            "FROM generate_series(1, 5) AS i")
        now = datetime.now(timezone.utc)
        gone = await queue.register_worker(first, "gone", now)
        alive = await queue.register_worker(second, "alive", now)
        taken = await queue.claim(plain, inbox.QUEUE, now, 3, ("id", "attempts"), worker=gone)
        mine = await queue.claim(plain, inbox.QUEUE, now, 10, ("id",), worker=alive)
        assert len(taken) == 3 and len(mine) == 2 and all(r["attempts"] == 1 for r in taken)
        assert await queue.reclaim(plain) == {}  # both alive: nothing moves
        assert await queue.claim(plain, inbox.QUEUE, now, 10, ("id",), worker=alive) == []  # all leased

        await first.close()  # the worker's process dies: PostgreSQL ends its backend and drops its lock
        for _ in range(100):
            back = await queue.reclaim(plain)
            if back:
                break
            await asyncio.sleep(0.05)
        assert back["inbox_items"] == 3, back
        assert await plain.fetchval("SELECT count(*) FROM queue_workers") == 1  # only the live one is left
        again = await queue.claim(plain, inbox.QUEUE, now, 10, ("id", "attempts"), worker=alive)
        assert sorted(r["id"] for r in again) == sorted(r["id"] for r in taken)
        assert all(r["attempts"] == 2 for r in again)  # the attempt that died with its worker counts

        # A finished row stays finished: a late retry or give-up from another worker changes nothing.
        done_id, failing_id = again[0]["id"], again[1]["id"]
        await queue.done(plain, inbox.QUEUE, [done_id])
        assert await queue.retry(plain, inbox.QUEUE, done_id, 2, "late", now) is False
        await queue.give_up(plain, inbox.QUEUE, [done_id], "late")
        row = await plain.fetchrow("SELECT state, last_error, locked_by FROM inbox_items WHERE id = $1", done_id)
        assert (row["state"], row["last_error"], row["locked_by"]) == ("done", None, None)
        # Out of attempts: given up with the error kept (the inbox spells `dead` as `failed`).
        assert await queue.retry(plain, inbox.QUEUE, failing_id, queue.MAX_ATTEMPTS, "ValueError: kapot", now)
        row = await plain.fetchrow("SELECT state, last_error, attempts FROM inbox_items WHERE id = $1", failing_id)
        assert (row["state"], row["last_error"], row["attempts"]) == ("failed", "ValueError: kapot", 8)

        await queue.unregister_worker(second, alive)  # a clean stop ends its leases at once
        assert await plain.fetchval("SELECT count(*) FROM inbox_items WHERE locked_by IS NOT NULL") == 0
        assert await plain.fetchval("SELECT count(*) FROM queue_workers") == 0
    finally:
        for conn in (first, second, plain):
            if not conn.is_closed():
                await conn.close()


def test_leases_belong_to_live_workers(postgres: TestPostgres) -> None:
    asyncio.run(_scenario(postgres.fresh_database()))


async def _badge_checks(url: str) -> None:
    """The badge-check queue (issue 12: every queue on the one module): a killed worker's checks come back at the
    next reclaim, and a claim replaced while its check ran keeps its own schedule when the old check fails."""
    pool = await open_pool(url, min_size=1, max_size=2)
    holder, listener = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        now = datetime.now(timezone.utc)
        async with pool.acquire() as conn:
            account = await accounts.upsert_remote_account(conn, accounts.RemoteProfile(
                actor_uri="https://elders.example/users/els", username="els", domain="elders.example",
                actor_type="Person", display_name="Els", summary_html="", profile_url=None,
                inbox_uri="https://elders.example/users/els/inbox", shared_inbox_uri=None, followers_uri=None,
                key_id=None, public_key_pem=None, avatar_url=None, manually_approves_followers=False), now)
            await badges.record_remote_claim(conn, account, {"function": "Teamleider"}, now)
            worker = await queue.register_worker(holder, "badge checker", now)
            taken = await badges.claim_remote_checks(conn, now, worker=worker)
            assert [c.account_id for c in taken] == [account.id]
            assert await badges.claim_remote_checks(conn, now, worker=worker) == []  # leased
            await holder.close()  # the worker dies mid-check
            for _ in range(100):
                back = await queue.reclaim(conn)
                if back:
                    break
                await asyncio.sleep(0.05)
            assert back.get("remote_badge_checks") == 1, back
            other = await queue.register_worker(listener, "next", now)
            again = await badges.claim_remote_checks(conn, now, worker=other)
            assert [(c.account_id, c.attempts) for c in again] == [(account.id, 2)]
            # The actor is stored again with another badge while the old check runs; the old check's failure
            # leaves the new claim's schedule alone.
            fresh = await accounts.get_account(conn, account.id)
            assert fresh is not None
            await badges.record_remote_claim(conn, fresh, {"function": "Directeur"}, now)
            assert await badges.retry_remote_check(conn, again[0], "timeout", now) is True
            row = await conn.fetchrow("SELECT attempts, last_error, next_attempt_at FROM remote_badge_checks")
            assert (row["attempts"], row["last_error"], row["next_attempt_at"]) == (0, None, now)
            # Out of attempts: the check of the current claim gives up (the caller stores 'unverified').
            current = await badges.claim_remote_checks(conn, now, worker=other)
            last = badges.RemoteBadgeCheck(current[0].account_id, current[0].badge, queue.MAX_ATTEMPTS)
            assert await badges.retry_remote_check(conn, last, "timeout", now) is False
            assert await conn.fetchval("SELECT state FROM remote_badge_checks") == "failed"
    finally:
        for conn in (holder, listener):
            if not conn.is_closed():
                await conn.close()
        await pool.close()


def test_badge_checks_are_leased_like_every_queue(postgres: TestPostgres) -> None:
    asyncio.run(_badge_checks(postgres.fresh_database()))
