"""An organisation admin sets the logo and house colour once; the organisation's page and its officials' official
posts show both (the colour through data-house-colour and a first-party script, as the CSP allows no inline styles);
personal posts show neither."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, expect

from tests import factories
from tests.browser.conftest import axe_violations, require_chromium, sign_in, watch_console
from tests.helpers.nodes import Node

require_chromium()
pytestmark = pytest.mark.browser


def test_org_admin_sets_logo_and_house_colour(node: Node, artifacts: Path, tmp_path: Path,
                                              new_context: Callable[..., BrowserContext]) -> None:
    factories.organisation(node, slug="gemeente-wageningen", name="Gemeente Wageningen")
    factories.person(node, "joost", org="gemeente-wageningen", role="org_admin", display_name="Joost Kok")
    factories.person(node, "lies", org="gemeente-wageningen", display_name="Lies Smit")
    logo = tmp_path / "logo.png"
    out = io.BytesIO()
    Image.new("RGB", (500, 300), (21, 66, 115)).save(out, "PNG")
    logo.write_bytes(out.getvalue())

    official = new_context(node.url).new_page()
    sign_in(official, "lies", factories.PASSWORD)
    assert official.goto("/orgs/gemeente-wageningen/profile").status == 403  # not an admin

    page = new_context(node.url).new_page()
    console = watch_console(page)
    sign_in(page, "joost", factories.PASSWORD)
    page.goto("/orgs/gemeente-wageningen")
    page.get_by_role("link", name="Logo en huiskleur").click()
    page.locator("#logo").set_input_files(str(logo))
    page.locator("#avatar_description").fill("Het wapen van Wageningen")
    page.locator("#house_colour").fill("not a colour")
    page.locator("form.settings").evaluate("(form) => form.noValidate = true")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("alert")).to_contain_text("#154273")
    page.locator("#logo").set_input_files(str(logo))
    page.locator("#house_colour").fill("#1A7F37")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("opgeslagen")
    assert not axe_violations(page), axe_violations(page)

    page.goto("/orgs/gemeente-wageningen")
    logo_img = page.get_by_role("img", name="Het wapen van Wageningen")
    expect(logo_img).to_be_visible()
    assert page.evaluate("(img) => [img.naturalWidth, img.naturalHeight]", logo_img.element_handle()) == [400, 400]
    section = page.locator("section.profile.house")
    expect(section).to_have_attribute("data-house-colour", "#1a7f37")
    expect(section).to_have_css("border-top-color", "rgb(26, 127, 55)")
    assert not axe_violations(page), axe_violations(page)
    page.screenshot(path=str(artifacts / "organisation-logo-house-colour.png"), full_page=True)
    assert not console.csp_violations() and not console.page_errors  # the refused colour was a 422 on purpose

    # Lies posts once in each voice: the official post carries the logo and the colour, the personal one neither.
    for voice, text in (("official", "Het gemeentehuis is vrijdag gesloten."), ("personal", "Mooie fietsroute!")):
        official.goto("/")
        official.locator("form.composer").locator(f"#voice-{voice}").check()
        official.locator("form.composer #text").fill(text)
        official.locator("form.composer").get_by_role("button", name="Publiceren").click()
        official.wait_for_url("**/@lies/*")
    official.goto("/@lies")
    official_post = official.locator("article.post", has_text="gesloten")
    personal_post = official.locator("article.post", has_text="fietsroute")
    expect(official_post).to_have_attribute("data-house-colour", "#1a7f37")
    expect(official_post).to_have_css("border-left-color", "rgb(26, 127, 55)")
    logo_in_post = official_post.locator(".voice-official img.voice-logo")
    expect(logo_in_post).to_be_visible()
    assert logo_in_post.get_attribute("src") == logo_img.get_attribute("src")
    assert official.evaluate("(img) => img.complete && img.naturalWidth", logo_in_post.element_handle()) == 400
    expect(official_post.locator(".voice-official")).to_have_text("Namens Gemeente Wageningen")
    expect(personal_post).not_to_have_attribute("data-house-colour", "#1a7f37")
    expect(personal_post.locator("img.voice-logo")).to_have_count(0)
    assert not axe_violations(official), axe_violations(official)
    official.screenshot(path=str(artifacts / "official-post-logo-house-colour.png"), full_page=True)
    page.goto("/orgs/gemeente-wageningen")
    expect(page.locator("article.post.house .voice-logo")).to_have_count(1)
