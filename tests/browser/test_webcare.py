"""Webcare in a real browser (issue 15): two team members on the same conversation. Kees claims it and Wim sees
"Kees behandelt dit" appear without reloading (webcare.js polls /state); Kees answers with a saved reply filled
in by the script; Wim is warned before his own answer goes. And the four webcare pages have no WCAG 2.1 A/AA
violations (axe-core), in Dutch and in English. Screenshots of the inbox and the conversation in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import axe_violations, db_scalar, require_chromium, sign_in, watch_console
from tests.helpers.nodes import Node

pytestmark = pytest.mark.browser
require_chromium()

INBOX = "/orgs/gemeente-ede/webcare"


@pytest.fixture(scope="module")
def conversation(node: Node) -> int:
    """Gemeente Ede's team (Kees, Wim), a saved reply, and Bert's question: the conversation's id."""
    factories.organisation(node)
    factories.person(node, "kees", org="gemeente-ede", role="webcare", display_name="Kees Jansen")
    factories.person(node, "wim", org="gemeente-ede", role="webcare", display_name="Wim de Boer")
    factories.person(node, "bert", display_name="Bert Burger")
    token = node.cli("token", "create", "--username", "bert", "--scopes", "read write").out.strip()
    posted = httpx.post(f"{node.url}/api/v1/statuses", headers={"Authorization": f"Bearer {token}"},
                        json={"status": "@gemeente_ede wanneer wordt de container bij mij geleegd?"})
    assert posted.status_code == 200, posted.text
    return int(db_scalar(node.database_url, "SELECT id FROM webcare_conversations WHERE start_post_id = $1",
                         int(posted.json()["id"])))


def _member(node: Node, new_context: Callable[..., BrowserContext], username: str, language: str = "nl") -> Page:
    page = new_context(node.url, language=language).new_page()
    sign_in(page, username, factories.PASSWORD)
    return page


def test_two_members_on_one_conversation(node: Node, conversation: int, new_context: Callable[..., BrowserContext],
                                         artifacts: Path) -> None:
    kees, wim = _member(node, new_context, "kees"), _member(node, new_context, "wim")
    console = watch_console(wim)
    kees.goto(f"{INBOX}/settings")
    kees.get_by_label("Titel").fill("Container")
    kees.get_by_label("Tekst in het Nederlands").fill("Hoi {naam}, de container wordt dinsdag geleegd.")
    kees.get_by_role("button", name="Standaardantwoord toevoegen").click()
    expect(kees.locator("p.notice[role=status]")).to_have_text("Het standaardantwoord is toegevoegd.")
    kees.goto(INBOX)
    row = kees.locator(f"#conversation-{conversation}")
    expect(row).to_contain_text("Bert Burger")
    expect(row).to_contain_text("wanneer wordt de container bij mij geleegd?")
    expect(row.locator(".clock")).to_contain_text(" · ")
    kees.screenshot(path=str(artifacts / "webcare-inbox.png"), full_page=True)
    page = f"{INBOX}/{conversation}"
    wim.goto(page)
    kees.goto(page)
    expect(wim.locator("#webcare-assignee")).to_have_text("Niemand")
    kees.get_by_role("button", name="Ik pak dit op").click()
    expect(kees.locator("#webcare-assignee")).to_have_text("Jij behandelt dit")
    # Wim's page says so by itself, without a reload (polling every 5 seconds).
    expect(wim.locator("#webcare-assignee")).to_have_text("Kees Jansen behandelt dit")
    # Kees answers with the saved reply, filled in by the script (the page stays where it is).
    kees.get_by_role("button", name="Gebruik").click()
    expect(kees.get_by_label("Je antwoord")).to_have_value("Hoi Bert Burger, de container wordt dinsdag geleegd.")
    assert kees.url.endswith(f"{page}?done=claimed")  # no round trip: the script filled it in
    kees.get_by_role("button", name="Antwoord versturen").click()
    expect(kees.locator("p.notice[role=status]")).to_have_text("Je antwoord is geplaatst.")
    expect(kees.locator(".written-by")).to_contain_text("geschreven door Kees Jansen")
    kees.screenshot(path=str(artifacts / "webcare-conversation.png"), full_page=True)
    # Wim, who had the page open all along, is warned before his answer goes; then he sends anyway.
    wim.get_by_label("Je antwoord").fill("De container wordt dinsdag geleegd.")
    warning = wim.locator("#teammate-warning")
    expect(warning).to_be_hidden()
    # The next poll (at most 5 s) learns that Kees claimed and answered; then sending stops at the warning.
    expect(wim.locator("#webcare-conversation")).to_have_attribute("data-others-acted", "true")
    wim.get_by_role("button", name="Antwoord versturen").click()
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Kees Jansen heeft intussen geantwoord of dit opgepakt.")
    wim.get_by_label("Toch versturen").check()
    wim.get_by_role("button", name="Antwoord versturen").click()
    expect(wim.locator("p.notice[role=status]")).to_have_text("Je antwoord is geplaatst.")
    assert db_scalar(node.database_url, "SELECT count(*) FROM webcare_messages WHERE conversation_id = $1 "
                     "AND direction = 'out'", conversation) == 2
    assert console.errors() == [] and console.csp_violations() == []


@pytest.mark.parametrize("language", ("nl", "en"))
def test_the_webcare_pages_have_no_wcag_violations(node: Node, conversation: int,
                                                   new_context: Callable[..., BrowserContext], language: str) -> None:
    kees = _member(node, new_context, "kees", language)
    for path in (INBOX, f"{INBOX}/{conversation}", f"{INBOX}/settings", f"{INBOX}/report",
                 f"{INBOX}?status=waiting"):
        kees.goto(f"/lang/{language}?next={path}")
        expect(kees.locator("html")).to_have_attribute("lang", language)
        expect(kees.get_by_role("heading", level=1)).to_have_count(1)
        assert axe_violations(kees) == [], f"{path} ({language})"
