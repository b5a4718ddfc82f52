"""Passwords and two-factor sign-in in chromium (issue 13): changing a password and signing in again; switching
TOTP on and signing in with a code and with a recovery code; and axe-core finding no WCAG 2.1 A/AA violation on
any of the new pages, in Dutch and in English."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium, sign_in, watch_console
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node

require_chromium()

pytestmark = pytest.mark.browser

NEW_PASSWORD = "nieuw-en-lang-genoeg-7"


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """The node's default rule (admins and moderators must use a second factor), and an organisation."""
    running = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("node"),
                   require_2fa_for="staff").start()
    factories.organisation(running)
    yield running
    running.stop()


def password_step(page: Page, username: str, password: str = factories.PASSWORD) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form.narrow button[type=submit]").click()


def secret_on(page: Page) -> str:
    return page.locator("#secret").inner_text().replace(" ", "")


def code_at(secret: str, offset_steps: int) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def switch_on(page: Page) -> tuple[str, list[str]]:
    """On the setup page: type the key into 'the app', confirm with its code; the key and the recovery codes."""
    secret = secret_on(page)
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    page.locator("form.narrow button[type=submit]").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    return secret, [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]


def signed_in(page: Page) -> None:
    expect(page.locator("form[action='/logout']")).to_be_attached()


def test_changing_a_password_and_signing_in_again(node: Node, new_context: Callable[..., BrowserContext],
                                                  artifacts: Path) -> None:
    factories.person(node, "petra", org="gemeente-ede")
    laptop = new_context(node.url).new_page()
    phone = new_context(node.url).new_page()
    sign_in(laptop, "petra", factories.PASSWORD)
    sign_in(phone, "petra", factories.PASSWORD)
    laptop.goto("/settings")
    laptop.get_by_role("link", name="Wachtwoord, inloggen in twee stappen, sessies en apps").click()
    expect(laptop.locator("section[aria-labelledby=sessions] tbody tr")).to_have_count(2)
    laptop.locator("#current_password").fill(factories.PASSWORD)
    laptop.locator("#new_password").fill(NEW_PASSWORD)
    laptop.locator("#new_password_confirm").fill(NEW_PASSWORD)
    laptop.get_by_role("button", name="Wachtwoord wijzigen").click()
    expect(laptop.get_by_role("status")).to_contain_text("Je andere sessies zijn uitgelogd: 1")
    expect(laptop.locator("section[aria-labelledby=sessions] tbody tr")).to_have_count(1)
    laptop.screenshot(path=str(artifacts / "security-password-changed-nl.png"), full_page=True)
    phone.goto("/settings/security")
    expect(phone).to_have_url(re.compile(r"/login\?next="))  # the other session was signed out

    password_step(phone, "petra")  # the old password no longer works
    expect(phone.get_by_role("alert")).to_be_visible()
    sign_in(phone, "petra", NEW_PASSWORD)
    signed_in(phone)


def test_enabling_totp_then_signing_in_with_a_code_and_with_a_recovery_code(
        node: Node, new_context: Callable[..., BrowserContext], artifacts: Path) -> None:
    factories.person(node, "tobias", org="gemeente-ede")
    page = new_context(node.url).new_page()
    console = watch_console(page)
    sign_in(page, "tobias", factories.PASSWORD)
    page.goto("/settings/security")
    page.get_by_role("link", name="Inloggen in twee stappen instellen").click()
    expect(page).to_have_url(re.compile(r"/two-factor/setup$"))
    page.screenshot(path=str(artifacts / "two-factor-setup-nl.png"), full_page=True)
    secret, codes = switch_on(page)
    expect(page.get_by_role("status")).to_have_text("Inloggen in twee stappen staat aan.")
    page.screenshot(path=str(artifacts / "two-factor-recovery-codes-nl.png"), full_page=True)
    page.get_by_role("link", name="Ik heb mijn codes bewaard, verder").click()
    expect(page.locator("section[aria-labelledby=two-factor]")).to_contain_text("Ongebruikte herstelcodes: 10")

    # With a code from the app.
    with_code = new_context(node.url).new_page()
    password_step(with_code, "tobias")
    expect(with_code).to_have_url(re.compile(r"/login/two-factor$"))
    expect(with_code.locator("form[action='/logout']")).to_have_count(0)  # not signed in yet
    with_code.locator("#code").fill(code_at(secret, 1))  # the enrolment spent this step's code
    with_code.locator("form.narrow button[type=submit]").click()
    signed_in(with_code)

    # With a recovery code, once.
    with_recovery = new_context(node.url).new_page()
    password_step(with_recovery, "tobias")
    with_recovery.locator("#code").fill(codes[3])
    with_recovery.locator("form.narrow button[type=submit]").click()
    signed_in(with_recovery)
    with_recovery.goto("/settings/security")
    expect(with_recovery.locator("section[aria-labelledby=two-factor]")).to_contain_text("Ongebruikte herstelcodes: 9")

    again = new_context(node.url).new_page()
    password_step(again, "tobias")
    again.locator("#code").fill(codes[3])
    again.locator("form.narrow button[type=submit]").click()
    expect(again.get_by_role("alert")).to_contain_text("al gebruikt")
    again.screenshot(path=str(artifacts / "two-factor-code-refused-nl.png"), full_page=True)
    assert not console.errors() and not console.csp_violations()


