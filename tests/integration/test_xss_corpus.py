"""The XSS corpus in posts, content warnings, names, bios, profile fields and badges, local and from a hostile
remote server, is stored inert and comes out inert on every page and in the API (tests/helpers/xss.py seeds it;
tests/browser/test_xss.py runs the same pages in a browser)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from moderation import sanitize
from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient
from tests.helpers.xss import HostileServer, Seeded, scan, seed, url_is_dangerous
from tests.unit.test_sanitize import assert_inert


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def seeded(node: Node, hostile: HostileServer) -> Seeded:
    return seed(node, hostile)


def test_what_is_stored_is_inert(node: Node, seeded: Seeded) -> None:
    posts = fetch(node.database_url, "SELECT content_html, spoiler_text FROM posts")
    assert len(posts) > 2 * len(seeded.local_post_ids)
    for post in posts:
        assert_inert(post["content_html"])
    remote = fetch(node.database_url, "SELECT display_name, bio, profile_url, remote_badge FROM accounts "
                   "WHERE id = ANY($1::bigint[]) ORDER BY id", seeded.remote_account_ids)
    mallory, mirjam = remote
    assert_inert(mallory["bio"])
    assert_inert(mirjam["bio"])
    assert mallory["profile_url"] is None  # it was javascript:
    assert mallory["remote_badge"] is None  # its verification link was javascript:
    assert mirjam["display_name"] == "Mirjam tnemeeG"  # no bidi override left to turn it around
    assert json.loads(mirjam["remote_badge"])["function"].startswith("\"><script>")  # text; pages escape it
    for post in fetch(node.database_url, "SELECT spoiler_text FROM posts p JOIN accounts a ON a.id = p.account_id "
                      "WHERE a.id = ANY($1::bigint[])", seeded.remote_account_ids):
        assert post["spoiler_text"] == sanitize.plain_text(post["spoiler_text"], 1000)


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_with_payloads_is_inert(node: Node, seeded: Seeded, signed_in: bool) -> None:
    client = WebClient(node.url)
    if signed_in:
        assert client.login("anna", factories.PASSWORD).status_code == 303
    for path in seeded.pages():
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert scan(page.text) == [], path
    thread = client.get(f"/@anna/{seeded.root_id}").text
    assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in thread  # the text is shown, as text
    assert "{{7*7}}" in thread and "49" not in thread.split("{{7*7}}")[1][:10]  # no template evaluation


def test_the_api_gives_inert_html_and_plain_text(node: Node, seeded: Seeded) -> None:
    api = httpx.Client(base_url=node.url, timeout=30)
    context = api.get(f"/api/v1/statuses/{seeded.root_id}/context").json()
    statuses = [*context["descendants"], *[api.get(f"/api/v1/statuses/{i}").json() for i in seeded.local_post_ids]]
    assert len(statuses) > len(seeded.local_post_ids)
    for status in statuses:
        assert_inert(status["content"])
        assert status["url"] is None or not url_is_dangerous(status["url"])
        account = status["account"]
        assert_inert(account["note"])
        assert not url_is_dangerous(account["url"]) and not url_is_dangerous(account["avatar"])
        badge = (account.get("ambtenaar") or {})
        assert not url_is_dangerous(str(badge.get("badge_url") or ""))
    for account_id in seeded.remote_account_ids:
        account = api.get(f"/api/v1/accounts/{account_id}").json()
        assert_inert(account["note"])
        assert not url_is_dangerous(account["url"])
