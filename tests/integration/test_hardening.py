"""A node under hostile input: body size and JSON depth limits on every kind of endpoint, a throttled sign-in that
says when to come back, and the security headers on every kind of response. One real node process."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from server import limits
from tests import factories
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

TOO_BIG = limits.MAX_BODY + 1


def token_for(node: Node, username: str, scopes: str = "read write follow") -> str:
    result = node.cli("token", "create", "--username", username, "--scopes", scopes)
    assert result.code == 0, result.err
    return result.out.strip()


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede")
    return node


@pytest.fixture(scope="module")
def anna(ede: Node) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ede.url, headers={"Authorization": f"Bearer {token_for(ede, 'anna')}"},
                      timeout=60) as client:
        yield client


def count(node: Node, table: str) -> int:
    return int(scalar(node.database_url, f"SELECT count(*) FROM {table}"))


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body without Content-Length: httpx sends it chunked, so only counting while it streams can stop it."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"a" * piece


def test_bodies_above_the_limit_are_413_on_every_kind_of_endpoint(ede: Node, anna: httpx.Client) -> None:
    before = count(ede, "posts")
    big_json = json.dumps({"status": "x" * TOO_BIG}).encode()
    response = anna.post("/api/v1/statuses", content=big_json, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "larger than" in response.json()["error"]
    response = anna.post("/api/v1/statuses", content=chunks(TOO_BIG * 2),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413, response.text
    assert httpx.post(f"{ede.url}/oauth/token", content=chunks(TOO_BIG),
                      headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 413
    web = WebClient(ede.url)
    assert web.login("anna", factories.PASSWORD).status_code == 303
    assert web.http.post("/compose", content=b"text=" + b"a" * TOO_BIG,
                         headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 413
    streamed = web.http.post("/compose", content=chunks(TOO_BIG),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert streamed.status_code == 413
    assert count(ede, "posts") == before
    # The inbox keeps its own, smaller limit.
    assert httpx.post(f"{ede.url}/inbox", content=chunks(300 * 1024),
                      headers={"Content-Type": "application/activity+json"}).status_code == 413


def test_media_uploads_get_a_larger_cap_but_not_an_endless_one(ede: Node, anna: httpx.Client) -> None:
    noise = Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3))  # noise does not compress
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert buffer.tell() > limits.MAX_BODY  # above the 1 MiB of other endpoints
    before = count(ede, "media_attachments")
    response = anna.post("/api/v2/media", files={"file": ("bord.png", buffer.getvalue(), "image/png")})
    assert response.status_code in (200, 202), response.text
    def endless_file() -> Iterator[bytes]:
        yield (b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
               b"Content-Type: image/png\r\n\r\n")
        yield from chunks(17 * 1024 * 1024 + limits.UPLOAD_OVERHEAD)

    huge = anna.post("/api/v1/media", content=endless_file(),
                     headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert huge.status_code == 413
    assert count(ede, "media_attachments") == before + 1


@pytest.mark.parametrize("depth", [33, 5000, 200_000])
def test_json_nested_too_deeply_is_400_and_stores_nothing(ede: Node, anna: httpx.Client, depth: int) -> None:
    before = count(ede, "posts")
    deep = "[" * depth + "]" * depth
    body = f'{{"status": "diep", "extra": {deep}}}'.encode()
    if len(body) <= limits.MAX_BODY:
        response = anna.post("/api/v1/statuses", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and "nested" in response.json()["error"], response.text
        token = httpx.post(f"{ede.url}/oauth/token", content=body, headers={"Content-Type": "application/json"})
        assert token.status_code == 400 and "nested" in token.json()["error_description"], token.text
    inbox_body = f'{{"type": "Create", "object": {deep}}}'.encode()
    if len(inbox_body) <= 256 * 1024:
        refused = httpx.post(f"{ede.url}/inbox", content=inbox_body,
                             headers={"Content-Type": "application/activity+json"})
        assert refused.status_code == 400 and "nested" in refused.json()["error"], refused.text
    assert count(ede, "posts") == before


def test_json_within_the_depth_limit_still_works(anna: httpx.Client) -> None:
    response = anna.post("/api/v1/statuses", json={"status": "Ondiep genoeg", "poll_ignored": [[[["x"]]]]})
    assert response.status_code == 200, response.text


def test_throttled_sign_in_is_429_with_retry_after_and_the_message(ede: Node) -> None:
    factories.person(ede, "doelwit")
    client = WebClient(ede.url, language="en")
    statuses = [client.login("doelwit", f"wrong-{i}").status_code for i in range(5)]
    assert statuses == [422] * 5
    blocked = client.login("doelwit", factories.PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) == 900  # --login-window-seconds
    assert "Too many failed sign-ins" in blocked.text


def assert_security_headers(response: httpx.Response, *, https: bool = False) -> None:
    headers = response.headers
    csp = headers["content-security-policy"]
    for directive in ("frame-ancestors 'none'", "script-src 'self'", "object-src 'none'", "base-uri 'none'"):
        assert directive in csp, (response.url, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert headers["x-frame-options"] == "DENY"
    if https:
        assert headers["strict-transport-security"].startswith("max-age=")
    else:
        assert "strict-transport-security" not in headers


def test_security_headers_on_pages_api_activitypub_errors_and_refusals(ede: Node, anna: httpx.Client) -> None:
    responses = [
        httpx.get(f"{ede.url}/"),
        httpx.get(f"{ede.url}/@anna"),
        anna.get("/api/v1/accounts/verify_credentials"),
        httpx.get(f"{ede.url}/users/anna", headers={"Accept": "application/activity+json"}),
        httpx.get(f"{ede.url}/no-such-page"),
        httpx.get(f"{ede.url}/api/v1/no-such-thing"),
        httpx.post(f"{ede.url}/inbox", content=chunks(300 * 1024), headers={"Content-Type": "application/json"}),
        anna.post("/api/v1/statuses", content=chunks(TOO_BIG), headers={"Content-Type": "application/json"}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404, 404, 413, 413]
    for response in responses:
        assert_security_headers(response)


def test_hsts_only_over_https(ede: Node) -> None:
    """Behind a TLS proxy (trusted, --trusted-proxies) the scheme is https, and only then is HSTS sent."""
    for path in ("/", "/api/v1/instance", "/no-such-page"):
        assert_security_headers(httpx.get(f"{ede.url}{path}", headers={"X-Forwarded-Proto": "https"}), https=True)
        assert_security_headers(httpx.get(f"{ede.url}{path}"), https=False)


@pytest.mark.parametrize("path", ["/@%00", "/tags/a%00", "/orgs/%00", "/users/%00", "/api/v1/timelines/tag/%00",
                                  "/search?q=%00", "/api/v1/accounts/lookup?acct=%00", "/login?next=%00"])
def test_a_nul_in_the_address_is_400_everywhere(ede: Node, path: str) -> None:
    response = httpx.get(f"{ede.url}{path}")
    assert response.status_code == 400, response.text
    assert_security_headers(response)


def test_text_postgresql_cannot_store_is_refused_with_a_reason(ede: Node, anna: httpx.Client) -> None:
    for path, body in (("/api/v1/statuses", b'{"status": "a\\ud800"}'),
                       ("/api/v1/apps", b'{"client_name": "\\u0000", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}')):
        response = anna.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422 and "cannot be stored" in response.json()["error"], response.text
    response = anna.patch("/api/v1/accounts/update_credentials", data={"display_name": "Anna\x00"})
    assert response.status_code == 422
    web = WebClient(ede.url, language="en")
    assert web.login("anna", factories.PASSWORD).status_code == 303
    page = web.post("/settings", {"display_name": "Anna\x00", "bio": ""})
    assert page.status_code == 422 and "niet kan worden opgeslagen" in page.text  # anna reads Dutch
    assert web.login("anna\x00", "x").status_code == 422
