"""Webcare webhooks (issue 15): a case system hears of Gemeente Ede's conversations over real HTTP, signed with the
secret `ambtenaar webcare webhook add` printed once; a 503 is retried on the shared schedule.

The receiver is a plain HTTP server in this test process; the node reaches it on loopback because test nodes run
with --allow-private-addresses (federation's address rules apply to webhooks too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from mastodon import Mastodon

from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node, free_port
from tests.helpers.polling import eventually
from tests.integration.test_mastodon_client import app_for, post_with_voice


class Receiver(ThreadingHTTPServer):
    """Records every POST (headers, exact body); answers 503 to the first, 200 after."""

    def __init__(self) -> None:
        self.arrivals: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", free_port()), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/ede"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.server.arrivals.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                                     "path": self.path})
        status = 503 if len(self.server.arrivals) == 1 else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def town(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", display_name="Bert Burger")
    return node


def events(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """The deliveries that arrived with a valid signature, parsed, in order of arrival."""
    found = []
    for arrival in list(receiver.arrivals):
        expected = "sha256=" + hmac.new(secret.encode(), arrival["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(arrival["headers"]["x-ambtenaar-signature"], expected), arrival
        found.append({**json.loads(arrival["body"]), "headers": arrival["headers"]})
    return found


def test_deliveries_arrive_signed_and_a_503_is_retried(town: Node, receiver: Receiver) -> None:
    added = town.cli("webcare", "webhook", "add", "--org", "gemeente-ede", "--url", receiver.url)
    assert added.code == 0, added.err
    secret = re.search(r"Secret \(shown once\): (\S+)", added.out).group(1)  # type: ignore[union-attr]
    listed = town.cli("webcare", "webhook", "list", "--org", "gemeente-ede")
    assert receiver.url in listed.out and secret not in listed.out

    bert: Mastodon = app_for(town, "bert")
    anna: Mastodon = app_for(town, "anna")
    question = bert.status_post("@gemeente_ede wanneer wordt het grofvuil opgehaald?")
    first = eventually(lambda: fetch(town.database_url, "SELECT id, state, attempts, last_error "
                                     "FROM webcare_webhook_deliveries ORDER BY id"),
                       # attempts counts from the claim, before the answer: wait for the attempt to end too
                       lambda rows: len(rows) == 1 and rows[0]["attempts"] == 1 and rows[0]["last_error"] is not None,
                       what="the end of the first attempt")[0]
    assert first["state"] == "pending" and "503" in first["last_error"]
    [refused] = events(receiver, secret)
    assert refused["event"] == "conversation.opened" and refused["headers"]["x-ambtenaar-event"] == refused["event"]
    assert refused["headers"]["x-ambtenaar-delivery"] == str(first["id"]) == refused["id"]
    assert refused["headers"]["content-type"] == "application/json"
    assert refused["headers"]["user-agent"]
    assert refused["data"]["citizen"]["acct"] == "bert" and refused["data"]["status_id"] == str(question["id"])

    fetch(town.database_url, "UPDATE webcare_webhook_deliveries SET next_attempt_at = now() WHERE id = $1",
          first["id"])
    eventually(lambda: fetch(town.database_url, "SELECT state, delivered_at FROM webcare_webhook_deliveries "
                             "WHERE id = $1", first["id"]),
               lambda rows: rows[0]["state"] == "done" and rows[0]["delivered_at"] is not None,
               what="the retried delivery")
    again = events(receiver, secret)[1]
    assert again["id"] == refused["id"] and again["event"] == "conversation.opened"

    answer = post_with_voice(anna, "@bert dinsdag, voor 7:00 buiten zetten.", "official",
                             in_reply_to_id=question["id"])
    bert.status_post("@gemeente_ede dank! En oud ijzer?", in_reply_to_id=answer["id"])
    arrived = eventually(lambda: events(receiver, secret), lambda found: len(found) >= 5,
                         what="status changes and the citizen's reply")
    kinds = sorted((e["event"], e["data"].get("previous_status"), e["data"]["status"]) for e in arrived[2:])
    assert kinds == [("conversation.citizen_replied", None, "open"),  # bert's reply reopened it
                     ("conversation.status_changed", "open", "waiting"),
                     ("conversation.status_changed", "waiting", "open")], kinds
    assert {e["data"]["conversation_id"] for e in arrived} == {refused["data"]["conversation_id"]}
    assert all(a["path"] == "/hooks/ede" for a in receiver.arrivals)

    removed = town.cli("webcare", "webhook", "remove", "--org", "gemeente-ede", "--id",
                       listed.out.split("\t")[0])
    assert removed.code == 0, removed.err
    assert "no webhooks" in town.cli("webcare", "webhook", "list", "--org", "gemeente-ede").out
