"""The streaming API over real TLS (wss:// and https:// on gemeente.test), carrying what a Fedify peer sends:
alice follows jan@burger.test; his post reaches her `user` WebSocket and the `public:remote` event stream, and her
own post reaches her WebSocket too. The sockets the streaming API holds (web/api/stream_sockets.py,
web/api/event_streams.py) take over TLS connections here, not plain TCP."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.interop.peers import Peer


def test_a_peers_post_and_our_own_arrive_on_streams_over_tls(gemeente: Node, alice: httpx.Client,
                                                             burger: Peer) -> None:
    found = alice.get("/api/v2/search", params={"q": burger.handle, "resolve": "true", "type": "accounts"}).json()
    jan = found["accounts"][0]
    assert alice.post(f"/api/v1/accounts/{jan['id']}/follow").status_code == 200
    eventually(lambda: alice.get("/api/v1/accounts/relationships", params={"id[]": jan["id"]}).json()[0],
               lambda r: r["following"], what="the Accept of alice's follow")
    context = gemeente.verify()
    assert isinstance(context, ssl.SSLContext)
    token = alice.headers["Authorization"].removeprefix("Bearer ")
    with connect(f"wss://{gemeente.domain}/api/v1/streaming?stream=user", ssl=context,
                 additional_headers={"Authorization": f"Bearer {token}"}) as socket, \
            httpx.stream("GET", f"{gemeente.url}/api/v1/streaming/public/remote", verify=context, timeout=30,
                         headers={"Authorization": f"Bearer {token}"}) as events:
        lines = events.iter_lines()
        assert next(lines) == ":)"
        posted = burger.call("POST", "/post", text="Staat de markt er zaterdag?")
        assert posted["ok"], posted
        assert _next_update(socket)["uri"] == posted["note_id"]
        assert next(lines) == "event: update"
        assert json.loads(next(lines).removeprefix("data: "))["uri"] == posted["note_id"]
        own = alice.post("/api/v1/statuses", json={"status": "Ja, van 8 tot 13 uur.", "visibility": "public"})
        assert own.status_code == 200, own.text
        assert _next_update(socket)["id"] == own.json()["id"]


def _next_update(socket: ClientConnection) -> dict[str, Any]:
    """The next `update` on the socket (a notification may come between)."""
    while True:
        message = json.loads(socket.recv(timeout=30))
        if message["event"] == "update":
            status: dict[str, Any] = json.loads(message["payload"])
            return status
