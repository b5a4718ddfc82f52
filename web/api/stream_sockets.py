"""The streaming API's WebSockets as `serve` holds them: uvicorn's WebSocket protocol class (its `ws` setting), so
that an open stream costs a few KiB and no task, and thousands of idle streams fit in a web process.

Why not uvicorn's own WebSocket implementation behind Starlette: there each open WebSocket held an ASGI task with
its frames, a receive queue, Starlette's WebSocket and the `websockets` server protocol, which keeps the
handshake's parsed headers for the life of the connection: about 25 KiB before any stream state
(docs/benchmarks.md, "Streaming API"). Here the handshake is validated by the `websockets` library's sans-I/O
`ServerProtocol` and then dropped; the open connection is this object, that library's frame `Protocol` (about
1 KiB) and web/api/streaming.Client. Writes go straight to the transport; a message from the client starts a short
task only while it is handled.

Owns: the handshake (any path under /api/v1/streaming, as Mastodon's streaming server upgrades on all of them; 404
elsewhere, since no other WebSocket is served), the refusal before the upgrade (401/400 with a JSON body and
`X-Error-Message`, as Mastodon), echoing a token given as `Sec-WebSocket-Protocol`, frames in (`subscribe` and
`unsubscribe` JSON in order, pings answered, binary refused with 1003, close answered), frames out, the write bound
(a client with more than WRITE_LIMIT bytes unsent is closed with 1011, as a full socket buffer would end it),
keep-alive pings (the hub's one timer calls `keepalive`; no pong within a round closes the connection), and
uvicorn's graceful shutdown (1012). Never: decides what a stream carries or who may subscribe
(web/api/streaming.py), SQL.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import HTTPConnection
from websockets.datastructures import Headers as WsHeaders
from websockets.frames import Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Protocol, Side, State
from websockets.server import ServerProtocol

from web.api.event_streams import WRITE_LIMIT
from web.api.streaming import Client, StreamHub, StreamRefused, Viewer, authenticate, subscribe_message

if TYPE_CHECKING:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

log = logging.getLogger("ambtenaar.streaming")

PATH = "/api/v1/streaming"
HUB_STATE_KEY = "stream_hub"  # where server/app.py's lifespan state puts this process's StreamHub
MAX_MESSAGE = 64 * 1024  # a subscribe message is a few hundred bytes


class StreamSocket(asyncio.Protocol):
    """One WebSocket connection of the streaming API, from the upgrade request to the close."""

    __slots__ = ("_connections", "_tasks", "_hub", "_handshake", "_frames", "_client", "_viewer", "_requests",
                 "_fragments", "awaiting_pong", "transport")

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._connections = server_state.connections  # uvicorn's, so that its shutdown reaches this socket
        self._tasks = server_state.tasks  # uvicorn's too: holds the short tasks below while they run
        self._hub: StreamHub | None = app_state.get(HUB_STATE_KEY)
        self._handshake: ServerProtocol | None = ServerProtocol(max_size=MAX_MESSAGE, logger=log)
        self._frames: Protocol | None = None  # set once the upgrade is accepted
        self._client: Client | None = None
        self._viewer: Viewer | None = None
        self._requests: list[dict[str, Any]] | None = None  # messages waiting while one is handled
        self._fragments: list[bytes] | None = None
        self.awaiting_pong = False
        self.transport: asyncio.Transport | None = None

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvicorn's HTTP protocol, which read the upgrade request, hands over here and is done with the connection;
        # it and its parser refer to each other, so it would wait for a full garbage collection: free it now.
        handed_over = transport.get_protocol()
        if handed_over is not self and hasattr(handed_over, "parser"):
            handed_over.parser = None
        self.transport = transport  # type: ignore[assignment]
        self._connections.add(self)  # type: ignore[arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)  # type: ignore[arg-type]
        if self._hub is not None:
            self._hub.forget_socket(self)
            if self._client is not None:
                self._hub.drop(self._client)
        self._client = None
        self._frames = None
        self._handshake = None
        self._requests = None

    def data_received(self, data: bytes) -> None:
        if self._frames is not None:
            self._on_frames(data)
        elif self._handshake is not None:
            self._handshake.receive_data(data)
            for event in self._handshake.events_received():
                if isinstance(event, Request):
                    self._start(self._open(event), "stream-handshake")

    def shutdown(self) -> None:
        """uvicorn is stopping: tell the client to come back later (1012), as Mastodon's server does on restart."""
        if self._frames is not None and self._frames.state is State.OPEN:
            self.close(1012, "Server restarting")
        elif self.transport is not None:
            self.transport.close()

    # The handshake

    async def _open(self, request: Request) -> None:
        handshake = self._handshake
        if handshake is None or self.transport is None or self.transport.is_closing():
            return
        response = handshake.accept(request)  # 400/426 for a request that is no proper WebSocket upgrade
        path, _, query = request.path.partition("?")
        if response.status_code == 101 and path != PATH and not path.startswith(PATH + "/"):
            response = _json_response(404, "Not found")
        elif response.status_code == 101 and self._hub is None:
            response = _json_response(503, "The streaming API is not running in this process")
        if response.status_code != 101 or self._hub is None:
            self._refuse(response)
            return
        hub = self._hub
        try:
            viewer, via_protocol = await authenticate(hub.deps, HTTPConnection(_scope(request, query)))
        except StreamRefused as refused:
            self._refuse(_json_response(refused.status, refused.message))
            return
        except Exception:
            log.exception("stream handshake failed")
            self._refuse(_json_response(500, "The stream could not be opened"))
            return
        if self.transport is None or self.transport.is_closing():
            return
        if via_protocol:  # browsers can only send the token as a subprotocol; the answer must name it again
            response.headers["Sec-WebSocket-Protocol"] = request.headers["Sec-WebSocket-Protocol"].split(",")[0].strip()
        self.transport.write(response.serialize())
        self._handshake = None
        self._frames = Protocol(Side.SERVER, state=State.OPEN, max_size=MAX_MESSAGE, logger=log)
        self._viewer = viewer
        self._client = Client(self)
        hub.opened(self._client, viewer, self)
        params = dict(parse_qsl(query))
        if params.get("stream"):
            self._handle({**params, "type": "subscribe"})

    def _refuse(self, response: Response) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response.serialize())
            self.transport.close()
        self._handshake = None

    # Frames in

    def _on_frames(self, data: bytes) -> None:
        frames = self._frames
        assert frames is not None
        frames.receive_data(data)
        self.awaiting_pong = False  # anything from the client shows it is there
        for frame in frames.events_received():
            if frame.opcode is Opcode.BINARY or (frame.opcode is Opcode.CONT and self._fragments is None):
                self.close(1003, "The streaming API does not accept binary messages")
                return
            if frame.opcode in (Opcode.TEXT, Opcode.CONT):
                self._fragments = [*(self._fragments or []), frame.data]
                if frame.fin:
                    text, self._fragments = b"".join(self._fragments), None
                    self._on_text(text)
        self._flush()  # pongs and the answer to a close

    def _on_text(self, text: bytes) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            return  # Mastodon ignores what it cannot read
        if isinstance(request, dict):
            self._handle(request)

    def _handle(self, request: dict[str, Any]) -> None:
        """Handle the client's messages one after another, in the order they came."""
        if self._requests is not None:
            self._requests.append(request)
            return
        self._requests = [request]
        self._start(self._work_through(), "stream-subscribe")

    def _start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """A short task, held in uvicorn's set of tasks while it runs (the loop itself keeps only a weak one)."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work_through(self) -> None:
        try:
            while self._requests and self._hub is not None and self._client is not None and self._viewer is not None:
                await subscribe_message(self._hub, self._client, self._viewer, self._requests.pop(0))
        except Exception:
            log.exception("stream subscription failed")
        finally:
            self._requests = None

    # Frames out

    def send_text(self, text: str) -> None:
        frames = self._frames
        if frames is None or frames.state is not State.OPEN or self.transport is None:
            return
        frames.send_text(text.encode())
        self._flush()
        if self.transport is not None and self.transport.get_write_buffer_size() > WRITE_LIMIT:
            log.warning("stream client too slow, closing it")
            self.close(1011, "The client did not read its messages")

    def close(self, code: int, reason: str) -> None:
        frames = self._frames
        if frames is not None and frames.state is State.OPEN:
            frames.send_close(code, reason)
            self._flush()
        if self.transport is not None:
            self.transport.close()  # after what is buffered has been written

    def keepalive(self) -> None:
        """The hub's timer: a client that did not answer the last ping is gone; else ping it again."""
        if self.awaiting_pong:
            if self.transport is not None:
                self.transport.abort()
            return
        frames = self._frames
        if frames is not None and frames.state is State.OPEN:
            frames.send_ping(b"")
            self.awaiting_pong = True
            self._flush()

    def _flush(self) -> None:
        frames, transport = self._frames, self.transport
        if frames is None or transport is None or transport.is_closing():
            return
        for data in frames.data_to_send():
            if data:
                transport.write(data)
        if frames.close_expected():
            transport.close()


def _scope(request: Request, query: str) -> dict[str, Any]:
    """What web/api/streaming.authenticate reads of a connection: the headers and the query string."""
    return {"type": "websocket", "path": request.path.partition("?")[0], "query_string": query.encode("latin-1"),
            "headers": [(name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in request.headers.raw_items()]}


def _json_response(status: int, message: str) -> Response:
    body = json.dumps({"error": message}).encode()
    headers = WsHeaders([("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                         ("X-Error-Message", message), ("Connection", "close")])
    return Response(status, HTTPStatus(status).phrase, headers, body)
