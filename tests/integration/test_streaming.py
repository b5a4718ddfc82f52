"""The streaming API of a real node over real WebSockets and event streams: who gets which event, and who never.

One node, one cast: Anna (official of Gemeente Ede, whose official posts four eyes hold), Rita (reviewer there),
Fien (follows Anna), Bert (a stranger to Anna). Every scenario ends with a sentinel that the stream must show,
so a message that must not arrive has had its chance: the node hands events to its streams in commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from server import streams
from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.nodes import Node

Message = dict[str, Any]


@dataclass
class Stream:
    """One WebSocket to the node, and everything it received so far."""

    socket: ClientConnection
    seen: list[Message] = field(default_factory=list)

    def send(self, **message: Any) -> None:
        self.socket.send(json.dumps(message))

    def wait_for(self, probe: Callable[[Message], bool], timeout: float = 20.0) -> Message:
        for message in self.seen:
            if probe(message):
                return message
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self.socket.recv(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            message = json.loads(raw)
            self.seen.append(message)
            if probe(message):
                return message
        raise AssertionError(f"no such message within {timeout}s; received: {self.seen!r:.2000}")

    def barrier(self) -> None:
        """Wait until the node has handled every message sent before: a refused subscription is answered in
        order, and Mastodon's protocol answers nothing else."""
        self.send(type="subscribe", stream="no-such-stream")
        self.wait_for(lambda m: m.get("error") == "Unknown stream type")
        self.seen = [m for m in self.seen if "error" not in m]

    def texts(self) -> str:
        return json.dumps(self.seen)


def status_of(message: Message) -> Message:
    return json.loads(message["payload"])


def ws_url(node: Node, query: str = "") -> str:
    return f"ws://{node.domain}/api/v1/streaming" + (f"?{query}" if query else "")


@dataclass
class Cast:
    node: Node
    tokens: dict[str, str]
    api: dict[str, httpx.Client]
    ids: dict[str, int]
    sockets: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def stream(self, who: str, query: str = "stream=user", *, node: Node | None = None) -> Stream:
        return Stream(self.sockets.enter_context(connect(
            ws_url(node or self.node, query), additional_headers={"Authorization": f"Bearer {self.tokens[who]}"})))

    def post(self, who: str, text: str, **params: Any) -> Message:
        answer = self.api[who].post("/api/v1/statuses", json={"status": text, **params})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@pytest.fixture(scope="module")
def cast(node: Node) -> Iterator[Cast]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "rita", org="gemeente-ede", role="reviewer")
    factories.person(node, "fien")
    factories.person(node, "bert")
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    tokens = {name: token_for(node, name) for name in ("anna", "rita", "fien", "bert")}
    api = {name: httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token}"})
           for name, token in tokens.items()}
    ids = {name: int(api[name].get("/api/v1/accounts/verify_credentials").json()["id"]) for name in api}
    assert api["fien"].post(f"/api/v1/accounts/{ids['anna']}/follow").status_code == 200
    cast = Cast(node, tokens, api, ids)
    with cast.sockets:
        yield cast


def test_health_answers_ok(node: Node) -> None:
    answer = httpx.get(f"{node.url}/api/v1/streaming/health")
    assert answer.status_code == 200 and answer.text == "OK"


def test_instance_advertises_this_node_as_the_streaming_server(cast: Cast) -> None:
    v1 = httpx.get(f"{cast.node.url}/api/v1/instance").json()
    v2 = httpx.get(f"{cast.node.url}/api/v2/instance").json()
    assert v1["urls"]["streaming_api"] == v2["configuration"]["urls"]["streaming"] == f"ws://{cast.node.domain}"
    # What is advertised answers: the WebSocket under that URL.
    with connect(v2["configuration"]["urls"]["streaming"] + "/api/v1/streaming?stream=public",
                 additional_headers={"Authorization": f"Bearer {cast.tokens['bert']}"}) as socket:
        socket.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        assert json.loads(socket.recv(timeout=10)) == {"error": "Unknown stream type", "status": 400}


