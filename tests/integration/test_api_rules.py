"""The client API's rules as apps meet them: status codes, scopes, OAuth edge cases, bodies, paging, limits."""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from PIL import Image

from tests import factories
from tests.helpers.database import TestPostgres, scalar
from tests.helpers.nodes import Node
from tests.helpers.oauth import authorize
from tests.helpers.web import WebClient


def token_for(node: Node, username: str, scopes: str = "read write follow") -> str:
    result = node.cli("token", "create", "--username", username, "--scopes", scopes)
    assert result.code == 0, result.err
    return result.out.strip()


def client(node: Node, token: str) -> httpx.Client:
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede")
    factories.person(node, "bert")
    return node


@pytest.fixture(scope="module")
def anna(ede: Node) -> Iterator[httpx.Client]:
    with client(ede, token_for(ede, "anna")) as c:
        yield c


def posts_count(node: Node) -> int:
    return int(scalar(node.database_url, "SELECT count(*) FROM posts"))


def test_unknown_ids_are_404_with_a_json_error(anna: httpx.Client) -> None:
    for path in ("/api/v1/statuses/123", "/api/v1/statuses/abc", "/api/v1/accounts/99999",
                 "/api/v1/notifications/5", "/api/v1/statuses/99999999999999999999999", "/api/v1/nothing-here"):
        response = anna.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"error": "Record not found"}
    assert anna.post("/api/v1/statuses/123/favourite").status_code == 404


def test_missing_scope_is_403_and_writes_nothing(ede: Node) -> None:
    with client(ede, token_for(ede, "anna", "read")) as reader:
        before = posts_count(ede)
        response = reader.post("/api/v1/statuses", data={"status": "mag niet"})
        assert response.status_code == 403
        assert response.json()["error"] == "This action is outside the authorized scopes"
        assert posts_count(ede) == before
        assert reader.get("/api/v1/timelines/home").status_code == 200
    with client(ede, token_for(ede, "anna", "write:statuses")) as writer:
        assert writer.post("/api/v1/statuses", data={"status": "granulair"}).status_code == 200
        assert writer.get("/api/v1/timelines/home").status_code == 403


