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


def _photo(size: tuple[int, int], colour: str) -> bytes:
    """A JPEG with EXIF (a camera serial number) that the node must drop when it re-encodes."""
    import io

    from PIL import Image
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0xA431] = "SERIAL-12345"  # BodySerialNumber
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_update_credentials_stores_avatar_header_and_fields(ede: Node, bert: Mastodon) -> None:
    import io

    import httpx
    from PIL import Image
    bert_id = bert.me()["id"]
    events_before = scalar(ede.database_url, "SELECT count(*) FROM outbox_events WHERE kind = 'account.updated' "
                                             "AND subject_id = $1", int(bert_id))
    updated = bert.account_update_credentials(
        display_name="Bert B.", note="Raadslid", bot=True, discoverable=False,
        avatar=_photo((900, 600), "red"), avatar_mime_type="image/jpeg",
        header=_photo((800, 800), "blue"), header_mime_type="image/jpeg",
        fields=[("Website", "https://bert.example"), ("Taal", "Nederlands")])
    assert updated["display_name"] == "Bert B."
    assert updated["bot"] is True and updated["discoverable"] is False
    assert [(f["name"], f["value"]) for f in updated["fields"]] == [("Website", "https://bert.example"),
                                                                    ("Taal", "Nederlands")]
    assert [(f["name"], f["value"]) for f in updated["source"]["fields"]] == [
        ("Website", "https://bert.example"), ("Taal", "Nederlands")]
    for key, size, colour in (("avatar", (400, 400), (255, 0, 0)), ("header", (1500, 500), (0, 0, 255))):
        assert "/static/" not in updated[key] and updated[f"{key}_static"] == updated[key]
        response = httpx.get(updated[key])
        assert response.status_code == 200
        image = Image.open(io.BytesIO(response.content))
        assert image.size == size
        assert not image.getexif()
        assert all(abs(a - b) < 20 for a, b in zip(image.convert("RGB").getpixel((10, 10)), colour))
    # Stored: a new read returns the same, and followers' servers will hear of it.
    again = bert.account_verify_credentials()
    assert again["avatar"] == updated["avatar"] and again["header"] == updated["header"]
    assert [f["name"] for f in again["fields"]] == ["Website", "Taal"]
    assert [f["name"] for f in bert.account(bert_id)["fields"]] == ["Website", "Taal"]
    assert scalar(ede.database_url, "SELECT count(*) FROM outbox_events WHERE kind = 'account.updated' "
                                    "AND subject_id = $1", int(bert_id)) == events_before + 1
    # Fields left out are kept; at most 4; a file that is no image is refused and changes nothing.
    assert len(bert.account_update_credentials(note="Raadslid Ede")["fields"]) == 2
    with pytest.raises(MastodonAPIError):
        bert.account_update_credentials(fields=[(f"n{i}", "v") for i in range(5)])
    with pytest.raises(MastodonAPIError):
        bert.account_update_credentials(avatar=b"not an image", avatar_mime_type="image/png")
    assert bert.account_verify_credentials()["avatar"] == updated["avatar"]
    # Mastodon's JSON shapes of fields_attributes: a numbered object, and a list.
    import httpx as _httpx
    headers = {"Authorization": f"Bearer {bert.access_token}"}
    for shape in ({"0": {"name": "Functie", "value": "raadslid"}}, [{"name": "Functie", "value": "raadslid"}]):
        answer = _httpx.patch(f"{ede.url}/api/v1/accounts/update_credentials", headers=headers,
                              json={"fields_attributes": shape})
        assert answer.status_code == 200, answer.text
        assert [(f["name"], f["value"]) for f in answer.json()["fields"]] == [("Functie", "raadslid")]
    # A photo of several MB passes the request limits (1 MiB for other API bodies).
    import os
    noisy = io.BytesIO()
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(noisy, "PNG")
    assert len(noisy.getvalue()) > 2 * 1024 * 1024
    big = bert.account_update_credentials(avatar=noisy.getvalue(), avatar_mime_type="image/png")
    assert big["avatar"] != updated["avatar"]
    assert Image.open(io.BytesIO(httpx.get(big["avatar"]).content)).size == (400, 400)