def test_bad_or_missing_token_is_refused_before_the_upgrade(cast: Cast) -> None:
    for headers, message in (({"Authorization": "Bearer nonsense"}, "Invalid access token"),
                             ({}, "Missing access token")):
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(cast.node, "stream=user"), additional_headers=headers)
        assert refused.value.response.status_code == 401
        assert refused.value.response.headers["X-Error-Message"] == message
        answer = httpx.get(f"{cast.node.url}/api/v1/streaming/user", headers=headers)
        assert answer.status_code == 401 and answer.json() == {"error": message}
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(cast.node, "stream=user&access_token=nonsense"))
    assert refused.value.response.status_code == 401


def test_follower_gets_the_post_and_the_mentioned_a_notification(cast: Cast) -> None:
    fien = cast.stream("fien")
    bert = cast.stream("bert")
    post = cast.post("anna", "Hallo @bert, het stadhuis is open", visibility="public")
    update = fien.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == post["id"])
    assert update["stream"] == ["user"] and isinstance(update["payload"], str)
    # The streamed Status is the one the REST API shows this reader.
    assert status_of(update) == cast.api["fien"].get(f"/api/v1/statuses/{post['id']}").json()
    notification = json.loads(bert.wait_for(lambda m: m["event"] == "notification")["payload"])
    assert notification["type"] == "mention" and notification["status"]["id"] == post["id"]
    assert notification == cast.api["bert"].get(f"/api/v1/notifications/{notification['id']}").json()
    # Mentioned, so the post is in Bert's home timeline too, as GET /api/v1/timelines/home has it.
    bert.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == post["id"])


def test_private_and_direct_posts_reach_only_their_audience(cast: Cast) -> None:
    fien = cast.stream("fien")
    bert = cast.stream("bert", "stream=public")
    bert.send(type="subscribe", stream="user")
    bert.send(type="subscribe", stream="direct")
    bert.send(type="subscribe", stream="hashtag", tag="Ede")
    fien.send(type="subscribe", stream="direct")
    bert.barrier()
    fien.barrier()
    private = cast.post("anna", "Alleen voor volgers #ede", visibility="private")
    direct = cast.post("anna", "@bert dit is tussen ons", visibility="direct")
    public = cast.post("anna", "Voor iedereen #ede", visibility="public")
    fien.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == private["id"])
    fien.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == public["id"])
    tagged = bert.wait_for(lambda m: m["stream"] == ["hashtag", "Ede"] and status_of(m)["id"] == public["id"])
    assert tagged["event"] == "update"
    bert.wait_for(lambda m: m["stream"] == ["public"] and status_of(m)["id"] == public["id"])
    conversation = json.loads(bert.wait_for(lambda m: m["event"] == "conversation")["payload"])
    assert conversation["last_status"]["id"] == direct["id"] and conversation["unread"] is True
    assert [a["username"] for a in conversation["accounts"]] == ["anna"]
    assert "Alleen voor volgers" not in bert.texts()
    assert "tussen ons" not in fien.texts()
    assert direct["id"] not in [status_of(m)["id"] for m in bert.seen if m["stream"] != ["user"]
                                and m["event"] == "update"]


def test_held_post_arrives_only_when_approved(cast: Cast) -> None:
    fien = cast.stream("fien")
    rita = cast.stream("rita", "stream=public")
    held = cast.api["anna"].post("/api/v1/statuses", json={"status": "Namens de gemeente: nieuw beleid",
                                                            "voice": "official"})
    assert held.status_code == 422 and held.json()["policy"]["outcome"] == "hold", held.text
    held_id = held.json()["policy"]["status_id"]
    sentinel = cast.post("anna", "Tussendoor", visibility="public")
    fien.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == sentinel["id"])
    rita.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == sentinel["id"])
    assert "nieuw beleid" not in fien.texts() + rita.texts()
    assert cast.node.cli("review", "approve", str(held_id), "--by", "rita").code == 0
    approved = fien.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == str(held_id))
    assert status_of(approved)["voice"] == "official"
    rita.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == str(held_id))


