"""The XSS corpus in a real browser: every page that shows the payloads (thread, posts, local and remote profiles,
timelines) runs no script of theirs. No dialog opens, the `window.__xss` marker stays unset, no element carries an
event handler, no link has a script address, and the browser never even had to refuse an inline script (CSP)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page

from tests import factories
from tests.browser.conftest import require_chromium, sign_in, watch_console
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node
from tests.helpers.xss import HostileServer, Seeded, seed

pytestmark = pytest.mark.browser
require_chromium()

HANDLERS_JS = """() => [...document.querySelectorAll('*')].flatMap(element =>
    [...element.attributes].filter(a => a.name.toLowerCase().startsWith('on'))
        .map(a => `${element.tagName} ${a.name}`))"""
SCRIPT_LINKS_JS = """() => [...document.querySelectorAll('[href], [src], [action], [formaction]')].flatMap(element =>
    ['href', 'src', 'action', 'formaction'].map(name => element.getAttribute(name)).filter(value => value !== null
        && /^(javascript|vbscript|data):/i.test(value.replace(/[\\u0000-\\u0020]/g, '')))
        .map(value => `${element.tagName} ${value}`))"""


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node with the corpus everywhere, set up before the browser starts (the seeding uses asyncio)."""
    hostile = HostileServer()
    running = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("xss")).start()
    try:
        running.seeded = seed(running, hostile)  # type: ignore[attr-defined]
        yield running
    finally:
        running.stop()
        hostile.close()


def assert_inert(page: Page, path: str, dialogs: list[str]) -> None:
    console = watch_console(page)
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    page.wait_for_load_state("load")
    for summary in page.locator("details summary").all()[:10]:  # open content warnings: their payloads show
        summary.click()
    assert dialogs == [], (path, dialogs)
    assert page.evaluate("() => typeof window.__xss") == "undefined", path
    assert page.evaluate(HANDLERS_JS) == [], path
    assert page.locator('a[href^="javascript:" i]').count() == 0, path
    assert page.evaluate(SCRIPT_LINKS_JS) == [], path
    assert console.csp_violations() == [], (path, console.csp_violations())


@pytest.mark.parametrize("signed_in", [False, True])
def test_no_payload_runs_on_any_page(node: Node, new_context: Callable[..., BrowserContext], signed_in: bool) -> None:
    seeded: Seeded = node.seeded  # type: ignore[attr-defined]
    page = new_context(node.url, language="en").new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # The detectors themselves work: on a page without our defences, a payload fires every one of them.
    page.set_content('<img src=x onerror="window.__xss=1;alert(1)"><a href="javascript:alert(2)">x</a>')
    page.wait_for_function("() => window.__xss === 1")
    assert dialogs == ["1"] and page.evaluate(HANDLERS_JS) == ["IMG onerror"]
    assert page.evaluate(SCRIPT_LINKS_JS) == ["A javascript:alert(2)"]
    dialogs.clear()
    if signed_in:
        sign_in(page, "anna", factories.PASSWORD)
    for path in seeded.pages():
        assert_inert(page, path, dialogs)
    # The payloads are there, as text: the page shows them rather than hiding them.
    page.goto(f"/@anna/{seeded.root_id}")
    assert page.get_by_text("<script>window.__xss=1;alert(1)</script>").count() >= 1
