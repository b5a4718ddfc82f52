"""Pins across servers (issue 14, item 5): pinning sends an Add of the post to the `featured` collection to the
followers' servers, unpinning a Remove, as Mastodon sends them; the follower's server shows the pins on the
profile (`pinned=true`), fetching a pinned post it did not have yet from its origin."""

from __future__ import annotations

import httpx

from tests.federation.conftest import api, follow_remote
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def test_pins_reach_the_followers_server(gemeente: Node, burger: Node) -> None:
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    older = anna.post("/api/v1/statuses", json={"status": "Van voor de volger"}).json()
    anna_at_burger = follow_remote(bert, f"anna@{gemeente.domain}")
    newer = anna.post("/api/v1/statuses", json={"status": "Alleen voor volgers", "visibility": "private"}).json()
    eventually(lambda: bert.get("/api/v1/timelines/home").json(),
               lambda home: any("Alleen voor volgers" in s["content"] for s in home), what="the private post")

    for post in (older, newer):
        assert anna.post(f"/api/v1/statuses/{post['id']}/pin").json()["pinned"] is True

    def pinned_at_burger() -> list[str]:
        answer = bert.get(f"/api/v1/accounts/{anna_at_burger}/statuses", params={"pinned": "true"})
        assert answer.status_code == 200
        return [s["content"] for s in answer.json()]

    # The older post was never delivered to burger: the Add made it fetch it from gemeente.
    shown = eventually(pinned_at_burger, lambda found: len(found) == 2, what="both pins at burger")
    assert "Alleen voor volgers" in shown[0] and "Van voor de volger" in shown[1]

    # Unsigned, the featured collection holds only what anyone may see; the follower's server saw both.
    featured = httpx.get(f"{gemeente.url}/users/anna/collections/featured",
                         headers={"Accept": "application/activity+json"}).json()
    assert [n["id"] for n in featured["orderedItems"]] == [older["uri"]]

    assert anna.post(f"/api/v1/statuses/{newer['id']}/unpin").json()["pinned"] is False
    eventually(pinned_at_burger, lambda found: len(found) == 1 and "Van voor de volger" in found[0],
               what="the Remove at burger")
