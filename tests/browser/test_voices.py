"""In a real browser: an official posts in both voices through the composer; a non-member cannot claim official voice."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import require_chromium, sign_in
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node

require_chromium()

pytestmark = pytest.mark.browser

POST_URL = re.compile(r"/@(\w+)/(\d+)$")
OFFICIAL_NL, PERSONAL_NL = "Namens Gemeente Ede", "Op persoonlijke titel"
OFFICIAL_EN, PERSONAL_EN = "On behalf of Gemeente Ede", "Personal capacity"
ONLY_MEMBERS_NL = "Alleen leden van een organisatie kunnen namens die organisatie berichten plaatsen."


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", display_name="Bert Burger")
    return node


def publish(page: Page, voice: str, text: str) -> int:
    """Choose a voice, type the text and press Publiceren in the composer on the current page; the new post's id."""
    composer = page.locator("form.composer")
    composer.locator(f"#voice-{voice}").check()
    composer.locator("#text").press_sequentially(text)
    composer.get_by_role("button", name="Publiceren").click()
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
    page.locator("#voice-official").check()
    page.locator("#text").press_sequentially("Het gemeentehuis is vandaag open tot 20:00. #ede")
    expect(page.locator("#counter")).to_have_text("nog 452 tekens")
    page.screenshot(path=artifacts / "composer.png", full_page=True)
    page.get_by_role("button", name="Publiceren").click()
    page.wait_for_url(POST_URL)
    official_id = int(POST_URL.search(page.url).group(2))  # type: ignore[union-attr]
    focus = page.locator(".focus article.post")
    expect(focus.locator(".voice-official")).to_have_text(OFFICIAL_NL)
    expect(focus.locator(".voice-personal")).to_have_count(0)
    expect(focus.locator(".content")).to_contain_text("Het gemeentehuis is vandaag open tot 20:00.")

    # The second from the composer on the home page, in personal voice.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Start", exact=True).click()
    expect(page.locator("#compose-heading")).to_be_visible()
    personal_id = publish(page, "personal", "Mooie fietstocht langs de Ginkelse heide vanmorgen.")
    focus = page.locator(".focus article.post")
    expect(focus.locator(".voice-personal")).to_have_text(PERSONAL_NL)
    expect(focus.locator(".voice-official")).to_have_count(0)

    rows = {r["id"]: r for r in fetch(ede.database_url, "SELECT id, voice, organisation_id FROM posts "
                                      "WHERE account_id = (SELECT id FROM accounts WHERE username = 'anna')")}
    org_id = scalar(ede.database_url, "SELECT id FROM organisations WHERE slug = 'gemeente-ede'")
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


def test_non_member_cannot_choose_or_force_official_voice(ede: Node,
                                                          new_context: Callable[..., BrowserContext]) -> None:
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
    page.locator("label[for=voice-official]").click()
    expect(official).not_to_be_checked()
    expect(personal).to_be_checked()

    # Forcing it past the page: the server refuses, says why, and stores nothing.
    before = scalar(ede.database_url, "SELECT count(*) FROM posts")
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
    assert scalar(ede.database_url, "SELECT count(*) FROM posts") == before
    assert scalar(ede.database_url, "SELECT count(*) FROM posts WHERE account_id = "
                  "(SELECT id FROM accounts WHERE username = 'bert')") == 0

    # Publishing again as offered (personal voice) works.
    page.get_by_role("button", name="Publiceren").click()
    page.wait_for_url(POST_URL)
    expect(page.locator(".focus .voice-personal")).to_have_text(PERSONAL_NL)
    assert fetch(ede.database_url, "SELECT voice, organisation_id FROM posts WHERE account_id = "
                 "(SELECT id FROM accounts WHERE username = 'bert')") == [{"voice": "personal",
                                                                         "organisation_id": None}]
