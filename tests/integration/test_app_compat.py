"""What apps on any phone send (issue 14, item 5): a post in any language (`de`, `en-US` stored as `en`, as
Mastodon stores it; an unknown tag falls back to the author's language instead of refusing the post), `null` in a
JSON body meaning "not given", and the language list apps offer. The JSON bodies are the ones toot and
Mastodon.py send."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.helpers.nodes import Node


@pytest.fixture(scope="module")
def app(node: Node) -> httpx.Client:
    factories.person(node, "bert", display_name="Bert Burger")
    token = node.cli("token", "create", "--username", "bert", "--scopes", "read write").out.strip()
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.mark.parametrize("sent, stored", [("de", "de"), ("en-US", "en"), ("pt-BR", "pt"), ("FY", "fy"),
                                          ("fil", "fil"), ("xx", "nl"), ("und", "nl"), ("", "nl")])
def test_any_language_posts(app: httpx.Client, sent: str, stored: str) -> None:
    posted = app.post("/api/v1/statuses", json={"status": f"Hallo ({sent})", "language": sent})
    assert posted.status_code == 200, posted.text
    assert posted.json()["language"] == stored
    assert app.get(f"/api/v1/statuses/{posted.json()['id']}").json()["language"] == stored


def test_null_means_not_given(app: httpx.Client) -> None:
    # toot's body for a plain post
    posted = app.post("/api/v1/statuses", json={
        "status": "Geen peiling", "poll": None, "in_reply_to_id": None, "media_ids": None, "sensitive": None,
        "spoiler_text": None, "visibility": None, "language": None, "scheduled_at": None})
    assert posted.status_code == 200, posted.text
    status = posted.json()
    assert status["poll"] is None and status["visibility"] == "public" and status["in_reply_to_id"] is None
    assert status["spoiler_text"] == "" and status["language"] == "nl"
    # form bodies keep their meaning: an empty value is still a value where Mastodon reads one
    assert app.post("/api/v1/statuses", data={"status": "Formulier", "spoiler_text": ""}).status_code == 200


def test_the_language_list(node: Node) -> None:
    listed = httpx.get(f"{node.url}/api/v1/instance/languages").json()
    codes = {entry["code"]: entry["name"] for entry in listed}
    assert codes["nl"] == "Dutch" and codes["de"] == "German" and codes["fy"] == "Western Frisian"
    assert all(len(code) == 2 for code in codes) and len(codes) > 150
