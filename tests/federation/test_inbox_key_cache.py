"""The inbox's key cache (issue 18) against real processes: two web processes on one database (each with its own
key cache in memory) and a remote server whose actor document the test controls.

A key kept in memory must never outlive what the database says about it: after the actor's Update with a new key
(handled by a worker, in whichever process) the old key is refused by every web process and the new one accepted
at once, without waiting for the cache's expiry; after a Delete of the actor its signatures are refused.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from federation import signatures
from tests.helpers.database import TestPostgres, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.xss import AS_PUBLIC, HostileServer


@pytest.fixture(scope="module")
def remote() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def pair(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    """Two web processes of one node's database: `first` with the in-process worker, `second` without."""
    database = postgres.fresh_database()
    first = Node(database_url=database, data_dir=tmp_path_factory.mktemp("first")).start()
    second = Node(database_url=database, data_dir=tmp_path_factory.mktemp("second"),
                  extra_env={"AMBTENAAR_IN_PROCESS_WORKER": "false"})
    try:
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()


def post(node: Node, actor: str, activity: dict[str, Any], key: Any) -> httpx.Response:
    url = f"{node.url}/inbox"
    body = json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    headers.update(signatures.sign_request_cavage("POST", url, headers, body, key, f"{actor}#main-key",
                                                  datetime.now(UTC)))
    return httpx.post(url, content=body, headers=headers, timeout=30)


def note(actor: str, text: str = "Hallo") -> dict[str, Any]:
    note_id = f"{actor}/statuses/{secrets.token_hex(6)}"
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity", "type": "Create",
            "actor": actor, "to": [AS_PUBLIC], "cc": [],
            "object": {"id": note_id, "type": "Note", "attributedTo": actor, "content": f"<p>{text}</p>",
                       "to": [AS_PUBLIC], "cc": [], "published": datetime.now(UTC).isoformat()}}


def stored(node: Node, activity: dict[str, Any]) -> int:
    return int(scalar(node.database_url, "SELECT count(*) FROM inbox_items WHERE activity_uri = $1",
                      activity["id"]))


def stored_key(node: Node, actor: str) -> str | None:
    return scalar(node.database_url, "SELECT public_key_pem FROM accounts WHERE actor_uri = $1", actor)


def test_after_an_update_with_a_new_key_the_old_key_is_refused_in_every_process(
        pair: tuple[Node, Node], remote: HostileServer) -> None:
    first, second = pair
    old_key = remote.key
    actor = remote.actor(f"roos{secrets.token_hex(3)}")
    for node in (first, second):  # both processes now hold the old key in memory
        warm = note(actor)
        assert post(node, actor, warm, old_key).status_code == 202
        assert stored(node, warm) == 1

    # The remote server rotates the key and says so with an Update of the actor (signed with the old key, still
    # the one we know); the first process's worker fetches the actor again and stores the new key.
    new_key = signatures.generate_private_key()
    remote.key = new_key
    remote.actor(actor.rsplit("/", 1)[1])
    update = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}#updates/{secrets.token_hex(4)}",
              "type": "Update", "actor": actor, "to": [AS_PUBLIC], "object": remote.documents[
                  "/users/" + actor.rsplit("/", 1)[1]]}
    assert post(first, actor, update, old_key).status_code == 202
    eventually(lambda: stored_key(first, actor), lambda pem: pem == signatures.public_key_pem(new_key),
               what="the new key stored by the worker")

    for node in (second, first):  # the second process never saw the Update: its memory still has the old key
        stale = note(actor, "met de oude sleutel")
        answer = post(node, actor, stale, old_key)
        assert answer.status_code == 401, answer.text
        assert stored(node, stale) == 0
        fresh = note(actor, "met de nieuwe sleutel")
        assert post(node, actor, fresh, new_key).status_code == 202
        assert stored(node, fresh) == 1


def test_a_new_key_is_accepted_at_once_when_the_cached_one_does_not_verify(
        pair: tuple[Node, Node], remote: HostileServer) -> None:
    """No Update came (or it is still queued): the signature fails with the cached key, the key is fetched once."""
    _, second = pair
    actor = remote.actor(f"sam{secrets.token_hex(3)}")
    first_note = note(actor)
    assert post(second, actor, first_note, remote.key).status_code == 202
    remote.key = signatures.generate_private_key()
    remote.actor(actor.rsplit("/", 1)[1])
    rotated = note(actor, "nieuwe sleutel, nog geen Update")
    assert post(second, actor, rotated, remote.key).status_code == 202
    assert stored(second, rotated) == 1


def test_after_a_delete_of_the_actor_its_signatures_are_refused_in_every_process(
        pair: tuple[Node, Node], remote: HostileServer) -> None:
    first, second = pair
    name = f"dirk{secrets.token_hex(3)}"
    actor = remote.actor(name)
    for node in (first, second):
        warm = note(actor)
        assert post(node, actor, warm, remote.key).status_code == 202
    delete = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}#delete",
              "type": "Delete", "actor": actor, "to": [AS_PUBLIC], "object": actor}
    assert post(first, actor, delete, remote.key).status_code == 202
    del remote.documents[f"/users/{name}"]  # gone on its server too, as after a real deletion
    eventually(lambda: scalar(first.database_url, "SELECT gone_at IS NOT NULL FROM accounts WHERE actor_uri = $1",
                              actor), what="the actor marked gone by the worker")
    for node in (second, first):
        after = note(actor, "na het verwijderen")
        answer = post(node, actor, after, remote.key)
        assert answer.status_code == 401, answer.text
        assert "deleted" in answer.json()["error"]
        assert stored(node, after) == 0
    # The Delete sent once more (Mastodon repeats it) is dropped quietly, not refused.
    again = dict(delete, id=f"{actor}#delete-again")
    assert post(second, actor, again, remote.key).status_code == 202
    assert stored(second, again) == 0


def test_a_suspension_by_a_moderator_takes_effect_in_a_process_that_holds_the_key(
        pair: tuple[Node, Node], remote: HostileServer) -> None:
    first, second = pair
    actor = remote.actor(f"bob{secrets.token_hex(3)}")
    warm = note(actor)
    assert post(second, actor, warm, remote.key).status_code == 202
    # A moderator suspends the account (through the other process, or any: here straight in the database).
    scalar(first.database_url, "UPDATE accounts SET suspended_at = now() WHERE actor_uri = $1 RETURNING id", actor)
    dropped = note(actor, "geschorst")
    assert post(second, actor, dropped, remote.key).status_code == 202  # dropped, as Mastodon does
    assert stored(second, dropped) == 0


def test_a_block_made_elsewhere_takes_effect_in_a_process_that_decided_from_memory(
        pair: tuple[Node, Node], remote: HostileServer) -> None:
    """The gate's "allow" is kept in memory; allowlist mode switched on by the CLI (another process), which
    changes no account, is seen at the next activity, and switching it off is seen at once too (a drop is never
    kept)."""
    first, second = pair
    actor = remote.actor(f"gerrit{secrets.token_hex(3)}")
    allowed = note(actor)
    assert post(second, actor, allowed, remote.key).status_code == 202 and stored(second, allowed) == 1
    result = first.cli("domain", "mode", "allowlist")
    assert result.code == 0, result.err
    try:
        blocked = note(actor, "niet op de lijst")
        assert post(second, actor, blocked, remote.key).status_code == 202  # dropped, so it is no probe
        assert stored(second, blocked) == 0
    finally:
        assert first.cli("domain", "mode", "blocklist").code == 0
    lifted = note(actor, "weer welkom")
    assert post(second, actor, lifted, remote.key).status_code == 202
    assert stored(second, lifted) == 1
