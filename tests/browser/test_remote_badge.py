"""A badge issued on another node of ours, seen verified on this node's pages (with a screenshot)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node

pytestmark = pytest.mark.browser
require_chromium()


@pytest.fixture(scope="module")
def issuer(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("issuer")).start()
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "kees", org="gemeente-ede", role="org-admin")
    assert node.cli("badge", "issue", "--username", "anna", "--function", "Teamleider informatievoorziening",
                    "--by", "kees").code == 0
    yield node
    node.stop()


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory, issuer: Node) -> Iterator[Node]:
    """Node A, which trusts the issuer and where a citizen looks at anna's profile."""
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("viewer")).start()
    try:  # a failed set-up must not leave the node running
        factories.person(node, "bert", display_name="Bert Burger")
        assert node.cli("trust", "add", issuer.domain).code == 0
        token = node.cli("token", "create", "--username", "bert", "--scopes", "read").out.strip()
        found = httpx.get(f"{node.url}/api/v2/search", params={"q": f"@anna@{issuer.domain}", "resolve": "true"},
                          headers={"Authorization": f"Bearer {token}"}).json()["accounts"]
        assert found and found[0]["ambtenaar"]["verified"] is True, found
        node.remote_anna_id = found[0]["id"]  # type: ignore[attr-defined]
        yield node
    finally:
        node.stop()


def test_remote_badge_shows_verified_on_this_node(node: Node, new_context: Callable[..., BrowserContext],
                                                  artifacts: Path) -> None:
    page = new_context(node.url, language="en").new_page()
    page.goto(f"/accounts/{node.remote_anna_id}")  # type: ignore[attr-defined]
    badge = page.locator(".profile .badge-valid")
    expect(badge).to_contain_text("Verified: Teamleider informatievoorziening, Gemeente Ede")
    page.screenshot(path=str(artifacts / "remote-badge-verified.png"), full_page=True)
    assert axe_violations(page) == []
