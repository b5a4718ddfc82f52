"""The streaming API's per-connection state: web/api/streaming.Client, web/api/stream_sockets.StreamSocket (frames
out, the write bound, keep-alive pings, uvicorn's shutdown) and web/api/event_streams.EventStreamSocket (chunks,
what came before the hand-over, the heartbeat, the write bound, the end), on an asyncio transport of this test's. The handshake and real clients are tested
against a real node in tests/integration/test_streaming.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from websockets.frames import Close, Frame, Opcode
from websockets.protocol import Protocol, Side, State

from web.api import event_streams, stream_sockets, streaming


class Transport(asyncio.Transport):
    """What StreamSocket uses of an asyncio transport: bytes written, closed or aborted, a write buffer size."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False
        self.aborted = False
        self.buffered = 0

    def write(self, data: Any) -> None:
        self.written += data

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.aborted = self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_protocol(self) -> Any:
        return None


def _frames_sent(transport: Transport) -> list[Frame]:
    """The frames the socket wrote, read back as a client reads them."""
    reader = Protocol(Side.CLIENT, state=State.OPEN)
    reader.receive_data(bytes(transport.written))
    return [event for event in reader.events_received() if isinstance(event, Frame)]


def _open_socket() -> tuple[stream_sockets.StreamSocket, Transport]:
    """A StreamSocket past its handshake, as `_open` leaves it."""
    state: Any = SimpleNamespace(connections=set(), tasks=set(), default_headers=[])
    socket = stream_sockets.StreamSocket(None, state, {})  # type: ignore[arg-type]
    transport = Transport()
    socket.connection_made(transport)
    socket._handshake = None
    socket._frames = Protocol(Side.SERVER, state=State.OPEN, max_size=stream_sockets.MAX_MESSAGE)
    return socket, transport


class Hub:
    """What the sockets tell web/api/streaming.StreamHub when their connection ends."""

    def __init__(self) -> None:
        self.dropped: list[object] = []

    def forget_socket(self, socket: object) -> None:
        pass

    def drop(self, client: object) -> None:
        self.dropped.append(client)


def _event_stream() -> tuple[event_streams.EventStreamSocket, streaming.Client, Hub]:
    hub = Hub()
    socket = event_streams.EventStreamSocket(hub)  # type: ignore[arg-type]
    socket.client = client = streaming.Client(socket, websocket=False)
    return socket, client, hub


def test_an_event_stream_keeps_what_came_before_the_hand_over_and_writes_chunks_after() -> None:
    socket, client, _ = _event_stream()
    channel = streaming.Channel("public", label=("public",))
    client.deliver(channel, "update", '{"id":"1"}')  # subscribed, response not yet handed over
    transport = Transport()
    socket.connection_made(transport)
    client.deliver(channel, "delete", "1")
    socket.keepalive()
    assert bytes(transport.written) == (b'20\r\nevent: update\ndata: {"id":"1"}\n\n\r\n'
                                        b"17\r\nevent: delete\ndata: 1\n\n\r\n"
                                        b"7\r\n:thump\n\r\n")


def test_ending_an_event_stream_writes_the_last_chunk_and_the_hub_forgets_it() -> None:
    socket, client, hub = _event_stream()
    transport = Transport()
    socket.connection_made(transport)
    client.end(1008, "Invalid access token")
    assert bytes(transport.written).endswith(b"0\r\n\r\n") and transport.closing and client.closed
    socket.connection_lost(None)
    assert hub.dropped == [client]


def test_an_event_stream_that_stops_reading_is_aborted() -> None:
    socket, client, _ = _event_stream()
    transport = Transport()
    socket.connection_made(transport)
    transport.buffered = stream_sockets.WRITE_LIMIT + 1
    client.push("event: update\ndata: {}\n\n")
    assert transport.aborted


def test_a_websocket_client_writes_each_message_at_once_as_a_text_frame() -> None:
    socket, transport = _open_socket()
    client = streaming.Client(socket)
    channel = streaming.Channel("user", label=("user",))
    client.deliver(channel, "update", '{"id":"1"}')
    client.deliver(channel, "filters_changed", None)
    frames = _frames_sent(transport)
    assert [f.opcode for f in frames] == [Opcode.TEXT, Opcode.TEXT]
    assert frames[0].data == b'{"stream":["user"],"event":"update","payload":"{\\"id\\":\\"1\\"}"}'
    assert frames[1].data == b'{"stream":["user"],"event":"filters_changed"}'


def test_a_websocket_client_that_stops_reading_is_closed_with_1011() -> None:
    socket, transport = _open_socket()
    transport.buffered = stream_sockets.WRITE_LIMIT + 1  # what the peer has not taken yet
    socket.send_text("x")
    frames = _frames_sent(transport)
    assert frames[-1].opcode is Opcode.CLOSE
    assert Close.parse(frames[-1].data) == Close(1011, "The client did not read its messages")
    assert transport.closing


def test_keepalive_pings_and_a_client_that_never_answers_is_aborted() -> None:
    socket, transport = _open_socket()
    socket.keepalive()
    assert [f.opcode for f in _frames_sent(transport)] == [Opcode.PING] and not transport.aborted
    socket.keepalive()  # a round later, no pong came
    assert transport.aborted


def test_a_pong_keeps_the_connection() -> None:
    socket, transport = _open_socket()
    client = Protocol(Side.CLIENT, state=State.OPEN)
    socket.keepalive()
    client.send_pong(b"")
    socket.data_received(b"".join(client.data_to_send()))
    socket.keepalive()
    assert not transport.aborted and [f.opcode for f in _frames_sent(transport)] == [Opcode.PING, Opcode.PING]


def test_a_ping_is_answered_and_binary_is_refused_with_1003() -> None:
    socket, transport = _open_socket()
    client = Protocol(Side.CLIENT, state=State.OPEN)
    client.send_ping(b"hi")
    client.send_binary(b"\x00")
    socket.data_received(b"".join(client.data_to_send()))
    frames = _frames_sent(transport)
    assert frames[0].opcode is Opcode.PONG and frames[0].data == b"hi"
    assert Close.parse(frames[1].data) == Close(1003, "The streaming API does not accept binary messages")


def test_uvicorn_shutdown_closes_with_1012() -> None:
    socket, transport = _open_socket()
    socket.shutdown()
    assert Close.parse(_frames_sent(transport)[-1].data).code == 1012 and transport.closing
