"""The inbox under concurrent load (issue 18): activities that arrive together are stored together, each exactly
once (the same activity delivered several times at once is stored once), a request is answered 202 only when its
row is committed, and a write the database refuses answers 503 to each request in it, storing nothing. The rate
limit counts kept in memory reach the database.

A real node, a remote server the test controls, and many requests in flight from threads.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from federation import signatures
from tests.helpers.database import TestPostgres, fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.xss import AS_PUBLIC, HostileServer


@pytest.fixture(scope="module")
def remote() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    running = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("batch"),
                   extra_env={"AMBTENAAR_IN_PROCESS_WORKER": "false"}).start()
    yield running
    running.stop()


def signed(node: Node, remote: HostileServer, actor: str, activity: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    url = f"{node.url}/inbox"
    body = json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    headers.update(signatures.sign_request_cavage("POST", url, headers, body, remote.key, f"{actor}#main-key",
                                                  datetime.now(UTC)))
    return body, headers


def note(actor: str, text: str) -> dict[str, Any]:
    note_id = f"{actor}/statuses/{secrets.token_hex(6)}"
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity", "type": "Create",
            "actor": actor, "to": [AS_PUBLIC], "cc": [],
            "object": {"id": note_id, "type": "Note", "attributedTo": actor, "content": f"<p>{text}</p>",
                       "to": [AS_PUBLIC], "cc": [], "published": datetime.now(UTC).isoformat()}}


def send_all(node: Node, requests: list[tuple[bytes, dict[str, str]]], in_flight: int = 32) -> list[int]:
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=in_flight)) as client, \
            ThreadPoolExecutor(in_flight) as pool:
        return list(pool.map(lambda r: client.post(f"{node.url}/inbox", content=r[0], headers=r[1]).status_code,
                             requests))


def test_concurrent_deliveries_are_each_stored_exactly_once(node: Node, remote: HostileServer) -> None:
    actors = [remote.actor(f"piet{i}") for i in range(4)]
    activities = [note(actors[i % 4], f"Bericht {i}") for i in range(60)]
    # Every activity three times, interleaved, as servers that retry (or relays) deliver the same one at once.
    requests = [signed(node, remote, a["actor"], a) for _ in range(3) for a in activities]
    assert send_all(node, requests) == [202] * len(requests)
    rows = fetch(node.database_url, "SELECT activity_uri, count(*) AS n FROM inbox_items "
                 "WHERE activity_uri = ANY($1::text[]) GROUP BY activity_uri", [a["id"] for a in activities])
    assert sorted((r["activity_uri"], r["n"]) for r in rows) == sorted((a["id"], 1) for a in activities)
    stored = fetch(node.database_url, "SELECT activity FROM inbox_items WHERE activity_uri = $1", activities[7]["id"])
    assert json.loads(stored[0]["activity"]) == activities[7]  # the activity as it came


def test_a_write_the_database_refuses_answers_503_to_each_request_and_stores_nothing(
        node: Node, remote: HostileServer) -> None:
    actor = remote.actor("karel")
    fetch(node.database_url, """
        CREATE FUNCTION refuse_kapot() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.activity::text LIKE '%kapot%' THEN RAISE EXCEPTION 'refused by the test'; END IF;
            RETURN NEW;
        END $$""")
    fetch(node.database_url, "CREATE TRIGGER refuse_kapot BEFORE INSERT ON inbox_items "
                             "FOR EACH ROW EXECUTE FUNCTION refuse_kapot()")
    try:
        bad = [note(actor, f"kapot {i}") for i in range(20)]
        good = [note(actor, f"heel {i}") for i in range(20)]
        mixed = [x for pair in zip(bad, good, strict=True) for x in pair]
        answers = send_all(node, [signed(node, remote, actor, a) for a in mixed])
    finally:
        fetch(node.database_url, "DROP TRIGGER refuse_kapot ON inbox_items")
        fetch(node.database_url, "DROP FUNCTION refuse_kapot()")
    # Whatever batches they fell into: every refused row is answered 503 (never 202), every other one 202.
    assert answers == [503, 202] * 20
    assert scalar(node.database_url, "SELECT count(*) FROM inbox_items WHERE activity_uri = ANY($1::text[])",
                  [a["id"] for a in bad]) == 0
    assert scalar(node.database_url, "SELECT count(*) FROM inbox_items WHERE activity_uri = ANY($1::text[])",
                  [a["id"] for a in good]) == 20
    # Sent again once the database takes them, they are stored.
    assert send_all(node, [signed(node, remote, actor, a) for a in bad]) == [202] * 20
    assert scalar(node.database_url, "SELECT count(*) FROM inbox_items WHERE activity_uri = ANY($1::text[])",
                  [a["id"] for a in bad]) == 20


def test_the_rate_limit_counts_kept_in_memory_reach_the_database(node: Node, remote: HostileServer) -> None:
    actor = remote.actor("tellen")
    activities = [note(actor, f"tel {i}") for i in range(25)]
    assert send_all(node, [signed(node, remote, actor, a) for a in activities]) == [202] * 25
    # Flushed about once a second while activities come in: one more after the others makes sure one is due.
    bucket = f"inbox:actor:{actor}"

    def counted() -> int:
        assert send_all(node, [signed(node, remote, actor, note(actor, "nog een"))]) == [202]
        return int(scalar(node.database_url, "SELECT coalesce(sum(hits), 0) FROM rate_limit_hits "
                          "WHERE bucket = $1", bucket) or 0)

    eventually(counted, lambda n: n >= 25, what="the actor's hits in rate_limit_hits")
