"""In a real browser: an official posts in both voices via the composer; a non-member cannot claim official voice."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import db_fetch, db_scalar, require_chromium, sign_in
from tests.helpers.nodes import Node

require_chromium()

pytestmark = pytest.mark.browser

POST_URL = re.compile(r"/@(\w+)/(\d+)$")


def label(text: str) -> re.Pattern[str]:
    """A voice label's text: the words, after the icon that is hidden from screen readers."""
    return re.compile(rf"^[^\w]*{re.escape(text)}$")


OFFICIAL_NL, PERSONAL_NL = label("Namens Gemeente Ede"), label("Op persoonlijke titel")
OFFICIAL_EN, PERSONAL_EN = label("On behalf of Gemeente Ede"), label("Personal capacity")
ONLY_MEMBERS_NL = "Alleen leden van een organisatie kunnen namens die organisatie berichten plaatsen."


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", display_name="Bert Burger")
    return node


def fill_composer(page: Page, voice: str, text: str) -> None:
    """Choose a voice by its radio and type the text, key by key, into the composer on the current page."""
    composer = page.locator("form.composer")
    composer.locator(f"#voice-{voice}").check()
    composer.locator("#text").press_sequentially(text)


def press_publish(page: Page) -> int:
    """Press Publiceren and wait for the new post's page; its id."""
    page.locator("form.composer").get_by_role("button", name="Publiceren").click()
    page.wait_for_url(POST_URL)
    match = POST_URL.search(page.url)
    assert match, page.url
    return int(match.group(2))


def test_official_posts_in_both_voices_and_sees_the_labels(ede: Node, new_context: Callable[..., BrowserContext],
                                                           artifacts: Path) -> None:
    page = new_context(ede.url).new_page()
    sign_in(page, "anna", factories.PASSWORD)

    # The first post from the composer page, in official voice.
    page.get_by_role("link", name="Bericht schrijven").click()
    expect(page).to_have_url(re.compile(r"/compose$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bericht schrijven")
    expect(page.locator("#voice-official")).to_be_enabled()
    fill_composer(page, "official", "Het gemeentehuis is vandaag open tot 20:00. #ede")
    expect(page.locator("#voice-official")).to_be_checked()
    expect(page.locator("#voice-personal")).not_to_be_checked()
    expect(page.locator("#counter")).to_have_text("nog 452 tekens")
    page.screenshot(path=artifacts / "composer.png", full_page=True)
    official_id = press_publish(page)
    focus = page.locator(".focus article.post")
    expect(focus.locator(".voice-official")).to_have_text(OFFICIAL_NL)
    expect(focus.locator(".voice-personal")).to_have_count(0)
    expect(focus.locator(".content")).to_contain_text("Het gemeentehuis is vandaag open tot 20:00.")

    # The second from the composer on the home page, in personal voice.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Start", exact=True).click()
    expect(page.locator("#compose-heading")).to_be_visible()
    fill_composer(page, "personal", "Mooie fietstocht langs de Ginkelse heide vanmorgen.")
    personal_id = press_publish(page)
    focus = page.locator(".focus article.post")
    expect(focus.locator(".voice-personal")).to_have_text(PERSONAL_NL)
    expect(focus.locator(".voice-official")).to_have_count(0)

    rows = {r["id"]: r for r in db_fetch(ede.database_url, "SELECT id, voice, organisation_id FROM posts "
                                         "WHERE account_id = (SELECT id FROM accounts WHERE username = 'anna')")}
    org_id = db_scalar(ede.database_url, "SELECT id FROM organisations WHERE slug = 'gemeente-ede'")
    assert rows == {official_id: {"id": official_id, "voice": "official", "organisation_id": org_id},
                    personal_id: {"id": personal_id, "voice": "personal", "organisation_id": None}}

    # Each post page, opened anew.
    page.goto(f"/@anna/{official_id}")
    expect(page.locator(".focus .voice-official")).to_have_text(OFFICIAL_NL)
    page.goto(f"/@anna/{personal_id}")
    expect(page.locator(".focus .voice-personal")).to_have_text(PERSONAL_NL)

    # The profile shows both, each on its own post.
    page.get_by_role("link", name="Mijn profiel").click()
    expect(page).to_have_url(re.compile(r"/@anna$"))
    expect(page.locator(f"#post-{official_id} .voice-official")).to_have_text(OFFICIAL_NL)
    expect(page.locator(f"#post-{official_id} .voice-personal")).to_have_count(0)
    expect(page.locator(f"#post-{personal_id} .voice-personal")).to_have_text(PERSONAL_NL)
    expect(page.locator(f"#post-{personal_id} .voice-official")).to_have_count(0)
    page.screenshot(path=artifacts / "profile-both-voices.png", full_page=True)

    # And in English, for a visitor who is not signed in.
    visitor = new_context(ede.url, language="en").new_page()
    visitor.goto("/@anna")
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.locator(f"#post-{official_id} .voice-official")).to_have_text(OFFICIAL_EN)
    expect(visitor.locator(f"#post-{personal_id} .voice-personal")).to_have_text(PERSONAL_EN)


def test_non_member_cannot_choose_or_force_official_voice(ede: Node, new_context: Callable[..., BrowserContext],
                                                          artifacts: Path) -> None:
    page = new_context(ede.url).new_page()
    sign_in(page, "bert", factories.PASSWORD)
    page.goto("/compose")
    official, personal = page.locator("#voice-official"), page.locator("#voice-personal")
    expect(official).to_be_disabled()
    expect(official).not_to_be_checked()
    expect(personal).to_be_checked()
    expect(page.locator("#voice-official-hint")).to_have_text(ONLY_MEMBERS_NL)
    expect(official).to_have_accessible_description(ONLY_MEMBERS_NL)

    # A disabled radio cannot be chosen by clicking its label.
    page.locator("label[for=voice-official]").click(force=True)  # Playwright would wait for it forever
    expect(official).not_to_be_checked()
    expect(personal).to_be_checked()

    # Forcing it past the page: the server refuses, says why, and stores nothing.
    before = db_scalar(ede.database_url, "SELECT count(*) FROM posts")
    official.evaluate("radio => radio.removeAttribute('disabled')")
    official.check()
    expect(personal).not_to_be_checked()
    page.locator("#text").fill("Ik spreek namens de gemeente!")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/compose")) as answer:
        page.get_by_role("button", name="Publiceren").click()
    assert answer.value.status == 403
    error = page.locator("#composer-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(ONLY_MEMBERS_NL)
    expect(page.get_by_role("alert")).to_have_text(ONLY_MEMBERS_NL)
    expect(page.locator("#text")).to_have_value("Ik spreek namens de gemeente!")  # nothing typed is lost
    expect(page.locator("#voice-official")).to_be_disabled()
    expect(page.locator("#voice-personal")).to_be_checked()
    assert db_scalar(ede.database_url, "SELECT count(*) FROM posts") == before
    assert db_scalar(ede.database_url, "SELECT count(*) FROM posts WHERE account_id = "
                     "(SELECT id FROM accounts WHERE username = 'bert')") == 0
    page.screenshot(path=artifacts / "official-voice-refused.png", full_page=True)

    # Publishing again as offered (personal voice) works.
    page.get_by_role("button", name="Publiceren").click()
    page.wait_for_url(POST_URL)
    expect(page.locator(".focus .voice-personal")).to_have_text(PERSONAL_NL)
    assert db_fetch(ede.database_url, "SELECT voice, organisation_id FROM posts WHERE account_id = "
                    "(SELECT id FROM accounts WHERE username = 'bert')") == [{"voice": "personal",
                                                                            "organisation_id": None}]
