"""Organisations and their people on the web (issue 13) in a real browser: an organisation admin offboards an
official who leaves, through the people page and its confirmation page; and the new pages have no WCAG 2.1 A/AA
violations (axe-core), in Dutch and in English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import axe_violations, db_fetch, db_scalar, require_chromium, sign_in
from tests.helpers.nodes import Node

pytestmark = pytest.mark.browser
require_chromium()

PEOPLE = "/orgs/gemeente-ede/people"


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "kees", org="gemeente-ede", role="org-admin", display_name="Kees Beheer")
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", org="gemeente-ede", display_name="Bert Jansen")
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0
    assert node.cli("badge", "issue", "--username", "anna", "--function", "Woordvoerder", "--by", "kees").code == 0


def _in(page: Page, language: str, path: str) -> None:
    page.goto(f"/lang/{language}?next={path}")
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_an_offboarding(node: Node, new_context: Callable[..., BrowserContext]) -> None:
    anna = new_context(node.url).new_page()
    sign_in(anna, "anna", factories.PASSWORD)
    kees = new_context(node.url).new_page()
    sign_in(kees, "kees", factories.PASSWORD)
    kees.goto("/orgs/gemeente-ede")
    kees.get_by_role("navigation", name="De organisatie beheren").get_by_role("link", name="Mensen beheren").click()
    expect(kees.get_by_role("heading", level=1)).to_have_text("Mensen van Gemeente Ede")
    row = kees.get_by_role("row").filter(has_text="Anna de Vries")
    expect(row).to_contain_text("Woordvoerder")
    row.get_by_role("link", name="Laten vertrekken Anna de Vries").click()
    expect(kees.get_by_role("heading", level=1)).to_have_text("Anna de Vries laten vertrekken")
    expect(kees.locator("main")).to_contain_text("trekt de badge „Woordvoerder” in")
    kees.get_by_label("Uitschakelen: niemand kan er nog mee inloggen").check()
    kees.get_by_label("Reden").fill("Uit dienst per 1 december")
    kees.get_by_role("button", name="Anna de Vries laten vertrekken").click()
    expect(kees.locator("p.notice[role=status]")).to_have_text("De persoon is vertrokken uit de organisatie.")
    expect(kees.get_by_role("row").filter(has_text="Anna de Vries")).to_have_count(0)
    account = db_fetch(node.database_url, "SELECT organisation_id, org_role, disabled_at IS NOT NULL AS disabled "
                       "FROM accounts WHERE username = 'anna'")[0]
    assert account == {"organisation_id": None, "org_role": None, "disabled": True}
    assert db_scalar(node.database_url, "SELECT revoked_reason FROM badges b JOIN accounts a ON a.id = b.account_id "
                     "WHERE a.username = 'anna'") == "Uit dienst per 1 december"
    # Her open session has ended: the next page she asks for sends her to sign in.
    anna.goto("/settings")
    expect(anna.locator("#password")).to_be_visible()
    assert "/login" in anna.url
    kees.goto("/orgs/gemeente-ede/audit")
    expect(kees.locator("main")).to_contain_text("liet Anna de Vries vertrekken uit de organisatie")


@pytest.mark.parametrize("language", ("nl", "en"))
def test_the_new_pages_have_no_wcag_violations(node: Node, new_context: Callable[..., BrowserContext],
                                               language: str) -> None:
    bert_id = db_scalar(node.database_url, "SELECT id FROM accounts WHERE username = 'bert'")
    beheer = new_context(node.url).new_page()
    sign_in(beheer, "beheer", factories.PASSWORD)
    for path in ("/admin/organisations", "/admin/organisations/new", PEOPLE, f"{PEOPLE}/{bert_id}/offboard"):
        _in(beheer, language, path)
        expect(beheer.get_by_role("heading", level=1)).to_have_count(1)
        assert axe_violations(beheer) == [], f"{path} ({language})"
    # With an invite link shown and with a refusal shown.
    _in(beheer, language, PEOPLE)
    beheer.locator("#invite-role").select_option("reviewer")
    beheer.locator("form[action$='/people/invite'] button[type=submit]").click()
    expect(beheer.locator("#invite-link")).to_be_visible()
    assert beheer.locator("#invite-link").input_value().startswith(f"{node.url}/invite/")
    assert axe_violations(beheer) == [], f"invite link ({language})"
    _in(beheer, language, "/admin/organisations/new")
    beheer.locator("#org-name").fill("Gemeente Epe")
    beheer.locator("#org-slug").fill("Niet Goed")
    beheer.locator("form[action='/admin/organisations/new'] button[type=submit]").click()
    expect(beheer.locator("p.error[role=alert]")).to_be_visible()
    assert axe_violations(beheer) == [], f"refused organisation ({language})"
