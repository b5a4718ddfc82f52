"""Contract tests: our entities against Mastodon's documented ones (fields up to 4.3.0, and their types)."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests import factories
from tests.contract.mastodon_types import check, entities
from tests.helpers.nodes import Node


def token_for(node: Node, username: str, scopes: str = "read write follow push profile") -> str:
    result = node.cli("token", "create", "--username", username, "--scopes", scopes)
    assert result.code == 0, result.err
    return result.out.strip()


@pytest.fixture(scope="module")
def world(node: Node) -> dict[str, Any]:
    """Two people, posts with a mention, tag, reply, image, boost, like, follow and an edit."""
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", display_name="Bert Burger")
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin", stdin="beheer-wachtwoord\n").code == 0
    anna = httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token_for(node, 'anna')}"})
    bert = httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token_for(node, 'bert')}"})
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(png, "PNG")
    media = anna.post("/api/v2/media", files={"file": ("rood.png", png.getvalue(), "image/png")},
                      data={"description": "Een rood vlak", "focus": "0.5,-0.25"}).json()
    post = anna.post("/api/v1/statuses", json={"status": "Hallo @bert #ede", "voice": "official",
                                              "media_ids": [media["id"]]}).json()
    anna_id = anna.get("/api/v1/accounts/verify_credentials").json()["id"]
    relationship = bert.post(f"/api/v1/accounts/{anna_id}/follow").json()
    bert.post(f"/api/v1/statuses/{post['id']}/favourite")
    boost = bert.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    reply = bert.post("/api/v1/statuses", data={"status": "Dank je!", "in_reply_to_id": post["id"]}).json()
    anna.put(f"/api/v1/statuses/{post['id']}", json={"status": "Hallo @bert #ede (bewerkt)"})
    app = httpx.post(f"{node.url}/api/v1/apps", data={"client_name": "Contract", "redirect_uris":
                                                      "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"}).json()
    return {"anna": anna, "bert": bert, "post": post, "reply": reply, "boost": boost, "media": media,
            "relationship": relationship, "app": app, "anna_id": anna_id}


def assert_entity(entity: str, value: Any) -> None:
    problems = check(entity, value)
    assert problems == [], "\n".join(problems)


def test_the_contract_source_is_real() -> None:
    names = {f.name for f in entities()["Status"]}
    assert {"id", "uri", "content", "visibility", "media_attachments", "edited_at"} <= names


def test_accounts(world: dict[str, Any]) -> None:
    anna = world["anna"]
    assert_entity("Account", anna.get("/api/v1/accounts/verify_credentials").json())
    assert_entity("Account", anna.get(f"/api/v1/accounts/{world['anna_id']}").json())
    for account in anna.get(f"/api/v1/accounts/{world['anna_id']}/followers").json():
        assert_entity("Account", account)


def test_statuses(world: dict[str, Any]) -> None:
    anna = world["anna"]
    status = anna.get(f"/api/v1/statuses/{world['post']['id']}").json()
    assert status["media_attachments"] and status["mentions"] and status["tags"] and status["edited_at"]
    assert_entity("Status", status)
    assert_entity("Status", world["boost"])
    assert_entity("Status", world["reply"])
    assert_entity("Context", anna.get(f"/api/v1/statuses/{world['post']['id']}/context").json())
    for edit in anna.get(f"/api/v1/statuses/{world['post']['id']}/history").json():
        assert_entity("StatusEdit", edit)
    assert_entity("StatusSource", anna.get(f"/api/v1/statuses/{world['post']['id']}/source").json())
    for status in anna.get("/api/v1/timelines/home").json():
        assert_entity("Status", status)


def test_notifications_relationships_media(world: dict[str, Any]) -> None:
    notifications = world["anna"].get("/api/v1/notifications").json()
    assert {n["type"] for n in notifications} >= {"follow", "favourite", "reblog"}
    for notification in notifications:
        assert_entity("Notification", notification)
    assert_entity("Relationship", world["relationship"])
    assert_entity("MediaAttachment", world["media"])
    assert world["media"]["description"] == "Een rood vlak"


def test_instance_search_preferences_markers_app(world: dict[str, Any], node: Node) -> None:
    assert_entity("Instance", httpx.get(f"{node.url}/api/v1/instance").json())
    assert_entity("InstanceV2", httpx.get(f"{node.url}/api/v2/instance").json())
    anna = world["anna"]
    assert_entity("SearchV2", anna.get("/api/v2/search", params={"q": "bert"}).json())
    # On the wire the keys have colons ("posting:default:visibility"); Mastodon.py names them with underscores.
    preferences = anna.get("/api/v1/preferences").json()
    assert_entity("Preferences", {key.replace(":", "_"): value for key, value in preferences.items()})
    saved = anna.post("/api/v1/markers", data={"home[last_read_id]": world["post"]["id"]}).json()
    assert_entity("Marker", saved["home"])
    assert_entity("Application", world["app"])


def test_our_extensions_are_additive(world: dict[str, Any]) -> None:
    status = world["anna"].get(f"/api/v1/statuses/{world['post']['id']}").json()
    assert status["voice"] == "official" and status["organisation"]["name"] == "Gemeente Ede"
    account = status["account"]
    assert account["ambtenaar"]["organisation"]["slug"] == "gemeente-ede" and account["ambtenaar"]["role"] == "official"
    documented = {f.name for f in entities()["Status"]}
    assert "voice" not in documented and "organisation" not in documented


def test_report(world: dict[str, Any]) -> None:
    report = world["bert"].post("/api/v1/reports", data={"account_id": world["anna_id"], "category": "other",
                                                         "status_ids[]": [world["post"]["id"]], "comment": "Klopt niet"})
    assert report.status_code == 200, report.text
    body = report.json()
    # Mastodon sends `rule_ids` (docs.joinmastodon.org); Mastodon.py's annotation spells it `rules_ids`.
    assert "rule_ids" in body
    assert_entity("Report", {**body, "rules_ids": body["rule_ids"]})
    assert body["status_ids"] == [world["post"]["id"]] and body["target_account"]["id"] == world["anna_id"]
