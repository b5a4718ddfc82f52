"""The delivery window (federation/delivery.Sender): sends to slow or dead hosts leave the window after SLOW_AFTER,
so they cannot keep live hosts' deliveries from starting; their number is capped, so they cannot exhaust the
outgoing client's connections either. Times are given, not waited for."""

from __future__ import annotations

import asyncio
from typing import Any

from federation.delivery import Claimed, Sender


def _sender_with(starts: list[float], *, max_in_flight: int = 8, max_slow: int = 4) -> tuple[Sender, list[Any]]:
    sender = Sender(fed=None, max_in_flight=max_in_flight, max_slow=max_slow)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    futures = []
    for i, started in enumerate(starts):
        future: asyncio.Future[Any] = loop.create_future()
        sender._in_flight[future] = Claimed(i, f"https://h{i}.example/inbox", f"h{i}.example", 1, None, b"", None)  # type: ignore[arg-type]
        sender._started[future] = started
        futures.append(future)
    return sender, futures


def test_sends_running_longer_than_slow_after_free_their_place_in_the_window() -> None:
    async def main() -> list[tuple[int, float]]:
        now = 100.0
        slow = now - Sender.SLOW_AFTER - 1
        full, _ = _sender_with([now - 0.2] * 8)  # 8 fresh sends: the window is full
        some_slow, _ = _sender_with([slow] * 3 + [now - 0.2] * 5)  # 3 slow ones leave it
        return [full._room(now), some_slow._room(now)]
    (full_room, full_wait), (room, _) = asyncio.run(main())
    assert full_room == 0
    assert 0 < full_wait <= Sender.SLOW_AFTER  # it looks again when the oldest turns slow
    assert room == 3


def test_slow_sends_are_capped_so_they_cannot_take_every_connection() -> None:
    async def main() -> int:
        slow = 100.0 - Sender.SLOW_AFTER - 1
        sender, _ = _sender_with([slow] * 12, max_in_flight=8, max_slow=4)  # 12 slow: 8 + 4 in flight in all
        return sender._room(100.0)[0]
    assert asyncio.run(main()) == 0


def test_a_finished_send_frees_its_place_even_before_it_is_recorded() -> None:
    async def main() -> int:
        sender, futures = _sender_with([99.9] * 8)
        futures[0].set_result((202, None, None))
        return sender._room(100.0)[0]
    assert asyncio.run(main()) == 1
