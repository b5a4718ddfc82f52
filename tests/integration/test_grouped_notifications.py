"""Grouped notifications, notification policy and requests, and conversations (issue 14, item 5) through
Mastodon.py against a real node, with a reviewer's decision (our `status` extension) among the groups.
"""

from __future__ import annotations

import httpx
import pytest
from mastodon import Mastodon

from tests import factories
from tests.integration.test_lists_and_filters import app_client
from tests.helpers.nodes import Node


@pytest.fixture(scope="module")
def cast(node: Node) -> dict[str, Mastodon]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede")
    factories.person(node, "rita", org="gemeente-ede", role="reviewer")
    for name in ("bert", "carl", "dora"):
        factories.person(node, name)
    return {name: app_client(node, name) for name in ("anna", "rita", "bert", "carl", "dora")}


def test_grouped_notifications_with_review_decisions(node: Node, cast: dict[str, Mastodon]) -> None:
    anna, bert, carl = cast["anna"], cast["bert"], cast["carl"]
    anna_id = anna.me()["id"]
    post = anna.status_post("Spreekuur vandaag")
    for fan in (bert, carl):
        fan.status_favourite(post["id"])
        fan.account_follow(anna_id)
    bert.status_post("@anna dank je")
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    held = anna._Mastodon__api_request("POST", "/api/v1/statuses", {"status": "Besluit", "voice": "official"},
                                       skip_error_check=True)
    assert node.cli("review", "approve", str(held["policy"]["status_id"]), "--by", "rita").code == 0

    page = anna.grouped_notifications()
    groups = {g["type"] if g["type"] != "favourite" else "favourite": g for g in page["notification_groups"]}
    favourites = groups["favourite"]
    assert favourites["notifications_count"] == 2 and favourites["status_id"] == str(post["id"])
    assert set(favourites["sample_account_ids"]) == {bert.me()["id"], carl.me()["id"]}
    assert groups["follow"]["notifications_count"] == 2 and groups["mention"]["notifications_count"] == 1
    assert groups["status"]["ambtenaar_review"]["decision"] == "approved"  # a reviewer's decision, as in v1
    assert {a["id"] for a in page["accounts"]} >= {bert.me()["id"], carl.me()["id"]}
    assert str(post["id"]) in {s["id"] for s in page["statuses"]}
    # partial_avatars (Mastodon.py asks for it by default): the newest account of a group in full, the rest partial.
    raw = httpx.get(f"{node.url}/api/v2/notifications", headers={"Authorization": f"Bearer {anna.access_token}"},
                    params={"types[]": "favourite", "expand_accounts": "partial_avatars"}).json()
    newest, other = raw["notification_groups"][0]["sample_account_ids"]
    assert [a["id"] for a in raw["accounts"]] == [newest] and "note" in raw["accounts"][0]
    assert [sorted(a) for a in raw["partial_accounts"]] == [sorted(["id", "acct", "url", "avatar", "avatar_static",
                                                                    "locked", "bot"])]
    assert raw["partial_accounts"][0]["id"] == other
    assert {a["id"] for a in anna.grouped_notifications(types=["favourite"], expand_accounts="full")["accounts"]} \
        == {newest, other}
    # Ungrouped when the app groups no favourites; v1 names the same group key.
    ungrouped = anna.grouped_notifications(grouped_types=["follow"])["notification_groups"]
    assert sum(g["type"] == "favourite" for g in ungrouped) == 2
    v1 = [n for n in anna.notifications() if n["type"] == "favourite"]
    assert {n["group_key"] for n in v1} == {favourites["group_key"]}

    one = anna.grouped_notification(favourites["group_key"])
    assert one["notification_groups"][0]["notifications_count"] == 2
    assert len(anna.grouped_notification_accounts(favourites["group_key"])) == 2
    assert anna.unread_grouped_notifications_count() == 4
    anna.dismiss_grouped_notification(favourites["group_key"])
    assert "favourite" not in {g["type"] for g in anna.grouped_notifications()["notification_groups"]}
    assert anna.unread_grouped_notifications_count() == 3


def test_notification_policy_and_requests(cast: dict[str, Mastodon]) -> None:
    bert, dora = cast["bert"], cast["dora"]
    policy = bert.notifications_policy()
    assert policy["for_private_mentions"] == "filter" and policy["for_not_following"] == "accept"
    bert.update_notifications_policy(for_not_following="filter")
    dora.status_post("@bert ken je mij?")
    assert not [n for n in bert.notifications() if n["account"]["username"] == "dora"]
    requests = bert.notification_requests()
    assert [(r["account"]["username"], r["notifications_count"]) for r in requests] == [("dora", "1")]
    assert "ken je mij" in requests[0]["last_status"]["content"]
    assert bert.notifications_policy()["summary"] == {"pending_requests_count": 1, "pending_notifications_count": 1}
    filtered = bert._Mastodon__api_request("GET", "/api/v1/notifications",
                                           {"include_filtered": "true", "account_id": dora.me()["id"]})
    assert [n["type"] for n in filtered] == ["mention"]  # still there, only filtered
    assert bert.notifications_merged() is True
    bert.accept_notification_request(requests[0]["id"])
    assert [n["type"] for n in bert.notifications() if n["account"]["username"] == "dora"] == ["mention"]
    dora.status_post("@bert nog een vraag")  # accepted: comes straight through now
    assert len([n for n in bert.notifications() if n["account"]["username"] == "dora"]) == 2

    bert.update_notifications_policy(for_not_following="drop")
    cast["carl"].status_post("@bert hallo")
    everything = bert._Mastodon__api_request("GET", "/api/v1/notifications", {"include_filtered": "true"})
    assert not [n for n in everything if n["account"]["username"] == "carl"]
    assert bert.notification_requests() == []
    bert.update_notifications_policy(for_not_following="accept")


def test_conversations(cast: dict[str, Mastodon]) -> None:
    anna, carl = cast["anna"], cast["carl"]
    carl.account_follow(anna.me()["id"])
    anna.account_follow(carl.me()["id"])  # so that the private mention is not filtered
    first = anna.status_post("@carl onder ons", visibility="direct")
    reply = carl.status_post("@anna zeker", visibility="direct", in_reply_to_id=first["id"])
    mine = anna.conversations()
    assert len(mine) == 1 and mine[0]["id"] == str(first["id"]) and mine[0]["unread"] is True
    assert mine[0]["last_status"]["id"] == reply["id"] and [a["username"] for a in mine[0]["accounts"]] == ["carl"]
    assert carl.conversations()[0]["unread"] is False  # his own post is the last
    assert anna.conversations_read(mine[0]["id"])["unread"] is False
    assert anna.conversations()[0]["unread"] is False
    anna._Mastodon__api_request("DELETE", f"/api/v1/conversations/{mine[0]['id']}")
    assert anna.conversations() == []
    carl.status_post("@anna nog iets", visibility="direct", in_reply_to_id=reply["id"])
    assert [c["unread"] for c in anna.conversations()] == [True]  # a new post brings it back
    assert cast["bert"].conversations() == []
