"""Issue 11's finding 8, badges: an organisation admin issuing (or changing) a badge for themselves needs a second
admin, as a post needs a second reviewer. Through the CLI and the pages of a real node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient


@pytest.fixture(scope="module")
def ede(node: Node) -> Iterator[Node]:
    factories.organisation(node)
    factories.person(node, "kees", org="gemeente-ede", role="org-admin", display_name="Kees Beheer")
    factories.person(node, "karin", org="gemeente-ede", role="org-admin")
    factories.person(node, "otto", org="gemeente-ede", role="official")
    yield node


def _badge_state(node: Node, username: str) -> dict[str, object]:
    account = scalar(node.database_url, "SELECT id FROM accounts WHERE username = $1", username)
    profile = httpx.get(f"{node.url}/api/v1/accounts/{account}").json()
    actor = httpx.get(f"{node.url}/users/{username}", headers={"Accept": "application/activity+json"}).json()
    return {"api_verified": profile.get("ambtenaar", {}).get("verified"),
            "api_status": profile.get("ambtenaar", {}).get("badge_status"),
            "actor_badge": "ambtenaarBadge" in actor,
            "page": WebClient(node.url, language="en").get(f"/@{username}").text}


def test_a_badge_an_admin_issues_to_themselves_waits_for_a_second_admin(ede: Node) -> None:
    """Before: 'ambtenaar badge issue --username kees --by kees' made a valid, verified badge at once."""
    issued = ede.cli("badge", "issue", "--username", "kees", "--function", "Burgemeester", "--by", "kees")
    assert issued.code == 0 and "waiting for a second admin" in issued.out, issued
    state = _badge_state(ede, "kees")
    assert state["api_verified"] is False and state["api_status"] == "pending" and state["actor_badge"] is False
    assert "Verified official" not in state["page"]
    badge_id = scalar(ede.database_url, "SELECT id FROM badges WHERE account_id = "
                      "(SELECT id FROM accounts WHERE username = 'kees') AND revoked_at IS NULL")
    public = httpx.get(f"{ede.url}/badges/{badge_id}.json").json()
    assert public["status"] == "pending" and public["valid"] is False

    own = ede.cli("badge", "approve", "--username", "kees", "--by", "kees")
    assert own.code == 1 and "second admin" in own.err and len(own.err.strip().splitlines()) == 1
    official = ede.cli("badge", "approve", "--username", "kees", "--by", "otto")
    assert official.code == 1
    approved = ede.cli("badge", "approve", "--username", "kees", "--by", "karin")
    assert approved.code == 0, approved.err
    state = _badge_state(ede, "kees")
    assert state["api_verified"] is True and state["actor_badge"] is True and "Verified official" in state["page"]
    entries = fetch(ede.database_url, "SELECT a.action, u.username, a.detail FROM audit_log a JOIN accounts u "
                    "ON u.id = a.actor_account_id WHERE a.subject_type = 'badge' AND a.subject_id = $1 ORDER BY a.id",
                    str(badge_id))
    assert [(e["action"], e["username"]) for e in entries] == [("badge.issued", "kees"), ("badge.approved", "karin")]
    assert json.loads(entries[1]["detail"])["function_title"] == "Burgemeester"


def test_changing_ones_own_badge_waits_again_and_the_page_offers_the_approval(ede: Node) -> None:
    assert ede.cli("badge", "issue", "--username", "karin", "--function", "Teamleider", "--by", "kees").code == 0
    assert _badge_state(ede, "karin")["api_verified"] is True  # issued by someone else: valid at once
    karin = WebClient(ede.url, language="en")
    karin.login("karin", factories.PASSWORD)
    badge_id = scalar(ede.database_url, "SELECT b.id FROM badges b JOIN accounts a ON a.id = b.account_id "
                      "WHERE a.username = 'karin' AND b.revoked_at IS NULL")
    changed = karin.post(f"/orgs/gemeente-ede/badges/{badge_id}/change", {"function": "Directeur", "unit": ""})
    assert changed.status_code == 303
    assert _badge_state(ede, "karin")["api_status"] == "pending"
    assert karin.post(f"/orgs/gemeente-ede/badges/{badge_id}/approve").status_code == 403
    kees = WebClient(ede.url, language="en")
    kees.login("kees", factories.PASSWORD)
    page = kees.get("/orgs/gemeente-ede/badges").text
    assert f"/orgs/gemeente-ede/badges/{badge_id}/approve" in page
    assert kees.post(f"/orgs/gemeente-ede/badges/{badge_id}/approve").status_code == 303
    state = _badge_state(ede, "karin")
    assert state["api_verified"] is True and "Directeur" in state["page"]
