"""The archive and Woo pages (issue 16 items 4 and 5) in a real browser: an archivist starts an export and searches
for a Woo request, and both pages, with an export listed and with search results, have no WCAG 2.1 A/AA
violations (axe-core), in Dutch and in English."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium, sign_in
from tests.helpers.nodes import Node

pytestmark = pytest.mark.browser
require_chromium()

ARCHIVE, WOO = "/orgs/gemeente-ede/archive", "/orgs/gemeente-ede/woo"


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "arie", org="gemeente-ede", role="archivist", display_name="Arie Archief")
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write").out.strip()
    posted = httpx.post(f"{node.url}/api/v1/statuses", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                        json={"status": "Het nieuwe zwembad opent in juni.", "voice": "official"})
    assert posted.status_code == 200, posted.text


def _in(page: Page, language: str, path: str) -> None:
    page.goto(f"/lang/{language}?next={path}")
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ("nl", "en"))
def test_the_archive_and_woo_pages_have_no_wcag_violations(node: Node, new_context: Callable[..., BrowserContext],
                                                           language: str) -> None:
    arie = new_context(node.url).new_page()
    sign_in(arie, "arie", factories.PASSWORD)
    _in(arie, language, ARCHIVE)
    expect(arie.get_by_role("heading", level=1)).to_have_count(1)
    assert axe_violations(arie) == [], f"{ARCHIVE} ({language})"
    arie.locator("form[action$='/archive'] button[type=submit]").click()
    expect(arie.locator("p.notice[role=status]")).to_be_visible()
    expect(arie.locator("table.archive-exports tbody tr").first).to_be_visible()
    assert axe_violations(arie) == [], f"{ARCHIVE} with an export ({language})"
    _in(arie, language, WOO)
    assert axe_violations(arie) == [], f"{WOO} ({language})"
    arie.locator("#q").fill("zwembaden")
    arie.locator("form[role=search] button[type=submit]").click()
    expect(arie.locator("ol.woo-hits li")).to_have_count(1)
    expect(arie.locator("ol.woo-hits")).to_contain_text("Het nieuwe zwembad opent in juni.")
    assert axe_violations(arie) == [], f"{WOO} with results ({language})"
