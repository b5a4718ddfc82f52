"""RSS and Atom feeds of an account and an organisation, read from a real node and parsed with xml.etree.

Anna (official of Gemeente Ede, whose official posts four eyes hold) writes one post of every kind; the feeds
carry only what nobody may see and is public: published, public, not deleted, not a boost.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import httpx
import pytest

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

ATOM = "{http://www.w3.org/2005/Atom}"
TRICKY = 'Tom & Jerry <b>"vet"</b> \'quote\''
KINDS = ("public", "official", "unlisted", "private", "direct", "held", "deleted")


def marker(kind: str) -> str:
    return f"feedtest{kind}"


@dataclass
class Town:
    node: Node
    ids: dict[str, int] = field(default_factory=dict)
    boost_id: int = 0


@pytest.fixture(scope="module")
def town(node: Node) -> Iterator[Town]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "rita", org="gemeente-ede", role="reviewer")
    factories.person(node, "bert")
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    anna = httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token_for(node, 'anna')}"})
    bert = httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token_for(node, 'bert')}"})
    town = Town(node)
    for kind in KINDS:
        text = f"{marker(kind)} {TRICKY}" + (" @bert" if kind == "direct" else "")
        visibility = kind if kind in ("unlisted", "private", "direct") else "public"
        voice = "official" if kind in ("official", "held") else "personal"
        answer = anna.post("/api/v1/statuses", json={"status": text, "visibility": visibility, "voice": voice})
        if voice == "official":
            assert answer.status_code == 422, answer.text
            town.ids[kind] = int(answer.json()["policy"]["status_id"])
        else:
            assert answer.status_code == 200, answer.text
            town.ids[kind] = int(answer.json()["id"])
    rita = WebClient(node.url, language="en")
    assert rita.login("rita", factories.PASSWORD).status_code == 303
    assert rita.review(town.ids["official"], "approve").status_code == 303
    assert anna.delete(f"/api/v1/statuses/{town.ids['deleted']}").status_code == 200
    boost = bert.post(f"/api/v1/statuses/{town.ids['public']}/reblog")
    assert boost.status_code == 200, boost.text
    town.boost_id = int(boost.json()["id"])
    yield town
    for client in (anna, bert):
        client.close()
    rita.close()


def _get(town: Town, path: str, client: WebClient | None = None) -> httpx.Response:
    return (client or WebClient(town.node.url)).get(path)


def _rss_items(response: httpx.Response) -> list[ET.Element]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None and channel.findtext("title") and channel.findtext("link")
    assert channel.findtext("description") is not None
    items = channel.findall("item")
    for item in items:
        assert item.findtext("title") and item.findtext("link") and item.findtext("guid") and item.findtext("pubDate")
    return items


def _atom_entries(response: httpx.Response) -> list[ET.Element]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{required}"), required
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{required}"), required
        assert entry.find(f"{ATOM}link").get("href", "").startswith("http")  # type: ignore[union-attr]
    return entries


def _kinds_in(texts: list[str]) -> set[str]:
    return {kind for kind in KINDS if any(marker(kind) in text for text in texts)}


def _rss_texts(items: list[ET.Element]) -> list[str]:
    return [f"{i.findtext('title')} {i.findtext('description')} {i.findtext('link')}" for i in items]


def _atom_texts(entries: list[ET.Element]) -> list[str]:
    return [f"{e.findtext(f'{ATOM}title')} {e.findtext(f'{ATOM}content')}" for e in entries]


def test_account_feeds_carry_only_public_published_posts(town: Town) -> None:
    rss = _rss_items(_get(town, "/@anna/feed.rss"))
    assert _kinds_in(_rss_texts(rss)) == {"public", "official"}
    atom = _atom_entries(_get(town, "/@anna/feed.atom"))
    assert _kinds_in(_atom_texts(atom)) == {"public", "official"}
    links = [i.findtext("link") or "" for i in rss]
    assert any(link.startswith("http") and link.endswith(f"/@anna/{town.ids['public']}") for link in links), links


def test_the_author_signed_in_gets_the_same_public_feed(town: Town) -> None:
    anna = WebClient(town.node.url)
    assert anna.login("anna", factories.PASSWORD).status_code == 303
    assert _kinds_in(_rss_texts(_rss_items(anna.get("/@anna/feed.rss")))) == {"public", "official"}
    anna.close()


def test_official_voice_feeds(town: Town) -> None:
    assert _kinds_in(_rss_texts(_rss_items(_get(town, "/@anna/official.rss")))) == {"official"}
    assert _kinds_in(_atom_texts(_atom_entries(_get(town, "/@anna/official.atom")))) == {"official"}
    assert _kinds_in(_rss_texts(_rss_items(_get(town, "/orgs/gemeente-ede/feed.rss")))) == {"official"}
    assert _kinds_in(_atom_texts(_atom_entries(_get(town, "/orgs/gemeente-ede/feed.atom")))) == {"official"}


def test_organisation_feed_of_all_public_posts(town: Town) -> None:
    assert _kinds_in(_rss_texts(_rss_items(_get(town, "/orgs/gemeente-ede/all.rss")))) == {"public", "official"}
    assert _kinds_in(_atom_texts(_atom_entries(_get(town, "/orgs/gemeente-ede/all.atom")))) == \
        {"public", "official"}


def test_a_boost_is_not_in_the_booster_feed(town: Town) -> None:
    rss = _rss_items(_get(town, "/@bert/feed.rss"))
    assert rss == [] and _kinds_in(_rss_texts(rss)) == set()


def test_text_is_escaped_and_comes_back_intact(town: Town) -> None:
    response = _get(town, "/@anna/feed.rss")
    assert b'<b>"vet"</b>' not in response.content  # markup in a title is text, never elements
    titles = [i.findtext("title") or "" for i in _rss_items(response)]
    assert any(title.startswith(f"{marker('public')} Tom & Jerry <b>") for title in titles), titles
    contents = _atom_texts(_atom_entries(_get(town, "/@anna/feed.atom")))
    assert any("Tom &amp; Jerry &lt;b&gt;" in text for text in contents), contents


def test_unknown_account_or_organisation_has_no_feed(town: Town) -> None:
    assert _get(town, "/@niemand/feed.rss").status_code == 404
    assert _get(town, "/orgs/niemand/feed.atom").status_code == 404


def test_pages_announce_their_feeds_in_the_head(town: Town) -> None:
    head = _get(town, "/@anna").text.split("</head>")[0]
    assert 'rel="alternate" type="application/rss+xml"' in head and 'href="/@anna/feed.rss"' in head
    assert 'type="application/atom+xml"' in head and 'href="/@anna/official.atom"' in head
    head = _get(town, "/orgs/gemeente-ede").text.split("</head>")[0]
    assert 'href="/orgs/gemeente-ede/feed.rss"' in head and 'href="/orgs/gemeente-ede/all.atom"' in head