def test_edit_and_delete_arrive(cast: Cast) -> None:
    fien = cast.stream("fien")
    bert = cast.stream("bert", "stream=public:local")
    post = cast.post("anna", "Eerste versie", visibility="public")
    edited = cast.api["anna"].put(f"/api/v1/statuses/{post['id']}", json={"status": "Tweede versie"})
    assert edited.status_code == 200
    for stream in (fien, bert):
        update = stream.wait_for(lambda m: m["event"] == "status.update")
        assert status_of(update)["id"] == post["id"] and "Tweede versie" in status_of(update)["content"]
    assert cast.api["anna"].delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    for stream in (fien, bert):
        assert stream.wait_for(lambda m: m["event"] == "delete")["payload"] == post["id"]


def test_muted_author_stays_out_of_the_public_stream(cast: Cast) -> None:
    assert cast.api["bert"].post(f"/api/v1/accounts/{cast.ids['anna']}/mute").status_code == 200
    try:
        bert = cast.stream("bert", "stream=public")
        muted = cast.post("anna", "Bert hoort dit niet", visibility="public")
        sentinel = cast.post("fien", "Fien zegt iets", visibility="public")
        bert.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == sentinel["id"])
        assert muted["id"] not in bert.texts()
    finally:
        cast.api["bert"].post(f"/api/v1/accounts/{cast.ids['anna']}/unmute")


def test_subscriptions_are_refused_as_mastodon_refuses_them(cast: Cast) -> None:
    stream = cast.stream("bert", "")
    stream.send(type="subscribe", stream="list", list="1")
    assert stream.wait_for(lambda m: "error" in m) == {"error": "Not authorized to stream this list", "status": 401}
    stream.seen.clear()
    stream.send(type="subscribe", stream="hashtag")
    assert stream.wait_for(lambda m: "error" in m) == {"error": "Missing tag name parameter", "status": 400}
    answer = httpx.get(f"{cast.node.url}/api/v1/streaming/list?list=1",
                       headers={"Authorization": f"Bearer {cast.tokens['bert']}"})
    assert answer.status_code == 401 and answer.json() == {"error": "Not authorized to stream this list"}
    # A token without read scopes may read public streams only (Mastodon asks no scope for those).
    writer = token_for(cast.node, "bert", "write")
    assert httpx.get(f"{cast.node.url}/api/v1/streaming/user", headers={"Authorization": f"Bearer {writer}"}
                     ).json() == {"error": "Access token does not have the required scopes"}
    with connect(ws_url(cast.node, f"access_token={writer}")) as socket:
        socket.send(json.dumps({"type": "subscribe", "stream": "user:notification"}))
        assert json.loads(socket.recv(timeout=10))["status"] == 401


def test_token_in_the_websocket_protocol_header_is_echoed(cast: Cast) -> None:
    with connect(ws_url(cast.node, "stream=public"), subprotocols=[cast.tokens["fien"]]) as socket:  # type: ignore[list-item]
        assert socket.subprotocol == cast.tokens["fien"]
        post = cast.post("bert", "Via het protocol", visibility="public")
        assert json.loads(json.loads(socket.recv(timeout=20))["payload"])["id"] == post["id"]


