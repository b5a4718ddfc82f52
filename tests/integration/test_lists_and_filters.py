"""Lists and filters v2 (issue 14, item 5) through Mastodon.py against a real node: a list's members, its timeline,
its `list` stream (only for its owner), an exclusive list leaving home, and filters that warn or hide in home,
notifications and the user stream, keywords as whole words, expiry, and `filters_changed`.
"""

from __future__ import annotations

import json
import queue
import time
from typing import Any

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError
from websockets.sync.client import connect

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.integration.test_streaming_clients import Collected as StreamEvents


class Collected(StreamEvents):
    """test_streaming_clients' listener, also keeping filters_changed and other events, read up to a match."""

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        self.events.put((name, unknown_event))

    def on_filters_changed(self) -> None:  # Mastodon.py's name for the event
        self.events.put(("filters_changed", None))

    def until(self, kind: str, match: Any = lambda data: True, timeout: float = 20.0) -> list[tuple[str, Any]]:
        """Everything received up to and including the first `kind` event that matches."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                name, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append((name, data))
            if name == kind and match(data):
                return seen
        raise AssertionError(f"no matching {kind} within {timeout}s; got {seen!r:.800}")


def app_client(node: Node, name: str) -> Mastodon:
    """Mastodon.py with a person's token (no OAuth dance: that is test_mastodon_client's)."""
    return Mastodon(access_token=token_for(node, name), api_base_url=node.url, ratelimit_method="throw")


@pytest.fixture(scope="module")
def cast(node: Node) -> dict[str, Mastodon]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede")
    for name in ("bert", "carl", "dora"):
        factories.person(node, name)
    people = {name: app_client(node, name) for name in ("anna", "bert", "carl", "dora")}
    for name in ("bert", "carl"):
        people["anna"].account_follow(people[name].me()["id"])
    return people


def _started(handle: Any) -> None:
    eventually(handle.is_receiving, timeout=10, what="the stream to open")


def test_lists_timeline_members_exclusive_and_stream(node: Node, cast: dict[str, Mastodon]) -> None:
    anna, bert, carl, dora = cast["anna"], cast["bert"], cast["carl"], cast["dora"]
    bert_id, dora_id = bert.me()["id"], dora.me()["id"]
    made = anna.list_create("Collega's")
    assert made["replies_policy"] == "list" and made["exclusive"] is False
    anna.list_accounts_add(made["id"], [bert_id])
    with pytest.raises(MastodonAPIError) as refused:  # only accounts one follows, as Mastodon
        anna.list_accounts_add(made["id"], [dora_id])
    assert refused.value.args[1] == 422
    assert [a["id"] for a in anna.list_accounts(made["id"])] == [bert_id]
    assert [entry["id"] for entry in anna.account_lists(bert_id)] == [made["id"]]
    with pytest.raises(MastodonAPIError):  # someone else's list is unknown
        dora.list(made["id"])

    listener = Collected()
    handle = anna.stream_list(made["id"], listener, run_async=True, timeout=30)
    try:
        _started(handle)
        from_carl = carl.status_post("Carl is niet op de lijst")
        from_bert = bert.status_post("Bert is op de lijst")
        received = listener.until("update", lambda s: str(s["id"]) == str(from_bert["id"]))
        assert str(from_carl["id"]) not in [str(data["id"]) for name, data in received if name == "update"]
    finally:
        handle.close()
    assert [s["id"] for s in anna.timeline_list(made["id"])] == [from_bert["id"]]
    assert from_bert["id"] in [s["id"] for s in anna.timeline_home()]

    # Only the owner streams a list: Bert's WebSocket subscription is refused as an unknown list.
    bert_token = bert.access_token
    with connect(f"ws://{node.domain}/api/v1/streaming", additional_headers={
            "Authorization": f"Bearer {bert_token}"}) as socket:
        socket.send(json.dumps({"type": "subscribe", "stream": "list", "list": str(made["id"])}))
        assert json.loads(socket.recv(timeout=20)) == {"error": "Not authorized to stream this list", "status": 401}
    assert httpx.get(f"{node.url}/api/v1/streaming/list?list={made['id']}",
                     headers={"Authorization": f"Bearer {bert_token}"}).status_code == 401

    anna.list_update(made["id"], title="Collega's", exclusive=True)
    assert from_bert["id"] not in [s["id"] for s in anna.timeline_home()]  # exclusive: only in the list now
    assert from_carl["id"] in [s["id"] for s in anna.timeline_home()]
    anna.account_unfollow(bert_id)  # an ended follow takes the account off the list
    assert anna.list_accounts(made["id"]) == []
    anna.list_delete(made["id"])
    assert anna.lists() == []


def test_filters_warn_hide_whole_word_expiry_in_home_notifications_and_stream(cast: dict[str, Mastodon]) -> None:
    anna, carl = cast["anna"], cast["carl"]
    listener = Collected()
    handle = anna.stream_user(listener, run_async=True, timeout=30)
    try:
        _started(handle)
        warn = anna.create_filter_v2("Fietsen", ["home", "notifications"], filter_action="warn",
                                     keywords_attributes=[{"keyword": "fiets", "whole_word": True}])
        listener.until("filters_changed")
        hide = anna.create_filter_v2("Geheim", ["home", "notifications"], filter_action="hide",
                                     keywords_attributes=[{"keyword": "geheim", "whole_word": False}])
        assert warn["filter_action"] == "warn" and warn["keywords"][0]["whole_word"] is True
        assert [f["title"] for f in anna.filters_v2()] == ["Fietsen", "Geheim"]

        hidden = carl.status_post("Het supergeheime plan")
        warned = carl.status_post("Mijn fiets is gestolen")
        not_whole = carl.status_post("Wij gaan fietsen")
        received = listener.until("update", lambda s: str(s["id"]) == str(not_whole["id"]))
        updates = {str(data["id"]): data for name, data in received if name == "update"}
        assert str(hidden["id"]) not in updates  # hide: left out of the stream
        assert updates[str(warned["id"])]["filtered"][0]["filter"]["title"] == "Fietsen"
        assert updates[str(warned["id"])]["filtered"][0]["keyword_matches"] == ["fiets"]
        assert updates[str(not_whole["id"])]["filtered"] == []
    finally:
        handle.close()

    home = {s["id"]: s for s in anna.timeline_home()}
    assert hidden["id"] not in home and home[warned["id"]]["filtered"][0]["filter"]["id"] == warn["id"]
    assert home[not_whole["id"]]["filtered"] == []
    assert hidden["id"] in [s["id"] for s in anna.timeline_public()]  # not a context of these filters
    # One post asked by id reports every active filter it meets and is never hidden, as on Mastodon.
    assert anna.status(hidden["id"])["filtered"][0]["filter"]["title"] == "Geheim"
    assert anna.status(warned["id"])["filtered"][0]["keyword_matches"] == ["fiets"]
    assert anna.status(not_whole["id"])["filtered"] == []

    carl.status_post("@anna geheim overleg")
    carl.status_post("@anna mijn fiets staat bij je")
    notes = [n for n in anna.notifications(types=["mention"]) if n["status"]]
    texts = [n["status"]["content"] for n in notes]
    assert not any("geheim" in t for t in texts)
    assert [n["status"]["filtered"][0]["filter"]["title"] for n in notes if "fiets" in n["status"]["content"]] \
        == ["Fietsen"]

    # Keywords and chosen posts are managed on their own; v1 reads the keywords as filters.
    keyword = anna.add_filter_keyword_v2(warn["id"], "fietsen", whole_word=True)
    assert any(f["phrase"] == "fietsen" for f in anna.filters())
    home = {s["id"]: s for s in anna.timeline_home()}
    assert home[not_whole["id"]]["filtered"][0]["keyword_matches"] == ["fietsen"]
    anna.delete_filter_keyword_v2(keyword["id"])
    chosen = anna.add_filter_status_v2(warn["id"], not_whole["id"])
    home = {s["id"]: s for s in anna.timeline_home()}
    assert home[not_whole["id"]]["filtered"][0]["status_matches"] == [str(not_whole["id"])]
    anna.delete_filter_status_v2(chosen["id"])

    # Expiry: a filter that expires in a second stops applying then.
    anna.delete_filter_v2(hide["id"])
    anna.update_filter_v2(warn["id"], expires_in=1)
    assert anna.filter_v2(warn["id"])["expires_at"] is not None
    eventually(lambda: {s["id"]: s for s in anna.timeline_home()}[warned["id"]]["filtered"], until=lambda f: f == [],
               timeout=10, what="the expired filter to stop applying")
    anna.delete_filter_v2(warn["id"])
    assert anna.filters_v2() == []


def test_filters_v1_writes_as_mastodon_makes_them(cast: dict[str, Mastodon]) -> None:
    """Older apps write v1 filters: each is a v2 filter of one keyword; a filter of several keywords keeps its
    settings (422, nothing changed) but its keywords can be changed and removed one by one."""
    bert = cast["bert"]
    made = bert.filter_create("markt", ["home", "public"], irreversible=True, whole_word=False)
    assert made["phrase"] == "markt" and made["irreversible"] is True and made["whole_word"] is False
    v2 = {f["title"]: f for f in bert.filters_v2()}["markt"]
    assert v2["filter_action"] == "hide" and sorted(v2["context"]) == ["home", "public"]
    assert [k["keyword"] for k in v2["keywords"]] == ["markt"] and v2["keywords"][0]["id"] == made["id"]

    changed = bert.filter_update(made["id"], phrase="weekmarkt", irreversible=False, context=["thread"])
    assert changed["phrase"] == "weekmarkt" and changed["irreversible"] is False and changed["context"] == ["thread"]
    assert bert.filter_v2(v2["id"])["title"] == "weekmarkt"

    bert.add_filter_keyword_v2(v2["id"], "kraam")
    with pytest.raises(MastodonAPIError) as refused:
        bert.filter_update(made["id"], phrase="jaarmarkt", context=["home"])
    assert refused.value.args[1] == 422
    assert bert.filter(made["id"])["phrase"] == "weekmarkt"  # the keyword did not change either
    assert bert.filter_update(made["id"], whole_word=True)["whole_word"] is True  # the keyword alone may

    bert.filter_delete(made["id"])
    assert [k["keyword"] for k in bert.filter_v2(v2["id"])["keywords"]] == ["kraam"]
    assert all(f["id"] != made["id"] for f in bert.filters())
    bert.delete_filter_v2(v2["id"])
