"""In the browser: an official reports a reply from her notifications, a moderator suspends its author from the
queue, and the moderators' pages (reports, account, domains) pass axe; with screenshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import axe_violations, db_scalar, require_chromium, sign_in
from tests.federation.conftest import api
from tests.helpers.nodes import Node

pytestmark = pytest.mark.browser
require_chromium()

MODERATOR_PASSWORD = "moderator-wachtwoord"


@pytest.fixture(scope="module", autouse=True)
def people(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "trol", display_name="Trol Lenaar")
    assert node.cli("admin", "create", "--username", "mona", "--moderator", "--password-stdin",
                    stdin=MODERATOR_PASSWORD + "\n").code == 0
    assert node.cli("domain", "block", "spam.example", "--severity", "suspend", "--reason", "spamgolf",
                    "--public-comment", "Stuurt alleen reclame").code == 0


def test_report_from_notifications_then_suspend_from_the_queue(node: Node, artifacts: Path,
                                                                new_context: Callable[..., BrowserContext]) -> None:
    with api(node, "anna") as anna, api(node, "trol") as trol:
        post = anna.post("/api/v1/statuses", json={"status": "Het gemeentehuis is zaterdag open."}).json()
        reply = trol.post("/api/v1/statuses", json={"status": "@anna Koop goedkope horloges op nep.example!",
                                                    "in_reply_to_id": post["id"]}).json()
    trol_id = int(reply["account"]["id"])

    official = new_context(node.url).new_page()
    sign_in(official, "anna", factories.PASSWORD)
    official.goto("/notifications")
    assert axe_violations(official) == []
    official.get_by_role("link", name="Rapporteren Trol Lenaar").first.click()
    expect(official.locator("h1")).to_contain_text("Trol Lenaar")
    expect(official.locator(f"#post-{reply['id']}")).to_be_checked()  # the reply that notified her
    official.locator("#category-spam").check()
    official.locator("#comment").fill("Reclame onder ons bericht over de openingstijden.")
    assert axe_violations(official) == []
    official.get_by_role("button", name="Rapportage versturen").click()
    expect(official.locator("h1")).to_be_visible()
    report_id = db_scalar(node.database_url, "SELECT id FROM reports WHERE target_account_id = $1", trol_id)
    assert report_id is not None

    moderator = new_context(node.url).new_page()
    sign_in(moderator, "mona", MODERATOR_PASSWORD)
    moderator.goto("/admin/reports")
    assert axe_violations(moderator) == []
    moderator.locator(f"a[href='/admin/reports/{report_id}']").first.click()
    expect(moderator.locator(".report-comment")).to_contain_text("Reclame onder ons bericht")
    expect(moderator.locator(".reported-post")).to_contain_text("goedkope horloges")
    assert axe_violations(moderator) == []
    moderator.screenshot(path=str(artifacts / "moderation-report.png"), full_page=True)
    moderator.locator("#text-suspend").fill("Herhaaldelijk reclame.")
    moderator.get_by_role("button", name="Account opschorten").click()
    expect(moderator.locator("p.notice")).to_be_visible()
    assert db_scalar(node.database_url, "SELECT suspended_at IS NOT NULL FROM accounts WHERE id = $1", trol_id)
    assert db_scalar(node.database_url, "SELECT state FROM reports WHERE id = $1", report_id) == "resolved"
    assert db_scalar(node.database_url, "SELECT count(*) FROM audit_log WHERE subject_type = 'account' "
                     "AND action = 'account.suspended' AND subject_id = $1", str(trol_id)) == 1

    # The suspended account's reply is gone from the official's thread, in her browser.
    official.goto(f"/@anna/{post['id']}")
    expect(official.locator("article.post").first).to_contain_text("Het gemeentehuis is zaterdag open.")
    expect(official.locator("body")).not_to_contain_text("goedkope horloges")

    moderator.goto(f"/admin/accounts/{trol_id}")
    assert axe_violations(moderator) == []
    moderator.goto("/admin/domains")
    expect(moderator.locator("body")).to_contain_text("spam.example")
    assert axe_violations(moderator) == []
    moderator.screenshot(path=str(artifacts / "moderation-domains.png"), full_page=True)
