"""The compose sequence is one (server/compose.py): the web composer and the client API refuse alike, audit the
refusal alike, and an app's Idempotency-Key gets the first answer back, held or deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient
# The organisation and checks of the policy flow (a BSN blocks, "parkeerbeleid" warns, official voice is held):
# importing its autouse fixture sets up this module's own node the same way.
from tests.integration.test_policy_flow import VALID_BSN, count_posts, ede  # noqa: F401


@pytest.fixture()
def app(node: Node) -> Iterator[httpx.Client]:
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write:statuses").out.strip()
    with httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture()
def web(node: Node) -> Iterator[WebClient]:
    client = WebClient(node.url, language="en")
    client.login("anna", factories.PASSWORD)
    yield client
    client.close()


def refusals(node: Node) -> list[dict[str, object]]:
    return [{"action": r["action"], "subject_type": r["subject_type"], "detail": json.loads(r["detail"])}
            for r in fetch(node.database_url, "SELECT action, subject_type, detail FROM audit_log "
                           "WHERE action IN ('policy.block', 'policy.needs_confirmation') ORDER BY id")]


@pytest.mark.parametrize("text, action", [(f"Klant met BSN {VALID_BSN} belde", "policy.block"),
                                          ("Over het parkeerbeleid straks meer", "policy.needs_confirmation")])
def test_the_composer_and_the_api_refuse_and_audit_alike(node: Node, app: httpx.Client, web: WebClient,
                                                          text: str, action: str) -> None:
    posts_before, audited_before = count_posts(node), len(refusals(node))
    page = web.compose(text, voice="personal")
    answer = app.post("/api/v1/statuses", json={"status": text, "voice": "personal"})
    assert page.status_code == 422 and answer.status_code == 422
    assert ('name="confirm_policy"' in page.text) == (action == "policy.needs_confirmation")
    assert count_posts(node) == posts_before  # refused: nothing stored, by either path
    from_page, from_api = refusals(node)[audited_before:]
    assert from_page == from_api  # the same entry, written after the post's transaction was rolled back
    assert from_page["action"] == action and from_page["subject_type"] == "account"
    assert from_page["detail"] == answer.json()["policy"]


def test_an_idempotent_retry_of_a_held_post_gets_the_same_held_answer(node: Node, app: httpx.Client) -> None:
    posts_before = count_posts(node)
    headers = {"Idempotency-Key": "held-once"}
    first = app.post("/api/v1/statuses", json={"status": "De markt verhuist", "voice": "official"}, headers=headers)
    again = app.post("/api/v1/statuses", json={"status": "De markt verhuist", "voice": "official"}, headers=headers)
    assert first.status_code == again.status_code == 422
    assert first.json()["policy"]["outcome"] == "hold" and first.json() == again.json()
    assert count_posts(node) == posts_before + 1


def test_an_idempotent_retry_after_the_first_post_was_deleted_is_not_found(node: Node, app: httpx.Client) -> None:
    headers = {"Idempotency-Key": "deleted-since"}
    first = app.post("/api/v1/statuses", json={"status": "Eenmalig", "voice": "personal"}, headers=headers)
    assert first.status_code == 200
    assert app.delete(f"/api/v1/statuses/{first.json()['id']}").status_code == 200
    posts_before = count_posts(node)
    again = app.post("/api/v1/statuses", json={"status": "Eenmalig", "voice": "personal"}, headers=headers)
    assert again.status_code == 404 and again.json() == {"error": "Record not found"}
    assert count_posts(node) == posts_before
