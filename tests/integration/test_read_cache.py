"""The read cache (server/read_cache.py) between two real `serve` processes on one database, as two machines behind a
load balancer run them: documents are rendered once and revalidated with ETags, and every change made through one
process reaches what the other keeps (PostgreSQL NOTIFY): ActivityPub JSON, WebFinger and public pages. The
signer-dependent half (authorized fetch, blocks, follower-only posts) is in tests/federation/test_authorized_fetch.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient

AP = {"Accept": "application/activity+json"}


@pytest.fixture(scope="module")
def pair(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    """`writer` takes the changes; `reader` is a second `serve` (no worker) on the same database."""
    database = postgres.fresh_database()
    writer = Node(database_url=database, data_dir=tmp_path_factory.mktemp("writer")).start()
    reader = Node(database_url=database, data_dir=tmp_path_factory.mktemp("reader"),
                  extra_env={"AMBTENAAR_IN_PROCESS_WORKER": "false"})
    try:
        reader.start()
        factories.organisation(writer)
        factories.person(writer, "anna", org="gemeente-ede", display_name="Anna de Vries")
        yield writer, reader
    finally:
        reader.stop()
        writer.stop()


def _same_twice(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """Two GETs by one client (a page's CSRF cookie kept) that must give the same bytes and ETag (the second from
    the cache), and a 304 on revalidation."""
    client = httpx.Client()
    first = client.get(url, headers=headers)
    second = client.get(url, headers=headers)
    assert first.status_code == second.status_code == 200, (url, first.text[:300])
    assert first.headers["etag"] == second.headers["etag"] and first.content == second.content
    revalidated = client.get(url, headers={**(headers or {}), "If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == first.headers["etag"]
    return first


def test_public_documents_carry_etags_and_a_cache_control_a_proxy_can_honour(pair: tuple[Node, Node]) -> None:
    writer, reader = pair
    post = api(writer, "anna").post("/api/v1/statuses", json={"status": "Openbaar", "visibility": "public"}).json()
    for node in (writer, reader):
        actor = _same_twice(f"{node.url}/users/anna", AP)
        assert actor.headers["cache-control"] == "public, max-age=60" and actor.headers["vary"] == "Accept"
        note = _same_twice(f"{node.url}/users/anna/statuses/{post['id']}", AP)
        assert "<p>Openbaar</p>" in note.json()["content"]
        assert note.headers["content-type"].startswith("application/activity+json")
        finger = _same_twice(f"{node.url}/.well-known/webfinger?resource=acct:anna@{node.domain}")
        assert finger.json()["subject"] == f"acct:anna@{node.domain}"
        assert finger.headers["access-control-allow-origin"] == "*"
        assert _same_twice(f"{node.url}/nodeinfo/2.1").json()["usage"]["users"]["total"] >= 1
    # A browser still goes to the page, which is not mixed up with the JSON kept under the same path.
    page = httpx.get(f"{reader.url}/users/anna", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["location"] == "/@anna"


def test_an_edit_and_a_delete_through_one_process_reach_the_other(pair: tuple[Node, Node]) -> None:
    writer, reader = pair
    anna = api(writer, "anna")
    post = anna.post("/api/v1/statuses", json={"status": "Eerste versie", "visibility": "public"}).json()
    note_url, page_url = f"{reader.url}/users/anna/statuses/{post['id']}", f"{reader.url}/@anna/{post['id']}"
    kept = _same_twice(note_url, AP)
    assert "Eerste versie" in kept.text and "Eerste versie" in _same_twice(page_url).text
    assert anna.put(f"/api/v1/statuses/{post['id']}", json={"status": "Tweede versie"}).status_code == 200
    edited = eventually(lambda: httpx.get(note_url, headers=AP), lambda r: "Tweede versie" in r.text,
                        timeout=5, what="the edit in the other process's Note")
    assert edited.headers["etag"] != kept.headers["etag"]
    assert httpx.get(note_url, headers={**AP, "If-None-Match": kept.headers["etag"]}).status_code == 200
    eventually(lambda: httpx.get(page_url).text, lambda html: "Tweede versie" in html, timeout=5,
               what="the edit on the other process's page")
    assert anna.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    eventually(lambda: httpx.get(note_url, headers=AP).status_code, lambda status: status in (404, 410), timeout=5,
               what="the delete in the other process")
    eventually(lambda: httpx.get(page_url).status_code, lambda status: status in (404, 410), timeout=5,
               what="the deleted post's page")


def test_a_profile_change_and_a_reply_reach_what_the_other_process_keeps(pair: tuple[Node, Node]) -> None:
    writer, reader = pair
    anna = api(writer, "anna")
    root = anna.post("/api/v1/statuses", json={"status": "Vraag aan de raad", "visibility": "public"}).json()
    profile_url, thread_url = f"{reader.url}/@anna", f"{reader.url}/@anna/{root['id']}"
    assert "Anna de Vries" in _same_twice(profile_url).text
    assert "Anna de Vries" in _same_twice(f"{reader.url}/users/anna", AP).text
    _same_twice(thread_url)
    anna.post("/api/v1/statuses", json={"status": "Antwoord in de draad", "in_reply_to_id": root["id"]})
    eventually(lambda: httpx.get(thread_url).text, lambda html: "Antwoord in de draad" in html, timeout=5,
               what="the new reply on the cached thread page")
    changed = anna.patch("/api/v1/accounts/update_credentials", data={"display_name": "Anna van Dijk"})
    assert changed.status_code == 200, changed.text
    eventually(lambda: httpx.get(f"{reader.url}/users/anna", headers=AP).json()["name"],
               lambda name: name == "Anna van Dijk", timeout=5, what="the new name in the actor")
    eventually(lambda: httpx.get(profile_url).text, lambda html: "Anna van Dijk" in html, timeout=5,
               what="the new name on the profile page")


def test_a_page_kept_for_visitors_gives_each_their_own_cookie_and_never_a_signed_in_view(
        pair: tuple[Node, Node]) -> None:
    writer, reader = pair
    url = f"{reader.url}/@anna"
    first, second = httpx.get(url), httpx.get(url)
    tokens = [r.cookies.get("ao_csrf") for r in (first, second)]
    assert all(tokens) and tokens[0] != tokens[1]  # each visitor's own, not one kept with the page
    assert first.content == second.content and first.headers["etag"] == second.headers["etag"]
    assert tokens[0] not in first.text and "PLACEHOLDER" not in first.text
    assert httpx.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    # A signed-in visitor gets a page rendered for them (with their own controls), never the visitors' copy.
    browser = WebClient(reader.url)
    assert browser.login("anna", factories.PASSWORD).status_code == 303
    mine = browser.get("/@anna")
    assert mine.status_code == 200 and "etag" not in mine.headers and mine.headers["cache-control"] == "no-store"
