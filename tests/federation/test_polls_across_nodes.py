"""Polls between two nodes of ours over real HTTP (issue 14, item 3): each votes in the other's poll; a vote is a
Note with a name sent to the poll's author, counted there and never shown as a reply; the author's node sends an
Update of the Question with the new counts; the end reaches the voter's node and notifies the voter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import factories
from tests.federation.conftest import api, follow_remote
from tests.helpers.database import TestPostgres, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually

QUICK_UPDATES = {"AMBTENAAR_POLL_UPDATE_SECONDS": "1"}  # the debounce of a poll's Update, shortened for the test


@pytest.fixture(scope="module")
def gemeente(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("gemeente"),
                extra_env=QUICK_UPDATES).start()
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "carla", display_name="Carla")
    yield node
    node.stop()


@pytest.fixture(scope="module")
def burger(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("burger"),
                extra_env=QUICK_UPDATES).start()
    factories.person(node, "bert", display_name="Bert Burger")
    yield node
    node.stop()


def _copy(client, text: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    home = eventually(lambda: client.get("/api/v1/timelines/home").json(),
                      lambda tl: any(text in s["content"] for s in tl), what=f"the post {text!r}")
    return next(s for s in home if text in s["content"])


def test_votes_both_ways_counts_update_and_end(gemeente: Node, burger: Node) -> None:
    anna, carla, bert = api(gemeente, "anna"), api(gemeente, "carla"), api(burger, "bert")
    follow_remote(bert, f"@anna@{gemeente.domain}")
    follow_remote(anna, f"@bert@{burger.domain}")

    # Anna's poll on gemeente; Bert votes in it from burger.
    post = anna.post("/api/v1/statuses", json={"status": "Nieuwe bankjes: waar?", "poll": {
        "options": ["Markt", "Park"], "expires_in": 3600}}).json()
    copy = _copy(bert, "Nieuwe bankjes")
    assert [o["title"] for o in copy["poll"]["options"]] == ["Markt", "Park"] and copy["poll"]["voted"] is False
    voted = bert.post(f"/api/v1/polls/{copy['poll']['id']}/votes", data={"choices[]": "1"})
    assert voted.status_code == 200 and voted.json()["own_votes"] == [1], voted.text
    counted = eventually(lambda: anna.get(f"/api/v1/polls/{post['poll']['id']}").json(),
                         lambda p: p["votes_count"] == 1, what="bert's vote counted at gemeente")
    assert [o["votes_count"] for o in counted["options"]] == [0, 1]
    assert anna.get(f"/api/v1/statuses/{post['id']}/context").json()["descendants"] == []  # a vote is no reply
    stored = scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE in_reply_to_id = $1", int(post["id"]))
    assert stored == 0

    # Carla votes at gemeente: the Update of the Question brings burger the count it could not know.
    assert carla.post(f"/api/v1/polls/{post['poll']['id']}/votes", data={"choices[]": "0"}).status_code == 200
    updated = eventually(lambda: bert.get(f"/api/v1/polls/{copy['poll']['id']}").json(),
                         lambda p: p["votes_count"] == 2, what="the Update with carla's vote at burger")
    assert [o["votes_count"] for o in updated["options"]] == [1, 1] and updated["voters_count"] == 2
    assert updated["own_votes"] == [1]

    # Bert's poll on burger; Anna votes in it from gemeente (multiple choice).
    bert_post = bert.post("/api/v1/statuses", json={"status": "Welke markt bezoekt u?", "poll": {
        "options": ["Ede", "Bennekom", "Lunteren"], "expires_in": 600, "multiple": True}}).json()
    theirs = _copy(anna, "Welke markt")
    assert theirs["poll"]["multiple"] is True
    assert anna.post(f"/api/v1/polls/{theirs['poll']['id']}/votes",
                     json={"choices": [0, 2]}).json()["own_votes"] == [0, 2]
    at_burger = eventually(lambda: bert.get(f"/api/v1/polls/{bert_post['poll']['id']}").json(),
                           lambda p: p["votes_count"] == 2, what="anna's two choices counted at burger")
    assert [o["votes_count"] for o in at_burger["options"]] == [1, 0, 1] and at_burger["voters_count"] == 1

    # The end of anna's poll: gemeente closes it and sends the final Question; burger tells bert.
    scalar(gemeente.database_url, "UPDATE polls SET expires_at = now() - interval '1 second' WHERE post_id = $1",
           int(post["id"]))
    eventually(lambda: bert.get(f"/api/v1/polls/{copy['poll']['id']}").json(), lambda p: p["expired"],
               what="the closed poll at burger")
    note = eventually(lambda: bert.get("/api/v1/notifications", params={"types[]": "poll"}).json(), bool,
                      what="bert's poll notification")
    assert note[0]["status"]["id"] == copy["id"]
    assert bert.post(f"/api/v1/polls/{copy['poll']['id']}/votes", data={"choices[]": "0"}).status_code == 422
