"""Mastodon.py, an independent client library, drives a real node end to end over HTTP."""

from __future__ import annotations

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError

from tests import factories
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.oauth import authorize

SCOPES = ["read", "write", "follow"]


def app_for(node: Node, username: str) -> Mastodon:
    """Register an app, authorise the person through the real OAuth pages, and log in with the code."""
    client_id, client_secret = Mastodon.create_app("Mastodon.py test", scopes=SCOPES, api_base_url=node.url)
    client = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.url,
                      ratelimit_method="throw")
    url = client.auth_request_url(scopes=SCOPES, allow_http=True)
    code = authorize(node.url, url, username, factories.PASSWORD)
    client.log_in(code=code, scopes=SCOPES, allow_http=True)
    return client


def post_with_voice(client: Mastodon, text: str, voice: str, **params: object) -> dict:  # type: ignore[type-arg]
    """Our `voice` extension through Mastodon.py's own request layer (its status_post has no such keyword)."""
    result = client._Mastodon__api_request("POST", "/api/v1/statuses", {"status": text, "voice": voice, **params})
    return dict(result)


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", display_name="Bert Burger")
    return node


@pytest.fixture(scope="module")
def anna(ede: Node) -> Mastodon:
    return app_for(ede, "anna")


@pytest.fixture(scope="module")
def bert(ede: Node) -> Mastodon:
    return app_for(ede, "bert")


def test_instance_version_is_parseable(anna: Mastodon) -> None:
    info = anna.instance()
    assert info["version"].startswith("4.3.0 (compatible; Ambtenaar Online")
    assert anna.verify_minimum_version("4.0.0", cached=False)


def test_scenario_post_read_react_follow_notify_paginate(ede: Node, anna: Mastodon, bert: Mastodon) -> None:
    me = anna.account_verify_credentials()
    assert me["username"] == "anna" and me["ambtenaar"]["organisation"]["name"] == "Gemeente Ede"

    official = post_with_voice(anna, "Het gemeentehuis is open tot 20:00 #ede", "official")
    personal = anna.status_post("Mooie fietstocht vanmorgen")  # the account's default voice: personal
    assert official["voice"] == "official" and official["organisation"]["slug"] == "gemeente-ede"
    assert personal["voice"] == "personal" and personal["organisation"] is None
    with pytest.raises(MastodonAPIError) as refused:
        post_with_voice(bert, "Namens de gemeente!", "official")
    assert refused.value.args[1] == 403

    bert_id = bert.account_verify_credentials()["id"]
    relationship = bert.account_follow(me["id"])
    assert relationship["following"] is True
    home = bert.timeline_home()
    assert [s["id"] for s in home][:2] == [personal["id"], official["id"]]
    public = bert.timeline_public(local=True)
    assert official["id"] in [s["id"] for s in public]
    assert official["id"] in [s["id"] for s in bert.timeline_hashtag("ede")]

    bert.status_favourite(official["id"])
    boost = bert.status_reblog(official["id"])
    assert boost["reblog"]["id"] == official["id"]
    reply = bert.status_post("Ook op zaterdag?", in_reply_to_id=official["id"])
    assert reply["in_reply_to_id"] == official["id"]
    context = anna.status_context(official["id"])
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    assert [a["id"] for a in anna.status_favourited_by(official["id"])] == [bert_id]
    # The organisation's account boosts its officials' official posts too (issue 5).
    assert bert_id in [a["id"] for a in anna.status_reblogged_by(official["id"])]

    types = {n["type"] for n in anna.notifications()}
    assert {"follow", "favourite", "reblog"} <= types
    edited = anna.status_update(official["id"], status="Het gemeentehuis is open tot 21:00 #ede")
    assert edited["edited_at"] and edited["voice"] == "official"
    assert len(anna.status_history(official["id"])) == 2
    assert "update" in {n["type"] for n in bert.notifications()}

    for i in range(5):
        anna.status_post(f"Bericht {i}")
    first = bert.timeline_home(limit=3)
    second = bert.fetch_next(first)
    assert len(first) == 3 and len(second) == 3
    assert set(s["id"] for s in first).isdisjoint(s["id"] for s in second)
    assert int(first[-1]["id"]) > int(second[0]["id"])

    bert.status_unreblog(official["id"])
    bert.status_unfavourite(official["id"])
    assert bert.account_unfollow(me["id"])["following"] is False
    deleted = anna.status_delete(personal["id"])
    assert deleted["text"] == "Mooie fietstocht vanmorgen"
    with pytest.raises(MastodonNotFoundError):
        bert.status(personal["id"])


def test_idempotency_key_returns_the_same_post(ede: Node, anna: Mastodon) -> None:
    before = scalar(ede.database_url, "SELECT count(*) FROM posts")
    first = anna.status_post("Eenmalig", idempotency_key="abc-123")
    again = anna.status_post("Eenmalig", idempotency_key="abc-123")
    assert first["id"] == again["id"]
    assert scalar(ede.database_url, "SELECT count(*) FROM posts") == before + 1


def test_bad_token_is_refused(ede: Node) -> None:
    client = Mastodon(access_token="not-a-token", api_base_url=ede.url, ratelimit_method="throw")
    with pytest.raises(MastodonUnauthorizedError):
        client.account_verify_credentials()
