"""Links resolve (issue 14, item 1): a post's or profile's page URL, pasted into another server's search, leads to
the Note or the actor; every public object answers ActivityPub JSON to servers and HTML to browsers, with
`Vary: Accept`; Create and Announce ids answer; NodeInfo 2.0 and 2.1. Two real nodes over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.federation.conftest import api
from tests.helpers.nodes import Node

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture(scope="module")
def anna_post(gemeente: Node) -> dict[str, Any]:
    posted = api(gemeente, "anna").post("/api/v1/statuses", json={"status": "Het stadhuis is open #ede",
                                                                   "voice": "official", "sensitive": True,
                                                                   "spoiler_text": "Openingstijden"})
    assert posted.status_code == 200, posted.text
    return dict(posted.json())


def _json(url: str, accept: str = AP) -> httpx.Response:
    return httpx.get(url, headers={"Accept": accept})


def test_page_urls_answer_activitypub_to_servers_and_html_to_browsers(gemeente: Node,
                                                                      anna_post: dict[str, Any]) -> None:
    page_url = anna_post["url"]
    assert page_url == f"{gemeente.url}/@anna/{anna_post['id']}"
    for accept in (AP, LD):
        note = _json(page_url, accept)
        assert note.status_code == 200 and note.headers["content-type"].startswith(AP), note.text[:200]
        assert "Accept" in note.headers["vary"]
        assert note.json()["id"] == anna_post["uri"] and note.json()["type"] == "Note"
    html = httpx.get(page_url, headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Accept" in html.headers["vary"]
    assert f'<link rel="alternate" type="application/activity+json" href="{anna_post["uri"]}">' in html.text

    profile = _json(f"{gemeente.url}/@anna")
    assert profile.json()["id"] == f"{gemeente.url}/users/anna" and profile.json()["type"] == "Person"
    profile_html = httpx.get(f"{gemeente.url}/@anna").text
    assert f'<link rel="alternate" type="application/activity+json" href="{gemeente.url}/users/anna">' in profile_html

    organisation = _json(f"{gemeente.url}/orgs/gemeente-ede")
    assert organisation.status_code == 200 and organisation.json()["id"] == f"{gemeente.url}/users/gemeente_ede"
    assert f'href="{gemeente.url}/users/gemeente_ede"' in httpx.get(f"{gemeente.url}/orgs/gemeente-ede").text

    # A private post's page gives servers nothing, and its page no alternate.
    private = api(gemeente, "anna").post("/api/v1/statuses", json={"status": "Alleen volgers",
                                                                    "visibility": "private"}).json()
    assert _json(private["url"]).status_code == 404
    assert httpx.get(f"{gemeente.url}/@anna/99999999").status_code == 404


def test_create_and_announce_ids_answer(gemeente: Node, burger: Node, anna_post: dict[str, Any]) -> None:
    create = _json(f"{anna_post['uri']}/activity")
    assert create.status_code == 200, create.text
    assert create.json()["type"] == "Create" and create.json()["id"] == f"{anna_post['uri']}/activity"
    assert create.json()["object"]["id"] == anna_post["uri"]
    # The organisation's account boosted the official post: its Announce answers at its own id.
    boosts = [s for s in api(gemeente, "anna").get(f"/api/v1/accounts/{_org_id(gemeente)}/statuses").json()
              if s["reblog"] and s["reblog"]["id"] == anna_post["id"]]
    assert len(boosts) == 1, boosts
    assert boosts[0]["uri"].endswith("/activity")  # as Mastodon names a boost: its Announce's id
    announce = _json(boosts[0]["uri"])
    assert announce.status_code == 200 and announce.json()["type"] == "Announce", announce.text
    assert announce.json()["object"] == anna_post["uri"] and announce.json()["id"] == boosts[0]["uri"]
    assert _json(boosts[0]["uri"].removesuffix("/activity")).json()["type"] == "Announce"
    # Browsers go to the page.
    browser = httpx.get(f"{anna_post['uri']}/activity")
    assert browser.status_code == 302 and browser.headers["location"] == f"/@anna/{anna_post['id']}"
    for collection in ("outbox", "followers", "following", "collections/featured"):
        opened = httpx.get(f"{gemeente.url}/users/anna/{collection}")
        assert opened.status_code == 302 and opened.headers["location"] == "/@anna", collection


def _org_id(gemeente: Node) -> str:
    found = httpx.get(f"{gemeente.url}/api/v1/accounts/lookup", params={"acct": "gemeente_ede"})
    assert found.status_code == 200, found.text
    return str(found.json()["id"])


def test_every_document_carries_a_context_for_its_terms(gemeente: Node, anna_post: dict[str, Any]) -> None:
    """The outbox page's items use `sensitive`, `Hashtag` and our voice terms: its own @context defines them."""
    page = _json(f"{gemeente.url}/users/anna/outbox?page=true").json()
    context = page["@context"]
    assert isinstance(context, list) and context[0] == "https://www.w3.org/ns/activitystreams"
    terms = context[-1]
    assert {"sensitive", "Hashtag", "voice", "voiceOrganisation"} <= set(terms)
    item = next(i for i in page["orderedItems"] if i["object"]["id"] == anna_post["uri"])
    assert "@context" not in item and item["object"]["sensitive"] is True and item["object"]["voice"] == "official"
    for path in ("outbox", "followers", "following", "collections/featured", "followers?page=true"):
        assert _json(f"{gemeente.url}/users/anna/{path}").json()["@context"] == context, path


