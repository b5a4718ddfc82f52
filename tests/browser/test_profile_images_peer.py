"""An avatar and an organisation logo set in the browser reach a Fedify peer: our node runs as gemeente.test (real
HTTPS), a Fedify peer follows the official and the organisation's account, and after each change the peer gets an
`Update` of the actor whose `icon` is the new image, and its own lookup of the actor parses that `icon`.

Skipped, with the reason, on machines where the peer harness is not set up (see docs/interop.md).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import require_chromium, sign_in
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node
from tests.interop.peers import OUR_HOST, Peer, harness_problem, start_our_node

require_chromium()
_problem = harness_problem()
if _problem:
    pytest.skip(f"Fedify peer harness not available: {_problem}", allow_module_level=True)
pytestmark = pytest.mark.browser

SANNE = f"https://{OUR_HOST}/users/sanne"
ORGANISATION = f"https://{OUR_HOST}/users/gemeente_ede"


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    running = start_our_node(postgres.fresh_database(), tmp_path_factory.mktemp("gemeente.test"))
    try:
        factories.organisation(running)
        factories.person(running, "sanne", org="gemeente-ede", display_name="Sanne Bakker")
        factories.person(running, "kees", org="gemeente-ede", role="org_admin", display_name="Kees Jansen")
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def burger(node: Node) -> Iterator[Peer]:
    peer = Peer("burger.test").start()
    try:
        yield peer
    finally:
        peer.stop()


def _jpeg(folder: Path, name: str, colour: tuple[int, int, int]) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (600, 600), colour).save(out, "JPEG", quality=90)
    path = folder / name
    path.write_bytes(out.getvalue())
    return path


def _upload(context: BrowserContext, username: str, form_page: str, file_input: str, image: Path,
            description: str) -> str:
    """Sign in, choose the image on the form page with its alt text, save; the address of the stored image."""
    page = context.new_page()
    sign_in(page, username, factories.PASSWORD)
    page.goto(form_page)
    page.locator(file_input).set_input_files(str(image))
    page.locator("#avatar_description").fill(description)
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("opgeslagen")
    url = page.locator("img.current-avatar").get_attribute("src") or ""
    assert url.startswith(f"https://{OUR_HOST}/media/avatar-"), url
    return url


def _icon_in_update(burger: Peer, actor: str, url: str) -> dict[str, Any]:
    """The Update of `actor` whose icon is `url`, as the peer received it (waiting for it); its signature verified."""
    updates = burger.received(type="Update", actor=actor, wait=20, min=1)
    for update in updates:
        icon = (update["activity"].get("object") or {}).get("icon") or {}
        if icon.get("url") == url:
            assert update["verified"] is True and update["http_signature"]["verified"] is True, update
            return dict(icon)
    raise AssertionError(f"no Update of {actor} with icon {url} reached the peer: {updates}")


def _peer_sees_icon(burger: Peer, handle: str, url: str) -> None:
    found = burger.call("POST", "/lookup", target=handle)
    assert found["ok"], found
    icon = found["parsed"].get("icon") or {}
    assert icon.get("url") == url, found["parsed"]


def test_avatar_and_logo_reach_the_peer(node: Node, burger: Peer, tmp_path: Path,
                                        new_context: Callable[..., BrowserContext]) -> None:
    for target in (f"@sanne@{OUR_HOST}", f"@gemeente_ede@{OUR_HOST}"):
        followed = burger.call("POST", "/follow", target=target)
        assert followed["state"] == "accepted", followed

    # Sanne sets her avatar on the settings page.
    avatar_url = _upload(new_context(node.url, ignore_https_errors=True), "sanne", "/settings", "#avatar",
                         _jpeg(tmp_path, "sanne.jpg", (180, 40, 40)), "Sanne op de markt")

    icon = _icon_in_update(burger, SANNE, avatar_url)
    assert icon["type"] == "Image" and icon["mediaType"] == "image/jpeg" and icon["name"] == "Sanne op de markt"
    _peer_sees_icon(burger, f"@sanne@{OUR_HOST}", avatar_url)

    # Kees, the organisation's admin, sets the logo: the organisation's own account changes its icon.
    logo_url = _upload(new_context(node.url, ignore_https_errors=True), "kees", "/orgs/gemeente-ede/profile", "#logo",
                       _jpeg(tmp_path, "wapen.jpg", (21, 66, 115)), "Het wapen van Ede")

    _icon_in_update(burger, ORGANISATION, logo_url)
    _peer_sees_icon(burger, f"@gemeente_ede@{OUR_HOST}", logo_url)
    # The image the peer was told about is served to it as it is (no session, real HTTPS).
    served = httpx.get(logo_url, verify=node.verify())
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
