"""Issue 11's findings 5 and 6 and the OAuth part of 8, as the outside tester tried them against a real node:
a code without PKCE redeemed without the client secret, the sign-in throttle dodged with '@' prefixes, and an
app website that is a `javascript:` link. The legitimate flows are checked beside each attack.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from server.sessions import sign_in_name
from tests import factories
from tests.helpers.nodes import Node
from tests.helpers.oauth import authorize
from tests.helpers.web import WebClient

OOB = "urn:ietf:wg:oauth:2.0:oob"


@pytest.fixture(scope="module")
def people(node: Node) -> Iterator[Node]:
    for name in ("anna", "bert", "carla"):
        factories.person(node, name)
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


def _refused(answer: httpx.Response, status: int, error: str) -> None:
    """An RFC 6749 refusal: the status, the error code, a description, and no token."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error and body["error_description"] and "access_token" not in body, body


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


def test_every_grant_authenticates_the_client(people: Node) -> None:
    """The same bypass looked for in the other grants: a refresh token or client_credentials without the secret."""
    app = _app(people)
    tokens = _exchange(people, app, _code(people, app), client_secret=app["client_secret"]).json()
    _refused(httpx.post(f"{people.url}/oauth/token", data={"grant_type": "refresh_token", "client_id": app["client_id"],
                                                           "refresh_token": tokens["refresh_token"]}),
             401, "invalid_client")
    _refused(httpx.post(f"{people.url}/oauth/token", data={"grant_type": "refresh_token", "client_id": app["client_id"],
                                                           "refresh_token": tokens["refresh_token"],
                                                           "code_verifier": "x" * 50}), 401, "invalid_client")
    _refused(httpx.post(f"{people.url}/oauth/token", data={"grant_type": "client_credentials",
                                                           "client_id": app["client_id"], "scope": "read"}),
             401, "invalid_client")
    # Another app's secret does not refresh this app's token.
    other = _app(people)
    _refused(httpx.post(f"{people.url}/oauth/token", data={
        "grant_type": "refresh_token", "client_id": other["client_id"], "client_secret": other["client_secret"],
        "refresh_token": tokens["refresh_token"]}), 400, "invalid_grant")
    # The legitimate refresh, with the secret: a new pair, the old access token stops working.
    refreshed = httpx.post(f"{people.url}/oauth/token", data={
        "grant_type": "refresh_token", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != tokens["access_token"]
    assert httpx.get(f"{people.url}/api/v1/accounts/verify_credentials",
                     headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401


def test_a_code_is_bound_to_its_client_and_redirect_uri_and_spent_once(people: Node) -> None:
    app, other = _app(people), _app(people)
    verifier, challenge = _pkce()
    # Another registered client, with its own secret or with the verifier, cannot redeem this app's code.
    _refused(_exchange(people, other, _code(people, app), client_secret=other["client_secret"]), 400, "invalid_grant")
    _refused(_exchange(people, other, _code(people, app, challenge), code_verifier=verifier), 400, "invalid_grant")
    # The redirect_uri must be sent and be the one the code was issued for (RFC 6749 4.1.3; Mastodon requires it).
    _refused(httpx.post(f"{people.url}/oauth/token", data={
        "grant_type": "authorization_code", "code": _code(people, app), "client_id": app["client_id"],
        "client_secret": app["client_secret"]}), 400, "invalid_request")
    _refused(_exchange(people, app, _code(people, app), client_secret=app["client_secret"],
                       redirect_uri="https://elders.example/"), 400, "invalid_grant")
    code = _code(people, app, challenge)
    assert _exchange(people, app, code, code_verifier=verifier).status_code == 200
    _refused(_exchange(people, app, code, code_verifier=verifier), 400, "invalid_grant")


def test_pkce_is_s256_only_and_a_bad_verifier_is_refused_not_a_crash(people: Node) -> None:
    """The metadata promises S256 only: plain, and a challenge without a method (which RFC 7636 reads as plain),
    are refused on the authorize page; so is a challenge that no S256 verifier can produce."""
    metadata = httpx.get(f"{people.url}/.well-known/oauth-authorization-server").json()
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    app = _app(people)
    person = WebClient(people.url, language="en")
    assert person.login("anna", factories.PASSWORD).status_code == 303
    query = {"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code", "scope": "read"}
    verifier, challenge = _pkce()
    for bad in ({"code_challenge": verifier, "code_challenge_method": "plain"}, {"code_challenge": challenge},
                {"code_challenge": "kort", "code_challenge_method": "S256"},
                {"code_challenge": challenge[:-1] + "=", "code_challenge_method": "S256"}):
        page = person.get(f"/oauth/authorize?{urlencode(query | bad)}")
        assert page.status_code == 422 and "code_challenge" in page.text, (bad, page.text[:300])
    # A verifier outside RFC 7636's alphabet is invalid_grant, not a server error.
    for odd in ("é" * 50, "x" * 20, "x" * 200):
        _refused(_exchange(people, app, _code(people, app, challenge), code_verifier=odd), 400, "invalid_grant")


def test_sign_in_names_have_one_spelling() -> None:
    domain = "ede.example"
    for spelling in ("bert", "@bert", "@@bert", " BERT ", "@Bert@ede.example", "bert@EDE.EXAMPLE", "\uff42ert"):
        assert sign_in_name(spelling, domain) == "bert", spelling
    assert sign_in_name("bert@elders.example", domain) == "bert@elders.example"


def test_guesses_sent_at_once_share_the_throttle(people: Node) -> None:
    """Ten wrong passwords for one account sent together, from an address of their own: at most five are tried
    (the counter is checked and raised in one step, not read by all ten before any of them wrote)."""
    http = httpx.Client(base_url=people.url, timeout=60, transport=httpx.HTTPTransport(local_address="127.0.0.7"))
    csrf = WebClient(people.url).csrf_token()
    http.cookies.set("ao_csrf", csrf)

    def guess(spelling: str) -> int:
        return http.post("/login", data={"username": spelling, "password": "fout-wachtwoord", "next": "/",
                                         "csrf_token": csrf}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(guess, ["carla", "@carla", "Carla", "@@carla", " carla"] * 2))
    assert sorted(answers) == [422] * 5 + [429] * 5, answers
    # The right password waits too, also when the sign-in comes from an app's authorize page.
    app = _app(people)
    query = urlencode({"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code", "scope": "read"})
    person = WebClient(people.url)
    first = person.get(f"/oauth/authorize?{query}")
    next_url = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
    assert person.post("/login", {"username": "@carla", "password": factories.PASSWORD,
                                  "next": next_url}).status_code == 429
    http.close()
