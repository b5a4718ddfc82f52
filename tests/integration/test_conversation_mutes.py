"""Muting a conversation with Mastodon.py (`status_mute`, `status_unmute`) against a real node: no notifications
about the thread any more (replies written later included, likes too), `muted` on its posts for the one who muted
it and nobody else, until it is unmuted; a post one may not see cannot be muted."""

from __future__ import annotations

import pytest
from mastodon import Mastodon, MastodonNotFoundError

from tests import factories
from tests.helpers.nodes import Node
from tests.integration.test_lists_and_filters import app_client


@pytest.fixture(scope="module")
def people(node: Node) -> dict[str, Mastodon]:
    for name in ("anna", "bert", "carl"):
        factories.person(node, name)
    return {name: app_client(node, name) for name in ("anna", "bert", "carl")}


def _about(client: Mastodon, post_ids: set[str]) -> list[str]:
    """The types of the notifications about these posts."""
    return [n["type"] for n in client.notifications() if n.get("status") and str(n["status"]["id"]) in post_ids]


def test_a_muted_conversation_notifies_of_nothing_until_unmuted(people: dict[str, Mastodon]) -> None:
    anna, bert, carl = people["anna"], people["bert"], people["carl"]
    start = anna.status_post("Wie komt er zaterdag helpen in het buurthuis?")
    first = bert.status_post("@anna ik kom!", in_reply_to_id=start["id"])
    assert _about(anna, {str(first["id"])}) == ["mention"]

    muted = anna.status_mute(first["id"])  # any post of the thread mutes all of it
    assert muted["muted"] is True and anna.status(start["id"])["muted"] is True
    assert bert.status(start["id"])["muted"] is False  # only for the one who muted it
    later = carl.status_post("@anna @bert ik ook", in_reply_to_id=first["id"])
    carl.status_favourite(start["id"])
    elsewhere = carl.status_post("@anna ander onderwerp")  # not in the thread: still notifies
    assert _about(anna, {str(elsewhere["id"])}) == ["mention"]
    assert _about(anna, {str(later["id"]), str(start["id"])}) == []
    assert {s["id"]: s["muted"] for s in anna.timeline_home()}[later["id"]] is True
    assert _about(bert, {str(later["id"])}) == ["mention"]  # bert did not mute it

    assert anna.status_unmute(start["id"])["muted"] is False
    last = carl.status_post("@anna tot zaterdag", in_reply_to_id=later["id"])
    assert _about(anna, {str(last["id"])}) == ["mention"]


def test_a_post_one_may_not_see_cannot_be_muted(people: dict[str, Mastodon]) -> None:
    secret = people["bert"].status_post("Alleen voor carl", visibility="direct")
    with pytest.raises(MastodonNotFoundError):
        people["anna"].status_mute(secret["id"])
