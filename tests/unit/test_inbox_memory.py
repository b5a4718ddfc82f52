"""What the inbox keeps in memory (issue 18), without a database: the key cache's expiry and bounds, and the rate
limit counts decided in memory before any flush (the flush and several processes: tests/federation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from federation import signatures
from federation.key_cache import KeyCache, stamp_of
from server.accounts import Account
from server.ratelimits import LocalWindows

NOW = datetime(2026, 12, 6, 3, 0, 10, tzinfo=UTC)
KEY = signatures.generate_private_key()


def remote(n: int, pem: str) -> Account:
    return Account(id=n, username=f"r{n}", email=None, display_name="", bio="", kind="person", organisation_id=None,
                   org_role=None, is_admin=False, is_moderator=False, default_voice="personal", language="nl",
                   created_at=NOW, disabled_at=None, domain="remote.example", actor_uri=f"https://remote.example/u/{n}",
                   key_id=f"https://remote.example/u/{n}#main-key", public_key_pem=pem)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_key_expires_after_its_ttl_and_can_be_forgotten_before() -> None:
    clock = Clock()
    cache = KeyCache(ttl=60, clock=clock)
    pem = signatures.public_key_pem(KEY)
    account = remote(1, pem)
    cache.put("k1", account, KEY.public_key())
    clock.now += 59
    entry = cache.get("k1")
    assert entry is not None and entry.signer.id == account.id and entry.signer.public_key_pem is None  # slim
    assert entry.stamp == stamp_of(account, "k1")
    clock.now += 2
    assert cache.get("k1") is None  # expired: read from the database again
    cache.put("k1", account, KEY.public_key())
    cache.forget("k1")
    assert cache.get("k1") is None


def test_the_stamp_changes_with_the_key_and_the_suspension() -> None:
    pem = signatures.public_key_pem(KEY)
    other = signatures.public_key_pem(signatures.generate_private_key())
    base = stamp_of(remote(1, pem), "k1")
    assert stamp_of(remote(1, other), "k1") != base
    suspended = remote(1, pem)
    object.__setattr__(suspended, "suspended_at", NOW)
    assert stamp_of(suspended, "k1") != base


def test_the_cache_stays_within_its_bound() -> None:
    cache = KeyCache(max_keys=8)
    for n in range(50):
        cache.put(f"k{n}", remote(n, "pem"), KEY.public_key())
    assert len(cache) <= 8
    assert cache.get("k49") is not None  # the newest stay


def test_memory_counts_refuse_past_the_limit_within_a_window_and_start_again_in_the_next() -> None:
    windows = LocalWindows(timedelta(seconds=60))
    verdicts = [windows.hit_many([("inbox:actor:a", 3), ("inbox:domain:d", 100)], now=NOW)[0] for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert verdicts[-1].reset_at == datetime(2026, 12, 6, 3, 1, 0, tzinfo=UTC)
    later = windows.hit_many([("inbox:actor:a", 3)], now=NOW + timedelta(seconds=60))
    assert later[0].allowed and later[0].remaining == 2


def test_a_flush_is_due_only_with_counts_pending_and_after_the_interval() -> None:
    windows = LocalWindows(timedelta(seconds=60), flush_every=1.0)
    assert not windows.flush_due(5.0)  # nothing counted
    windows.hit_many([("b", 10)], now=NOW)
    assert windows.flush_due(5.0)
