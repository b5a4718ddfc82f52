"""Issue 11's findings 5 and 6 and the OAuth part of 8, as the outside tester tried them against a real node:
a code without PKCE redeemed without the client secret, the sign-in throttle dodged with '@' prefixes, and an
app website that is a `javascript:` link. The legitimate flows are checked beside each attack.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from tests import factories
from tests.helpers.nodes import Node
from tests.helpers.oauth import authorize
from tests.helpers.web import WebClient

OOB = "urn:ietf:wg:oauth:2.0:oob"


@pytest.fixture(scope="module")
def people(node: Node) -> Iterator[Node]:
    factories.person(node, "anna")
    factories.person(node, "bert")
    yield node


def _app(node: Node, website: str = "") -> dict[str, str]:
    answer = httpx.post(f"{node.url}/api/v1/apps", data={"client_name": "Proef", "redirect_uris": OOB,
                                                         "scopes": "read write", "website": website})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _code(node: Node, app: dict[str, str], challenge: str | None = None) -> str:
    query = {"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code", "scope": "read write"}
    if challenge:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return authorize(node.url, f"{node.url}/oauth/authorize?{urlencode(query)}", "anna", factories.PASSWORD)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _exchange(node: Node, app: dict[str, str], code: str, **extra: str) -> httpx.Response:
    return httpx.post(f"{node.url}/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                        "client_id": app["client_id"], "redirect_uri": OOB, **extra})


def test_a_code_without_pkce_needs_the_client_secret(people: Node) -> None:
    """Before: authorize without code_challenge, then POST /oauth/token with the code and any code_verifier and no
    client_secret: a token for read write."""
    app = _app(people)
    stolen = _exchange(people, app, _code(people, app), code_verifier="x" * 50)
    assert stolen.status_code == 401 and stolen.json()["error"] == "invalid_client", stolen.text
    # With the secret, a verifier for a code issued without a challenge is refused too (PKCE cannot be stripped).
    mixed = _exchange(people, app, _code(people, app), code_verifier="x" * 50, client_secret=app["client_secret"])
    assert mixed.status_code == 400 and mixed.json()["error"] == "invalid_grant", mixed.text
    # The legitimate flows: a confidential client with its secret; a public client with PKCE and no secret.
    confidential = _exchange(people, app, _code(people, app), client_secret=app["client_secret"])
    assert confidential.status_code == 200 and confidential.json()["access_token"]
    verifier, challenge = _pkce()
    public = _exchange(people, app, _code(people, app, challenge), code_verifier=verifier)
    assert public.status_code == 200 and public.json()["scope"] == "read write"
    # A PKCE code with a wrong verifier and no secret proves nothing either.
    _, other_challenge = _pkce()
    wrong = _exchange(people, app, _code(people, app, other_challenge), code_verifier=verifier)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant", wrong.text
    assert "access_token" not in wrong.text
    no_verifier = _exchange(people, app, _code(people, app, challenge), client_secret=app["client_secret"])
    assert no_verifier.status_code == 400, no_verifier.text


def test_the_sign_in_throttle_counts_every_spelling_of_a_name_once(people: Node) -> None:
    """Before: 'bert', '@bert' and '@@bert' each had their own five tries, while the lookup stripped the '@'."""
    guesser = WebClient(people.url, language="en")
    spellings = ["bert", "@bert", "@@bert", "BERT", f"bert@{people.domain}", " @Bert "]
    answers = [guesser.post("/login", {"username": spelling, "password": "fout-wachtwoord", "next": "/"}).status_code
               for spelling in spellings]
    assert answers[:5] == [422] * 5 and answers[5] == 429, answers
    # The right password is refused now too, whatever the spelling: the account itself is paused.
    blocked = guesser.post("/login", {"username": "@@@bert", "password": factories.PASSWORD, "next": "/"})
    assert blocked.status_code == 429 and blocked.headers["retry-after"]
    # Another account is not affected.
    assert WebClient(people.url).login("anna", factories.PASSWORD).status_code == 303


def test_an_app_website_must_be_an_http_address(people: Node) -> None:
    """Before: POST /api/v1/apps accepted website=javascript:..., which the consent page showed as a link."""
    for bad in ("javascript:alert(document.domain)", "data:text/html,<script>1</script>", "//evil.example", "ftp://x"):
        answer = httpx.post(f"{people.url}/api/v1/apps", data={"client_name": "Kwaad", "redirect_uris": OOB,
                                                               "website": bad})
        assert answer.status_code == 422 and "website" in answer.text, (bad, answer.text)
    assert _app(people, "https://app.example.org/")["website"] == "https://app.example.org/"
