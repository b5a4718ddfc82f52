"""Interop with an independent Fediverse server: Fedify peers (peers/README.md) against our node as gemeente.test.

Everything goes over real HTTPS between real processes: the peers are driven through their JSON control API, alice
through our Mastodon client API, and each side's own records say what arrived and whether its signature verified.
Skipped, with the reason, on machines where the peer harness is not set up (see docs/interop.md).
"""

from __future__ import annotations

import json

import uuid
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from federation import signatures, transport
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.interop.peers import CAVAGE, OUR_HOST, RFC9421, Peer, harness_problem

_problem = harness_problem()
if _problem:
    pytest.skip(f"Fedify peer harness not available: {_problem}", allow_module_level=True)

ALICE = f"https://{OUR_HOST}/users/alice"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def assert_verified(record: dict[str, Any]) -> None:
    """Fedify accepted it, and the harness's own check of our HTTP signature found nothing to object to."""
    sig = record["http_signature"]
    assert record["verified"] is True, record
    assert sig["verified"] is True and sig["scheme"] == CAVAGE, sig
    assert sig["body_covered"] and sig["actor_matches_owner"] and sig["owner_links_back"], sig
    assert sig["key_id"] == f"{ALICE}#main-key", sig


def status_of(alice: httpx.Client, status_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = alice.get(f"/api/v1/statuses/{status_id}").json()
    return answer


def notification_types(alice: httpx.Client, acct: str) -> list[str]:
    return [n["type"] for n in alice.get("/api/v1/notifications").json() if n["account"]["acct"] == acct]


def resolve(alice: httpx.Client, handle: str) -> dict[str, Any]:
    found = alice.get("/api/v2/search", params={"q": handle, "resolve": "true", "type": "accounts"}).json()
    assert found["accounts"], f"{handle} was not resolved: {found}"
    account: dict[str, Any] = found["accounts"][0]
    return account


def relationship(alice: httpx.Client, account_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = alice.get("/api/v1/accounts/relationships", params={"id[]": account_id}).json()[0]
    return answer


def test_peer_looks_up_alice(burger: Peer) -> None:
    """Fedify's lookupObject finds alice by handle, and every check the harness makes of her actor passes."""
    found = burger.call("POST", "/lookup", target=f"@alice@{OUR_HOST}")
    assert found["ok"] and not found["errors"] and not found["warnings"], found
    assert found["id"] == ALICE and found["type"] == "Person"
    failed = [check for check in found["checks"] if check["ok"] is False]
    assert not failed, failed
    assert {c["check"] for c in found["checks"] if c["ok"]} >= {
        "publicKey", "publicKey.owner is the actor", "key dereferenceable by keyId without a signature",
        f"WebFinger acct:alice@{OUR_HOST} points back to the actor", "WebFinger by actor URL gives the acct: handle"}
    # The badge's profile field survives Fedify's JSON-LD parsing (our extension terms are defined inline).
    parsed = json.dumps(found.get("parsed") or found.get("document"), ensure_ascii=False)
    assert "Ambtenaar" in parsed and "Gemeente Ede — Woordvoerder" in parsed, parsed[:2000]


def test_peer_looks_up_page_urls(alice: httpx.Client, burger: Peer) -> None:
    """What a citizen pastes into their server's search: the post page and profile page URLs. Fedify's lookupObject
    asks them with the ActivityPub Accept header and gets the Note and the actor (issue 14, links resolve)."""
    posted = alice.post("/api/v1/statuses", json={"status": "Spreekuur verplaatst naar donderdag", "voice": "official"})
    assert posted.status_code == 200, posted.text
    post = posted.json()
    assert post["url"] == f"https://{OUR_HOST}/@alice/{post['id']}"
    note = burger.call("POST", "/lookup", target=post["url"])
    assert note["ok"] and not note["errors"], note
    assert note["type"] == "Note" and note["id"] == post["uri"], note
    assert "Spreekuur verplaatst" in json.dumps(note["parsed"], ensure_ascii=False)
    profile = burger.call("POST", "/lookup", target=f"https://{OUR_HOST}/@alice")
    assert profile["ok"] and profile["type"] == "Person" and profile["id"] == ALICE, profile
    organisation = burger.call("POST", "/lookup", target=f"https://{OUR_HOST}/orgs/gemeente-ede")
    assert organisation["ok"] and organisation["type"] == "Organization", organisation
    assert organisation["id"] == f"https://{OUR_HOST}/users/gemeente_ede"


def test_conversation_with_a_peer(gemeente: Node, alice: httpx.Client, burger: Peer) -> None:
    jan = burger.actor()
    followed = burger.call("POST", "/follow", target=f"@alice@{OUR_HOST}")
    assert followed["state"] == "accepted", followed
    assert_verified(burger.received(type="Accept", actor=ALICE)[0])
    assert scalar(gemeente.database_url, "SELECT state FROM follows f JOIN accounts a ON a.id = f.follower_id "
                  "WHERE a.actor_uri = $1", jan) == "accepted"
    eventually(lambda: notification_types(alice, "jan@burger.test"), lambda types: "follow" in types,
               what="alice's follow notification")

    posting = alice.post("/api/v1/statuses", json={"status": "Spreekuur vandaag tot 20:00 #ede", "voice": "official"})
    assert posting.status_code == 200, posting.text
    post = posting.json()
    created = burger.received(type="Create", object=post["uri"], wait=15)
    assert len(created) == 1, created
    assert_verified(created[0])
    assert created[0]["object_type"] == "Note" and "Spreekuur" in created[0]["content"]
    assert created[0]["activity"]["object"]["voice"] == "official"
    # What a Mastodon reader sees: the voice as the first line of the content, as Fedify parsed it.
    assert created[0]["content"].startswith("<p>🏛 Namens Gemeente Ede</p>"), created[0]["content"]

    reply = burger.call("POST", "/reply", object_id=post["uri"], text="Wanneer gaat dit in?")
    assert reply["ok"] and all(d["status"] == 202 for d in reply["sent"]["deliveries"]), reply
    context = eventually(lambda: alice.get(f"/api/v1/statuses/{post['id']}/context").json(),
                         lambda c: len(c["descendants"]) == 1, what="jan's reply in alice's thread")
    assert context["descendants"][0]["uri"] == reply["note_id"]
    assert "Wanneer gaat dit in?" in context["descendants"][0]["content"]
    assert context["descendants"][0]["account"]["acct"] == "jan@burger.test"
    eventually(lambda: notification_types(alice, "jan@burger.test"), lambda types: "mention" in types,
               what="alice's mention notification")

    # The organisation's own account boosts official posts (issue 5): count the peer's boost on top of it.
    boosts_before = status_of(alice, post["id"])["reblogs_count"]
    like = burger.call("POST", "/like", object_id=post["uri"])
    boost = burger.call("POST", "/announce", object_id=post["uri"])
    assert like["ok"] and boost["ok"], (like, boost)
    eventually(lambda: status_of(alice, post["id"]),
               lambda s: s["favourites_count"] == 1 and s["reblogs_count"] == boosts_before + 1,
               what="the like and boost counts")
    assert {"favourite", "reblog"} <= set(notification_types(alice, "jan@burger.test"))
    assert burger.call("POST", "/undo", activity_id=like["like_id"])["ok"]
    assert burger.call("POST", "/undo", activity_id=boost["announce_id"])["ok"]
    eventually(lambda: status_of(alice, post["id"]),
               lambda s: s["favourites_count"] == 0 and s["reblogs_count"] == boosts_before,
               what="the undone like and boost")

    edited = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "Spreekuur vandaag tot 21:00 #ede"})
    assert edited.status_code == 200, edited.text
    updates = burger.received(type="Update", object=post["uri"], wait=15)
    assert len(updates) == 1 and "21:00" in updates[0]["content"], updates
    assert_verified(updates[0])

    assert alice.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    deletes = burger.received(type="Delete", object=post["uri"], wait=15)
    assert len(deletes) == 1 and deletes[0]["object_type"] == "Tombstone", deletes
    assert_verified(deletes[0])

    # Fedify knocks with RFC 9421 first; we verify it, so it never had to fall back to draft-cavage.
    knocks = burger.outgoing_posts(OUR_HOST)
    assert knocks and all(k["status"] == 202 and k["signature"]["scheme"] == RFC9421 for k in knocks), knocks


