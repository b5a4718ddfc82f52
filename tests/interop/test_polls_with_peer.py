"""Polls against an independent server (the Fedify peer, issue 14 item 3): it receives our poll as a Question,
votes in it, and receives our Update of the Question with the new counts, signed and accepted by Fedify.

The peer's `/reply` cannot vote: it always sends `content` and has no `name`. So its vote goes through its
`/send-raw`, signed with jan's own key: a Create of a Note with `name` (the option) and `inReplyTo` (the
Question), to alice's inbox, which is how Mastodon votes. Skipped, with the reason, where the harness is not set up.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.interop.peers import CAVAGE, OUR_HOST, Peer, harness_problem, start_our_node

_problem = harness_problem()
if _problem:
    pytest.skip(f"Fedify peer harness not available: {_problem}", allow_module_level=True)

ALICE = f"https://{OUR_HOST}/users/alice"


@pytest.fixture(scope="module")
def gemeente(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = start_our_node(postgres.fresh_database(), tmp_path_factory.mktemp("gemeente.test"),
                          extra_env={"AMBTENAAR_POLL_UPDATE_SECONDS": "1"})
    try:
        factories.organisation(node)
        factories.person(node, "alice", org="gemeente-ede", display_name="Alice de Vries")
        yield node
    finally:
        node.stop()


def test_the_peer_votes_and_receives_the_new_counts(alice: httpx.Client, burger: Peer) -> None:
    followed = burger.call("POST", "/follow", target=f"@alice@{OUR_HOST}")
    assert followed["state"] == "accepted", followed
    poll = alice.post("/api/v1/statuses", json={"status": "Waar komen de nieuwe bankjes?", "poll": {
        "options": ["Markt", "Park"], "expires_in": 3600}}).json()["poll"]
    [create] = burger.received(type="Create", actor=ALICE, wait=20, min=1)
    question = create["activity"]["object"]
    assert create["verified"] is True and create["object_type"] == "Question", create
    assert [o["name"] for o in question["oneOf"]] == ["Markt", "Park"] and "endTime" in question

    vote_id = f"{burger.actor()}#votes/1"
    sent = burger.call("POST", "/send-raw", inbox=f"{ALICE}/inbox", spec=CAVAGE, activity={
        "@context": "https://www.w3.org/ns/activitystreams", "id": f"{vote_id}/activity", "type": "Create",
        "actor": burger.actor(), "to": [ALICE], "object": {
            "id": vote_id, "type": "Note", "name": "Park", "attributedTo": burger.actor(), "to": [ALICE],
            "inReplyTo": question["id"]}})
    assert sent["status"] == 202, sent
    counted = eventually(lambda: alice.get(f"/api/v1/polls/{poll['id']}").json(), lambda p: p["votes_count"] == 1,
                         what="the peer's vote counted")
    assert [o["votes_count"] for o in counted["options"]] == [0, 1] and counted["voters_count"] == 1

    [update] = burger.received(type="Update", actor=ALICE, wait=20, min=1)
    assert update["verified"] is True and update["object_type"] == "Question", update
    options = update["activity"]["object"]["oneOf"]
    assert [(o["name"], o["replies"]["totalItems"]) for o in options] == [("Markt", 0), ("Park", 1)]
    assert update["activity"]["object"]["votersCount"] == 1


def test_an_edit_with_new_options_reaches_the_peer(alice: httpx.Client, burger: Peer) -> None:
    """Edited options go out as an Update of the Question, with the votes wiped (as Mastodon changes a poll)."""
    status = alice.post("/api/v1/statuses", json={"status": "Welke dag is de markt?", "poll": {
        "options": ["Zaterdag", "Zondag"], "expires_in": 3600}}).json()
    created = burger.received(type="Create", actor=ALICE, wait=20, min=2)
    question_id = next(c["activity"]["object"]["id"] for c in created
                       if c["activity"]["object"].get("content", "").find("Welke dag") >= 0)
    edited = alice.put(f"/api/v1/statuses/{status['id']}", json={"status": "Welke dag is de markt?", "poll": {
        "options": ["Vrijdag", "Zaterdag"], "expires_in": 3600}})
    assert edited.status_code == 200, edited.text
    update = eventually(lambda: [u for u in burger.received(type="Update", actor=ALICE)
                                 if u["activity"]["object"]["id"] == question_id],
                        lambda found: bool(found), what="the Update of the edited Question")[-1]
    assert update["verified"] is True and update["object_type"] == "Question", update
    assert [(o["name"], o["replies"]["totalItems"]) for o in update["activity"]["object"]["oneOf"]] == [
        ("Vrijdag", 0), ("Zaterdag", 0)]
