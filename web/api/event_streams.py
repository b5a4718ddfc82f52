"""The streaming API's server-sent-events paths as `serve` holds them: the response starts through the whole ASGI
stack, so it carries every header the middleware adds (security headers, CORS), and then the connection leaves
uvicorn's request cycle for an EventStreamSocket, so that an open event stream costs a few KiB and no task.

Why: held as an ordinary streaming response, each open event stream kept uvicorn's request cycle, a task, an anyio
task group with two more, and a coroutine frame in every middleware and routing layer: about 36 KiB a stream,
2,000 of them 72 MiB (docs/benchmarks.md, "Streaming API"). Mastodon.py and other apps use these paths.

Owns: EventStreamHttp, uvicorn's httptools HTTP protocol (`serve` sets it as uvicorn's `http`) with one addition: a
GET under /api/v1/streaming/ carries the scope extension DETACH, a callable that hands the connection over once
the endpoint has started its response (the endpoint is web/api/streaming.event_stream); and EventStreamSocket,
which writes the stream's messages as chunks of that response, a `:thump` comment when the hub's timer calls
`keepalive`, closes a client with more than WRITE_LIMIT bytes unsent, and ends the response when the stream is
closed (a revoked token, uvicorn's shutdown). Never: decides what a stream carries or who may open it
(web/api/streaming.py), SQL.

This leans on two things of uvicorn's httptools protocol that are not its public API: `cycle` (the request's
RequestResponseCycle, marked disconnected so that it ends quietly when the endpoint returns without completing the
response) and `parser`. tests/integration/test_streaming.py and test_streaming_clients.py exercise it against real
`serve` processes, so an uvicorn upgrade that changes them fails there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from web.api.streaming import Client, StreamHub

log = logging.getLogger("ambtenaar.streaming")

PREFIX = "/api/v1/streaming/"
DETACH = "ambtenaar.detach_event_stream"  # the scope extension: call it with the EventStreamSocket to hand over to
HEARTBEAT = b":thump\n"  # Mastodon's streaming server's comment line
# Unsent bytes for one client before it is taken as not reading, on event streams and WebSockets alike
# (web/api/stream_sockets.py takes it from here: this module is the one both kinds of socket can import).
WRITE_LIMIT = 2 * 1024 * 1024


class EventStreamHttp(HttpToolsProtocol):
    """uvicorn's HTTP protocol; a GET under /api/v1/streaming/ may be handed over to an EventStreamSocket."""

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        scope, cycle = self.scope, self.cycle
        if (scope.get("method") == "GET" and str(scope.get("path", "")).startswith(PREFIX) and cycle is not None
                and cycle.scope is scope):
            scope.setdefault("extensions", {})[DETACH] = lambda socket: self._hand_over(cycle, socket)  # type: ignore[typeddict-unknown-key, index]

    def _hand_over(self, cycle: object, socket: EventStreamSocket) -> None:
        """Called by the endpoint after its response started: from now on the socket has the connection."""
        chunked = getattr(cycle, "chunked_encoding", None)
        gone = bool(getattr(cycle, "disconnected", False)) or self.transport.is_closing()
        cycle.disconnected = True  # type: ignore[attr-defined]  # its task ends quietly; its `send` writes no more
        if gone:  # the client left before the hand-over: the stream ends here, and the hub forgets it
            socket.connection_lost(None)
            return
        self.connections.discard(self)
        self.connections.add(socket)  # type: ignore[arg-type]  # so that uvicorn's shutdown reaches it
        socket._connections = self.connections  # type: ignore[assignment]
        socket.chunked = bool(chunked)
        socket.connection_made(self.transport)
        self.transport.set_protocol(socket)
        self.parser = None  # type: ignore[assignment]  # it and this protocol refer to each other: free both now


class EventStreamSocket(asyncio.Protocol):
    """One open event stream after its response started: the messages go out as chunks of that response."""

    __slots__ = ("_connections", "_hub", "_early", "chunked", "client", "transport")

    def __init__(self, hub: StreamHub) -> None:
        self._hub = hub
        self._connections: set[asyncio.Protocol] | None = None
        self._early: list[bytes] | None = None  # what came between the subscription and the hand-over
        self.chunked = True
        self.client: Client | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        early, self._early = self._early, None
        for data in early or ():
            self._write(data)

    def data_received(self, data: bytes) -> None:
        """An event stream is one GET: whatever else the client sends is not read."""

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connections is not None:
            self._connections.discard(self)
        self._hub.forget_socket(self)
        if self.client is not None:
            self._hub.drop(self.client)
        self.client = None
        self.transport = None

    def send_text(self, text: str) -> None:
        self._write(text.encode())

    def keepalive(self) -> None:
        self._write(HEARTBEAT)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """End the response (the last chunk) and the connection; `code` and `reason` are a WebSocket's only."""
        transport = self.transport
        if transport is None:
            self._early = None
            return
        if self.chunked and not transport.is_closing():
            transport.write(b"0\r\n\r\n")
        transport.close()

    def shutdown(self) -> None:
        """uvicorn is stopping (if it knows this connection)."""
        self.close()

    def _write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None:
            if self.client is not None:  # not handed over yet
                self._early = [*(self._early or []), data]
            return
        if transport.is_closing():
            return
        transport.write(b"%x\r\n%b\r\n" % (len(data), data) if self.chunked else data)
        if transport.get_write_buffer_size() > WRITE_LIMIT:
            log.warning("stream client too slow, closing it")
            transport.abort()


HandOver = Callable[[EventStreamSocket], None]