# The new pages, each checked by axe in both languages.

def _with_language(page: Page, language: str) -> None:
    page.goto(f"/lang/{language}?next=/")
    expect(page.locator("html")).to_have_attribute("lang", language)


def _check(page: Page, what: str, language: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    violations = axe_violations(page)
    assert not violations, f"axe found WCAG violations on {what} ({page.url}, {language}):\n" + "\n".join(violations)


@pytest.mark.parametrize("language", ("nl", "en"))
def test_new_pages_have_no_wcag_violations(node: Node, new_context: Callable[..., BrowserContext],
                                           language: str) -> None:
    suffix = language
    org_admin = f"olaf_{suffix}"
    factories.person(node, org_admin, org="gemeente-ede", role="org-admin")
    assert node.cli("admin", "create", "--username", f"staf_{suffix}", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0

    page = new_context(node.url, language=language).new_page()
    console = watch_console(page)
    _with_language(page, language)
    sign_in(page, org_admin, factories.PASSWORD)
    page.goto("/settings/security")
    _check(page, "security settings, two-factor off", language)
    page.locator("#current_password").fill("not-the-password")
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.locator("#new_password_confirm").fill(NEW_PASSWORD)
    page.locator("form[action='/settings/security/password'] button").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _check(page, "security settings, a refused password change", language)
    page.goto("/orgs/gemeente-ede/two-factor")
    _check(page, "an organisation's requirement", language)
    page.goto("/two-factor/setup")
    _check(page, "setting up two-factor sign-in", language)
    page.locator("#code").fill("000000" if pyotp.TOTP(secret_on(page)).now() != "000000" else "111111")
    page.locator("form.narrow button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _check(page, "setting up two-factor sign-in, a wrong code", language)
    _, codes = switch_on(page)
    _check(page, "recovery codes", language)
    page.goto("/settings/security")
    _check(page, "security settings, two-factor on", language)

    # The second step of a sign-in, and its refusal.
    second = new_context(node.url, language=language).new_page()
    _with_language(second, language)
    password_step(second, org_admin)
    expect(second).to_have_url(re.compile(r"/login/two-factor$"))
    _check(second, "the second step of signing in", language)
    second.locator("#code").fill("zzzzz-zzzzz")
    second.locator("form.narrow button[type=submit]").click()
    expect(second.get_by_role("alert")).to_be_visible()
    _check(second, "the second step of signing in, a wrong code", language)

    # Setting it up because it is required (an admin under --require-2fa-for staff).
    staff = new_context(node.url, language=language).new_page()
    _with_language(staff, language)
    password_step(staff, f"staf_{suffix}")
    expect(staff).to_have_url(re.compile(r"/two-factor/setup$"))
    expect(staff.get_by_role("status")).to_be_visible()
    _check(staff, "required setup at sign-in", language)

    # A reset link from the command line, and its refusal.
    made = node.cli("user", "reset-password", "--username", org_admin)
    assert made.code == 0, made.err
    reset = new_context(node.url, language=language).new_page()
    _with_language(reset, language)
    reset.goto(made.out.splitlines()[0].removeprefix(node.url))
    _check(reset, "setting a new password", language)
    reset.locator("#password").fill(NEW_PASSWORD)
    reset.locator("#password_confirm").fill("iets-anders-dan-dat")
    reset.locator("form.narrow button[type=submit]").click()
    expect(reset.get_by_role("alert")).to_be_visible()
    _check(reset, "setting a new password, a mismatch", language)
    reset.locator("#password").fill(NEW_PASSWORD)
    reset.locator("#password_confirm").fill(NEW_PASSWORD)
    reset.locator("form.narrow button[type=submit]").click()
    expect(reset.get_by_role("status")).to_be_visible()
    _check(reset, "signing in after a reset", language)
    assert codes and not console.csp_violations()
