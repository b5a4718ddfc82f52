"""An inbox that only verifies (issue 12): a POST from an actor this node has never seen, whose actor claims a
badge, is answered after one outgoing fetch (the actor's document); the badge is checked later by the worker, and
shows as being checked until then and as verified after.

The outgoing fetches are counted where they arrive: the access log of the real node that hosts the actor. The
receiving node runs without an in-process worker, so nothing but the inbox request can fetch until the test starts
an `ambtenaar worker` for it.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from federation import signatures
from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import TestPostgres, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient

ACCESS_LINE = re.compile(r'"(GET|POST|HEAD) (\S+) HTTP/[\d.]+" (\d{3})')


@pytest.fixture(scope="module")
def waiting(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A receiving node whose queues only a separate worker process works through."""
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("waiting"),
                extra_env={"AMBTENAAR_IN_PROCESS_WORKER": "false"}).start()
    factories.person(node, "bert", display_name="Bert Burger")
    yield node
    node.stop()


def requests_since(node: Node, offset: int) -> list[tuple[str, str]]:
    """(method, path) of every request the node's access log recorded after `offset` bytes of its log."""
    assert node.log_path is not None
    with node.log_path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", "replace")
    found = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        match = ACCESS_LINE.search(str(entry.get("message", ""))) if entry.get("logger") == "uvicorn.access" else None
        if match:
            found.append((match.group(1), match.group(2).split("?")[0]))
    return found


def log_size(node: Node) -> int:
    assert node.log_path is not None
    return node.log_path.stat().st_size


def signed_post(url: str, activity: dict[str, Any], key: Any, key_id: str) -> httpx.Response:
    body = json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    headers.update(signatures.sign_request_cavage("POST", url, headers, body, key, key_id, datetime.now(timezone.utc)))
    return httpx.post(url, content=body, headers=headers, timeout=30)


def test_an_uncached_actor_with_a_badge_costs_one_fetch_and_its_badge_is_checked_by_the_worker(
        gemeente: Node, waiting: Node) -> None:
    factories.person(gemeente, "kees", org="gemeente-ede", role="org-admin")
    issued = gemeente.cli("badge", "issue", "--username", "anna", "--function", "Teamleider informatievoorziening",
                          "--by", "kees")
    assert issued.code == 0, issued.err
    assert waiting.cli("trust", "add", gemeente.domain).code == 0
    anna = f"{gemeente.url}/users/anna"
    actor = httpx.get(anna, headers={"Accept": "application/activity+json"}).json()
    assert "ambtenaarBadge" in actor  # her actor claims the badge; its keys exist now
    key = signatures.load_private_key(scalar(
        gemeente.database_url, "SELECT k.private_key_pem FROM actor_keys k JOIN accounts a ON a.id = k.account_id "
        "WHERE a.username = 'anna'"))
    assert scalar(waiting.database_url, "SELECT count(*) FROM accounts WHERE actor_uri = $1", anna) == 0

    before = log_size(gemeente)
    follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{anna}#follows/{secrets.token_hex(6)}",
              "type": "Follow", "actor": anna, "object": f"{waiting.url}/users/bert"}
    answer = signed_post(f"{waiting.url}/users/bert/inbox", follow, key, f"{anna}#main-key")
    assert answer.status_code == 202, answer.text
    # Read once the answer is in: whatever the inbox fetched was logged before it answered.
    assert requests_since(gemeente, before) == [("GET", "/users/anna")]

    account_id = scalar(waiting.database_url, "SELECT id FROM accounts WHERE actor_uri = $1", anna)
    assert account_id is not None
    page = f"/accounts/{account_id}"
    assert "Badge claimed, being checked: Teamleider informatievoorziening" in \
        WebClient(waiting.url, language="en").get(page).text
    assert "wordt gecontroleerd" in WebClient(waiting.url, language="nl").get(page).text
    bert = api(waiting, "bert")
    unchecked = bert.get(f"/api/v1/accounts/{account_id}").json()["ambtenaar"]
    assert unchecked["verified"] is False and unchecked["function"] == "Teamleider informatievoorziening"

    worker = waiting.spawn("worker")
    try:
        eventually(lambda: WebClient(waiting.url, language="en").get(page).text,
                   lambda text: "Verified: Teamleider informatievoorziening, Gemeente Ede" in text,
                   what="the badge verified by the worker")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert bert.get(f"/api/v1/accounts/{account_id}").json()["ambtenaar"]["verified"] is True
    assert scalar(waiting.database_url, "SELECT count(*) FROM remote_badge_checks") == 0
    fetched = requests_since(gemeente, before)
    # The worker fetched the issuing organisation and asked the verification page; the inbox had fetched anna.
    assert ("GET", "/users/gemeente_ede") in fetched
    assert any(method == "GET" and path.startswith("/badges/") for method, path in fetched)
    assert fetched.count(("GET", "/users/anna")) == 1
