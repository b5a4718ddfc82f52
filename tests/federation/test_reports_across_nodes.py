"""Reports between two real nodes: a forwarded report arrives as a Flag from the other server's instance actor and
lands in the moderators' queue; a moderator forwards a report; suspending a remote account purges it here and
ends what we send it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient

MODERATOR_PASSWORD = "moderator-wachtwoord"


@pytest.fixture(scope="module")
def mona(gemeente: Node) -> WebClient:
    """A moderator on gemeente, signed in to the web pages."""
    assert gemeente.cli("admin", "create", "--username", "mona", "--moderator", "--password-stdin",
                        stdin=MODERATOR_PASSWORD + "\n").code == 0
    web = WebClient(gemeente.url, language="en")
    assert web.login("mona", MODERATOR_PASSWORD).status_code == 303
    return web


def remote_id(client: httpx.Client, handle: str) -> str:
    found = client.get("/api/v2/search", params={"q": handle, "resolve": "true", "type": "accounts"}).json()
    assert found["accounts"], f"{handle} was not found"
    return str(found["accounts"][0]["id"])


def follow(follower: httpx.Client, handle: str) -> str:
    """Follow a remote account and wait for its server's Accept; returns its id on the follower's node."""
    target = remote_id(follower, handle)
    assert follower.post(f"/api/v1/accounts/{target}/follow").status_code == 200
    eventually(lambda: follower.get("/api/v1/accounts/relationships", params={"id[]": target}).json()[0],
               lambda r: r["following"], what=f"the Accept of the follow of {handle}")
    return target


def arrived(reader: httpx.Client, text: str) -> dict[str, Any]:
    home = eventually(lambda: reader.get("/api/v1/timelines/home").json(),
                      lambda tl: any(text in s["content"] for s in tl), what=f"the post {text!r}")
    return next(s for s in home if text in s["content"])


def local_id(node: Node, username: str) -> int:
    return int(scalar(node.database_url, "SELECT id FROM accounts WHERE username = $1 AND domain IS NULL", username))


def test_a_citizen_reports_an_official_post_and_its_server_gets_the_report(gemeente: Node, burger: Node,
                                                                          mona: WebClient) -> None:
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    follow(bert, f"@anna@{gemeente.domain}")
    post = anna.post("/api/v1/statuses", json={"status": "Afvalkalender 2027 staat online", "voice": "official"}
                     ).json()
    copy = arrived(bert, "Afvalkalender 2027")
    response = bert.post("/api/v1/reports", data={"account_id": copy["account"]["id"], "status_ids[]": [copy["id"]],
                                                  "category": "spam", "comment": "Dit is geen echte gemeente",
                                                  "forward": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["forwarded"] is True

    received = eventually(lambda: fetch(gemeente.database_url, "SELECT id, reporter_domain, reporter_actor_uri, "
                                        "reporter_account_id, target_account_id, comment, flag_uri FROM reports"),
                          bool, what="the Flag as a report on gemeente")
    assert len(received) == 1
    report = received[0]
    assert report["reporter_domain"] == burger.domain and report["reporter_account_id"] is None
    assert report["reporter_actor_uri"] == f"{burger.url}/actor"  # the instance actor: bert stays anonymous
    assert report["target_account_id"] == local_id(gemeente, "anna")
    assert report["comment"] == "Dit is geen echte gemeente" and report["flag_uri"].startswith(f"{burger.url}/actor#")
    attached = fetch(gemeente.database_url, "SELECT post_id FROM report_posts WHERE report_id = $1", report["id"])
    assert attached == [{"post_id": int(post["id"])}]
    queue = mona.get("/admin/reports")
    assert f'href="/admin/reports/{report["id"]}"' in queue.text and burger.domain in queue.text
    page = mona.get(f"/admin/reports/{report['id']}")
    assert "Afvalkalender 2027" in page.text and "bert" not in page.text.lower().split("<main")[1]
    # A report that came from another server is not sent back there.
    assert mona.post(f"/admin/reports/{report['id']}/forward", {"text": "terug"}).status_code == 422


def test_a_moderator_forwards_a_report_about_a_remote_account(gemeente: Node, burger: Node,
                                                              mona: WebClient) -> None:
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    bert_there = follow(anna, f"@bert@{burger.domain}")
    bert_post = bert.post("/api/v1/statuses", data={"status": "Koop nu goedkope horloges"}).json()
    copy = arrived(anna, "goedkope horloges")
    filed = anna.post("/api/v1/reports", data={"account_id": bert_there, "status_ids[]": [copy["id"]],
                                               "comment": "Interne opmerking van Anna", "category": "spam"})
    assert filed.status_code == 200 and filed.json()["forwarded"] is False
    report_id = int(filed.json()["id"])
    sent = mona.post(f"/admin/reports/{report_id}/forward", {"text": "Spam van een van uw gebruikers"})
    assert sent.status_code == 303
    assert mona.post(f"/admin/reports/{report_id}/forward", {"text": "nog eens"}).status_code == 409

    received = eventually(lambda: fetch(burger.database_url, "SELECT id, reporter_domain, target_account_id, comment "
                                        "FROM reports WHERE reporter_domain IS NOT NULL"),
                          bool, what="the forwarded report on burger")
    assert received[0]["reporter_domain"] == gemeente.domain
    assert received[0]["target_account_id"] == local_id(burger, "bert")
    # The moderator's words travel; Anna's own comment does not, as she did not ask for it to be sent.
    assert received[0]["comment"] == "Spam van een van uw gebruikers"
    attached = fetch(burger.database_url, "SELECT post_id FROM report_posts WHERE report_id = $1", received[0]["id"])
    assert attached == [{"post_id": int(bert_post["id"])}]
    flag = fetch(gemeente.database_url, "SELECT a.signer_id, convert_from(a.body, 'UTF8')::jsonb AS body, d.state "
                 "FROM outbound_activities a JOIN deliveries d ON d.activity_id = a.id "
                 "WHERE convert_from(a.body, 'UTF8')::jsonb->>'type' = 'Flag'")
    assert len(flag) == 1 and flag[0]["signer_id"] is None  # signed with the instance actor's key
    body = json.loads(flag[0]["body"]) if isinstance(flag[0]["body"], str) else flag[0]["body"]
    assert body["actor"] == f"{gemeente.url}/actor" and body["object"][0].endswith("/users/bert")
    assert scalar(gemeente.database_url, "SELECT count(*) FROM audit_log WHERE action = 'report.forwarded' "
                  "AND subject_id = $1", str(report_id)) == 1


def test_suspending_a_remote_account_purges_it_and_ends_what_we_send_it(gemeente: Node, burger: Node,
                                                                       mona: WebClient) -> None:
    factories.person(burger, "bas", display_name="Bas")
    anna, bas = api(gemeente, "anna"), api(burger, "bas")
    follow(bas, f"@anna@{gemeente.domain}")
    bas_there = remote_id(anna, f"@bas@{burger.domain}")
    bas_post = bas.post("/api/v1/statuses", data={"status": f"@anna@{gemeente.domain} Ik blijf maar posten"}
                        ).json()
    eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE uri = $1", bas_post["uri"]),
               lambda n: n == 1, what="bas's post on gemeente")

    assert mona.post(f"/admin/accounts/{bas_there}/suspend", {"text": "Herhaalde intimidatie"}).status_code == 303
    assert scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE account_id = $1", int(bas_there)) == 0
    assert scalar(gemeente.database_url, "SELECT count(*) FROM follows WHERE follower_id = $1 OR followed_id = $1",
                  int(bas_there)) == 0
    entry = fetch(gemeente.database_url, "SELECT detail FROM audit_log WHERE action = 'account.suspended' "
                  "AND subject_id = $1", bas_there)
    assert entry
    # Its server hears Reject for its follow of anna (as from Mastodon), so it stops expecting her posts.
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM follows WHERE follower_id = $1",
                              local_id(burger, "bas")), lambda n: n == 0, what="the Reject of bas's follow on burger")

    # Nothing more is delivered to it: a post that mentions only bas goes nowhere.
    direct = anna.post("/api/v1/statuses", json={"status": f"@bas@{burger.domain} Uw account is opgeschort",
                                                 "visibility": "direct"}).json()
    eventually(lambda: scalar(gemeente.database_url, "SELECT processed_at FROM outbox_events WHERE kind = "
                              "'post.created' AND subject_id = $1", int(direct["id"])),
               lambda at: at is not None, what="the outbox event of the direct post")
    assert scalar(gemeente.database_url, "SELECT count(*) FROM outbound_activities WHERE activity_uri LIKE $1",
                  direct["uri"] + "%") == 0

    # And what it still sends is dropped by our inbox: answered, not stored.
    again = bas.post("/api/v1/statuses", data={"status": f"@anna@{gemeente.domain} Hallo? Hoort u mij?"}).json()
    eventually(lambda: fetch(burger.database_url, "SELECT d.state FROM deliveries d JOIN outbound_activities a "
                             "ON a.id = d.activity_id WHERE a.activity_uri LIKE $1", again["uri"] + "%"),
               lambda rows: bool(rows) and all(r["state"] == "sent" for r in rows), what="burger's delivery")
    assert scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE uri = $1", again["uri"]) == 0
    assert scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items WHERE activity_uri LIKE $1",
                  again["uri"] + "%") == 0


def test_suspending_a_local_account_tells_its_followers_servers(gemeente: Node, burger: Node,
                                                                mona: WebClient) -> None:
    factories.person(gemeente, "olaf", org="gemeente-ede", display_name="Olaf")
    bert = api(burger, "bert")
    olaf_there = follow(bert, f"@olaf@{gemeente.domain}")
    assert api(gemeente, "olaf").post("/api/v1/statuses", json={"status": "Olaf meldt zich"}).status_code == 200
    arrived(bert, "Olaf meldt zich")
    olaf_id = local_id(gemeente, "olaf")
    assert mona.post(f"/admin/accounts/{olaf_id}/suspend", {"text": ""}).status_code == 303
    # As Mastodon does: an Update of the actor, now marked suspended and without its profile, to the followers.
    update = eventually(lambda: fetch(gemeente.database_url, "SELECT convert_from(a.body, 'UTF8') AS body, d.state "
                                      "FROM outbound_activities a JOIN deliveries d ON d.activity_id = a.id "
                                      "WHERE a.signer_id = $1 AND d.state = 'sent' "
                                      "AND convert_from(a.body, 'UTF8')::jsonb->>'type' = 'Update'", olaf_id),
                        bool, what="the Update of olaf's actor delivered to burger")
    body = json.loads(update[0]["body"])
    assert body["type"] == "Update" and body["object"]["suspended"] is True and body["object"]["summary"] == ""
    actor = httpx.get(f"{gemeente.url}/users/olaf", headers={"Accept": "application/activity+json"})
    assert actor.status_code == 200 and actor.json()["suspended"] is True
    assert httpx.get(f"{gemeente.url}/@olaf").status_code == 410

    # A node of ours on the other side honours it: olaf and his posts are gone there too, marked as his own
    # server's decision, which that server can lift again.
    eventually(lambda: bert.get(f"/api/v1/accounts/{olaf_there}").status_code, lambda code: code == 404,
               what="olaf suspended at burger")
    assert scalar(burger.database_url, "SELECT suspended_by_origin FROM accounts WHERE id = $1", int(olaf_there))
    assert not any("Olaf meldt zich" in s["content"] for s in bert.get("/api/v1/timelines/home").json())
    assert mona.post(f"/admin/accounts/{olaf_id}/unsuspend", {"text": ""}).status_code == 303
    eventually(lambda: bert.get(f"/api/v1/accounts/{olaf_there}").status_code, lambda code: code == 200,
               what="olaf's suspension lifted at burger")
    arrived(bert, "Olaf meldt zich")
    assert scalar(burger.database_url, "SELECT suspended_at IS NULL AND NOT suspended_by_origin FROM accounts "
                  "WHERE id = $1", int(olaf_there))


def test_a_limit_from_a_domain_policy_is_lifted_with_the_policy_not_per_account(gemeente: Node, burger: Node,
                                                                              mona: WebClient) -> None:
    bert_there = int(remote_id(api(gemeente, "anna"), f"@bert@{burger.domain}"))
    assert gemeente.cli("domain", "block", burger.domain, "--severity", "silence").code == 0
    try:
        assert scalar(gemeente.database_url, "SELECT silenced_at FROM accounts WHERE id = $1", bert_there) is not None
        refused = mona.post(f"/admin/accounts/{bert_there}/unsilence", {"text": ""})
        assert refused.status_code == 409 and burger.domain in refused.text
        assert scalar(gemeente.database_url, "SELECT silenced_at FROM accounts WHERE id = $1", bert_there) is not None
    finally:
        assert gemeente.cli("domain", "unblock", burger.domain).code == 0
    assert scalar(gemeente.database_url, "SELECT silenced_at FROM accounts WHERE id = $1", bert_there) is None