def test_nodeinfo_20_and_21(gemeente: Node) -> None:
    links = httpx.get(f"{gemeente.url}/.well-known/nodeinfo").json()["links"]
    assert [link["rel"].rsplit("/", 1)[1] for link in links] == ["2.0", "2.1"]
    for link in links:
        info = httpx.get(link["href"])
        assert info.status_code == 200 and info.json()["version"] == link["rel"].rsplit("/", 1)[1]
        assert info.json()["software"]["name"] == "ambtenaar-online"
        assert ("homepage" in info.json()["software"]) == (info.json()["version"] == "2.1")


def test_search_on_another_server_resolves_page_urls(gemeente: Node, burger: Node, anna_post: dict[str, Any]) -> None:
    bert = api(burger, "bert")
    found = bert.get("/api/v2/search", params={"q": anna_post["url"], "resolve": "true"}).json()
    assert [s["uri"] for s in found["statuses"]] == [anna_post["uri"]], found
    assert found["statuses"][0]["account"]["acct"] == f"anna@{gemeente.domain}"
    by_id = bert.get("/api/v2/search", params={"q": anna_post["uri"], "resolve": "true", "type": "statuses"}).json()
    assert [s["uri"] for s in by_id["statuses"]] == [anna_post["uri"]]
    profile = bert.get("/api/v2/search", params={"q": f"{gemeente.url}/@anna", "resolve": "true"}).json()
    assert profile["accounts"][0]["acct"] == f"anna@{gemeente.domain}"
    # Without resolve (or without a token) nothing is fetched from another server.
    unresolved = bert.get("/api/v2/search", params={"q": f"{gemeente.url}/@anna/{int(anna_post['id']) + 7}"})
    assert unresolved.json()["statuses"] == []
    # Our own page URLs come from the database.
    own = api(gemeente, "anna").get("/api/v2/search", params={"q": anna_post["url"], "resolve": "true"}).json()
    assert [s["id"] for s in own["statuses"]] == [anna_post["id"]]
    # The web search opens a found post on its page here.
    from tests.helpers.web import WebClient
    from tests import factories
    web = WebClient(burger.url)
    assert web.login("bert", factories.PASSWORD).status_code == 303
    opened = web.get("/search", params={"q": anna_post["url"]})
    assert opened.status_code == 303 and opened.headers["location"].startswith("/posts/"), opened.text[:300]
    assert "Het stadhuis is open" in web.get(opened.headers["location"]).text


class _Page(BaseHTTPRequestHandler):
    """A web page that answers HTML whatever is asked, pointing to the Note in its head."""

    target = ""

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        body = (f'<!doctype html><html><head><link rel="alternate" type="application/activity+json" '
                f'href="{self.target}"></head><body>Bericht</body></html>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture()
def html_only_page(anna_post: dict[str, Any]) -> Iterator[str]:
    handler = type("Handler", (_Page,), {"target": anna_post["uri"]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/some/post"
    finally:
        server.shutdown()
        server.server_close()


def test_search_follows_an_html_pages_alternate_link(burger: Node, anna_post: dict[str, Any],
                                                     html_only_page: str) -> None:
    found = api(burger, "bert").get("/api/v2/search", params={"q": html_only_page, "resolve": "true"}).json()
    assert [s["uri"] for s in found["statuses"]] == [anna_post["uri"]], found
