"""The whole conversation loop between two nodes of ours: discover, follow, post, reply, like, boost, edit, delete."""

from __future__ import annotations

import httpx

from tests.federation.conftest import api
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def test_discovery_documents(gemeente: Node) -> None:
    finger = httpx.get(f"{gemeente.url}/.well-known/webfinger", params={"resource": f"acct:anna@{gemeente.domain}"})
    assert finger.status_code == 200 and finger.headers["content-type"].startswith("application/jrd+json")
    self_link = next(link for link in finger.json()["links"] if link["rel"] == "self")
    assert self_link["type"] == "application/activity+json"
    actor = httpx.get(self_link["href"], headers={"Accept": "application/activity+json"}).json()
    assert actor["type"] == "Person" and actor["preferredUsername"] == "anna"
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert actor["endpoints"]["sharedInbox"] == f"{gemeente.url}/inbox"
    browser = httpx.get(self_link["href"], headers={"Accept": "text/html"})
    assert browser.status_code == 302 and browser.headers["location"] == "/@anna"
    assert httpx.get(f"{gemeente.url}/.well-known/webfinger", params={"resource": "acct:nobody@x"}).status_code == 404
    assert httpx.get(f"{gemeente.url}/.well-known/webfinger").status_code == 400
    nodeinfo = httpx.get(httpx.get(f"{gemeente.url}/.well-known/nodeinfo").json()["links"][0]["href"]).json()
    assert nodeinfo["software"]["name"] == "ambtenaar-online" and nodeinfo["openRegistrations"] is False


def test_conversation_loop(gemeente: Node, burger: Node) -> None:
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    found = bert.get("/api/v2/search", params={"q": f"@anna@{gemeente.domain}", "resolve": "true",
                                               "type": "accounts"}).json()["accounts"]
    assert found and found[0]["acct"] == f"anna@{gemeente.domain}"
    remote_anna = found[0]["id"]
    assert bert.post(f"/api/v1/accounts/{remote_anna}/follow").status_code == 200
    eventually(lambda: bert.get("/api/v1/accounts/relationships", params={"id[]": remote_anna}).json()[0],
               lambda r: r["following"], what="the Accept of bert's follow")
    bert_on_gemeente = eventually(lambda: anna.get("/api/v1/notifications").json(),
                                  lambda ns: any(n["type"] == "follow" for n in ns), what="anna's follow notification")
    assert bert_on_gemeente[0]["account"]["acct"] == f"bert@{burger.domain}"

    post = anna.post("/api/v1/statuses", json={"status": "Spreekuur vandaag tot 20:00 #ede", "voice": "official"}
                     ).json()
    home = eventually(lambda: bert.get("/api/v1/timelines/home").json(),
                      lambda tl: any("Spreekuur" in s["content"] for s in tl), what="the post at bert's node")
    copy = next(s for s in home if "Spreekuur" in s["content"])
    assert copy["uri"] == post["uri"] and copy["account"]["acct"] == f"anna@{gemeente.domain}"
    assert copy["visibility"] == "public"

    reply = bert.post("/api/v1/statuses", data={"status": f"@anna@{gemeente.domain} Ook op zaterdag?",
                                                "in_reply_to_id": copy["id"]}).json()
    assert reply["in_reply_to_id"] == copy["id"]
    context = eventually(lambda: anna.get(f"/api/v1/statuses/{post['id']}/context").json(),
                         lambda c: len(c["descendants"]) == 1, what="bert's reply in anna's thread")
    assert "Ook op zaterdag?" in context["descendants"][0]["content"]
    eventually(lambda: anna.get("/api/v1/notifications", params={"types[]": "mention"}).json(), bool,
               what="anna's mention notification")

    bert.post(f"/api/v1/statuses/{copy['id']}/favourite")
    bert.post(f"/api/v1/statuses/{copy['id']}/reblog")
    # Two boosts: bert's, and the organisation's own boost of an official post (issue 5).
    eventually(lambda: anna.get(f"/api/v1/statuses/{post['id']}").json(),
               lambda s: s["favourites_count"] == 1 and s["reblogs_count"] == 2, what="the like and boost counts")
    bert.post(f"/api/v1/statuses/{copy['id']}/unfavourite")
    eventually(lambda: anna.get(f"/api/v1/statuses/{post['id']}").json(),
               lambda s: s["favourites_count"] == 0, what="the undone like")

    anna.put(f"/api/v1/statuses/{post['id']}", json={"status": "Spreekuur vandaag tot 21:00 #ede"})
    eventually(lambda: bert.get(f"/api/v1/statuses/{copy['id']}").json(),
               lambda s: "21:00" in s.get("content", ""), what="the edit at bert's node")
    anna.delete(f"/api/v1/statuses/{post['id']}")
    eventually(lambda: bert.get(f"/api/v1/statuses/{copy['id']}").status_code, lambda code: code == 404,
               what="the delete at bert's node")

    assert bert.post(f"/api/v1/accounts/{remote_anna}/unfollow").status_code == 200
    eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM follows"), lambda n: n == 0,
               what="the unfollow at anna's node")
    before = scalar(gemeente.database_url, "SELECT count(*) FROM deliveries")
    anna.post("/api/v1/statuses", json={"status": "Niet meer voor Bert"})
    eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM outbox_events WHERE processed_at IS NULL"),
               lambda n: n == 0, what="the outbox to be processed")
    assert scalar(gemeente.database_url, "SELECT count(*) FROM deliveries") == before
