"""Authorized-fetch mode between two real nodes that both run it: our JSON only for signed requests of servers we
federate with, while the two nodes still find, follow and answer each other."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from federation import signatures
from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import TestPostgres, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually

AP = {"Accept": "application/activity+json"}
AUTHORIZED_FETCH = {"AMBTENAAR_AUTHORIZED_FETCH": "true"}


def _node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory, name: str) -> Node:
    return Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp(name),
                extra_env=dict(AUTHORIZED_FETCH)).start()


@pytest.fixture(scope="module")
def stad(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = _node(postgres, tmp_path_factory, "stad")
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    yield node
    node.stop()


@pytest.fixture(scope="module")
def dorp(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = _node(postgres, tmp_path_factory, "dorp")
    factories.person(node, "bert", display_name="Bert Burger")
    yield node
    node.stop()


def instance_key(node: Node) -> Any:
    """The node's instance actor key, with which its server signs every fetch."""
    assert httpx.get(f"{node.url}/actor", headers=AP).status_code == 200  # made on first use
    pem = scalar(node.database_url, "SELECT private_key_pem FROM actor_keys WHERE account_id IS NULL")
    return signatures.load_private_key(pem)


def signed_get(url: str, signer: Node, key: Any) -> httpx.Response:
    headers = {"Accept": "application/activity+json"}
    headers.update(signatures.sign_request_cavage("GET", url, headers, None, key, f"{signer.url}/actor#main-key",
                                                  datetime.now(UTC)))
    return httpx.get(url, headers=headers)


def our_documents(node: Node) -> list[str]:
    post = api(node, "anna").post("/api/v1/statuses", json={"status": "Alleen voor wie tekent"}).json()
    base = f"{node.url}/users/anna"
    return [base, f"{base}/outbox", f"{base}/outbox?page=true", f"{base}/followers", f"{base}/following",
            f"{base}/collections/featured", f"{base}/statuses/{post['id']}"]


