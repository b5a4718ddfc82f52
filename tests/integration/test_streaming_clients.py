"""Independent client libraries read the streaming API of a real node: Mastodon.py (event stream, `stream_user`)
and masto.js (WebSocket with the token as its protocol, from Node; installed from npm into a temporary folder,
skipped where Node or the npm registry is missing)."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mastodon import Mastodon, StreamListener

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.nodes import Node

MASTO_VERSION = "7.12.0"


class Collected(StreamListener):  # type: ignore[misc]
    """What Mastodon.py's own parser made of each event."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def on_update(self, status: Any) -> None:
        self.events.put(("update", status))

    def on_notification(self, notification: Any) -> None:
        self.events.put(("notification", notification))

    def on_delete(self, status_id: Any) -> None:
        self.events.put(("delete", status_id))

    def wait_for(self, kind: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                name, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if name == kind:
                return data
        raise AssertionError(f"Mastodon.py received no {kind} within {timeout}s")


@pytest.fixture(scope="module")
def people(node: Node) -> dict[str, httpx.Client]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede")
    factories.person(node, "fien")
    clients = {name: httpx.Client(base_url=node.url, timeout=30,
                                  headers={"Authorization": f"Bearer {token_for(node, name)}"})
               for name in ("anna", "fien")}
    anna_id = clients["anna"].get("/api/v1/accounts/verify_credentials").json()["id"]
    assert clients["fien"].post(f"/api/v1/accounts/{anna_id}/follow").status_code == 200
    return clients


def test_mastodon_py_stream_user(node: Node, people: dict[str, httpx.Client]) -> None:
    fien = Mastodon(access_token=people["fien"].headers["Authorization"].removeprefix("Bearer "),
                    api_base_url=node.url)
    listener = Collected()
    handle = fien.stream_user(listener, run_async=True, timeout=30)
    try:
        deadline = time.monotonic() + 10
        while not handle.is_receiving() and time.monotonic() < deadline:
            time.sleep(0.05)
        post = people["anna"].post("/api/v1/statuses", json={"status": "Hallo @fien, via Mastodon.py"}).json()
        status = listener.wait_for("update")
        assert str(status["id"]) == post["id"] and status["account"]["username"] == "anna"
        notification = listener.wait_for("notification")
        assert notification["type"] == "mention" and str(notification["status"]["id"]) == post["id"]
        assert people["anna"].delete(f"/api/v1/statuses/{post['id']}").status_code == 200
        assert str(listener.wait_for("delete")) == post["id"]
    finally:
        handle.close()


MASTO_SCRIPT = r"""
import { createRestAPIClient, createStreamingAPIClient } from "masto";

const [url, accessToken] = process.argv.slice(2);
const rest = createRestAPIClient({ url, accessToken });
const instance = await rest.v2.instance.fetch();
const streaming = createStreamingAPIClient({ streamingApiUrl: instance.configuration.urls.streaming, accessToken,
                                             retry: false });
const print = (subscription) => (async () => {
  for await (const event of subscription) {
    console.log(JSON.stringify({ stream: event.stream, event: event.event, payload: event.payload }));
  }
})();
print(streaming.user.subscribe());
print(streaming.hashtag.subscribe({ tag: "Fietsen" }));
console.log(JSON.stringify({ ready: true }));
setTimeout(() => process.exit(0), 60000);
"""


@pytest.fixture(scope="module")
def masto(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node and npm are needed for masto.js")
    folder = tmp_path_factory.mktemp("masto")
    (folder / "package.json").write_text(json.dumps({"name": "masto-check", "private": True, "type": "module"}))
    installed = subprocess.run(["npm", "install", "--no-audit", "--no-fund", f"masto@{MASTO_VERSION}"], cwd=folder,
                               capture_output=True, text=True, timeout=300)
    if installed.returncode != 0:
        pytest.skip(f"npm could not install masto: {installed.stderr[-500:]}")
    (folder / "stream.mjs").write_text(MASTO_SCRIPT)
    return folder


@pytest.fixture
def masto_lines(node: Node, people: dict[str, httpx.Client], masto: Path) -> Iterator[queue.Queue[dict[str, Any]]]:
    token = people["fien"].headers["Authorization"].removeprefix("Bearer ")
    process = subprocess.Popen(["node", "stream.mjs", node.url, token], cwd=masto, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[dict[str, Any]] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(json.loads(line) if line.startswith("{") else {"output": line})

    threading.Thread(target=read, daemon=True).start()
    yield lines
    process.kill()
    process.wait()


def _next(lines: queue.Queue[dict[str, Any]], timeout: float) -> dict[str, Any] | None:
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


def test_masto_js_subscribes_over_websocket(people: dict[str, httpx.Client],
                                            masto_lines: queue.Queue[dict[str, Any]]) -> None:
    assert _next(masto_lines, 60) == {"ready": True}
    seen: list[dict[str, Any]] = []

    def arrived(stream: list[str], post_id: str, within: float) -> bool:
        deadline = time.monotonic() + within
        while not any(line.get("stream") == stream and line.get("event") == "update"
                      and line["payload"]["id"] == post_id for line in seen):
            line = _next(masto_lines, deadline - time.monotonic()) if time.monotonic() < deadline else None
            if line is None:
                return False
            seen.append(line)
        return True

    # masto.js subscribes with messages that have no answer: post until its subscription is in place.
    for attempt in range(10):
        post = people["anna"].post("/api/v1/statuses", json={"status": f"Zondag #fietsen ({attempt})"}).json()
        if arrived(["hashtag", "Fietsen"], post["id"], 3):
            break
    else:
        raise AssertionError(f"masto.js received nothing on its hashtag subscription: {seen}")
    # The same post on Fien's user stream (she follows Anna), parsed by masto.js as a Status.
    assert arrived(["user"], post["id"], 20), seen
    update = next(line for line in seen if line["stream"] == ["user"] and line["payload"]["id"] == post["id"])
    assert update["payload"]["account"]["username"] == "anna" and "fietsen" in update["payload"]["content"]
