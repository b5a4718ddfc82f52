"""A profile's avatar, header and fields, set on the settings page: uploaded, described, shown on the profile."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium, sign_in, watch_console
from tests.helpers.nodes import Node

require_chromium()
pytestmark = pytest.mark.browser


def _image(folder: Path, name: str, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", size, colour)
    image.paste((250, 250, 250), (size[0] // 3, size[1] // 3, 2 * size[0] // 3, 2 * size[1] // 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    path = folder / name
    path.write_bytes(out.getvalue())
    return path


def test_set_avatar_header_and_fields_on_the_settings_page(node: Node, artifacts: Path, tmp_path: Path,
                                                           new_context: Callable[..., BrowserContext]) -> None:
    # Sanne, an official of Gemeente Ede, has no avatar, header or fields yet.
    factories.organisation(node)
    factories.person(node, "sanne", org="gemeente-ede", display_name="Sanne Bakker")
    page = new_context(node.url).new_page()
    console = watch_console(page)
    sign_in(page, "sanne", factories.PASSWORD)
    page.goto("/settings")
    assert not axe_violations(page), axe_violations(page)

    page.get_by_label("Kies een afbeelding").first.set_input_files(
        str(_image(tmp_path, "anna.jpg", (800, 600), (180, 40, 40))))
    page.locator("#avatar_description").fill("Anna voor het gemeentehuis")
    page.locator("#header").set_input_files(str(_image(tmp_path, "markt.jpg", (1200, 800), (40, 90, 160))))
    page.locator("#header_description").fill("De Markt in Ede")
    page.get_by_label("Naam 1").fill("Spreekuur")
    page.get_by_label("Inhoud 1").fill("dinsdag 10-12 uur")
    page.get_by_label("Naam 2").fill("Website")
    page.get_by_label("Inhoud 2").fill("https://ede.example/anna")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("opgeslagen")
    expect(page.locator("img.current-avatar")).to_have_attribute("alt", "Anna voor het gemeentehuis")

    page.goto("/@sanne")
    avatar = page.get_by_role("img", name="Anna voor het gemeentehuis")
    header = page.get_by_role("img", name="De Markt in Ede")
    expect(avatar).to_be_visible()
    expect(header).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", avatar.element_handle()) == 400
    assert page.evaluate("(img) => [img.naturalWidth, img.naturalHeight]", header.element_handle()) == [1500, 500]
    expect(page.locator("dl.profile-fields dt").nth(0)).to_have_text("Spreekuur")
    expect(page.locator("dl.profile-fields dd").nth(0)).to_have_text("dinsdag 10-12 uur")
    expect(page.get_by_role("link", name="https://ede.example/anna")).to_have_attribute("rel", "me nofollow noopener noreferrer")
    assert not axe_violations(page), axe_violations(page)
    page.screenshot(path=str(artifacts / "profile-with-header.png"), full_page=True)
    assert not console.errors() and not console.csp_violations()

    # The client API sees the same, and removing the header on the settings page takes it off.
    src = avatar.get_attribute("src") or ""
    assert httpx.get(src).headers["content-type"] == "image/jpeg"
    page.goto("/settings")
    page.locator("#remove_header").check()
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("opgeslagen")
    page.goto("/@sanne")
    expect(page.get_by_role("img", name="De Markt in Ede")).to_have_count(0)
    expect(page.get_by_role("img", name="Anna voor het gemeentehuis")).to_be_visible()
