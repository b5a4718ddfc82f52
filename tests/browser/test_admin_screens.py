"""In the browser (issue 13, item 6): an organisation admin sets the policy checks through the form's fields and
finds them again after a reload; the JSON export and import still work; the changed pages have no WCAG
violations in Dutch and English."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium, sign_in
from tests.helpers.nodes import Node

pytestmark = pytest.mark.browser
require_chromium()

POLICY = "/orgs/gemeente-ede/policy"


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna")
    factories.person(node, "kees", org="gemeente-ede", role="org-admin", display_name="Kees")
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0


def _listed(node: Node) -> dict[str, dict[str, object]]:
    listed = node.cli("policy", "list", "--org", "gemeente-ede", "--json")
    assert listed.code == 0, listed.err
    return {row["check"]: {"action": row["action"], "options": row["options"]} for row in json.loads(listed.out)
            if row["action"] != "off"}


def _in(page: Page, language: str, path: str) -> None:
    page.goto(f"/lang/{language}?next={path}")
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_the_policy_form_round_trip(node: Node, new_context: Callable[..., BrowserContext], artifacts: Path) -> None:
    page = new_context(node.url).new_page()
    sign_in(page, "kees", factories.PASSWORD)
    page.goto(POLICY)
    expect(page.locator("#check-personal-data-phone legend")).to_have_text("Telefoonnummers")
    expect(page.locator("#action-personal-data-phone option[value=warn]")).to_have_text(
        "Waarschuwen: de auteur ziet de bevinding en moet bevestigen")
    expect(page.locator("#check-personal-data-phone")).to_contain_text("Bijvoorbeeld: 0318 123456")

    page.locator("#action-personal-data-phone").select_option("warn")
    page.locator("#param-personal-data-phone-allow").fill("0318 123456\n+31 318 654321")
    page.locator("#action-deliberation").select_option("hold")
    page.locator("#param-deliberation-topics-0-terms").fill("parkeerbeleid\nwindpark noord")
    page.locator("#param-deliberation-topics-0-from").fill("2026-11-01")
    page.locator("#param-deliberation-topics-0-until").fill("2026-12-15")
    page.locator("#param-deliberation-topics-0-personal").check()
    page.locator("#action-working-hours").select_option("warn")
    page.locator("#param-working-hours-start").fill("8:30")
    page.locator("#param-working-hours-end").fill("16:30")
    for day in ("1", "2", "3", "4"):
        page.locator(f"#param-working-hours-weekdays-{day}").check()
    page.locator("#action-link-denylist").select_option("block")
    page.locator("#param-link-denylist-domains").fill("nepnieuws.example\n")
    page.locator("#action-official-rate").select_option("hold")
    page.locator("#param-official-rate-max_per_hour").fill("5")
    page.locator("form.policy-settings button[type=submit]").click()
    expect(page.locator("p.notice")).to_be_visible()

    expected = {
        "personal-data.phone": {"action": "warn", "options": {"allow": ["0318 123456", "+31 318 654321"]}},
        "deliberation": {"action": "hold", "options": {"topics": [{"terms": ["parkeerbeleid", "windpark noord"],
                                                                   "from": "2026-11-01", "until": "2026-12-15",
                                                                   "personal_only": True}]}},
        "working-hours": {"action": "warn", "options": {"start": "8:30", "end": "16:30", "weekdays": [1, 2, 3, 4]}},
        "link-denylist": {"action": "block", "options": {"domains": ["nepnieuws.example"]}},
        "official-rate": {"action": "hold", "options": {"max_per_hour": 5}},
    }
    assert _listed(node) == expected

    page.goto(POLICY)  # a fresh load shows what was stored
    expect(page.locator("#action-personal-data-phone")).to_have_value("warn")
    expect(page.locator("#param-personal-data-phone-allow")).to_have_value("0318 123456\n+31 318 654321")
    expect(page.locator("#action-deliberation")).to_have_value("hold")
    expect(page.locator("#param-deliberation-topics-0-terms")).to_have_value("parkeerbeleid\nwindpark noord")
    expect(page.locator("#param-deliberation-topics-0-from")).to_have_value("2026-11-01")
    expect(page.locator("#param-deliberation-topics-0-until")).to_have_value("2026-12-15")
    expect(page.locator("#param-deliberation-topics-0-personal")).to_be_checked()
    expect(page.locator("#param-deliberation-topics-1-terms")).to_have_value("")  # room for another topic
    expect(page.locator("#param-working-hours-start")).to_have_value("8:30")
    expect(page.locator("#param-working-hours-end")).to_have_value("16:30")
    expect(page.locator("#param-working-hours-weekdays-4")).to_be_checked()
    expect(page.locator("#param-working-hours-weekdays-5")).not_to_be_checked()
    expect(page.locator("#param-link-denylist-domains")).to_have_value("nepnieuws.example")
    expect(page.locator("#param-official-rate-max_per_hour")).to_have_value("5")
    expect(page.locator("#action-four-eyes")).to_have_value("off")
    page.screenshot(path=str(artifacts / "policy-form.png"), full_page=True)

    # A value the check refuses: the page says so and keeps what was typed; nothing is stored.
    page.locator("#param-official-rate-max_per_hour").fill("20000")
    page.locator("form.policy-settings button[type=submit]").click()
    expect(page.locator("p.error[role=alert]")).to_contain_text("max_per_hour")
    expect(page.locator("p.error[role=alert]")).to_contain_text("Berichten namens de organisatie per uur:")
    expect(page.locator("#check-official-rate")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator("#param-official-rate-max_per_hour")).to_have_value("20000")
    assert _listed(node) == expected

    # Advanced: the export is the stored settings; importing an edited copy replaces them all.
    exported = page.request.get(f"{POLICY}?format=json")
    assert exported.ok and exported.json() == expected
    page.goto(POLICY)
    page.locator("details.advanced summary").click()
    shown = json.loads(page.locator("#settings-json").input_value())
    assert shown == expected
    document = {**shown, "four-eyes": {"action": "hold", "options": {}}}
    del document["link-denylist"]
    page.locator("#settings-json").fill(json.dumps(document))
    page.locator("details.advanced button[type=submit]").click()
    expect(page.locator("p.notice")).to_be_visible()
    assert _listed(node) == document
    expect(page.locator("#action-four-eyes")).to_have_value("hold")
    expect(page.locator("#action-link-denylist")).to_have_value("off")
    page.locator("details.advanced summary").click()
    page.locator("#settings-json").fill("{niet: json")
    page.locator("details.advanced button[type=submit]").click()
    expect(page.locator("p.error[role=alert]")).to_contain_text("geen geldige JSON")
    assert _listed(node) == document

    _in(page, "en", POLICY)
    expect(page.locator("#check-personal-data-phone legend")).to_have_text("Phone numbers")
    expect(page.locator("#action-four-eyes option[value=hold]")).to_have_text(
        "Hold for a reviewer: a reviewer of the organisation approves the post first")


@pytest.mark.parametrize("language", ("nl", "en"))
def test_the_changed_pages_have_no_wcag_violations(node: Node, new_context: Callable[..., BrowserContext],
                                                   artifacts: Path, language: str) -> None:
    anna = new_context(node.url).new_page()
    sign_in(anna, "anna", factories.PASSWORD)
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    anna.goto("/compose")
    anna.locator("#voice-official").check()
    anna.locator("#text").fill(f"Bericht om te controleren ({language})")
    anna.get_by_role("button", name="Publiceren").click()
    expect(anna.locator("p.notice")).to_be_visible()
    post_path = anna.url.removeprefix(node.url)
    post_id = post_path.rsplit("/", 1)[1]
    assert node.cli("review", "reject", post_id, "--by", "kees", "--reason", "Eerst de datum noemen.").code == 0

    kees = new_context(node.url).new_page()
    sign_in(kees, "kees", factories.PASSWORD)
    beheer = new_context(node.url).new_page()
    sign_in(beheer, "beheer", factories.PASSWORD)
    for page, path in ((kees, POLICY), (kees, "/orgs/gemeente-ede/audit"), (anna, "/notifications"),
                       (anna, post_path), (beheer, "/admin/domains")):
        _in(page, language, path)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        assert axe_violations(page) == [], f"{path} ({language})"
        if path.endswith("/audit"):
            page.screenshot(path=str(artifacts / f"audit-log-{language}.png"), full_page=True)