def test_event_stream_with_heartbeat_comment_and_events(cast: Cast) -> None:
    headers = {"Authorization": f"Bearer {cast.tokens['fien']}"}
    with httpx.stream("GET", f"{cast.node.url}/api/v1/streaming/hashtag/local?tag=Fietsen", headers=headers,
                      timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        # The head went through the middleware before the connection was handed over (web/api/event_streams.py).
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["transfer-encoding"] == "chunked"
        lines = response.iter_lines()
        assert next(lines) == ":)"
        post = cast.post("bert", "Zondag #fietsen", visibility="public")
        assert next(lines) == "event: update"
        data = next(lines)
        assert data.startswith("data: ") and json.loads(data.removeprefix("data: "))["id"] == post["id"]


def test_filters_changed_reaches_the_user_stream(cast: Cast) -> None:
    fien = cast.stream("fien")
    fien.send(type="subscribe", stream="public")
    fien.barrier()
    sentinel = cast.post("bert", "Eerst dit", visibility="public")
    fien.wait_for(lambda m: m["event"] == "update" and status_of(m)["id"] == sentinel["id"])

    async def change_filters() -> None:
        conn = await asyncpg.connect(cast.node.database_url)
        try:
            async with conn.transaction():
                await streams.publish_filters_changed(conn, cast.ids["fien"])
        finally:
            await conn.close()

    asyncio.run(change_filters())
    assert fien.wait_for(lambda m: m["event"] == "filters_changed") == {"stream": ["user"],
                                                                         "event": "filters_changed"}


@pytest.fixture(scope="module")
def second_process(cast: Cast) -> Iterator[Node]:
    """Another web process of the same node: same database, its own port."""
    other = Node(database_url=cast.node.database_url, data_dir=cast.node.data_dir / "second").start()
    yield other
    other.stop()


def test_event_published_through_one_process_reaches_a_stream_on_another(cast: Cast, second_process: Node) -> None:
    fien = cast.stream("fien", node=second_process)
    post = cast.post("anna", "Via het andere proces", visibility="public")  # through the first process
    assert status_of(fien.wait_for(lambda m: m["event"] == "update"))["id"] == post["id"]


def test_only_the_streaming_api_upgrades_and_binary_frames_are_refused(cast: Cast) -> None:
    headers = {"Authorization": f"Bearer {cast.tokens['fien']}"}
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{cast.node.domain}/api/v1/timelines/home", additional_headers=headers)
    assert refused.value.response.status_code == 404
    # Mastodon's streaming server upgrades on any of its paths; the stream still comes from the query.
    with connect(f"ws://{cast.node.domain}/api/v1/streaming/user?stream=public",
                 additional_headers=headers) as socket:
        post = cast.post("bert", "Via een ander pad", visibility="public")
        assert json.loads(json.loads(socket.recv(timeout=20))["payload"])["id"] == post["id"]
        socket.send(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003


def test_revoking_the_token_closes_its_open_streams_at_once(cast: Cast) -> None:
    """As Mastodon: a revoked token's WebSocket and event streams end, not only new connections are refused."""
    token = token_for(cast.node, "fien", "read")
    token_id = max(int(t["id"]) for t in json.loads(cast.node.cli("token", "list", "--json").out)
                   if t["username"] == "fien")
    other = cast.stream("fien")  # another token of Fien's stays open
    headers = {"Authorization": f"Bearer {token}"}
    with connect(ws_url(cast.node, "stream=user"), additional_headers=headers) as socket, \
            httpx.stream("GET", f"{cast.node.url}/api/v1/streaming/public", headers=headers, timeout=30) as events:
        lines = events.iter_lines()
        assert next(lines) == ":)"
        assert cast.node.cli("token", "revoke", "--id", str(token_id)).code == 0
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert all(line in ("", ":thump") for line in lines)  # the event stream's response ended
    post = cast.post("anna", "Nog open voor het andere token", visibility="public")
    assert status_of(other.wait_for(lambda m: m.get("event") == "update"))["id"] == post["id"]
    with pytest.raises(InvalidStatus):
        connect(ws_url(cast.node, "stream=user"), additional_headers=headers)


def test_event_stream_on_a_kept_alive_connection_and_after_it(cast: Cast) -> None:
    """The hand-over takes the request it belongs to, also as the second request on a connection; once the
    stream ends, the client opens a new connection and everything works as before."""
    with httpx.Client(base_url=cast.node.url, timeout=30,
                      headers={"Authorization": f"Bearer {cast.tokens['fien']}"}) as client:
        assert client.get("/api/v1/instance").status_code == 200
        with client.stream("GET", "/api/v1/streaming/public") as response:
            lines = response.iter_lines()
            assert next(lines) == ":)"
            post = cast.post("bert", "Op dezelfde verbinding", visibility="public")
            assert next(lines) == "event: update"
            assert json.loads(next(lines).removeprefix("data: "))["id"] == post["id"]
        assert client.get("/api/v1/instance").status_code == 200
