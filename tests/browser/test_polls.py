"""The composer's poll fields and voting on a post's page (issue 14, item 3): with and without JavaScript, and
axe-core finds no WCAG 2.1 A/AA violations on them in Dutch or English."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium, sign_in, watch_console
from tests.helpers.nodes import Node

require_chromium()

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", display_name="Bert Burger")
    factories.person(node, "carla", display_name="Carla")
    return node


def _compose_poll(page: Page, text: str, options: list[str], *, multiple: bool = False) -> str:
    page.goto("/compose")
    page.locator("details.poll-fields > summary").click()
    page.locator("#text").fill(text)
    for n, option in enumerate(options, start=1):
        page.locator(f"#poll_option_{n}").fill(option)
    page.locator("#poll_expires_in").select_option("3600")
    if multiple:
        page.locator("#poll_multiple").check()
    page.locator("form.composer button[type=submit]").click()
    page.wait_for_url(re.compile(r"/@anna/\d+$"))
    return page.url


def test_compose_and_vote_with_axe_in_both_languages(ede: Node, new_context: Callable[..., BrowserContext]) -> None:
    anna = new_context(ede.url).new_page()
    console = watch_console(anna)
    sign_in(anna, "anna", factories.PASSWORD)
    anna.goto("/compose")
    anna.locator("details.poll-fields > summary").click()
    expect(anna.get_by_label("Keuze 1")).to_be_visible()
    assert axe_violations(anna) == []
    post_url = _compose_poll(anna, "Waar komen de nieuwe bankjes?", ["Markt", "Park", "Station"])
    poll = anna.locator("section.poll")
    expect(poll.locator(".poll-results li")).to_have_count(3)  # the author sees the results, not a form
    expect(poll).to_contain_text("0 mensen stemden")
    assert axe_violations(anna) == []

    bert = new_context(ede.url).new_page()
    sign_in(bert, "bert", factories.PASSWORD)
    bert.goto(post_url)
    expect(bert.get_by_role("radio", name="Park")).to_be_visible()
    assert axe_violations(bert) == []
    bert.get_by_role("radio", name="Park").check()
    bert.get_by_role("button", name="Stemmen").click()
    results = bert.locator("section.poll .poll-results")
    expect(results.locator("li.own-vote")).to_contain_text("Park")
    expect(results).to_contain_text("100% · 1 stem")
    assert axe_violations(bert) == []

    bert.goto("/lang/en?next=" + post_url.removeprefix(ede.url))
    expect(bert.locator("section.poll")).to_contain_text("1 person voted")
    expect(bert.locator("section.poll")).to_contain_text("(your vote)")
    assert axe_violations(bert) == []
    anna.goto("/lang/en?next=/compose")
    anna.locator("details.poll-fields > summary").click()
    expect(anna.get_by_label("Hide the results until the poll ends")).to_be_visible()
    assert axe_violations(anna) == []
    assert console.csp_violations() == [] and console.errors() == [], console.errors()


def test_poll_without_javascript(ede: Node, new_context: Callable[..., BrowserContext]) -> None:
    anna = new_context(ede.url, java_script_enabled=False).new_page()
    sign_in(anna, "anna", factories.PASSWORD)
    anna.goto("/compose")
    anna.locator("#text").fill("Alleen één optie")
    anna.locator("details.poll-fields > summary").click()
    anna.locator("#poll_option_1").fill("Ja")
    anna.locator("form.composer button[type=submit]").click()
    expect(anna.locator("#composer-error")).to_contain_text("minstens twee keuzes")
    expect(anna.locator("#poll_option_1")).to_have_value("Ja")  # what was typed stays, the poll fields open
    post_url = _compose_poll(anna, "Welke dagen het spreekuur?", ["Maandag", "Woensdag", "Vrijdag"], multiple=True)

    carla = new_context(ede.url, java_script_enabled=False).new_page()
    sign_in(carla, "carla", factories.PASSWORD)
    carla.goto(post_url)
    carla.get_by_role("checkbox", name="Maandag").check()
    carla.get_by_role("checkbox", name="Vrijdag").check()
    carla.get_by_role("button", name="Stemmen").click()
    expect(carla.locator("section.poll li.own-vote")).to_have_count(2)
    expect(carla.locator("section.poll")).to_contain_text("1 persoon stemde")
