"""Progressive enhancement: composer.js counts characters live, under the site's strict Content-Security-Policy."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import db_scalar, require_chromium, sign_in, watch_console
from tests.helpers.nodes import Node

require_chromium()

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    return node


def test_counter_counts_down_while_typing_without_csp_errors(ede: Node,
                                                             new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(ede.url).new_page()
    console = watch_console(page)
    sign_in(page, "anna", factories.PASSWORD)
    response = page.goto("/compose")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp

    counter = page.locator("form.composer #counter")
    expect(counter).to_have_text("nog 500 tekens")  # the script replaced the server's "Hoogstens 500 tekens."
    page.locator("#text").press_sequentially("Hallo")
    expect(counter).to_have_text("nog 495 tekens")
    page.locator("#spoiler_text").press_sequentially("Let op")  # a content warning counts too
    expect(counter).to_have_text("nog 489 tekens")
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))
    page.locator("#text").fill("Fiets 🚲")  # an emoji is one character, as the server counts
    expect(counter).to_have_text("nog 487 tekens")
    page.locator("#text").fill("x" * 500)
    expect(counter).to_have_text("nog -6 tekens")
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    page.locator("#spoiler_text").fill("")
    expect(counter).to_have_text("nog 0 tekens")
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))

    # The composer under a post and the edit page count the same way; the edit page starts from the stored text.
    page.locator("#text").fill("Twaalf tekens")
    page.get_by_role("button", name="Publiceren").click()
    page.wait_for_url(re.compile(r"/@anna/\d+$"))
    post_path = page.url.removeprefix(ede.url)
    expect(page.locator("#answer-heading")).to_be_visible()
    page.locator("form.composer #text").press_sequentially("Dank")
    expect(page.locator("form.composer #counter")).to_have_text("nog 496 tekens")
    page.goto(post_path + "/edit")
    expect(page.locator("#counter")).to_have_text("nog 487 tekens")

    # In English.
    page.goto("/lang/en?next=/compose")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#text").press_sequentially("Hello")
    expect(page.locator("#counter")).to_have_text("495 characters left")

    assert console.csp_violations() == [], console.csp_violations()
    assert console.errors() == [], console.errors()


def test_csp_errors_would_be_noticed(ede: Node, new_context: Callable[..., BrowserContext]) -> None:
    """The check above is only worth something if a blocked script shows up on the console: provoke one."""
    page = new_context(ede.url).new_page()
    console = watch_console(page)
    page.goto("/login")
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineScriptRan = true";
            document.body.append(script);
        }""")
    assert page.evaluate("() => window.inlineScriptRan") is None
    assert console.csp_violations(), console.messages


def test_composer_works_without_javascript(ede: Node, new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(ede.url, java_script_enabled=False).new_page()
    sign_in(page, "anna", factories.PASSWORD)
    page.goto("/compose")
    expect(page.locator("#counter")).to_have_text("Hoogstens 500 tekens.")
    before = db_scalar(ede.database_url, "SELECT count(*) FROM posts")
    page.locator("#voice-personal").check()
    page.locator("#text").fill("Zonder JavaScript geplaatst")
    page.get_by_role("button", name="Publiceren").click()
    page.wait_for_url(re.compile(r"/@anna/\d+$"))
    expect(page.locator(".focus .content")).to_have_text("Zonder JavaScript geplaatst")
    assert db_scalar(ede.database_url, "SELECT count(*) FROM posts") == before + 1
