"""The accessibility statement and its admin form have no WCAG 2.1 A/AA violations (axe-core), in Dutch and in
English, empty and filled in; the admin fills it in through the form as a person would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium, sign_in
from tests.helpers.nodes import Node

require_chromium()

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def beheer(node: Node) -> None:
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0


def _in(page: Page, language: str, path: str) -> None:
    page.goto(f"/lang/{language}?next={path}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)


def test_the_statement_empty_and_filled_in_has_no_violations(node: Node, new_context: Callable[..., BrowserContext],
                                                             artifacts: Path) -> None:
    visitor = new_context(node.url).new_page()
    for language in ("nl", "en"):
        _in(visitor, language, "/toegankelijkheid")
        expect(visitor.locator("p.notice")).to_be_visible()
        assert axe_violations(visitor) == [], f"empty statement ({language})"

    admin = new_context(node.url).new_page()
    sign_in(admin, "beheer", factories.PASSWORD)
    for language in ("nl", "en"):
        _in(admin, language, "/admin/statement")
        assert axe_violations(admin) == [], f"statement form ({language})"
    _in(admin, "nl", "/admin/statement")
    admin.get_by_label("Verantwoordelijke organisatie").fill("Gemeente Ede")
    admin.get_by_label("Reikwijdte").fill("https://ambtenaar.ede.nl")
    admin.get_by_label("B: Voldoet gedeeltelijk").check()
    admin.get_by_label("Bekende problemen").fill("Afbeeldingen van andere servers hebben soms geen beschrijving.")
    admin.get_by_label("E-mailadres voor contact").fill("toegankelijkheid@ede.nl")
    admin.get_by_label("Datum van het laatste onderzoek").fill("2026-11-02")
    admin.get_by_role("button", name="Verklaring opslaan").click()
    expect(admin.get_by_role("status")).to_contain_text("De verklaring is opgeslagen.")

    for language in ("nl", "en"):
        _in(visitor, language, "/toegankelijkheid")
        expect(visitor.locator("p.notice")).to_have_count(0)
        expect(visitor.get_by_role("heading", level=2)).to_have_count(5)
        assert axe_violations(visitor) == [], f"filled-in statement ({language})"
        visitor.screenshot(path=str(artifacts / f"accessibility-statement-{language}.png"), full_page=True)
    expect(visitor.get_by_text("Compliance status B: Partially compliant")).to_be_visible()