def test_invalid_and_revoked_tokens_are_401(ede: Node) -> None:
    response = httpx.get(f"{ede.url}/api/v1/accounts/verify_credentials",
                         headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json() == {"error": "The access token is invalid"}
    assert httpx.get(f"{ede.url}/api/v1/timelines/home").status_code == 401
    token = token_for(ede, "anna")
    token_id = [line.split("\t")[0] for line in ede.cli("token", "list").out.splitlines()
                if line.split("\t")[1] == "anna"][-1]  # the newest: the one just made
    assert httpx.get(f"{ede.url}/api/v1/accounts/verify_credentials",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert ede.cli("token", "revoke", "--id", token_id).code == 0
    assert httpx.get(f"{ede.url}/api/v1/accounts/verify_credentials",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 401
    remaining = [line for line in ede.cli("token", "list").out.splitlines() if line.startswith(token_id)]
    assert remaining == []
    assert ede.cli("token", "revoke", "--id", token_id).code == 1


@pytest.mark.parametrize("body, message", [
    ({"status": ""}, "A post needs some text."),
    ({"status": "x" * 501}, "at most 500 characters"),
    ({"status": "hoi", "visibility": "everyone"}, "visibility must be"),
    ({"status": "hoi", "voice": "shout"}, "voice must be"),
    ({"status": "hoi", "media_ids[]": "12345"}, "media_ids is unknown"),
    ({"status": "hoi", "poll[options][]": "ja"}, "poll[expires_in] must be a number of seconds"),
    ({"status": "hoi", "poll[options][]": "ja", "poll[expires_in]": "600"}, "at least two options"),
    ({"status": "hoi", "scheduled_at": "volgende week"}, "scheduled_at must be an ISO 8601 date and time"),
])
def test_invalid_parameters_are_422_with_the_reason_and_nothing_is_written(ede: Node, anna: httpx.Client,
                                                                          body: dict[str, str], message: str) -> None:
    before = posts_count(ede)
    response = anna.post("/api/v1/statuses", data=body)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]
    assert posts_count(ede) == before


def test_errors_speak_dutch_when_asked(anna: httpx.Client) -> None:
    response = anna.post("/api/v1/statuses", data={"status": ""}, headers={"Accept-Language": "nl"})
    assert response.json()["error"] == "Een bericht heeft tekst nodig."


def test_non_member_official_voice_is_403(ede: Node) -> None:
    with client(ede, token_for(ede, "bert")) as bert:
        before = posts_count(ede)
        response = bert.post("/api/v1/statuses", json={"status": "namens?", "voice": "official"})
        assert response.status_code == 403 and "Only members" in response.json()["error"]
        assert posts_count(ede) == before


def test_json_form_and_multipart_bodies_are_all_accepted(anna: httpx.Client) -> None:
    as_json = anna.post("/api/v1/statuses", json={"status": "json", "visibility": "unlisted", "sensitive": True,
                                                  "spoiler_text": "let op"})
    as_form = anna.post("/api/v1/statuses", data={"status": "form", "visibility": "private", "sensitive": "1"})
    as_multipart = anna.post("/api/v1/statuses", files={"status": (None, "multipart"), "visibility": (None, "direct")})
    assert [r.status_code for r in (as_json, as_form, as_multipart)] == [200, 200, 200]
    assert (as_json.json()["visibility"], as_json.json()["spoiler_text"]) == ("unlisted", "let op")
    assert as_form.json()["visibility"] == "private" and as_multipart.json()["visibility"] == "direct"
    assert anna.post("/api/v1/statuses", content=b"{not json", headers={"Content-Type": "application/json"}
                     ).status_code == 400
    deep: dict[str, object] = {}
    for _ in range(50):
        deep = {"x": deep}
    assert anna.post("/api/v1/statuses", json={"status": "diep", "extra": deep}).status_code == 400  # as Mastodon


def test_media_upload_with_alt_text_and_post(ede: Node, anna: httpx.Client) -> None:
    png = io.BytesIO()
    Image.new("RGB", (800, 600), (0, 90, 160)).save(png, "PNG")
    uploaded = anna.post("/api/v2/media", files={"file": ("water.png", png.getvalue(), "image/png")},
                         data={"description": "Waterstand bij de sluis"})
    assert uploaded.status_code == 200, uploaded.text
    media = uploaded.json()
    assert media["type"] == "image" and media["meta"]["original"]["width"] == 800
    assert media["meta"]["small"]["width"] == 640 and media["blurhash"]
    assert httpx.get(media["url"]).headers["content-type"] == "image/png"
    changed = anna.put(f"/api/v1/media/{media['id']}", data={"description": "Peil 10,2 m NAP"})
    assert changed.json()["description"] == "Peil 10,2 m NAP"
    post = anna.post("/api/v1/statuses", data={"status": "Peilmeting", "media_ids[]": media["id"]})
    assert post.json()["media_attachments"][0]["description"] == "Peil 10,2 m NAP"
    again = anna.post("/api/v1/statuses", data={"status": "Nog eens", "media_ids[]": media["id"]})
    assert again.status_code == 422
    not_image = anna.post("/api/v2/media", files={"file": ("x.png", b"<svg onload=alert(1)>", "image/png")})
    assert not_image.status_code == 422 and "not an image" in not_image.json()["error"]
    assert anna.post("/api/v2/media", data={"description": "zonder bestand"}).status_code == 422


def test_pagination_links_go_both_ways(anna: httpx.Client) -> None:
    ids = [anna.post("/api/v1/statuses", data={"status": f"pagina {i}"}).json()["id"] for i in range(5)]
    first = anna.get("/api/v1/timelines/home", params={"limit": 2})
    assert [s["id"] for s in first.json()] == ids[:-3:-1]
    links = first.links
    older = anna.get(links["next"]["url"])
    assert [s["id"] for s in older.json()] == [ids[2], ids[1]]
    newer = anna.get(older.links["prev"]["url"])
    assert [s["id"] for s in newer.json()] == [ids[4], ids[3]]
    assert anna.get("/api/v1/timelines/home", params={"since_id": ids[3]}).json()[0]["id"] == ids[4]
    assert anna.get("/api/v1/timelines/home", params={"limit": "veel"}).status_code == 422


def test_cors_and_rate_limit_headers(anna: httpx.Client, ede: Node) -> None:
    preflight = httpx.options(f"{ede.url}/api/v1/statuses", headers={
        "Origin": "https://elk.zone", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    response = anna.get("/api/v1/timelines/home", headers={"Origin": "https://elk.zone"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert int(response.headers["x-ratelimit-limit"]) == 300
    assert int(response.headers["x-ratelimit-remaining"]) < 300
    assert "Link" in response.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in httpx.get(f"{ede.url}/login").headers


def test_rate_limit_answers_429_with_retry_after(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory
                                                 ) -> None:
    limited = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("limited"),
                   extra_env={"AMBTENAAR_API_RATE_LIMIT": "3"}).start()
    try:
        statuses = [httpx.get(f"{limited.url}/api/v1/timelines/public").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        blocked = httpx.get(f"{limited.url}/api/v1/timelines/public")
        assert int(blocked.headers["retry-after"]) >= 1 and blocked.json() == {"error": "Too many requests"}
    finally:
        limited.stop()


def register(node: Node, redirect_uri: str = "urn:ietf:wg:oauth:2.0:oob", scopes: str = "read write") -> dict:  # type: ignore[type-arg]
    response = httpx.post(f"{node.url}/api/v1/apps", json={"client_name": "Test-app", "redirect_uris": redirect_uri,
                                                           "scopes": scopes, "website": "https://app.example"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def authorize_url(node: Node, app: dict, **extra: str) -> str:  # type: ignore[type-arg]
    query = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": app["redirect_uri"],
             "scope": "read write", **extra}
    return f"{node.url}/oauth/authorize?{urlencode(query)}"


def test_pkce_public_client_and_code_reuse(ede: Node) -> None:
    app = register(ede, "https://app.example/callback")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    location = authorize(ede.url, authorize_url(ede, app, state="xyz", code_challenge=challenge,
                                                code_challenge_method="S256"), "anna", factories.PASSWORD)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith("https://app.example/callback?") and query["state"] == ["xyz"]
    code = query["code"][0]
    exchange = {"grant_type": "authorization_code", "client_id": app["client_id"], "code": code,
                "redirect_uri": "https://app.example/callback"}
    wrong = httpx.post(f"{ede.url}/oauth/token", data={**exchange, "code_verifier": "x" * 50})
    assert wrong.status_code == 400
    granted = httpx.post(f"{ede.url}/oauth/token", data={**exchange, "code_verifier": verifier})
    assert wrong.json()["error"] == "invalid_grant"
    # The failed attempt already spent the code: a code is good for one exchange only.
    assert granted.status_code == 400
    location = authorize(ede.url, authorize_url(ede, app, code_challenge=challenge, code_challenge_method="S256"),
                         "anna", factories.PASSWORD)
    code = parse_qs(urlsplit(location).query)["code"][0]
    ok = httpx.post(f"{ede.url}/oauth/token", data={**exchange, "code": code, "code_verifier": verifier})
    assert ok.status_code == 200 and ok.json()["scope"] == "read write"
    reuse = httpx.post(f"{ede.url}/oauth/token", data={**exchange, "code": code, "code_verifier": verifier})
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"


def test_deny_redirects_with_access_denied(ede: Node) -> None:
    app = register(ede, "https://app.example/callback")
    location = authorize(ede.url, authorize_url(ede, app, state="s1"), "anna", factories.PASSWORD, allow=False)
    assert parse_qs(urlsplit(location).query) == {"error": ["access_denied"], "state": ["s1"]}


def test_authorize_refuses_bad_requests_on_the_page(ede: Node) -> None:
    app = register(ede, "https://app.example/callback", scopes="read")
    person = WebClient(ede.url, language="en")
    assert person.get("/oauth/authorize?client_id=unknown&redirect_uri=x").status_code == 422
    bad_redirect = person.get("/oauth/authorize?" + urlencode({"client_id": app["client_id"],
                                                               "redirect_uri": "https://evil.example/"}))
    assert bad_redirect.status_code == 422 and "redirect_uri" in bad_redirect.text
    too_much = person.get("/oauth/authorize?" + urlencode({"client_id": app["client_id"], "scope": "read write",
                                                           "redirect_uri": "https://app.example/callback"}))
    assert too_much.status_code == 422
    assert httpx.post(f"{ede.url}/api/v1/apps", data={"client_name": "x", "redirect_uris": "javascript:alert(1)"}
                      ).status_code == 422
    assert httpx.post(f"{ede.url}/api/v1/apps", data={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                                      "scopes": "read admin:everything"}).status_code == 422


def test_client_credentials_refresh_and_revoke(ede: Node) -> None:
    app = register(ede)
    secret = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    app_token = httpx.post(f"{ede.url}/oauth/token", data={"grant_type": "client_credentials", "scope": "read",
                                                           **secret}).json()["access_token"]
    with client(ede, app_token) as as_app:
        assert as_app.get("/api/v1/apps/verify_credentials").json()["name"] == "Test-app"
        assert as_app.get("/api/v1/timelines/public").status_code == 200
        assert as_app.get("/api/v1/accounts/verify_credentials").status_code == 422
    wrong_secret = httpx.post(f"{ede.url}/oauth/token", data={"grant_type": "client_credentials",
                                                              "client_id": app["client_id"], "client_secret": "x"})
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    assert httpx.post(f"{ede.url}/oauth/token", data={"grant_type": "password", **secret}).json()["error"] == \
        "unsupported_grant_type"

    code = authorize(ede.url, authorize_url(ede, app), "anna", factories.PASSWORD)
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    tokens = httpx.post(f"{ede.url}/oauth/token", headers={"Authorization": f"Basic {basic}"},
                        data={"grant_type": "authorization_code", "code": code,
                              "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"}).json()
    refreshed = httpx.post(f"{ede.url}/oauth/token", data={"grant_type": "refresh_token",
                                                           "refresh_token": tokens["refresh_token"], **secret}).json()
    assert refreshed["access_token"] != tokens["access_token"]
    assert httpx.get(f"{ede.url}/api/v1/accounts/verify_credentials",
                     headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    with client(ede, refreshed["access_token"]) as person:
        assert person.get("/api/v1/accounts/verify_credentials").json()["username"] == "anna"
    assert httpx.post(f"{ede.url}/oauth/revoke", data={"token": refreshed["access_token"], **secret}).status_code == 200
    assert httpx.get(f"{ede.url}/api/v1/accounts/verify_credentials",
                     headers={"Authorization": f"Bearer {refreshed['access_token']}"}).status_code == 401
    hashed = scalar(ede.database_url, "SELECT count(*) FROM oauth_tokens WHERE token_hash = sha256(convert_to($1, "
                    "'UTF8'))", refreshed["access_token"])
    assert hashed == 1  # stored only as a hash


def test_server_metadata_and_token_listing_in_settings(ede: Node) -> None:
    metadata = httpx.get(f"{ede.url}/.well-known/oauth-authorization-server").json()
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert {"read", "write", "follow", "push", "profile", "write:statuses"} <= set(metadata["scopes_supported"])
    token_for(ede, "bert", "read")
    person = WebClient(ede.url, language="en")
    person.login("bert", factories.PASSWORD)
    assert "/settings/security#apps" in person.get("/settings").text
    page = person.get("/settings/security").text
    assert "ambtenaar CLI" in page and "Intrekken" in page  # the account speaks Dutch
    token_id = scalar(ede.database_url, "SELECT t.id FROM oauth_tokens t JOIN accounts a ON a.id = t.account_id "
                      "WHERE a.username = 'bert' AND t.revoked_at IS NULL ORDER BY t.id DESC LIMIT 1")
    assert person.post(f"/settings/tokens/{token_id}/revoke").status_code == 303
    assert scalar(ede.database_url, "SELECT revoked_at IS NOT NULL FROM oauth_tokens WHERE id = $1", token_id)
    assert scalar(ede.database_url, "SELECT detail->>'token' FROM audit_log WHERE action = 'token.revoked' "
                  "ORDER BY id DESC LIMIT 1") == str(token_id)
    assert person.post(f"/settings/tokens/{token_id}/revoke").status_code == 404  # once
