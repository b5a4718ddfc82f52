"""Hypothesis against the client API's inputs on a real node: any JSON, form, multipart or raw body, deep nesting
and oversized bodies on the endpoints that write. Never a 500, and a refused request leaves nothing behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import limits
from tests import factories
from tests.helpers.database import TestPostgres, fetch, scalar
from tests.helpers.nodes import Node

# What each endpoint writes to, and the parameter names it reads (mixed with random ones below).
ENDPOINTS: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "statuses": ("POST", "/api/v1/statuses", ("posts", "post_mentions", "post_tags", "idempotency_keys"),
                 ("status", "spoiler_text", "visibility", "in_reply_to_id", "media_ids[]", "sensitive", "language",
                  "voice", "poll[options][]", "poll[expires_in]", "scheduled_at", "confirm")),
    "media": ("POST", "/api/v2/media", ("media_attachments",), ("file", "description", "focus", "thumbnail")),
    "update_credentials": ("PATCH", "/api/v1/accounts/update_credentials", ("accounts",),
                           ("display_name", "note", "locked", "bot", "discoverable", "source[privacy]",
                            "source[language]", "source[sensitive]", "fields_attributes[0][name]",
                            "fields_attributes[0][value]")),
    "oauth_token": ("POST", "/oauth/token", ("oauth_tokens", "oauth_codes"),
                    ("grant_type", "code", "client_id", "client_secret", "redirect_uri", "scope", "code_verifier",
                     "refresh_token", "username", "password")),
    "apps": ("POST", "/api/v1/apps", ("oauth_apps",), ("client_name", "redirect_uris", "scopes", "website")),
    "reports": ("POST", "/api/v1/reports", ("reports",), ("account_id", "status_ids[]", "comment", "forward",
                                                          "category", "rule_ids[]")),
}

TRICKY = st.text(alphabet=st.sampled_from(["a", " ", "\x00", "<", ">", '"', "'", "&", "\\", "\u202e", "\ud800",
                                          "\U0001f600", "\n"]), max_size=20)
SCALARS = (st.text(max_size=80) | TRICKY | st.text(alphabet=st.characters(codec="utf-8"), max_size=600) | st.integers()
           | st.booleans() | st.none() | st.floats(allow_nan=True)
           | st.sampled_from(["0", "1", "true", "public", "direct", "official", "personal", "nl", "\x00", "",
                              "authorization_code", "client_credentials", "refresh_token", "password",
                              "urn:ietf:wg:oauth:2.0:oob", "read write", "9" * 30, "-1", "@anna", "#tag"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10)


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """Its own node, with an API limit no fuzz run reaches (the limit itself is tested elsewhere)."""
    running = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("fuzz"),
                   extra_env={"AMBTENAAR_API_RATE_LIMIT": "1000000"}).start()
    factories.person(running, "anna", display_name="Anna")
    factories.person(running, "bert")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def anna(node: Node) -> Iterator[httpx.Client]:
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write follow").out.strip()
    assert token
    with httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        yield client


def snapshot(node: Node, tables: tuple[str, ...]) -> dict[str, Any]:
    """Row counts, and anna's whole account row (update_credentials changes a row rather than adding one)."""
    state: dict[str, Any] = {}
    for table in tables:
        exists = scalar(node.database_url, "SELECT to_regclass($1) IS NOT NULL", table)
        if table == "accounts":
            state[table] = fetch(node.database_url, "SELECT * FROM accounts WHERE username = 'anna'")
        elif exists:
            state[table] = scalar(node.database_url, f"SELECT count(*) FROM {table}")
    return state


def utf8(text: str) -> str:
    """A form is sent as UTF-8, which cannot carry a lone surrogate (JSON can, as an escape)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def body_for(encoding: str, params: dict[str, Any], depth: int, raw: bytes, raw_type: str
             ) -> tuple[bytes | dict[str, Any] | None, dict[str, str], dict[str, Any] | None]:
    """(content or form data, headers, files) for httpx."""
    if encoding == "json":
        text = json.dumps(params, default=str)
        if depth:
            text = text[:-1] + (", " if params else "") + '"deep": ' + "[" * depth + "]" * depth + "}"
        return text.encode(), {"Content-Type": "application/json"}, None
    if encoding == "raw":
        return raw, {"Content-Type": raw_type}, None
    form = {utf8(key): utf8(value if isinstance(value, str) else json.dumps(value, default=str))
            for key, value in params.items()}
    if encoding == "multipart":
        return form, {}, {"file": ("x.png", raw, "image/png")}
    return form, {}, None


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(),
       encoding=st.sampled_from(["json", "form", "multipart", "raw"]),
       depth=st.sampled_from([0, 0, 0, 31, 33, 2000, 100_000]),
       raw=st.binary(max_size=300) | st.sampled_from([b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"{", b"[" * 50_000,
                                                      b"GIF89a" + b"\xff" * 100]),
       raw_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain",
                                 "multipart/form-data; boundary=zz", "multipart/form-data", "application/xml"]),
       oversized=st.booleans())
def test_client_api_inputs_never_cause_a_500_and_refusals_store_nothing(
        node: Node, anna: httpx.Client, endpoint: str, data: st.DataObject, encoding: str, depth: int,
        raw: bytes, raw_type: str, oversized: bool) -> None:
    method, path, tables, names = ENDPOINTS[endpoint]
    # Mostly the names this endpoint reads, so that values reach its rules and the database, plus random ones.
    params = data.draw(st.dictionaries(st.sampled_from(names) | st.sampled_from(names) | st.text(max_size=12),
                                       TRICKY | VALUES, max_size=8), label="params")
    if oversized:
        params = {**params, "status": "x" * (limits.MAX_BODY + 10)}
    content, headers, files = body_for(encoding, params, depth, raw, raw_type)
    before = snapshot(node, tables)
    if isinstance(content, dict):
        response = anna.request(method, path, data=content, files=files, headers=headers)
    else:
        response = anna.request(method, path, content=content, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    if response.status_code >= 400:
        assert "error" in response.json()
        assert snapshot(node, tables) == before, response.text[:300]
    if oversized and encoding in ("json", "form") and endpoint != "media":
        assert response.status_code == 413
    if depth > limits.MAX_JSON_DEPTH and encoding == "json" and not oversized:
        assert response.status_code == 400, response.text[:300]
