"""Following and answering from another server (issue 13, item 4) in a real browser: the Volgen/Reageren buttons
send a visitor to a stub server's subscribe template, the handle comes back pre-filled, the copy button copies the
full handle (and without JavaScript the handle is plain text); axe finds nothing on the new and changed pages in
Dutch and English. Screenshots in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium, sign_in, watch_console
from tests.helpers.nodes import Node
from tests.helpers.subscribe_stub import SubscribeStub, subscribe_stub

pytestmark = pytest.mark.browser
require_chromium()

LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Site:
    node: Node
    stub: SubscribeStub
    post_id: str


@pytest.fixture(scope="module")
def site(node: Node) -> Iterator[Site]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write").out.strip()
    made = httpx.post(f"{node.url}/api/v1/statuses", data={"status": "Spreekuur vandaag om 14:00"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert made.status_code == 200, made.text
    with subscribe_stub() as stub:
        yield Site(node, stub, str(made.json()["id"]))


def test_the_follow_button_sends_a_visitor_to_their_servers_subscribe_template(
        site: Site, new_context: Callable[..., BrowserContext], artifacts: Path) -> None:
    page = new_context(site.node.url).new_page()
    console = watch_console(page)
    page.goto("/@anna")
    page.get_by_role("link", name="Volgen", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Anna de Vries volgen vanaf uw eigen server")
    handle = f"@jan@{site.stub.host()}"
    page.get_by_label("Uw handle, zoals @naam@mastodon.social").fill(handle)
    page.screenshot(path=str(artifacts / "follow-from-mastodon-form.png"), full_page=True)
    page.get_by_role("button", name="Naar mijn server").click()
    page.wait_for_url(f"http://{site.stub.host()}/authorize_interaction?**")
    expect(page.locator("#uri")).to_have_text(f"{site.node.url}/users/anna")
    page.screenshot(path=str(artifacts / "follow-from-mastodon-arrived.png"), full_page=True)

    # Next time, on a post: the handle is already there.
    page.goto(f"/@anna/{site.post_id}")
    page.get_by_role("link", name="Reageren", exact=True).click()
    expect(page.locator("#handle")).to_have_value(handle)
    page.get_by_role("button", name="Naar mijn server").click()
    page.wait_for_url(f"http://{site.stub.host()}/authorize_interaction?**")
    expect(page.locator("#uri")).to_have_text(f"{site.node.url}/users/anna/statuses/{site.post_id}")
    assert not console.errors(), console.errors()


def test_a_bad_handle_is_refused_on_the_page(site: Site, new_context: Callable[..., BrowserContext],
                                             artifacts: Path) -> None:
    page = new_context(site.node.url).new_page()
    page.goto("/orgs/gemeente-ede")
    page.goto("/interact?account=anna")
    page.locator("#handle").fill("jan op mastodon")
    page.get_by_role("button", name="Naar mijn server").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Dat is geen handle. Typ uw eigen handle, zoals @naam@mastodon.social.")
    expect(page.locator("#handle")).to_have_value("jan op mastodon")
    page.screenshot(path=str(artifacts / "follow-from-mastodon-refused.png"), full_page=True)


def test_the_copy_button_copies_the_full_handle(site: Site, new_context: Callable[..., BrowserContext],
                                               artifacts: Path) -> None:
    context = new_context(site.node.url, language="en")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.node.url)
    page = context.new_page()
    console = watch_console(page)
    page.goto("/@anna")
    full = f"@anna@{site.node.domain}"
    expect(page.locator(".profile .full-handle")).to_have_text(full)
    page.get_by_role("button", name="Copy handle").click()
    expect(page.get_by_role("status").filter(has_text="Handle copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == full
    page.screenshot(path=str(artifacts / "profile-handle-copied.png"), full_page=True)
    assert not console.csp_violations() and not console.errors(), console.errors()


def test_without_javascript_the_handle_is_plain_text(site: Site, new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(site.node.url, java_script_enabled=False).new_page()
    page.goto("/@anna")
    expect(page.locator(".profile .full-handle")).to_have_text(f"@anna@{site.node.domain}")
    expect(page.locator("button.copy-handle")).to_be_hidden()


@pytest.mark.parametrize("language", LANGUAGES)
def test_new_and_changed_pages_have_no_wcag_violations(site: Site, new_context: Callable[..., BrowserContext],
                                                       language: str) -> None:
    page = new_context(site.node.url, language=language).new_page()
    console = watch_console(page)
    for path in ("/@anna", f"/@anna/{site.post_id}", "/orgs/gemeente-ede", "/interact?account=anna",
                 f"/interact?post={site.post_id}"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect(page.locator(".remote-interaction, form.remote-interaction")).to_have_count(1)
        violations = axe_violations(page)
        assert not violations, f"{path} ({language}):\n" + "\n".join(violations)
    page.locator("#handle").fill(f"@geen@{site.stub.host()}")
    page.locator("form.remote-interaction button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, f"no template ({language}):\n" + "\n".join(violations)
    assert not console.csp_violations(), console.csp_violations()


def test_authorize_interaction_refusal_page_has_no_wcag_violations(
        site: Site, new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(site.node.url).new_page()
    sign_in(page, "anna", factories.PASSWORD)
    response = page.goto("/authorize_interaction?uri=javascript:alert(1)")
    assert response is not None and response.status == 422
    expect(page.locator("main")).to_contain_text("Dat is geen adres van een account of een bericht.")
    assert axe_violations(page) == []
