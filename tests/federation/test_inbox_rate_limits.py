"""A flood of activities from one server is limited (429 with Retry-After, nothing stored) while another server's
deliveries in the same minutes all arrive; one noisy actor is limited before its whole domain.

Three real nodes on three loopback addresses, so three host names: the receiver ("rathuis", small limits), the
flooder (127.0.0.2) and a neighbour (127.0.0.3). The flood is signed with the flooder's own actors' keys, read
from its database, as its server would sign; the flooder's and the neighbour's real workers deliver real posts.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from federation import signatures
from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import TestPostgres, fetch, scalar
from tests.helpers.nodes import Node, free_port
from tests.helpers.polling import eventually

DOMAIN_LIMIT, ACTOR_LIMIT, WINDOW = 8, 5, 3600
LIMITS = {"AMBTENAAR_INBOX_RATE_LIMIT_DOMAIN": str(DOMAIN_LIMIT), "AMBTENAAR_INBOX_RATE_LIMIT_ACTOR": str(ACTOR_LIMIT),
          "AMBTENAAR_INBOX_RATE_WINDOW_SECONDS": str(WINDOW)}
MARGIN = 240  # seconds: the module's tests must all fall in one fixed window


def node_on(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory, name: str, host: str,
            env: dict[str, str] | None = None) -> Node:
    return Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp(name), host=host,
                port=free_port(host), extra_env=env or {}).start()


@pytest.fixture(scope="module")
def rathuis(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = node_on(postgres, tmp_path_factory, "rathuis", "127.0.0.1", LIMITS)
    factories.person(node, "rita", display_name="Rita Raadhuis")
    yield node
    node.stop()


@pytest.fixture(scope="module")
def flooder(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = node_on(postgres, tmp_path_factory, "flooder", "127.0.0.2")
    factories.person(node, "fred")
    factories.person(node, "fien")
    yield node
    node.stop()


@pytest.fixture(scope="module")
def neighbour(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = node_on(postgres, tmp_path_factory, "neighbour", "127.0.0.3")
    factories.person(node, "nora")
    yield node
    node.stop()


@pytest.fixture(scope="module", autouse=True)
def one_window(rathuis: Node, flooder: Node, neighbour: Node) -> None:
    """The limits count in fixed windows of an hour; near a window's end, wait for the next one, so that no count
    resets in the middle of these tests (it happens in MARGIN/WINDOW of runs)."""
    left = WINDOW - time.time() % WINDOW
    if left < MARGIN:
        time.sleep(left + 1)


def private_key(node: Node, username: str) -> Any:
    assert httpx.get(f"{node.url}/users/{username}", headers={"Accept": "application/activity+json"}
                     ).status_code == 200  # makes the actor's key
    pem = scalar(node.database_url, "SELECT k.private_key_pem FROM actor_keys k JOIN accounts a "
                 "ON a.id = k.account_id WHERE a.username = $1", username)
    return signatures.load_private_key(pem)


def deliver(receiver: Node, sender: Node, username: str, text: str = "Hallo") -> httpx.Response:
    """One Create{Note} mentioning rita, signed by `username` on `sender` as its server signs, POSTed to the inbox."""
    actor = f"{sender.url}/users/{username}"
    rita = f"{receiver.url}/users/rita"
    note_id = f"{actor}/statuses/{secrets.token_hex(6)}"
    activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity", "type": "Create",
                "actor": actor, "to": [rita], "cc": [],
                "object": {"id": note_id, "type": "Note", "attributedTo": actor, "content": f"<p>{text}</p>",
                           "to": [rita], "cc": [], "tag": [{"type": "Mention", "href": rita}],
                           "published": datetime.now(UTC).isoformat()}}
    url = f"{receiver.url}/inbox"
    body = json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    headers.update(signatures.sign_request_cavage("POST", url, headers, body, private_key(sender, username),
                                                  f"{actor}#main-key", datetime.now(UTC)))
    return httpx.post(url, content=body, headers=headers, timeout=30)


def items_from(receiver: Node, sender: Node, username: str) -> int:
    return int(scalar(receiver.database_url, "SELECT count(*) FROM inbox_items WHERE actor_uri = $1",
                      f"{sender.url}/users/{username}"))


def assert_throttled(response: httpx.Response, naming: str) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= WINDOW
    assert naming in response.json()["error"]


def test_one_noisy_actor_is_limited_before_its_domain(rathuis: Node, flooder: Node) -> None:
    assert [deliver(rathuis, flooder, "fred").status_code for _ in range(ACTOR_LIMIT)] == [202] * ACTOR_LIMIT
    assert_throttled(deliver(rathuis, flooder, "fred"), f"from {flooder.url}/users/fred")
    assert items_from(rathuis, flooder, "fred") == ACTOR_LIMIT  # the refused one is not stored
    # fien, on the same server, still has the rest of the domain's share (the refused request counted too).
    room = DOMAIN_LIMIT - ACTOR_LIMIT - 1
    assert [deliver(rathuis, flooder, "fien").status_code for _ in range(room)] == [202] * room
    assert_throttled(deliver(rathuis, flooder, "fien"), "too many activities from 127.0.0.2: at most 8")
    assert items_from(rathuis, flooder, "fien") == room


def test_a_flood_from_one_domain_is_limited_while_another_domains_deliveries_arrive(
        rathuis: Node, flooder: Node, neighbour: Node) -> None:
    flood = [deliver(rathuis, flooder, ("fred", "fien")[i % 2], f"Flood {i}") for i in range(DOMAIN_LIMIT + 12)]
    assert flood[-1].status_code == 429 and "from 127.0.0.2:" in flood[-1].json()["error"]
    stored_before = int(scalar(rathuis.database_url, "SELECT count(*) FROM inbox_items"))
    # In the same minutes: real posts from both servers, delivered by their own workers, and more flood.
    fred, nora = api(flooder, "fred"), api(neighbour, "nora")
    handle = f"@rita@{rathuis.domain}"
    for i in range(3):
        assert fred.post("/api/v1/statuses", data={"status": f"{handle} Fred {i}"}).status_code == 200
    sent_at = datetime.now(UTC)
    nora_posts = [nora.post("/api/v1/statuses", data={"status": f"{handle} Nora {i}"}).json() for i in range(4)]
    assert all(deliver(rathuis, flooder, "fien", "Meer").status_code == 429 for _ in range(5))

    # Every one of the neighbour's deliveries is accepted the first time and stored on rathuis.
    eventually(lambda: scalar(rathuis.database_url, "SELECT count(*) FROM posts WHERE uri = ANY($1::text[])",
                              [p["uri"] for p in nora_posts]), lambda n: n == 4, what="nora's four posts on rathuis")
    neighbour_deliveries = fetch(neighbour.database_url, "SELECT state, last_status, attempts FROM deliveries "
                                 "WHERE inbox_uri LIKE $1", f"{rathuis.url}/%")
    assert [(d["state"], d["last_status"], d["attempts"]) for d in neighbour_deliveries] == [("sent", 202, 1)] * 4

    # The flooder's real deliveries were answered 429 and wait for the window to end, as Retry-After said,
    # rather than the usual half-minute backoff; nothing of them was stored.
    flooder_deliveries = eventually(
        lambda: fetch(flooder.database_url, "SELECT state, last_status, next_attempt_at FROM deliveries "
                      "WHERE inbox_uri LIKE $1 AND last_status IS NOT NULL", f"{rathuis.url}/%"),
        lambda rows: len(rows) == 3, what="the flooder's three delivery attempts")
    for delivery in flooder_deliveries:
        assert delivery["state"] == "pending" and delivery["last_status"] == 429
        assert (delivery["next_attempt_at"] - sent_at).total_seconds() > 120
    assert scalar(rathuis.database_url, "SELECT count(*) FROM posts WHERE content_html LIKE '%Fred %'") == 0
    stored_now = int(scalar(rathuis.database_url, "SELECT count(*) FROM inbox_items"))
    assert stored_now == stored_before + 4  # nora's four, none of the flood
