"""The read cache's own rules (server/read_cache.py): tags drop entries, a render overlapping an invalidation is not
kept, nothing is kept while not listening, the byte budget evicts the least recently used, one render per key at a
time, ETag and 304."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from server.read_cache import Fresh, ReadCache, account_tag, post_tag, tags_of


def _request(etag: str = "") -> Request:
    headers = [(b"if-none-match", etag.encode())] if etag else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def _fresh(body: bytes, *tags: str) -> Fresh:
    return Fresh(body, "application/activity+json", frozenset(tags))


def _listening(**kwargs: object) -> ReadCache:
    cache = ReadCache(**kwargs)  # type: ignore[arg-type]
    cache.listening = True
    return cache


def test_an_event_drops_the_entries_of_the_posts_and_accounts_it_names() -> None:
    cache = _listening()
    cache.store(("a",), _fresh(b"note 7", post_tag(7), account_tag(3)), cache.epoch)
    cache.store(("b",), _fresh(b"note 8", post_tag(8), account_tag(4)), cache.epoch)
    assert tags_of("8 4 12 ") == {post_tag(8), account_tag(8), post_tag(4), account_tag(4), post_tag(12),
                                  account_tag(12)}
    cache.on_notify(None, 0, "", "8 4")
    assert cache.get(("a",)) is not None and cache.get(("b",)) is None
    cache.on_notify(None, 0, "", "3")  # the author of note 7: its actor, and so the note too
    assert cache.get(("a",)) is None and cache.size == (0, 0)


def test_a_render_that_overlapped_an_invalidation_or_ran_while_not_listening_is_not_kept() -> None:
    cache = _listening()
    since = cache.epoch
    cache.invalidate({post_tag(1)})
    cache.store(("a",), _fresh(b"old", post_tag(1)), since)
    assert cache.get(("a",)) is None
    cache.listening = False
    cache.store(("a",), _fresh(b"new", post_tag(1)), cache.epoch)
    assert cache.get(("a",)) is None


def test_the_byte_budget_evicts_the_least_recently_used_and_entries_expire() -> None:
    now = [0.0]
    cache = _listening(budget=64 * 1024, ttl=60.0, clock=lambda: now[0])
    for name in "abc":
        cache.store((name,), _fresh(b"x" * 3000, post_tag(1)), cache.epoch)
    assert cache.get(("a",)) is not None  # a is now the most recently used
    for name in "defghijklmnopqrstuvwxyz":
        cache.store((name,), _fresh(b"x" * 3000, post_tag(2)), cache.epoch)
    entries, size = cache.size
    assert size <= 64 * 1024 and entries == size // 3000
    assert cache.get(("b",)) is None and cache.get(("z",)) is not None
    now[0] = 61.0
    assert cache.get(("z",)) is None


def test_concurrent_misses_share_one_render_and_an_uncacheable_answer_is_each_requests_own() -> None:
    async def scenario() -> None:
        cache = _listening()
        calls = []

        async def render() -> Fresh:
            calls.append(1)
            await asyncio.sleep(0.01)
            return _fresh(b'{"id": 1}', post_tag(1))

        answers = await asyncio.gather(*(cache.serve(_request(), ("k",), render) for _ in range(20)))
        assert len(calls) == 1 and {a.body for a in answers} == {b'{"id": 1}'}
        etag = answers[0].headers["etag"]
        assert (await cache.serve(_request(etag), ("k",), render)).status_code == 304

        async def refuse() -> Response:
            calls.append(1)
            await asyncio.sleep(0.01)
            return Response(status_code=404)

        refused = await asyncio.gather(*(cache.serve(_request(), ("gone",), refuse) for _ in range(5)))
        assert {r.status_code for r in refused} == {404} and len(calls) == 1 + 5 and cache.get(("gone",)) is None

    asyncio.run(scenario())
