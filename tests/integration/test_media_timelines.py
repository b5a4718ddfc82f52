"""Mastodon's `local`, `remote` and `only_media` on the public and tag timelines, `only_media` on an account's
posts (the "Media" tab of apps), and the media streams (`public:media`, `public:local:media`,
`public:remote:media`, and `only_media=true` on the event-stream paths), against a real node. The post from
another server is stored on the node's database as the inbox stores one (tests/helpers/remote_posts.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from websockets.sync.client import connect

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.nodes import Node
from tests.helpers.photos import png
from tests.helpers.remote_posts import remote_post

ELDERS = "elders.example"


@dataclass
class Town:
    node: Node
    anna: httpx.Client
    token: str
    anna_id: str


def _post(anna: httpx.Client, text: str, *, image: bool) -> str:
    media_ids = []
    if image:
        uploaded = anna.post("/api/v2/media", files={"file": ("plein.png", png(), "image/png")},
                             data={"description": "Het plein"})
        assert uploaded.status_code in (200, 202), uploaded.text
        media_ids = [uploaded.json()["id"]]
    posted = anna.post("/api/v1/statuses", json={"status": text, "visibility": "public", "media_ids": media_ids})
    assert posted.status_code == 200, posted.text
    return str(posted.json()["id"])


@pytest.fixture(scope="module")
def town(node: Node) -> Iterator[Town]:
    factories.person(node, "anna", display_name="Anna")
    token = token_for(node, "anna", "read write")
    with httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as anna:
        anna_id = anna.get("/api/v1/accounts/verify_credentials").json()["id"]
        yield Town(node, anna, token, anna_id)


def _ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [status["id"] for status in answer.json()]


def test_only_media_local_and_remote_on_the_timelines(town: Town) -> None:
    plain = _post(town.anna, "Zonder foto #markt", image=False)
    photo = _post(town.anna, "Met foto #markt", image=True)
    elsewhere = str(asyncio.run(remote_post(town.node.database_url, username="rob", domain=ELDERS, number=1,
                                            text="Van elders #markt", tags=["markt"])))
    public = "/api/v1/timelines/public"
    assert {plain, photo, elsewhere} <= set(_ids(town.anna.get(public)))
    assert _ids(town.anna.get(public, params={"only_media": "true"})) == [photo]
    local = _ids(town.anna.get(public, params={"local": "true"}))
    assert plain in local and photo in local and elsewhere not in local
    assert _ids(town.anna.get(public, params={"remote": "true"})) == [elsewhere]
    assert _ids(town.anna.get("/api/v1/timelines/tag/markt", params={"remote": "true"})) == [elsewhere]
    assert _ids(town.anna.get("/api/v1/timelines/tag/markt", params={"only_media": "true"})) == [photo]
    own = f"/api/v1/accounts/{town.anna_id}/statuses"
    assert _ids(town.anna.get(own, params={"only_media": "true"})) == [photo]
    assert set(_ids(town.anna.get(own))) >= {plain, photo}


def test_media_streams_carry_only_posts_with_images(town: Town) -> None:
    headers = {"Authorization": f"Bearer {town.token}"}
    with connect(f"ws://{town.node.domain}/api/v1/streaming?stream=public:local:media", additional_headers=headers) \
            as socket, httpx.stream("GET", f"{town.node.url}/api/v1/streaming/public", params={"only_media": "true"},
                                    headers=headers, timeout=30) as events:
        lines = events.iter_lines()
        assert next(lines) == ":)"
        _post(town.anna, "Weer zonder foto", image=False)  # in commit order before the next: never sent
        photo = _post(town.anna, "Weer met foto", image=True)
        message = json.loads(socket.recv(timeout=20))
        assert message["stream"] == ["public:local:media"] and message["event"] == "update"
        assert json.loads(message["payload"])["id"] == photo
        assert next(lines) == "event: update"
        assert json.loads(next(lines).removeprefix("data: "))["id"] == photo
