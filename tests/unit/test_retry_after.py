"""A receiver's Retry-After, in both forms HTTP allows, decides when our delivery tries again (429, 503)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from federation import delivery

NOW = datetime(2025, 3, 4, 12, 0, 0, tzinfo=UTC)


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert delivery.retry_after_seconds("120", NOW) == 120
    assert delivery.retry_after_seconds(" 7 ", NOW) == 7
    assert delivery.retry_after_seconds("Tue, 04 Mar 2025 12:10:00 GMT", NOW) == 600
    assert delivery.retry_after_seconds("Tue, 04 Mar 2025 11:00:00 GMT", NOW) == 0  # already past
    for unreadable in (None, "", "soon", "-5", "1.5e9"):
        assert delivery.retry_after_seconds(unreadable, NOW) is None


def test_a_429_is_retried_no_sooner_than_retry_after_says() -> None:
    assert delivery.classify(429) is delivery.Outcome.RETRY and delivery.classify(503) is delivery.Outcome.RETRY
    assert delivery.classify(401) is delivery.Outcome.RETRY  # the receiver could not fetch our key: try again
    assert delivery.classify(403) is delivery.Outcome.DROP and delivery.classify(410) is delivery.Outcome.GONE
    assert delivery.backoff(1, retry_after=3000) >= timedelta(seconds=3000)
    assert delivery.backoff(1, retry_after=10 ** 9) <= delivery.MAX_BACKOFF  # a capped wait, never forever
    assert delivery.backoff(1) < timedelta(seconds=60)