def test_alice_follows_a_peer_and_reads_its_posts(gemeente: Node, alice: httpx.Client, burger: Peer) -> None:
    jan = resolve(alice, burger.handle)
    assert jan["acct"] == "jan@burger.test" and not jan["locked"]
    assert alice.post(f"/api/v1/accounts/{jan['id']}/follow").status_code == 200
    eventually(lambda: relationship(alice, jan["id"]), lambda r: r["following"], what="the Accept of alice's follow")
    follow = burger.received(type="Follow", actor=ALICE)
    assert len(follow) == 1, follow
    assert_verified(follow[0])
    followers = burger.call("GET", "/followers")["followers"]
    assert [f["actor"] for f in followers if f["actor"] == ALICE] == [ALICE]

    posted = burger.call("POST", "/post", text="Is het gemeentehuis morgen open?")
    assert posted["ok"], posted
    home = eventually(lambda: alice.get("/api/v1/timelines/home").json(),
                      lambda tl: any(s["uri"] == posted["note_id"] for s in tl), what="jan's post in alice's home")
    copy = next(s for s in home if s["uri"] == posted["note_id"])
    assert "gemeentehuis morgen open" in copy["content"] and copy["visibility"] == "public"
    assert copy["account"]["acct"] == "jan@burger.test"

    # alice answers and boosts: jan is both a follower and the author, yet his server hears each activity once
    # (Fedify dedupes per inbox, so a second copy to his personal inbox would be processed a second time).
    answer = alice.post("/api/v1/statuses", json={"status": "Ja, tot 17:00.", "in_reply_to_id": copy["id"],
                                                  "voice": "official"}).json()
    boost = alice.post(f"/api/v1/statuses/{copy['id']}/reblog").json()
    for kind, object_id in (("Create", answer["uri"]), ("Announce", posted["note_id"])):
        arrived = burger.received(type=kind, object=object_id, wait=15)
        assert arrived and arrived[0]["inbox"] == "shared", arrived
        assert_verified(arrived[0])
    assert burger.received(type="Create", object=answer["uri"])[0]["in_reply_to"] == posted["note_id"]
    for activity_uri in (f"{answer['uri']}/activity", boost["uri"]):  # a boost's uri is its Announce's id
        eventually(lambda: fetch(gemeente.database_url, "SELECT d.inbox_uri, d.state FROM deliveries d JOIN "
                                 "outbound_activities a ON a.id = d.activity_id WHERE a.activity_uri = $1",
                                 activity_uri),  # noqa: B023 - polled right here, inside the loop
                   lambda rows: rows == [{"inbox_uri": "https://burger.test/inbox", "state": "sent"}],
                   what=f"one delivery of {activity_uri}, to the shared inbox")


