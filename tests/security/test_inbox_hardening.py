"""Issue 11's finding 8, the federation parts, against a real node and a hostile signed remote server: what a
failed key fetch tells the sender, signatures made for another server or without `host`, and a `contentMap`
whose key is not a language tag.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from federation import signatures
from tests import factories
from tests.helpers.database import scalar
from tests.helpers.nodes import Node, free_port
from tests.helpers.polling import eventually
from tests.helpers.xss import AS_PUBLIC, HostileServer
from tests.federation.conftest import token_for


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


def _like(actor: str, target: str) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/likes/{secrets.token_hex(6)}",
            "type": "Like", "actor": actor, "object": target}


def test_a_key_that_cannot_be_fetched_is_refused_without_saying_why(node: Node, hostile: HostileServer) -> None:
    """Before: the 401 carried the fetch error, which names what an internal host resolves to or refuses."""
    closed = f"http://127.0.0.9:{free_port('127.0.0.9')}/users/intern"
    for actor in (closed, "http://intranet.invalid/users/intern"):
        body = json.dumps(_like(actor, f"{node.url}/users/nobody/statuses/1")).encode()
        url = f"{node.url}/inbox"
        headers = {"Content-Type": "application/activity+json"}
        headers.update(signatures.sign_request_cavage("POST", url, headers, body, hostile.key, f"{actor}#main-key",
                                                      datetime.now(UTC)))
        answer = httpx.post(url, content=body, headers=headers, timeout=30)
        assert answer.status_code == 401
        assert answer.json()["error"] == f"the signing key {actor}#main-key could not be fetched", answer.text


def _signed_by_hand(hostile: HostileServer, actor: str, url: str, body: bytes, host: str,
                    covered: list[str]) -> dict[str, str]:
    headers = {"host": host, "date": signatures.http_date(datetime.now(UTC)),
               "digest": signatures.digest_header(body), "content-type": "application/activity+json"}
    text = signatures.cavage_signing_string("POST", "/inbox", headers, covered)
    signed = hostile.key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["signature"] = (f'keyId="{actor}#main-key",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
                            f'signature="{base64.b64encode(signed).decode()}"')
    return headers


def test_a_cavage_signature_must_cover_host_and_name_this_server(node: Node, hostile: HostileServer) -> None:
    """Before: a request signed for another server and replayed here with that server's Host was accepted."""
    factories.person(node, "hanna")
    post = httpx.post(f"{node.url}/api/v1/statuses", json={"status": "Doelwit", "voice": "personal"},
                      headers={"Authorization": f"Bearer {token_for(node, 'hanna')}"}).json()
    mallory = hostile.actor("replayer")
    url = f"{node.url}/inbox"
    replayed = json.dumps(_like(mallory, post["uri"])).encode()
    other = _signed_by_hand(hostile, mallory, url, replayed, "andere-server.example",
                            ["(request-target)", "host", "date", "digest"])
    answer = httpx.post(url, content=replayed, headers=other, timeout=30)
    assert answer.status_code == 401 and "signed for" in answer.json()["error"], answer.text
    no_host = json.dumps(_like(mallory, post["uri"])).encode()
    uncovered = _signed_by_hand(hostile, mallory, url, no_host, node.domain, ["(request-target)", "date", "digest"])
    answer = httpx.post(url, content=no_host, headers=uncovered, timeout=30)
    assert answer.status_code == 401 and "'host'" in answer.json()["error"], answer.text
    honest = json.dumps(_like(mallory, post["uri"])).encode()
    right = _signed_by_hand(hostile, mallory, url, honest, node.domain, ["(request-target)", "host", "date", "digest"])
    assert httpx.post(url, content=honest, headers=right, timeout=30).status_code == 202
    assert scalar(node.database_url, "SELECT count(*) FROM inbox_items WHERE actor_uri = $1", mallory) == 1


def test_a_content_map_key_that_is_no_language_tag_is_never_stored(node: Node, hostile: HostileServer) -> None:
    factories.person(node, "lotte")
    post = httpx.post(f"{node.url}/api/v1/statuses", json={"status": "Vraag aan de stad", "voice": "personal"},
                      headers={"Authorization": f"Bearer {token_for(node, 'lotte')}"}).json()
    writer = hostile.actor("taal")
    notes = {}
    for name, content_map in (("bad", {'nl"><script>alert(1)</script>': "Slecht", "en": "Fine"}),
                              ("worse", {"x" * 40: "Te lang", "<b>": "Geen taal"}),
                              ("good", {"NL-be": "Goed zo"})):
        note_id = f"{writer}/statuses/{name}-{secrets.token_hex(4)}"
        notes[name] = note_id
        activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity",
                    "type": "Create", "actor": writer, "to": [AS_PUBLIC], "object": {
                        "id": note_id, "type": "Note", "attributedTo": writer, "contentMap": content_map,
                        "inReplyTo": post["uri"], "to": [AS_PUBLIC], "published": datetime.now(UTC).isoformat()}}
        assert hostile.deliver(node, writer, activity).status_code == 202
    languages = eventually(lambda: {name: scalar(node.database_url, "SELECT language FROM posts WHERE uri = $1", uri)
                                    for name, uri in notes.items()},
                           until=lambda found: None not in found.values(), what="the three replies")
    assert languages == {"bad": "en", "worse": "und", "good": "nl-be"}
    page = httpx.get(f"{node.url}/@lotte/{post['id']}").text
    assert "<script>alert(1)" not in page and 'lang="nl&#34;' not in page
