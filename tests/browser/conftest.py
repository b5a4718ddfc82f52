"""Browser fixtures: Debian's chromium driven by Playwright's sync API, one browser per test module.

Not the pytest-playwright plugin: its session-wide event loop breaks the asyncio-based helpers of the other suites
(see TOOLING.md, "Don't mix styles"). Each test gets a fresh browser context (its own cookies), so tests do not
share a sign-in unless they ask for one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 30_000  # generous: only a failing wait lasts this long, and the machine is shared
T = TypeVar("T")

expect.set_options(timeout=TIMEOUT_MS)


def require_chromium() -> None:
    """Call at module level: skips the whole module when the browser is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


def off_loop(function: Callable[..., T], *args: Any) -> T:
    """Run a helper that calls asyncio.run() (tests/helpers/database.py) while Playwright's sync API is active.

    The sync API keeps its own event loop marked as running on this thread, so asyncio.run() here would fail with
    "cannot be called from a running event loop"; a worker thread has no running loop.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def db_scalar(url: str, sql: str, *args: Any) -> Any:
    return off_loop(scalar, url, sql, *args)


def db_fetch(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    return off_loop(fetch, url, sql, *args)


@pytest.fixture(scope="module")
def browser(node: Node) -> Iterator[Browser]:
    """One chromium per module. Depends on `node` so that the node (and its database, made with asyncio.run) is
    set up before Playwright's loop starts on this thread."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                               call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """When a browser test fails, show the end of its node's log: a page that never arrives is often explained
    there."""
    report = yield
    node = getattr(item, "funcargs", {}).get("node")
    if report.failed and isinstance(node, Node) and node.log_path and node.log_path.exists():
        tail = node.log_path.read_text(errors="replace").splitlines()[-80:]
        report.sections.append(("node server.log (last 80 lines)", "\n".join(tail)))
    return report


@dataclass
class Console:
    """What a page wrote to its console, and uncaught script errors."""

    messages: list[tuple[str, str, str]] = field(default_factory=list)  # (type, text, url of the source)
    page_errors: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions, except the browser's own request for /favicon.ico (the site
        has none)."""
        return [f"{text} ({url})" for kind, text, url in self.messages
                if kind == "error" and not url.endswith("/favicon.ico")] + self.page_errors

    def csp_violations(self) -> list[str]:
        return [text for _, text, _ in self.messages if re.search(r"Content Security Policy|Refused to", text)]


def watch_console(page: Page) -> Console:
    console = Console()

    def on_console(message: ConsoleMessage) -> None:
        console.messages.append((message.type, message.text, message.location.get("url", "")))

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.page_errors.append(str(error)))
    return console


@pytest.fixture()
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """A factory for browser contexts (each a separate visitor), all closed after the test."""
    made: list[BrowserContext] = []

    def make(base_url: str, *, language: str = "nl", **options: Any) -> BrowserContext:
        context = browser.new_context(base_url=base_url, locale="nl-NL" if language == "nl" else "en-GB",
                                      viewport={"width": 1000, "height": 800}, **options)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def sign_in(page: Page, username: str, password: str) -> None:
    """Through the sign-in form, as a person would; ends on the home page."""
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form.narrow button[type=submit]").click()
    page.wait_for_url("**/")
    expect(page.locator("form[action='/logout']")).to_be_visible()


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA findings on the current page, one readable line per offending element."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    lines = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"{violation['id']} ({violation['impact']}) at {target}: {violation['help']}. {summary}")
    return lines
