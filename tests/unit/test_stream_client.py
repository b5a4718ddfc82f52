"""The streaming API's per-connection record (web/api/streaming.Client): messages go out in order, an idle
connection keeps no queue and no writer task (its memory is what limits the number of open streams), and a
client that stops reading is closed with 1011 once MAX_PENDING messages wait for it."""

from __future__ import annotations

import asyncio
from typing import Any

from web.api import streaming


class FakeSocket:
    """What Client uses of Starlette's WebSocket; `send_text` blocks while `stalled` is clear (a full socket)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed_with: tuple[int, str] | None = None
        self.stalled = asyncio.Event()
        self.stalled.set()

    async def send_text(self, text: str) -> None:
        await self.stalled.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


def _client(socket: FakeSocket, *, stalled: bool = False) -> streaming.Client:
    if stalled:
        socket.stalled.clear()
    fake: Any = socket
    return streaming.Client(fake)


def test_messages_go_out_in_order_and_an_idle_client_keeps_no_queue_or_task() -> None:
    async def run() -> None:
        socket = FakeSocket()
        client = _client(socket)
        for i in range(3):
            client.push(f"m{i}")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert socket.sent == ["m0", "m1", "m2"]
        assert client._pending is None and client._writer is None  # idle: nothing but the record itself
        client.push("m3")
        await asyncio.sleep(0)
        assert socket.sent[-1] == "m3" and socket.closed_with is None

    asyncio.run(run())


def test_a_client_that_stops_reading_is_closed_with_1011() -> None:
    async def run() -> None:
        socket = FakeSocket()
        client = _client(socket, stalled=True)
        for i in range(streaming.MAX_PENDING + 2):
            client.push(f"m{i}")
        assert client.closed
        socket.stalled.set()
        for _ in range(5):
            await asyncio.sleep(0)
        assert socket.closed_with == (1011, "The client did not read its messages")
        assert len(socket.sent) <= 1  # what was already being written; the backlog is dropped

    asyncio.run(run())


def test_closing_a_connection_stops_its_writer() -> None:
    async def run() -> None:
        socket = FakeSocket()
        client = _client(socket, stalled=True)
        client.push("m0")
        await asyncio.sleep(0)
        client.close()
        socket.stalled.set()
        await asyncio.sleep(0)
        assert socket.sent == [] and socket.closed_with is None and client._writer is None

    asyncio.run(run())
