"""In the browser: an official sees the organisation's findings while typing; a reviewer approves in the queue."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import axe_violations, db_scalar, require_chromium, sign_in
from tests.helpers.nodes import Node

pytestmark = pytest.mark.browser
require_chromium()


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "rita", org="gemeente-ede", role="reviewer", display_name="Rita Controle")
    factories.person(node, "kees", org="gemeente-ede", role="org-admin", display_name="Kees Beheer")
    for check, action, params in (("deliberation", "warn", json.dumps([{"terms": ["parkeerbeleid"]}])),
                                  ("four-eyes", "hold", None)):
        args = ["policy", "set", "--org", "gemeente-ede", "--check", check, "--action", action]
        assert node.cli(*args, *(["--param", f"topics={params}"] if params else [])).code == 0


def test_findings_while_typing_then_review_and_publish(node: Node, new_context: Callable[..., BrowserContext],
                                                       artifacts: Path) -> None:
    page = new_context(node.url).new_page()
    sign_in(page, "anna", factories.PASSWORD)
    page.goto("/compose")
    page.locator("#voice-official").check()
    page.locator("#text").fill("Het nieuwe parkeerbeleid gaat in op 1 januari.")
    finding = page.locator(".policy-preview .finding-warn")
    expect(finding).to_contain_text("parkeerbeleid")
    page.screenshot(path=str(artifacts / "composer-policy-finding.png"), full_page=True)
    page.get_by_role("button", name="Publiceren").click()
    expect(page.locator("#confirm_policy")).to_be_visible()
    page.locator("#confirm_policy").check()
    page.get_by_role("button", name="Publiceren").click()
    expect(page.locator("p.notice")).to_contain_text("wacht op een controleur")
    post_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert db_scalar(node.database_url, "SELECT state FROM posts WHERE id = $1", int(post_id)) == "held"

    reviewer = new_context(node.url).new_page()
    sign_in(reviewer, "rita", factories.PASSWORD)
    reviewer.goto("/review")
    expect(reviewer.locator("section.review")).to_contain_text("parkeerbeleid")
    assert axe_violations(reviewer) == []
    reviewer.screenshot(path=str(artifacts / "review-queue.png"), full_page=True)
    reviewer.get_by_role("button", name="Goedkeuren en publiceren").click()
    expect(reviewer.locator("p.empty")).to_be_visible()
    assert db_scalar(node.database_url, "SELECT state FROM posts WHERE id = $1", int(post_id)) == "published"


def test_the_settings_and_audit_pages_are_accessible(node: Node, new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(node.url).new_page()
    sign_in(page, "kees", factories.PASSWORD)
    for path in ("/orgs/gemeente-ede/policy", "/orgs/gemeente-ede/audit"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        assert axe_violations(page) == [], path
    page.goto("/orgs/gemeente-ede/policy")
    expect(page.locator("#action-four-eyes")).to_have_value("hold")
