"""OpenGraph and Twitter-card meta on profile, post and organisation pages of a real node, escaped."""

from __future__ import annotations

import io
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest
from PIL import Image

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

TRICKY = 'Spreekuur "vandaag" & morgen <script>alert(1)</script> \'x\''


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.in_head = True
        self.meta_outside_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.in_head = False
        if tag == "meta" and ("property" in values or "name" in values):
            if not self.in_head:
                self.meta_outside_head = True
            self.meta[values.get("property") or values["name"]] = values.get("content", "")
        if tag == "link" and values.get("rel") == "canonical":
            self.meta["canonical"] = values.get("href", "")


def head_meta(text: str) -> dict[str, str]:
    parser = _Head()
    parser.feed(text)
    assert not parser.meta_outside_head
    return parser.meta


@pytest.fixture(scope="module")
def posts(node: Node) -> Iterator[dict[str, int]]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    anna = httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token_for(node, 'anna')}"})
    ids = {}
    for visibility in ("public", "private"):
        answer = anna.post("/api/v1/statuses", json={"status": TRICKY, "visibility": visibility,
                                                     "voice": "personal"})
        assert answer.status_code == 200, answer.text
        ids[visibility] = int(answer.json()["id"])
    yield ids
    anna.close()


def _card_complete(meta: dict[str, str]) -> None:
    for key in ("og:title", "og:description", "og:url", "og:image", "og:type", "twitter:card", "twitter:title",
                "twitter:description", "twitter:image", "description", "canonical"):
        assert meta.get(key), key
    assert meta["og:image"].startswith("http") and meta["og:url"].startswith("http")


def test_post_page_carries_an_escaped_card(node: Node, posts: dict[str, int]) -> None:
    response = WebClient(node.url, language="en").get(f"/@anna/{posts['public']}")
    assert response.status_code == 200
    head = response.text.split("</head>")[0]
    assert "<script>alert(1)" not in head  # the text is an attribute value, never markup
    assert 'content="Spreekuur &#34;vandaag&#34; &amp; morgen &lt;script&gt;' in head
    meta = head_meta(response.text)
    _card_complete(meta)
    assert meta["og:description"] == TRICKY and meta["twitter:description"] == TRICKY
    assert meta["og:title"] == "Post by Anna de Vries" and meta["og:type"] == "article"
    assert meta["og:url"].endswith(f"/@anna/{posts['public']}")
    dutch = head_meta(WebClient(node.url).get(f"/@anna/{posts['public']}").text)
    assert dutch["og:locale"] == "nl_NL" and dutch["og:title"] != meta["og:title"]


def test_a_followers_only_post_gets_no_card_even_for_its_author(node: Node, posts: dict[str, int]) -> None:
    anna = WebClient(node.url)
    assert anna.login("anna", factories.PASSWORD).status_code == 303
    response = anna.get(f"/@anna/{posts['private']}")
    assert response.status_code == 200 and "Spreekuur" in response.text
    meta = head_meta(response.text)
    assert "og:description" not in meta and "twitter:card" not in meta
    anna.close()


def test_profile_and_organisation_cards(node: Node, posts: dict[str, int]) -> None:
    meta = head_meta(WebClient(node.url, language="en").get("/@anna").text)
    _card_complete(meta)
    assert meta["og:type"] == "profile" and meta["og:title"].startswith("Anna de Vries (@anna@")
    assert meta["og:description"] == "Anna de Vries at Gemeente Ede"
    meta = head_meta(WebClient(node.url).get("/orgs/gemeente-ede").text)
    _card_complete(meta)
    assert meta["og:title"] == "Gemeente Ede" and meta["og:url"].endswith("/orgs/gemeente-ede")


def test_profile_and_organisation_previews_show_their_own_avatar_and_logo(node: Node, posts: dict[str, int]) -> None:
    """A comms team shares Anna's profile or the organisation's page: the preview shows her photo and the logo,
    not the default avatar (and the default while none is set)."""
    before = head_meta(httpx.get(f"{node.url}/@anna").text)
    assert before["og:image"].endswith("/static/avatar.png") and "og:image:alt" not in before
    out = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 30, 30)).save(out, "PNG")
    anna = httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token_for(node, 'anna')}"})
    changed = anna.patch("/api/v1/accounts/update_credentials", files={"avatar": ("a.png", out.getvalue(), "image/png")},
                         data={"avatar_description": "Anna bij het gemeentehuis"})
    assert changed.status_code == 200, changed.text
    after = head_meta(httpx.get(f"{node.url}/@anna").text)
    assert after["og:image"] == changed.json()["avatar"] and after["twitter:image"] == changed.json()["avatar"]
    assert after["og:image:alt"] == "Anna bij het gemeentehuis"
    assert head_meta(httpx.get(f"{node.url}/orgs/gemeente-ede").text)["og:image"].endswith("/static/avatar.png")
    org = httpx.Client(base_url=node.url, timeout=30,
                       headers={"Authorization": f"Bearer {token_for(node, 'gemeente_ede')}"})
    logo = org.patch("/api/v1/accounts/update_credentials", files={"avatar": ("l.png", out.getvalue(), "image/png")})
    assert logo.status_code == 200, logo.text
    assert head_meta(httpx.get(f"{node.url}/orgs/gemeente-ede").text)["og:image"] == logo.json()["avatar"]