def test_unsigned_and_badly_signed_requests_get_401_the_public_documents_stay(stad: Node, dorp: Node) -> None:
    for url in our_documents(stad):
        response = httpx.get(url, headers=AP)
        assert response.status_code == 401, url
        assert "error" in response.json()
        wrong_key = signed_get(url, dorp, signatures.generate_private_key())
        assert wrong_key.status_code == 401, url
    assert httpx.get(f"{stad.url}/actor", headers=AP).status_code == 200
    assert httpx.get(f"{stad.url}/.well-known/webfinger",
                     params={"resource": f"acct:anna@{stad.domain}"}).status_code == 200
    assert httpx.get(f"{stad.url}/.well-known/nodeinfo").status_code == 200
    page = httpx.get(f"{stad.url}/users/anna", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["location"] == "/@anna"
    assert httpx.get(f"{stad.url}/@anna").status_code == 200


def test_signed_by_a_server_we_federate_with_200_by_a_blocked_one_403(stad: Node, dorp: Node) -> None:
    key = instance_key(dorp)
    urls = our_documents(stad)
    for url in urls:
        response = signed_get(url, dorp, key)
        assert response.status_code == 200, (url, response.text)
        assert "private" in response.headers["cache-control"]
    assert stad.cli("domain", "block", dorp.domain, "--severity", "suspend").code == 0
    try:
        for url in urls:
            assert signed_get(url, dorp, key).status_code == 403, url
    finally:
        assert stad.cli("domain", "unblock", dorp.domain).code == 0
    # Allowlist mode: only listed servers.
    assert stad.cli("domain", "mode", "allowlist").code == 0
    try:
        assert signed_get(urls[0], dorp, key).status_code == 403
        assert stad.cli("domain", "allow", dorp.domain).code == 0
        assert signed_get(urls[0], dorp, key).status_code == 200
    finally:
        stad.cli("domain", "mode", "blocklist")
        stad.cli("domain", "disallow", dorp.domain)


def test_two_authorized_fetch_nodes_still_federate(stad: Node, dorp: Node) -> None:
    anna, bert = api(stad, "anna"), api(dorp, "bert")
    found = bert.get("/api/v2/search", params={"q": f"@anna@{stad.domain}", "resolve": "true",
                                               "type": "accounts"}).json()["accounts"]
    assert found and found[0]["acct"] == f"anna@{stad.domain}"
    assert bert.post(f"/api/v1/accounts/{found[0]['id']}/follow").status_code == 200
    eventually(lambda: bert.get("/api/v1/accounts/relationships", params={"id[]": found[0]["id"]}).json()[0],
               lambda r: r["following"], what="the Accept of bert's follow")
    post = anna.post("/api/v1/statuses", json={"status": "Spreekuur in authorized-fetch modus"}).json()
    home = eventually(lambda: bert.get("/api/v1/timelines/home").json(),
                      lambda tl: any(s["uri"] == post["uri"] for s in tl), what="anna's post at bert's node")
    copy = next(s for s in home if s["uri"] == post["uri"])
    bert.post("/api/v1/statuses", json={"status": f"@anna@{stad.domain} Dank!", "in_reply_to_id": copy["id"]})
    eventually(lambda: anna.get(f"/api/v1/statuses/{post['id']}/context").json(),
               lambda c: len(c["descendants"]) == 1, what="bert's reply in anna's thread")


def _person_key(node: Node, username: str) -> Any:
    pem = scalar(node.database_url, "SELECT k.private_key_pem FROM actor_keys k JOIN accounts a ON a.id = k.account_id "
                                    "WHERE a.username = $1 AND a.domain IS NULL", username)
    return signatures.load_private_key(pem)


def _get_as(url: str, node: Node, username: str, key: Any, etag: str = "") -> httpx.Response:
    headers = {"Accept": "application/activity+json"} | ({"If-None-Match": etag} if etag else {})
    headers.update(signatures.sign_request_cavage("GET", url, headers, None, key,
                                                  f"{node.url}/users/{username}#main-key", datetime.now(UTC)))
    return httpx.get(url, headers=headers)


def test_the_read_cache_answers_each_signer_as_the_visibility_rule_does(stad: Node, dorp: Node) -> None:
    """A signer's public document is kept under the signer's key and revalidates with If-None-Match; a follower-only
    post is never kept (the follower's Undo, which makes no outbox event here, ends its access at once); the
    author's block drops what the blocked signer was answered."""
    anna, bert = api(stad, "anna"), api(dorp, "bert")
    anna_at_dorp = bert.get("/api/v2/search", params={"q": f"@anna@{stad.domain}", "resolve": "true",
                                                      "type": "accounts"}).json()["accounts"][0]["id"]
    assert bert.post(f"/api/v1/accounts/{anna_at_dorp}/follow").status_code == 200
    eventually(lambda: bert.get("/api/v1/accounts/relationships", params={"id[]": anna_at_dorp}).json()[0],
               lambda r: r["following"], what="the Accept of bert's follow")
    public = anna.post("/api/v1/statuses", json={"status": "Voor iedereen", "visibility": "public"}).json()
    private = anna.post("/api/v1/statuses", json={"status": "Alleen volgers", "visibility": "private"}).json()
    public_url, private_url = (f"{stad.url}/users/anna/statuses/{p['id']}" for p in (public, private))
    key = _person_key(dorp, "bert")

    first = _get_as(public_url, dorp, "bert", key)
    assert first.status_code == 200 and "<p>Voor iedereen</p>" in first.json()["content"]
    assert "private" in first.headers["cache-control"] and "Signature" in first.headers["vary"]
    again = _get_as(public_url, dorp, "bert", key)
    assert again.headers["etag"] == first.headers["etag"] and again.content == first.content
    assert _get_as(public_url, dorp, "bert", key, etag=first.headers["etag"]).status_code == 304
    assert _get_as(private_url, dorp, "bert", key).status_code == 200

    assert bert.post(f"/api/v1/accounts/{anna_at_dorp}/unfollow").status_code == 200
    eventually(lambda: _get_as(private_url, dorp, "bert", key).status_code, lambda status: status == 404,
               what="the follower-only post refused after the Undo (never served from a kept copy)")

    bert_at_stad = anna.get("/api/v2/search", params={"q": f"@bert@{dorp.domain}", "resolve": "true",
                                                      "type": "accounts"}).json()["accounts"][0]["id"]
    assert anna.post(f"/api/v1/accounts/{bert_at_stad}/block").status_code == 200
    eventually(lambda: _get_as(public_url, dorp, "bert", key).status_code, lambda status: status == 404,
               timeout=5, what="the public post refused to the blocked signer")
    assert signed_get(public_url, dorp, instance_key(dorp)).status_code == 200  # the other signer still gets it
    assert anna.post(f"/api/v1/accounts/{bert_at_stad}/unblock").status_code == 200
