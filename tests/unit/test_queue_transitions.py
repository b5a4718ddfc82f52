"""The one queue module's rules (server/db/queue.py), without a database: the transitions table, the names a
queue may use, the retry schedule, and the housekeeping jobs the owning modules register themselves."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from server.db import queue

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def test_a_row_only_leaves_pending_and_never_comes_back() -> None:
    for target in (queue.PENDING, queue.DONE, queue.FAILED, queue.DEAD):
        queue.check(queue.PENDING, target)
    for finished in (queue.DONE, queue.FAILED, queue.DEAD):
        for target in queue.TRANSITIONS:
            with pytest.raises(queue.InvalidTransition):
                queue.check(finished, target)
    assert queue.sources(queue.DONE) == [queue.PENDING]


def test_a_queue_spells_its_states_its_own_way() -> None:
    q = queue.Queue("example_items", states={queue.DONE: "sent"})
    assert q.state(queue.DONE) == "sent" and q.state(queue.PENDING) == "pending"
    assert q.states_before(queue.DONE) == ["pending"]
    with pytest.raises(ValueError):
        queue.Queue("example_items", states={"sending": "x"})


@pytest.mark.parametrize("name", ["deliveries; DROP TABLE accounts", "Deliveries", "a b", "", "x" * 64])
def test_no_identifier_but_a_plain_name_reaches_the_sql(name: str) -> None:
    with pytest.raises(ValueError):
        queue.Queue(name)
    with pytest.raises(ValueError):
        queue.Queue("example_items", order_by=name)
    with pytest.raises(ValueError):
        queue.Queue("example_items", states={queue.DONE: name})  # a state's spelling is written into the SQL


def test_only_leased_queues_are_reclaimed() -> None:
    leased = queue.Queue("example_leased", lease=timedelta(minutes=2))
    assert queue.LEASED["example_leased"] is leased
    queue.Queue("example_unleased")
    assert "example_unleased" not in queue.LEASED
    del queue.LEASED["example_leased"]


def test_backoff_grows_is_capped_jittered_and_gives_up() -> None:
    rng = random.Random(1)
    delays = [(queue.next_attempt(n, NOW, jitter=rng) - NOW).total_seconds() for n in range(1, 8)]  # type: ignore[operator]
    assert 24 <= delays[0] <= 36 and 96 <= delays[1] <= 144
    assert all(d <= 6 * 3600 * 1.2 for d in delays) and delays[-1] >= 6 * 3600 * 0.8
    assert queue.next_attempt(queue.MAX_ATTEMPTS, NOW) is None
    assert queue.next_attempt(50, NOW, max_attempts=None) is not None  # a queue that gives up by age instead
    later = queue.next_attempt(1, NOW, retry_after=3000)
    assert later is not None and later - NOW >= timedelta(seconds=3000)
    capped = queue.next_attempt(1, NOW, retry_after=10 ** 9)
    assert capped is not None and capped - NOW <= queue.MAX_DELAY * 1.2


def test_error_text_is_short() -> None:
    assert queue.error_text(ValueError("x" * 5000)).startswith("ValueError: x")
    assert len(queue.error_text(ValueError("x" * 5000))) == queue.ERROR_LIMIT


def test_the_owning_modules_register_their_housekeeping() -> None:
    import server.app  # noqa: F401 - the composition root imports every module, as `serve` and `worker` do
    from federation import delivery, inbox, worker  # noqa: F401
    from server import events, housekeeping

    assert {"web_sessions", "idempotency_keys", "oauth_codes", "rate_limit_hits", "media_proxy_cache",
            "inbox_items", "deliveries"} <= set(housekeeping.JOBS)
    assert {"inbox_items", "deliveries"} <= set(queue.LEASED)
    assert events.QUEUE.lease is None  # outbox events stay locked for their claiming transaction