def test_follow_of_a_peer_that_approves_by_hand(alice: httpx.Client, burger3: Peer) -> None:
    jan = resolve(alice, burger3.handle)
    assert jan["locked"], jan
    assert alice.post(f"/api/v1/accounts/{jan['id']}/follow").status_code == 200
    requests = eventually(lambda: burger3.call("GET", "/follow-requests")["requests"],
                          lambda rs: any(r["actor"] == ALICE for r in rs), what="the follow request at the peer")
    assert relationship(alice, jan["id"])["requested"] and not relationship(alice, jan["id"])["following"]
    follow_id = next(r["follow_id"] for r in requests if r["actor"] == ALICE)
    accepted = burger3.call("POST", "/follow-requests/accept", follow_id=follow_id)
    assert accepted["ok"], accepted
    eventually(lambda: relationship(alice, jan["id"]), lambda r: r["following"] and not r["requested"],
               what="the hand-given Accept")


def test_signed_fetch_from_a_peer_in_authorized_fetch_mode(gemeente: Node, burger3: Peer) -> None:
    """Our instance actor signs fetches as the resolver does; Fedify fetches its key and lets the GET through."""
    note = burger3.call("POST", "/post", text="Alleen voor wie ondertekent")["note_id"]
    pem = scalar(gemeente.database_url, "SELECT private_key_pem FROM actor_keys WHERE account_id IS NULL")
    if pem is None:  # the instance key is made on first use
        assert httpx.get(f"{gemeente.url}/actor", headers={"Accept": "application/activity+json"},
                         verify=gemeente.verify()).status_code == 200
        pem = scalar(gemeente.database_url, "SELECT private_key_pem FROM actor_keys WHERE account_id IS NULL")
    accept = {"Accept": transport.ACCEPT}
    with httpx.Client(verify=gemeente.verify(), timeout=30) as client:
        assert client.get(note, headers=accept).status_code == 401
        signed = signatures.sign_request_cavage("GET", note, accept, None, signatures.load_private_key(pem),
                                                f"{gemeente.url}/actor#main-key", datetime.now(timezone.utc))
        fetched = client.get(note, headers={**accept, **signed})
    assert fetched.status_code == 200 and fetched.json()["id"] == note, fetched.text


