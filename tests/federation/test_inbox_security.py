"""The inbox refuses what it must: bad signatures, stale dates, unsigned headers, impostors, replays, junk.

The sender is a real second node: we sign with bert's own key, read from that node's database, exactly as his
server would, and post to the other node's inbox over HTTP.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation import signatures
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


@pytest.fixture(scope="module")
def bert_key(burger: Node) -> Any:
    assert httpx.get(f"{burger.url}/users/bert", headers={"Accept": "application/activity+json"}).status_code == 200
    pem = scalar(burger.database_url, "SELECT k.private_key_pem FROM actor_keys k JOIN accounts a ON a.id = k.account_id "
                 "WHERE a.username = 'bert'")
    return signatures.load_private_key(pem)


def note_activity(burger: Node, gemeente: Node, text: str = "Hallo Anna") -> dict[str, Any]:
    ident = secrets.token_hex(6)
    bert = f"{burger.url}/users/bert"
    anna = f"{gemeente.url}/users/anna"
    note = {"id": f"{bert}/statuses/{ident}", "type": "Note", "attributedTo": bert, "content": f"<p>{text}</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [anna],
            "tag": [{"type": "Mention", "href": anna, "name": f"@anna@{gemeente.domain}"}],
            "published": datetime.now(timezone.utc).isoformat()}
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note['id']}/activity", "type": "Create",
            "actor": bert, "to": note["to"], "cc": note["cc"], "object": note}


def post_signed(gemeente: Node, burger: Node, key: Any, activity: Any, *, body: bytes | None = None,
                now: datetime | None = None, scheme: str = "cavage", key_id: str | None = None,
                tamper: str | None = None) -> httpx.Response:
    url = f"{gemeente.url}/inbox"
    payload = body if body is not None else json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    signer = signatures.sign_request_rfc9421 if scheme == "rfc9421" else signatures.sign_request_cavage
    signed = signer("POST", url, headers, None if tamper == "no-digest" else payload, key,
                    key_id or f"{burger.url}/users/bert#main-key", now or datetime.now(timezone.utc))
    headers.update(signed)
    if tamper == "body":
        payload = payload.replace(b"Hallo", b"Hoi!!")
    return httpx.post(url, content=payload, headers=headers)


def stored(gemeente: Node) -> int:
    return int(scalar(gemeente.database_url, "SELECT count(*) FROM inbox_items"))


def test_a_good_delivery_is_stored_and_handled(gemeente: Node, burger: Node, bert_key: Any) -> None:
    activity = note_activity(burger, gemeente)
    for scheme in ("cavage", "rfc9421"):
        activity = note_activity(burger, gemeente, f"Hallo via {scheme}")
        assert post_signed(gemeente, burger, bert_key, activity, scheme=scheme).status_code == 202
        eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE uri = $1",
                                  activity["object"]["id"]), lambda n: n == 1, what=f"the {scheme} note stored")


@pytest.mark.parametrize("case", ["wrong-key", "body", "stale", "future", "no-digest", "impostor", "unsigned"])
def test_bad_deliveries_are_401_and_store_nothing(gemeente: Node, burger: Node, bert_key: Any, case: str) -> None:
    before = stored(gemeente)
    activity = note_activity(burger, gemeente)
    if case == "wrong-key":
        response = post_signed(gemeente, burger, signatures.generate_private_key(), activity)
    elif case == "stale":
        response = post_signed(gemeente, burger, bert_key, activity,
                               now=datetime.now(timezone.utc) - timedelta(hours=2))
    elif case == "future":
        response = post_signed(gemeente, burger, bert_key, activity,
                               now=datetime.now(timezone.utc) + timedelta(hours=2))
    elif case == "impostor":
        activity["actor"] = f"{burger.url}/users/someone-else"
        response = post_signed(gemeente, burger, bert_key, activity)
    elif case == "unsigned":
        response = httpx.post(f"{gemeente.url}/inbox", content=json.dumps(activity),
                              headers={"Content-Type": "application/activity+json"})
    else:
        response = post_signed(gemeente, burger, bert_key, activity, tamper=case)
    assert response.status_code == 401, response.text
    assert "error" in response.json()
    assert stored(gemeente) == before


def test_a_replayed_activity_is_answered_but_handled_once(gemeente: Node, burger: Node, bert_key: Any) -> None:
    activity = note_activity(burger, gemeente, "Eenmaal")
    assert post_signed(gemeente, burger, bert_key, activity).status_code == 202
    before = stored(gemeente)
    assert post_signed(gemeente, burger, bert_key, activity).status_code == 202
    assert stored(gemeente) == before
    eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE uri = $1",
                              activity["object"]["id"]), lambda n: n == 1, what="the note stored once")


def test_limits_on_size_and_content_type(gemeente: Node, burger: Node, bert_key: Any) -> None:
    big = b'{"x": "' + b"a" * 300_000 + b'"}'
    assert httpx.post(f"{gemeente.url}/inbox", content=big,
                      headers={"Content-Type": "application/activity+json"}).status_code == 413
    assert httpx.post(f"{gemeente.url}/inbox", content=b"<xml/>", headers={"Content-Type": "text/xml"}
                      ).status_code == 415
    assert httpx.post(f"{gemeente.url}/inbox", content=b"{not json",
                      headers={"Content-Type": "application/activity+json"}).status_code == 400


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                      max_size=4), max_leaves=12)
FIELDS = st.sampled_from(["id", "type", "actor", "object", "to", "cc", "inReplyTo", "content", "tag", "published"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.dictionaries(FIELDS, JSON_VALUES, max_size=4), drop=st.lists(FIELDS, max_size=3))
def test_malformed_activities_never_cause_a_500_and_rejected_ones_store_nothing(
        gemeente: Node, burger: Node, bert_key: Any, mutations: dict[str, Any], drop: list[str]) -> None:
    activity = note_activity(burger, gemeente, "Fuzz")
    note = dict(activity["object"])
    for name in drop:
        note.pop(name, None)
        activity.pop(name, None) if name in ("id", "type", "actor") else None
    for name, value in mutations.items():
        (activity if name in ("id", "type", "actor") else note)[name] = value
    activity["object"] = note
    before = stored(gemeente)
    response = post_signed(gemeente, burger, bert_key, activity)
    assert response.status_code in (202, 400, 401), response.text
    if response.status_code != 202:
        assert stored(gemeente) == before
        if isinstance(activity.get("id"), str) and isinstance(note.get("id"), str):
            assert stored_from(gemeente, activity) == 0  # no post of its note either, not even later


def nested_json(depth: int) -> str:
    """Arrays and objects in turn, written as text: json.dumps itself gives up near 1,000 levels."""
    opening = "".join("[" if level % 2 else '{"x":' for level in range(depth))
    closing = "".join("]" if level % 2 else "}" for level in reversed(range(depth)))
    return f'{opening}"bodem"{closing}'


def stored_from(gemeente: Node, activity: dict[str, Any]) -> int:
    """Rows this activity left: its inbox item and a post of its note (other examples' handling runs meanwhile)."""
    return int(scalar(gemeente.database_url, "SELECT (SELECT count(*) FROM inbox_items WHERE activity_uri = $1) + "
                      "(SELECT count(*) FROM posts WHERE uri = $2)", activity["id"], activity["object"]["id"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=1, max_value=3000), field=FIELDS)
def test_deeply_nested_activities_are_400_and_store_nothing(gemeente: Node, burger: Node, bert_key: Any,
                                                           depth: int, field: str) -> None:
    """However deep the nesting (also past the parser's own recursion limit), a signed activity nested more than
    32 levels is refused with a reason, never a 500; shallower ones are judged as usual."""
    activity = note_activity(burger, gemeente, "Diep")
    activity["object"][field] = "DEEP"
    body = json.dumps(activity).replace('"DEEP"', nested_json(depth), 1).encode()
    response = post_signed(gemeente, burger, bert_key, activity, body=body)
    if depth + 2 > 32:  # the activity and its object are two levels already
        assert response.status_code == 400, response.text
        assert "nested" in response.json()["error"]
    else:
        assert response.status_code in (202, 400, 401), response.text
    if response.status_code != 202:
        assert stored_from(gemeente, activity) == 0


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff"])
@pytest.mark.parametrize("field", ["content", "summary", "id-key"])
def test_text_postgresql_cannot_store_is_400_not_500(gemeente: Node, burger: Node, bert_key: Any, escape: str,
                                                     field: str) -> None:
    """JSON may escape a NUL or a lone surrogate; PostgreSQL stores neither, so the inbox refuses it up front."""
    activity = note_activity(burger, gemeente, "Onopslaanbaar")
    if field == "id-key":
        activity["object"]["UNSTORABLE"] = "x"
    else:
        activity["object"][field] = "UNSTORABLE"
    body = json.dumps(activity).replace("UNSTORABLE", f"a{escape}b", 1).encode()
    response = post_signed(gemeente, burger, bert_key, activity, body=body)
    assert response.status_code == 400, response.text
    assert "cannot be stored" in response.json()["error"]
    assert stored_from(gemeente, activity) == 0
