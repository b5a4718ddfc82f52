"""Domain policies between two real nodes: gemeente suspends, silences or rejects the media of burger's server,
or federates only with an allowlist; burger's server keeps sending as it would, and gets 202 for it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from PIL import Image

from federation import signatures
from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def cli_ok(node: Node, *args: str) -> str:
    result = node.cli(*args)
    assert result.code == 0, result.err
    return result.out


def remote_id(client: httpx.Client, handle: str) -> str:
    found = client.get("/api/v2/search", params={"q": handle, "resolve": "true", "type": "accounts"}).json()
    assert found["accounts"], f"{handle} not found"
    return str(found["accounts"][0]["id"])


def of_domain(node: Node, sql: str, domain: str) -> int:
    """A count over rows belonging to the accounts of `domain` on `node` ({accounts} is their id list)."""
    return int(scalar(node.database_url, sql.format(accounts="(SELECT id FROM accounts WHERE domain = $1)"), domain))


def last_delivery_id(node: Node) -> int:
    return int(scalar(node.database_url, "SELECT coalesce(max(id), 0) FROM deliveries"))


def deliveries_answered_202(sender: Node, receiver: Node, after: int, at_least: int) -> None:
    """Every delivery the sender made to the receiver since `after` was sent and answered 202."""
    def probe() -> list[dict[str, object]]:
        return fetch(sender.database_url, "SELECT state, last_status FROM deliveries WHERE id > $1 AND domain = $2",
                     after, receiver.domain)
    rows = eventually(probe, lambda rs: len(rs) >= at_least and all(r["state"] != "pending" for r in rs),
                      what=f"{at_least} deliveries to {receiver.domain} answered")
    assert all(r == {"state": "sent", "last_status": 202} for r in rows), rows


def outbox_done(node: Node) -> None:
    eventually(lambda: scalar(node.database_url, "SELECT count(*) FROM outbox_events WHERE processed_at IS NULL"),
               lambda n: n == 0, what="the outbox processed")


@pytest.fixture
def anna(gemeente: Node) -> Iterator[httpx.Client]:
    client = api(gemeente, "anna")
    yield client
    client.close()


@pytest.fixture
def bert(burger: Node) -> Iterator[httpx.Client]:
    client = api(burger, "bert")
    yield client
    client.close()


@pytest.fixture(autouse=True)
def no_policy_left(gemeente: Node) -> Iterator[None]:
    """Each test starts and ends with no policy and blocklist mode, even when it fails half-way."""
    yield
    for row in fetch(gemeente.database_url, "SELECT domain FROM domain_policies"):
        gemeente.cli("domain", "unblock", row["domain"])
    for row in fetch(gemeente.database_url, "SELECT domain FROM domain_allows"):
        gemeente.cli("domain", "disallow", row["domain"])
    gemeente.cli("domain", "mode", "blocklist")


def follow(client: httpx.Client, account_id: str) -> None:
    client.post(f"/api/v1/accounts/{account_id}/unfollow")
    assert client.post(f"/api/v1/accounts/{account_id}/follow").status_code == 200


def test_suspend_drops_everything_removes_cached_content_and_is_lifted(
        gemeente: Node, burger: Node, anna: httpx.Client, bert: httpx.Client) -> None:
    remote_anna = remote_id(bert, f"@anna@{gemeente.domain}")
    remote_bert = remote_id(anna, f"@bert@{burger.domain}")
    follow(bert, remote_anna)
    follow(anna, remote_bert)
    eventually(lambda: of_domain(gemeente, "SELECT count(*) FROM follows WHERE state = 'accepted' AND "
                                 "(follower_id IN {accounts} OR followed_id IN {accounts})", burger.domain),
               lambda n: n == 2, what="follows both ways")
    post = anna.post("/api/v1/statuses", json={"status": "Raadsvergadering vanavond"}).json()
    copy = eventually(lambda: bert.get("/api/v1/timelines/home").json(),
                      lambda tl: any(s["uri"] == post["uri"] for s in tl), what="anna's post at burger")
    copy_id = next(s["id"] for s in copy if s["uri"] == post["uri"])
    bert.post(f"/api/v1/statuses/{copy_id}/favourite")
    bert.post("/api/v1/statuses", json={"status": "Dag allemaal, een bericht voor mijn volgers"})
    eventually(lambda: (of_domain(gemeente, "SELECT count(*) FROM posts WHERE account_id IN {accounts}",
                                  burger.domain),
                        of_domain(gemeente, "SELECT count(*) FROM favourites WHERE account_id IN {accounts}",
                                  burger.domain)),
               lambda counts: counts[0] >= 1 and counts[1] == 1, what="bert's post and like cached at gemeente")

    out = cli_ok(gemeente, "domain", "block", burger.domain, "--severity", "suspend", "--reason", "test")
    assert "removed" in out
    for sql in ("SELECT count(*) FROM posts WHERE account_id IN {accounts}",
                "SELECT count(*) FROM follows WHERE follower_id IN {accounts} OR followed_id IN {accounts}",
                "SELECT count(*) FROM favourites WHERE account_id IN {accounts}",
                "SELECT count(*) FROM notifications WHERE from_account_id IN {accounts}",
                "SELECT count(*) FROM accounts WHERE id IN {accounts} AND (suspended_at IS NULL OR display_name <> '')"):
        assert of_domain(gemeente, sql, burger.domain) == 0, sql
    assert anna.get(f"/api/v1/statuses/{post['id']}").json()["favourites_count"] == 0

    # burger's server goes on as before: a post for anna, an unfollow and a follow, an unlike and a like.
    inbox_items = scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items")
    marker = last_delivery_id(burger)
    bert.post("/api/v1/statuses", json={"status": f"@anna@{gemeente.domain} Hoort u mij?"})
    follow(bert, remote_anna)
    bert.post(f"/api/v1/statuses/{copy_id}/unfavourite")
    bert.post(f"/api/v1/statuses/{copy_id}/favourite")
    deliveries_answered_202(burger, gemeente, marker, at_least=5)
    assert scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items") == inbox_items
    for sql in ("SELECT count(*) FROM posts WHERE account_id IN {accounts}",
                "SELECT count(*) FROM follows WHERE follower_id IN {accounts}",
                "SELECT count(*) FROM favourites WHERE account_id IN {accounts}"):
        assert of_domain(gemeente, sql, burger.domain) == 0, sql

    # Nothing goes to burger's server, not even to someone anna mentions there.
    sent_to_burger = scalar(gemeente.database_url, "SELECT count(*) FROM deliveries WHERE domain = $1", burger.domain)
    anna.post("/api/v1/statuses", json={"status": f"@bert@{burger.domain} Bent u er nog?"})
    outbox_done(gemeente)
    assert scalar(gemeente.database_url, "SELECT count(*) FROM deliveries WHERE domain = $1",
                  burger.domain) == sent_to_burger

    # Nor does gemeente look anyone up there.
    factories.person(burger, "carla")
    found = anna.get("/api/v2/search", params={"q": f"@carla@{burger.domain}", "resolve": "true",
                                               "type": "accounts"})
    assert found.json()["accounts"] == []
    assert scalar(gemeente.database_url, "SELECT count(*) FROM accounts WHERE username = 'carla'") == 0

    # Lifting the suspension lifts the accounts' limits and federation works again; the purged content stays gone.
    suspended = of_domain(gemeente, "SELECT count(*) FROM accounts WHERE id IN {accounts}", burger.domain)
    assert f"limits lifted on {suspended} known accounts" in cli_ok(gemeente, "domain", "unblock", burger.domain)
    assert of_domain(gemeente, "SELECT count(*) FROM accounts WHERE id IN {accounts} AND suspended_at IS NOT NULL",
                     burger.domain) == 0
    follow(bert, remote_anna)
    eventually(lambda: of_domain(gemeente, "SELECT count(*) FROM follows WHERE follower_id IN {accounts}",
                                 burger.domain), lambda n: n == 1, what="bert's new follow at gemeente")
    assert remote_id(anna, f"@carla@{burger.domain}")
    assert of_domain(gemeente, "SELECT count(*) FROM posts WHERE account_id IN {accounts} AND content_html LIKE "
                     "'%mijn volgers%'", burger.domain) == 0


def test_silence_shows_posts_to_followers_only_and_limits_new_accounts(
        gemeente: Node, burger: Node, anna: httpx.Client, bert: httpx.Client) -> None:
    factories.person(gemeente, "carel")
    carel = api(gemeente, "carel")
    remote_bert = remote_id(anna, f"@bert@{burger.domain}")
    follow(anna, remote_bert)
    eventually(lambda: anna.get("/api/v1/accounts/relationships", params={"id[]": remote_bert}).json()[0],
               lambda r: r["following"], what="anna follows bert")

    cli_ok(gemeente, "domain", "block", burger.domain, "--severity", "silence")
    assert of_domain(gemeente, "SELECT count(*) FROM accounts WHERE id IN {accounts} AND silenced_at IS NULL",
                     burger.domain) == 0
    bert.post("/api/v1/statuses", json={"status": "Stil maar zichtbaar voor volgers"})
    home = eventually(lambda: anna.get("/api/v1/timelines/home").json(),
                      lambda tl: any("Stil maar" in s["content"] for s in tl), what="bert's post at anna's home")
    status_id = next(s["id"] for s in home if "Stil maar" in s["content"])
    assert anna.get(f"/api/v1/statuses/{status_id}").status_code == 200
    assert carel.get(f"/api/v1/statuses/{status_id}").status_code == 404
    public = httpx.get(f"{gemeente.url}/api/v1/timelines/public").json()
    assert not any(s["id"] == status_id for s in public)

    # An account of the silenced domain seen for the first time gets the limit when it is stored.
    factories.person(burger, "dora")
    dora = api(burger, "dora")
    dora.post("/api/v1/statuses", json={"status": f"@anna@{gemeente.domain} Ik ben nieuw"})
    limited = eventually(lambda: fetch(gemeente.database_url, "SELECT a.silenced_at = p.limited_at AS same "
                                       "FROM accounts a, domain_policies p WHERE a.username = 'dora' "
                                       "AND a.domain = $1 AND p.domain = $1", burger.domain),
                         bool, what="dora stored at gemeente")
    assert limited == [{"same": True}]

    cli_ok(gemeente, "domain", "unblock", burger.domain)
    assert of_domain(gemeente, "SELECT count(*) FROM accounts WHERE id IN {accounts} AND silenced_at IS NOT NULL",
                     burger.domain) == 0
    assert carel.get(f"/api/v1/statuses/{status_id}").status_code == 200
    carel.close()
    dora.close()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _post_image(bert: httpx.Client, gemeente: Node, text: str) -> None:
    uploaded = bert.post("/api/v2/media", files={"file": ("rood.png", _png(), "image/png")},
                         data={"description": "Rood vlak"})
    assert uploaded.status_code == 200, uploaded.text
    assert bert.post("/api/v1/statuses", json={"status": f"@anna@{gemeente.domain} {text}",
                                               "media_ids": [uploaded.json()["id"]]}).status_code == 200


def test_reject_media_keeps_no_images_or_avatars(gemeente: Node, burger: Node, anna: httpx.Client,
                                                 bert: httpx.Client) -> None:
    attachments = "SELECT count(*) FROM media_attachments WHERE account_id IN {accounts}"
    _post_image(bert, gemeente, "Een foto")
    eventually(lambda: of_domain(gemeente, attachments, burger.domain), lambda n: n >= 1,
               what="bert's image known at gemeente")
    assert of_domain(gemeente, "SELECT count(*) FROM accounts WHERE id IN {accounts} AND avatar_url IS NOT NULL",
                     burger.domain) >= 1

    cli_ok(gemeente, "domain", "block", burger.domain, "--severity", "reject-media")
    assert of_domain(gemeente, attachments, burger.domain) == 0
    assert of_domain(gemeente, "SELECT count(*) FROM accounts WHERE id IN {accounts} AND avatar_url IS NOT NULL",
                     burger.domain) == 0
    # The account is neither silenced nor suspended: its posts arrive, without their images.
    assert of_domain(gemeente, "SELECT count(*) FROM accounts WHERE id IN {accounts} AND (silenced_at IS NOT NULL "
                     "OR suspended_at IS NOT NULL)", burger.domain) == 0
    _post_image(bert, gemeente, "Nog een foto")
    mentions = eventually(lambda: anna.get("/api/v1/notifications", params={"types[]": "mention"}).json(),
                          lambda ns: any("Nog een foto" in n["status"]["content"] for n in ns),
                          what="bert's second post at gemeente")
    status = next(n["status"] for n in mentions if "Nog een foto" in n["status"]["content"])
    assert status["media_attachments"] == []
    assert status["account"]["avatar"] == f"{gemeente.url}/static/avatar.png"
    assert of_domain(gemeente, attachments, burger.domain) == 0


def test_allowlist_mode_federates_only_with_listed_domains(gemeente: Node, burger: Node, anna: httpx.Client,
                                                           bert: httpx.Client) -> None:
    remote_bert = remote_id(anna, f"@bert@{burger.domain}")
    cli_ok(gemeente, "domain", "mode", "allowlist")
    marker = last_delivery_id(burger)
    bert.post("/api/v1/statuses", json={"status": f"@anna@{gemeente.domain} Niet op de lijst"})
    deliveries_answered_202(burger, gemeente, marker, at_least=1)
    assert scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE content_html LIKE '%Niet op de lijst%'") \
        == 0
    factories.person(burger, "erik")
    assert anna.get("/api/v2/search", params={"q": f"@erik@{burger.domain}", "resolve": "true",
                                              "type": "accounts"}).json()["accounts"] == []
    sent_to_burger = scalar(gemeente.database_url, "SELECT count(*) FROM deliveries WHERE domain = $1", burger.domain)
    follow(anna, remote_bert)
    outbox_done(gemeente)
    assert scalar(gemeente.database_url, "SELECT count(*) FROM deliveries WHERE domain = $1",
                  burger.domain) == sent_to_burger

    cli_ok(gemeente, "domain", "allow", burger.domain)
    bert.post("/api/v1/statuses", json={"status": f"@anna@{gemeente.domain} Wel op de lijst"})
    eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE content_html LIKE "
                              "'%Wel op de lijst%'"), lambda n: n == 1, what="the post of a listed domain")
    assert remote_id(anna, f"@erik@{burger.domain}")


def test_reports_from_a_server_whose_reports_are_rejected_are_ignored(gemeente: Node, burger: Node,
                                                                      bert: httpx.Client) -> None:
    anna_there = remote_id(bert, f"@anna@{gemeente.domain}")
    reports = "SELECT count(*) FROM reports WHERE reporter_domain = $1"

    def report(comment: str) -> None:
        response = bert.post("/api/v1/reports", data={"account_id": anna_there, "category": "other",
                                                      "comment": comment, "forward": "true"})
        assert response.status_code == 200 and response.json()["forwarded"] is True, response.text

    cli_ok(gemeente, "domain", "block", burger.domain, "--severity", "reject-media", "--reject-reports")
    before = scalar(gemeente.database_url, reports, burger.domain)
    marker = last_delivery_id(burger)
    report("Genegeerd")
    deliveries_answered_202(burger, gemeente, marker, at_least=1)
    outbox_done(gemeente)
    eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items WHERE state = 'pending'"),
               lambda n: n == 0, what="gemeente's inbox handled")
    assert scalar(gemeente.database_url, reports, burger.domain) == before

    cli_ok(gemeente, "domain", "unblock", burger.domain)
    report("Wel gezien")
    eventually(lambda: scalar(gemeente.database_url, reports, burger.domain), lambda n: n == before + 1,
               what="the report once reports are accepted again")


def test_a_blocked_server_cannot_make_us_fetch_its_key(gemeente: Node, burger: Node) -> None:
    factories.person(burger, "frits")
    assert httpx.get(f"{burger.url}/users/frits", headers={"Accept": "application/activity+json"}).status_code == 200
    key = signatures.load_private_key(scalar(
        burger.database_url, "SELECT k.private_key_pem FROM actor_keys k JOIN accounts a ON a.id = k.account_id "
        "WHERE a.username = 'frits'"))
    frits = f"{burger.url}/users/frits"
    activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{frits}#follows/1", "type": "Follow",
                "actor": frits, "object": f"{gemeente.url}/users/anna"}
    body = json.dumps(activity).encode()

    def deliver() -> httpx.Response:
        headers = {"Content-Type": "application/activity+json"}
        headers.update(signatures.sign_request_cavage("POST", f"{gemeente.url}/inbox", headers, body, key,
                                                      f"{frits}#main-key", datetime.now(UTC)))
        return httpx.post(f"{gemeente.url}/inbox", content=body, headers=headers)

    cli_ok(gemeente, "domain", "block", burger.domain, "--severity", "suspend")
    # Answered as if accepted, and the unknown key was not fetched: frits stays unknown here.
    assert deliver().status_code == 202
    assert scalar(gemeente.database_url, "SELECT count(*) FROM accounts WHERE actor_uri = $1", frits) == 0
    cli_ok(gemeente, "domain", "unblock", burger.domain)
    assert deliver().status_code == 202
    assert scalar(gemeente.database_url, "SELECT count(*) FROM accounts WHERE actor_uri = $1", frits) == 1


def test_a_suspension_keeps_an_archive_copy_of_received_records_unless_destruction_is_required(
        gemeente: Node, burger: Node, anna: httpx.Client, bert: httpx.Client) -> None:
    """Issue 16: a citizen's reply to an official post is the organisation's record. Suspending the citizen's server
    takes it off every page but keeps it for the archive; with --destroy-records (the law requires destruction)
    nothing is kept."""
    remote_anna = remote_id(bert, f"@anna@{gemeente.domain}")
    replies = "SELECT count(*) FROM posts WHERE account_id IN {accounts} AND in_reply_to_id IS NOT NULL"

    def bert_follows_anna() -> None:
        accepted = "SELECT count(*) FROM follows WHERE state = 'accepted' AND follower_id IN {accounts}"
        if of_domain(gemeente, accepted, burger.domain) == 1:
            return  # still following from the test before (an unfollow and follow here would race with the post)
        follow(bert, remote_anna)  # burger may still think it follows (gemeente's purge ended it): unfollow first
        eventually(lambda: of_domain(gemeente, "SELECT count(*) FROM follows WHERE state = 'accepted' AND "
                                     "follower_id IN {accounts}", burger.domain), lambda n: n == 1,
                   what="bert's follow accepted at gemeente")

    def reply_to_a_new_official_post(text: str) -> None:
        post = anna.post("/api/v1/statuses", json={"status": f"Officieel: {text}", "voice": "official"}).json()
        copy = eventually(lambda: bert.get("/api/v1/timelines/home").json(),
                          lambda tl: any(s["uri"] == post["uri"] for s in tl), what="anna's post at burger")
        parent = next(s["id"] for s in copy if s["uri"] == post["uri"])
        bert.post("/api/v1/statuses", json={"status": f"@anna@{gemeente.domain} Vraag over {text}",
                                            "in_reply_to_id": parent})

    bert_follows_anna()
    before = of_domain(gemeente, replies, burger.domain)
    reply_to_a_new_official_post("de markt")
    eventually(lambda: of_domain(gemeente, replies, burger.domain), lambda n: n == before + 1,
               what="bert's reply at gemeente")
    cli_ok(gemeente, "domain", "block", burger.domain, "--severity", "suspend")
    kept = of_domain(gemeente, replies + " AND deleted_at IS NOT NULL", burger.domain)
    assert kept >= 1 and of_domain(gemeente, replies + " AND deleted_at IS NULL", burger.domain) == 0
    cli_ok(gemeente, "domain", "unblock", burger.domain)

    bert_follows_anna()
    reply_to_a_new_official_post("het zwembad")
    eventually(lambda: of_domain(gemeente, replies + " AND deleted_at IS NULL", burger.domain), lambda n: n == 1,
               what="bert's second reply at gemeente")
    cli_ok(gemeente, "domain", "block", burger.domain, "--severity", "suspend", "--destroy-records")
    assert of_domain(gemeente, replies, burger.domain) == 0
    [entry] = fetch(gemeente.database_url, "SELECT detail FROM audit_log WHERE action = 'domain.blocked' "
                    "ORDER BY id DESC LIMIT 1")
    assert '"records_destroyed": true' in entry["detail"]
