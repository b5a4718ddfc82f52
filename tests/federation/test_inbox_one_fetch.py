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
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from federation import signatures
from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import TestPostgres, fetch, scalar
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


VERIFIED = "Verified: Teamleider informatievoorziening, Gemeente Ede"
CHECKING = "Badge claimed, being checked: Teamleider informatievoorziening"


def badged_anna(issuer: Node, receiver: Node) -> Any:
    """anna of `issuer` gets a badge that `receiver` trusts; her private key, to sign as her server would."""
    factories.person(issuer, "kees", org="gemeente-ede", role="org-admin")
    issued = issuer.cli("badge", "issue", "--username", "anna", "--function", "Teamleider informatievoorziening",
                        "--by", "kees")
    assert issued.code == 0, issued.err
    assert receiver.cli("trust", "add", issuer.domain).code == 0
    actor = httpx.get(f"{issuer.url}/users/anna", headers={"Accept": "application/activity+json"}).json()
    assert "ambtenaarBadge" in actor  # her actor claims the badge; its keys exist now
    return signatures.load_private_key(scalar(
        issuer.database_url, "SELECT k.private_key_pem FROM actor_keys k JOIN accounts a ON a.id = k.account_id "
        "WHERE a.username = 'anna'"))


def anna_follows_bert(issuer: Node, receiver: Node, key: Any) -> int:
    """anna's server delivers her Follow of bert; the id of her account on `receiver`, stored by its inbox."""
    anna = f"{issuer.url}/users/anna"
    assert scalar(receiver.database_url, "SELECT count(*) FROM accounts WHERE actor_uri = $1", anna) == 0
    follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{anna}#follows/{secrets.token_hex(6)}",
              "type": "Follow", "actor": anna, "object": f"{receiver.url}/users/bert"}
    answer = signed_post(f"{receiver.url}/users/bert/inbox", follow, key, f"{anna}#main-key")
    assert answer.status_code == 202, answer.text
    account_id = scalar(receiver.database_url, "SELECT id FROM accounts WHERE actor_uri = $1", anna)
    assert account_id is not None
    return int(account_id)


def profile(node: Node, account_id: int, language: str = "en") -> str:
    return WebClient(node.url, language=language).get(f"/accounts/{account_id}").text


@contextmanager
def worker_of(node: Node) -> Iterator[None]:
    """An `ambtenaar worker` process for the node, stopped afterwards."""
    worker = node.spawn("worker")
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_an_uncached_actor_with_a_badge_costs_one_fetch_and_its_badge_is_checked_by_the_worker(
        gemeente: Node, waiting: Node) -> None:
    key = badged_anna(gemeente, waiting)
    before = log_size(gemeente)
    account_id = anna_follows_bert(gemeente, waiting, key)
    # Read once the answer is in: whatever the inbox fetched was logged before it answered.
    assert requests_since(gemeente, before) == [("GET", "/users/anna")]

    assert CHECKING in profile(waiting, account_id)
    assert "wordt gecontroleerd" in profile(waiting, account_id, "nl")
    bert = api(waiting, "bert")
    unchecked = bert.get(f"/api/v1/accounts/{account_id}").json()["ambtenaar"]
    assert unchecked["verified"] is False and unchecked["function"] == "Teamleider informatievoorziening"
    assert unchecked["badge_status"] == "checking"

    with worker_of(waiting):
        eventually(lambda: profile(waiting, account_id), lambda text: VERIFIED in text,
                   what="the badge verified by the worker")
    checked = bert.get(f"/api/v1/accounts/{account_id}").json()["ambtenaar"]
    assert (checked["verified"], checked["badge_status"]) == (True, "valid")
    assert scalar(waiting.database_url, "SELECT count(*) FROM remote_badge_checks") == 0
    fetched = requests_since(gemeente, before)
    # The worker fetched the issuing organisation and asked the verification page; the inbox had fetched anna.
    assert ("GET", "/users/gemeente_ede") in fetched
    assert any(method == "GET" and path.startswith("/badges/") for method, path in fetched)
    assert fetched.count(("GET", "/users/anna")) == 1


def test_a_badge_whose_issuer_is_down_stays_being_checked_and_is_checked_again_when_it_is_back(
        postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory, waiting: Node) -> None:
    issuer = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("issuer")).start()
    try:
        factories.organisation(issuer)
        factories.person(issuer, "anna", org="gemeente-ede", display_name="Anna de Vries")
        account_id = anna_follows_bert(issuer, waiting, badged_anna(issuer, waiting))
        issuer.stop()
        with worker_of(waiting):
            failed = eventually(lambda: fetch(waiting.database_url, "SELECT state, attempts, last_error FROM "
                                              "remote_badge_checks WHERE account_id = $1", account_id),
                                lambda rows: bool(rows) and rows[0]["last_error"] is not None,
                                what="a check that could not reach the issuer")
            assert failed[0]["state"] == "pending" and "IssuerUnavailable" in failed[0]["last_error"]
            assert CHECKING in profile(waiting, account_id)
            # The issuer back on the same address, and the retry made due now rather than in 30 s.
            issuer.start()
            fetch(waiting.database_url, "UPDATE remote_badge_checks SET next_attempt_at = now()")
            eventually(lambda: profile(waiting, account_id), lambda text: VERIFIED in text, timeout=30,
                       what="the badge verified once the issuer answers")
    finally:
        issuer.stop()
