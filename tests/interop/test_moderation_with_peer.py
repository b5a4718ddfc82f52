"""Moderation against an independent server (the Fedify peer): what we send for reports and blocks is accepted
and verified by software we did not write, a Flag it sends becomes a report here, and a suspended domain's
activities are answered 202 and dropped. Skipped, with the reason, where the peer harness is not set up."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.interop.peers import CAVAGE, OUR_HOST, Peer, harness_problem

_problem = harness_problem()
if _problem:
    pytest.skip(f"Fedify peer harness not available: {_problem}", allow_module_level=True)

ALICE = f"https://{OUR_HOST}/users/alice"
INSTANCE_ACTOR = f"https://{OUR_HOST}/actor"


def resolve(alice: httpx.Client, handle: str) -> dict[str, Any]:
    found = alice.get("/api/v2/search", params={"q": handle, "resolve": "true", "type": "accounts"}).json()
    assert found["accounts"], f"{handle} was not resolved: {found}"
    account: dict[str, Any] = found["accounts"][0]
    return account


def test_a_forwarded_report_reaches_the_peer_from_our_instance_actor(alice: httpx.Client, burger: Peer) -> None:
    jan = resolve(alice, "@jan@burger.test")
    filed = alice.post("/api/v1/reports", json={"account_id": jan["id"], "comment": "Reclame voor nepmedicijnen",
                                                "category": "spam", "forward": True})
    assert filed.status_code == 200, filed.text
    [flag] = burger.received(type="Flag", wait=20, min=1)
    assert flag["verified"] is True, flag
    signature = flag["http_signature"]
    assert signature["verified"] is True and signature["scheme"] == CAVAGE, signature
    assert signature["key_id"] == f"{INSTANCE_ACTOR}#main-key" and signature["actor_matches_owner"], signature
    activity = flag["activity"]
    assert activity["actor"] == INSTANCE_ACTOR
    objects = activity["object"] if isinstance(activity["object"], list) else [activity["object"]]
    assert burger.actor() in objects
    assert activity.get("content") == "Reclame voor nepmedicijnen"
    # The reporter stays anonymous to the other server.
    assert ALICE not in json.dumps(activity) and "alice" not in json.dumps(activity).lower()


def test_block_and_unblock_reach_the_peer(alice: httpx.Client, burger: Peer) -> None:
    jan = resolve(alice, "@jan@burger.test")
    assert alice.post(f"/api/v1/accounts/{jan['id']}/block").json()["blocking"] is True
    [block] = burger.received(type="Block", actor=ALICE, wait=20, min=1)
    assert block["verified"] is True and block["http_signature"]["key_id"] == f"{ALICE}#main-key", block
    assert block["activity"]["object"] == burger.actor()
    assert alice.post(f"/api/v1/accounts/{jan['id']}/unblock").json()["blocking"] is False
    undo = burger.received(type="Undo", actor=ALICE, wait=20, min=1)
    assert any(u["activity"]["object"]["id"] == block["id"] if isinstance(u["activity"]["object"], dict)
               else u["activity"]["object"] == block["id"] for u in undo), undo
    assert all(u["verified"] is True for u in undo), undo


def test_a_flag_from_the_peer_becomes_a_report(gemeente: Node, alice: httpx.Client, burger: Peer) -> None:
    post = alice.post("/api/v1/statuses", json={"status": "Het zwembad is dicht wegens onderhoud"}).json()
    flag_id = f"https://burger.test/flags/{uuid.uuid4()}"
    sent = burger.call("POST", "/send-raw", inbox=f"https://{OUR_HOST}/inbox", activity={
        "@context": "https://www.w3.org/ns/activitystreams", "id": flag_id, "type": "Flag",
        "actor": burger.actor(), "object": [ALICE, post["uri"]], "content": "Onjuiste informatie"})
    assert sent["status"] == 202, sent
    eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM reports WHERE flag_uri = $1", flag_id),
               lambda n: n == 1, what="the peer's Flag as a report")
    assert scalar(gemeente.database_url, "SELECT reporter_domain FROM reports WHERE flag_uri = $1",
                  flag_id) == "burger.test"
    assert scalar(gemeente.database_url, "SELECT comment FROM reports WHERE flag_uri = $1",
                  flag_id) == "Onjuiste informatie"
    assert scalar(gemeente.database_url, "SELECT count(*) FROM report_posts rp JOIN reports r ON r.id = rp.report_id "
                  "WHERE r.flag_uri = $1", flag_id) == 1


def test_a_suspended_peer_is_answered_202_and_nothing_is_kept(gemeente: Node, alice: httpx.Client,
                                                              burger: Peer) -> None:
    post = alice.post("/api/v1/statuses", json={"status": "Inloopspreekuur op woensdag"}).json()
    blocked = gemeente.cli("domain", "block", "burger.test", "--severity", "suspend", "--reason", "interop test")
    assert blocked.code == 0, blocked.err
    try:
        already = len(burger.outgoing_posts(OUR_HOST))
        replied = burger.call("POST", "/reply", object_id=post["uri"], text="Ook in de vakantie?")
        assert replied["ok"], replied
        knocks = eventually(lambda: burger.outgoing_posts(OUR_HOST)[already:], bool, what="the peer's delivery")
        # Answered as if accepted, so the peer cannot tell it is blocked, and it does not retry.
        assert all(k["status"] == 202 for k in knocks), knocks
        assert scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE uri = $1", replied["note_id"]) == 0
        assert scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items WHERE activity_uri = $1",
                      replied["create_id"]) == 0
    finally:
        assert gemeente.cli("domain", "unblock", "burger.test").code == 0