def raw_create(peer: Peer, actor: str | None = None) -> dict[str, Any]:
    """A reply-less note mentioning alice, as jan would send it (or claiming another `actor`)."""
    actor = actor or peer.actor()
    note_id = f"{peer.actor()}/raw/{uuid.uuid4()}"
    note = {"id": note_id, "type": "Note", "attributedTo": actor, "content": "<p>@alice hallo</p>",
            "to": [PUBLIC], "cc": [ALICE], "tag": [{"type": "Mention", "href": ALICE, "name": f"@alice@{OUR_HOST}"}]}
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity", "type": "Create",
            "actor": actor, "to": [PUBLIC], "cc": [ALICE], "object": note}


def stored(gemeente: Node, activity_id: str) -> int:
    return int(scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items WHERE activity_uri = $1", activity_id))


def test_inbox_refuses_what_it_must(gemeente: Node, burger: Peer, burger2: Peer) -> None:
    inbox = f"https://{OUR_HOST}/inbox"
    before = scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items")
    cases: list[tuple[str, dict[str, Any]]] = [
        (f"{spec} {tamper}", {"spec": spec, "tamper": tamper})
        for spec in (CAVAGE, RFC9421) for tamper in ("body", "digest", "date", "signature")]
    cases += [("unsigned", {"spec": "none"}), ("two hours old", {"date_offset_s": -7200}),
              ("actor on another server", {"actor": burger2.actor()}), ("actor is alice", {"actor": ALICE})]
    for name, options in cases:
        activity = raw_create(burger, options.pop("actor", None))
        sent = burger.call("POST", "/send-raw", inbox=inbox, activity=activity, **options)
        assert sent["status"] == 401, (name, sent["status"], sent["response"])
        assert stored(gemeente, activity["id"]) == 0, name
    assert scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items") == before


def test_replayed_activity_is_processed_once(gemeente: Node, alice: httpx.Client, burger: Peer) -> None:
    activity = raw_create(burger)
    for spec in (CAVAGE, CAVAGE, RFC9421):
        sent = burger.call("POST", "/send-raw", inbox=f"https://{OUR_HOST}/inbox", activity=activity, spec=spec)
        assert sent["status"] == 202, sent
    assert stored(gemeente, activity["id"]) == 1
    eventually(lambda: fetch(gemeente.database_url, "SELECT state FROM inbox_items WHERE activity_uri = $1",
                             activity["id"]), lambda rows: rows[0]["state"] == "done", what="the replayed item")
    assert scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE uri = $1", activity["object"]["id"]) == 1


def test_peer_that_signs_cavage_first(gemeente: Node, alice: httpx.Client, burger2: Peer) -> None:
    assert burger2.call("POST", "/lookup", target=f"@alice@{OUR_HOST}")["ok"]
    assert burger2.call("POST", "/follow", target=f"@alice@{OUR_HOST}")["state"] == "accepted"
    posted = burger2.call("POST", "/post", text="Hallo @alice@gemeente.test", mentions=[f"@alice@{OUR_HOST}"])
    assert posted["ok"], posted
    eventually(lambda: notification_types(alice, "jan@burger2.test"), lambda types: "mention" in types,
               what="the mention from burger2.test")
    knocks = burger2.outgoing_posts(OUR_HOST)
    assert len(knocks) >= 2 and all(k["status"] == 202 and k["signature"]["scheme"] == CAVAGE for k in knocks), knocks

    post = alice.post("/api/v1/statuses", json={"status": "Voor de volgers op burger2", "voice": "official"}).json()
    created = burger2.received(type="Create", object=post["uri"], wait=15)
    assert len(created) == 1, created
    assert_verified(created[0])
