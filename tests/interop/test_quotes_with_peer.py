"""Quotes of our posts (FEP-044f, as Mastodon 4.5 asks for them) answered to an independent Fedify peer.

jan on burger.test posts a note that quotes alice's post and asks for consent with a QuoteRequest, signed with his
own key through the harness's send-raw: the peer's own record says an Accept arrived, signed by alice and verified,
whose `result` is a QuoteAuthorization anyone may fetch; a personal post (followers only by default) gets a Reject;
alice revokes the quote and the peer receives the Delete of the authorization, which then answers 404.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.interop.peers import OUR_HOST, Peer, harness_problem

_problem = harness_problem()
if _problem:
    pytest.skip(f"Fedify peer harness not available: {_problem}", allow_module_level=True)

ALICE = f"https://{OUR_HOST}/users/alice"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP = {"Accept": "application/activity+json"}


def quote_request(peer: Peer, note_id: str, quoted_uri: str) -> dict[str, Any]:
    """What Mastodon 4.5 sends: the quoting post embedded as `instrument`, naming our post in `quote`."""
    jan = peer.actor()
    return {"@context": ["https://www.w3.org/ns/activitystreams",
                         {"QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest",
                          "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"}}],
            "id": f"{jan}/quote_requests/{uuid.uuid4()}", "type": "QuoteRequest", "actor": jan,
            "object": quoted_uri,
            "instrument": {"id": note_id, "type": "Note", "attributedTo": jan, "to": [PUBLIC],
                           "content": f"<p>Goed nieuws<br>RE: {quoted_uri}</p>", "quote": quoted_uri}}


def ask(peer: Peer, quoted_uri: str, text: str) -> dict[str, Any]:
    """jan posts a note and asks alice's consent to quote `quoted_uri` in it; the answer as the peer got it."""
    note = peer.call("POST", "/post", text=text)
    assert note["ok"], note
    request = quote_request(peer, note["note_id"], quoted_uri)
    sent = peer.call("POST", "/send-raw", inbox=f"https://{OUR_HOST}/users/alice/inbox", activity=request)
    assert sent["status"] == 202, sent

    def answers_to_it(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [a for a in answers if (a["activity"].get("object") or {}).get("id") == request["id"]]
    answers = eventually(lambda: peer.received(type="Accept,Reject", actor=ALICE),
                         lambda found: bool(answers_to_it(found)), what="alice's answer to the QuoteRequest")
    mine = answers_to_it(answers)
    assert len(mine) == 1, answers
    return {"request": request, "note_id": note["note_id"], "answer": mine[0]}


def test_quote_request_accepted_shown_and_revoked(gemeente: Node, alice: httpx.Client, burger: Peer) -> None:
    posted = alice.post("/api/v1/statuses", json={"status": "De brug is weer open", "voice": "official"}).json()
    assert posted["quote_approval"] == {"automatic": ["public"], "manual": [], "current_user": "automatic"}
    with httpx.Client(verify=gemeente.verify(), timeout=30) as web:
        note = web.get(posted["uri"], headers=AP).json()
        assert note["interactionPolicy"] == {"canQuote": {"automaticApproval": [PUBLIC]}}
        assert note["@context"][-1]["canQuote"] == {"@id": "gts:canQuote", "@type": "@id"}

        asked = ask(burger, posted["uri"], "Goed nieuws")
        record = asked["answer"]
        assert record["type"] == "Accept" and record["verified"] is True, record
        assert record["http_signature"]["verified"] and record["http_signature"]["actor_matches_owner"], record
        accept = record["activity"]
        assert accept["object"]["type"] == "QuoteRequest" and accept["object"]["instrument"] == asked["note_id"]
        authorization_uri = accept["result"]
        assert authorization_uri.startswith(posted["uri"] + "/quotes/"), accept

        stamp = web.get(authorization_uri, headers=AP)
        assert stamp.status_code == 200, stamp.text
        assert {k: v for k, v in stamp.json().items() if k != "@context"} == {
            "id": authorization_uri, "type": "QuoteAuthorization", "attributedTo": ALICE,
            "interactingObject": asked["note_id"], "interactionTarget": posted["uri"]}

        quotes = eventually(lambda: alice.get(f"/api/v1/statuses/{posted['id']}/quotes").json(),
                            lambda found: len(found) == 1, what="the quote in alice's list")
        assert quotes[0]["uri"] == asked["note_id"] and "Goed nieuws" in quotes[0]["content"]
        assert quotes[0]["quote"]["state"] == "accepted"
        assert quotes[0]["quote"]["quoted_status"]["id"] == posted["id"]
        assert alice.get(f"/api/v1/statuses/{posted['id']}").json()["quotes_count"] == 1
        assert "quote" in [n["type"] for n in alice.get("/api/v1/notifications").json()]
        page = web.get(f"https://{OUR_HOST}/@alice/{posted['id']}")
        assert "Goed nieuws" in page.text and "jan@burger.test" in page.text

        revoked = alice.post(f"/api/v1/statuses/{posted['id']}/quotes/{quotes[0]['id']}/revoke")
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["quote"] == {"state": "revoked", "quoted_status": None}
        deleted = burger.received(type="Delete", actor=ALICE, object=authorization_uri, wait=20)
        assert len(deleted) == 1 and deleted[0]["verified"] is True, deleted
        assert web.get(authorization_uri, headers=AP).status_code == 404
        assert alice.get(f"/api/v1/statuses/{posted['id']}/quotes").json() == []
        assert "Goed nieuws" not in web.get(f"https://{OUR_HOST}/@alice/{posted['id']}").text

        # Asking again for the revoked quote is refused: the author decided.
        again = burger.call("POST", "/send-raw", inbox=f"https://{OUR_HOST}/users/alice/inbox",
                            activity=quote_request(burger, asked["note_id"], posted["uri"]))
        assert again["status"] == 202, again
        eventually(lambda: burger.received(type="Reject", actor=ALICE),
                   lambda found: any(r["activity"]["object"]["instrument"] == asked["note_id"] for r in found),
                   what="the Reject of the revoked quote")


def test_personal_post_quoted_by_a_stranger_is_rejected(gemeente: Node, alice: httpx.Client, burger2: Peer) -> None:
    """A personal post: followers only by default, and jan on burger2.test does not follow alice."""
    posted = alice.post("/api/v1/statuses", json={"status": "Mijn eigen mening", "voice": "personal"}).json()
    assert posted["quote_approval"]["automatic"] == ["followers"]
    with httpx.Client(verify=gemeente.verify(), timeout=30) as web:
        note = web.get(posted["uri"], headers=AP).json()
    assert note["interactionPolicy"]["canQuote"]["automaticApproval"] == [f"{ALICE}/followers"]
    asked = ask(burger2, posted["uri"], "Wat een mening")
    assert asked["answer"]["type"] == "Reject" and asked["answer"]["verified"] is True, asked["answer"]
    assert "result" not in asked["answer"]["activity"]
    assert alice.get(f"/api/v1/statuses/{posted['id']}/quotes").json() == []


def test_nobody_may_quote_when_the_author_says_so(alice: httpx.Client, burger: Peer) -> None:
    posted = alice.post("/api/v1/statuses", json={"status": "Niet citeren a.u.b.", "voice": "official",
                                                  "quote_approval_policy": "nobody"}).json()
    assert posted["quote_approval"]["automatic"] == []
    assert ask(burger, posted["uri"], "Toch citeren")["answer"]["type"] == "Reject"
    changed = alice.put(f"/api/v1/statuses/{posted['id']}/interaction_policy", json={"quote_approval_policy": "public"})
    assert changed.status_code == 200 and changed.json()["quote_approval"]["automatic"] == ["public"], changed.text
    assert ask(burger, posted["uri"], "Nu wel")["answer"]["type"] == "Accept"


def test_account_default_and_what_apps_see(gemeente: Node, alice: httpx.Client) -> None:
    """source[quote_policy] (Mastodon 4.5) sets the default of new posts; a followers-only post is never quotable;
    this node cannot publish quotes yet and says so rather than dropping the quote."""
    source = alice.get("/api/v1/accounts/verify_credentials").json()["source"]
    assert source["quote_policy"] == {"official": "public", "personal": "followers"}[source["default_voice"]]
    changed = alice.patch("/api/v1/accounts/update_credentials", data={"source[quote_policy]": "nobody"})
    assert changed.status_code == 200 and changed.json()["source"]["quote_policy"] == "nobody", changed.text
    assert alice.get("/api/v1/preferences").json()["posting:default:quote_policy"] == "nobody"
    posted = alice.post("/api/v1/statuses", json={"status": "Niemand citeert dit", "voice": "official"}).json()
    assert posted["quote_approval"] == {"automatic": [], "manual": [], "current_user": "automatic"}  # the author
    with httpx.Client(verify=gemeente.verify(), timeout=30) as web:
        note = web.get(posted["uri"], headers=AP).json()
    assert note["interactionPolicy"]["canQuote"]["automaticApproval"] == [ALICE]
    followers_only = alice.post("/api/v1/statuses", json={"status": "Voor volgers", "visibility": "private",
                                                          "quote_approval_policy": "public"}).json()
    assert followers_only["quote_approval"]["automatic"] == []
    refused = alice.post("/api/v1/statuses", json={"status": "Citaat", "quoted_status_id": posted["id"]})
    assert refused.status_code == 422, refused.text
    assert alice.patch("/api/v1/accounts/update_credentials",
                       data={"source[quote_policy]": "everyone"}).status_code == 422
    assert alice.patch("/api/v1/accounts/update_credentials",
                       data={"source[quote_policy]": "public"}).json()["source"]["quote_policy"] == "public"
