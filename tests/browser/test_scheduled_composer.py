"""In a real browser: an official schedules a post with the composer's date-time field (Dutch time), moves and
cancels it on the page of scheduled posts; axe-core finds no WCAG 2.1 A/AA violations, in Dutch and English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import axe_violations, db_scalar, require_chromium, sign_in, watch_console
from tests.helpers.nodes import Node

require_chromium()

pytestmark = pytest.mark.browser
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WORDS = {"nl": {"schedule": "Inplannen", "change": "Tijd wijzigen", "delete": "Verwijderen",
                "too_soon": "minstens 5 minuten", "none": "Je hebt geen geplande berichten."},
         "en": {"schedule": "Schedule", "change": "Change time", "delete": "Delete",
                "too_soon": "at least 5 minutes", "none": "You have no scheduled posts."}}


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    return node


def scheduled_at(node: Node, text: str) -> datetime | None:
    return db_scalar(node.database_url, "SELECT s.scheduled_at FROM scheduled_statuses s "
                     "WHERE s.params->>'text' = $1", text)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_schedule_move_and_cancel_in_the_browser(ede: Node, new_context: Callable[..., BrowserContext],
                                                 artifacts: Path, language: str) -> None:
    words = WORDS[language]
    page = new_context(ede.url, language=language).new_page()
    console = watch_console(page)
    sign_in(page, "anna", factories.PASSWORD)
    page.goto(f"/lang/{language}?next=/compose")
    assert not axe_violations(page), axe_violations(page)

    text = f"Raadsvergadering terug te kijken ({language})"
    tomorrow = (datetime.now(AMSTERDAM) + timedelta(days=1)).replace(hour=9, minute=30, second=0, microsecond=0)
    composer = page.locator("form.composer")
    composer.locator("#text").fill(text)
    # Too soon first: the browser's picker refuses it (min); past a page left open that long, the server does, and
    # the composer comes back with the reason and everything typed.
    field = composer.locator("#scheduled_at")
    field.fill(datetime.now(AMSTERDAM).strftime("%Y-%m-%dT%H:%M"))
    assert field.evaluate("input => input.validity.rangeUnderflow")
    field.evaluate("input => input.removeAttribute('min')")
    composer.get_by_role("button", name=words["schedule"]).click()
    expect(page.locator("#composer-error")).to_contain_text(words["too_soon"])
    expect(page.locator("#text")).to_have_value(text)
    assert not axe_violations(page), axe_violations(page)

    page.locator("#scheduled_at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.locator("form.composer").get_by_role("button", name=words["schedule"]).click()
    page.wait_for_url("**/scheduled")
    item = page.locator("li.scheduled-post").filter(has_text=text)
    expect(item).to_be_visible()
    stored = scheduled_at(ede, text)
    assert stored is not None and stored.astimezone(AMSTERDAM) == tomorrow  # the field is Dutch time
    assert not axe_violations(page), axe_violations(page)
    page.screenshot(path=str(artifacts / f"scheduled-posts-{language}.png"), full_page=True)

    later = tomorrow + timedelta(days=1, hours=2)
    item.locator("input[type=datetime-local]").fill(later.strftime("%Y-%m-%dT%H:%M"))
    item.get_by_role("button", name=words["change"]).click()
    expect(page.locator("li.scheduled-post").filter(has_text=text)).to_be_visible()
    assert scheduled_at(ede, text).astimezone(AMSTERDAM) == later

    page.locator("li.scheduled-post").filter(has_text=text).get_by_role("button", name=words["delete"]).click()
    expect(page.get_by_text(words["none"])).to_be_visible()
    assert scheduled_at(ede, text) is None
    unexpected = [e for e in console.errors() if "422" not in e]  # the refused page itself answers 422
    assert not unexpected, unexpected
