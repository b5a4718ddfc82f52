"""Photos on the web: choosing one in the composer (with a preview and a way to take it off again), its alt text,
posting it, and editing the alt text afterwards; axe on every new state of the pages, in Dutch and English; with
screenshots in test-artifacts/. And the same forms without JavaScript: plain file inputs."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import axe_violations, db_fetch, require_chromium, sign_in, watch_console
from tests.helpers.nodes import Node
from tests.helpers.photos import alt_text_organisation

require_chromium()

pytestmark = pytest.mark.browser

TEXT = {"nl": {"publish": "Publiceren", "save": "Wijzigingen opslaan", "images": "Afbeeldingen (niet verplicht, hooguit 4)",
               "description": "Beschrijving (alt-tekst)", "remove": "Afbeelding 1 weghalen"},
        "en": {"publish": "Publish", "save": "Save changes", "images": "Images (optional, up to 4)",
               "description": "Description (alt text)", "remove": "Remove image 1"}}


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    alt_text_organisation(node)  # wim's asks for alt text
    return node


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small photo-like JPEG: a sky and a green field."""
    image = Image.new("RGB", (640, 420), (120, 170, 220))
    image.paste((60, 140, 60), (0, 260, 640, 420))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    path = tmp_path_factory.mktemp("photos") / "weiland.jpg"
    path.write_bytes(out.getvalue())
    return path


def assert_accessible(page: Page, what: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe found WCAG violations on {what}:\n" + "\n".join(violations)


def images_of_post(node: Node, post_id: int) -> list[dict[str, object]]:
    return db_fetch(node.database_url, "SELECT id, description FROM media_attachments WHERE post_id = $1 ORDER BY id",
                    post_id)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_post_a_photo_with_alt_text_then_edit_the_alt_text(ede: Node, photo: Path, artifacts: Path, language: str,
                                                           new_context: Callable[..., BrowserContext]) -> None:
    words = TEXT[language]
    page = new_context(ede.url, language=language).new_page()
    console = watch_console(page)
    sign_in(page, "anna", factories.PASSWORD)
    page.goto(f"/lang/{language}?next=/compose")
    expect(page.locator("html")).to_have_attribute("lang", language)

    # With the script: one empty image place, no description field until a file is chosen.
    page.get_by_text(words["images"]).click()
    expect(page.locator("#image_1")).to_be_visible()
    expect(page.locator("#image-slot-2")).to_be_hidden()
    expect(page.locator("#description_1")).to_be_hidden()
    assert_accessible(page, f"the composer with its image places open ({language})")

    page.locator("#text").fill("Het weiland bij de Ginkelse heide is weer open.")
    page.locator("#image_1").set_input_files(str(photo))
    preview = page.locator("#image-slot-1 img.image-preview")
    expect(preview).to_be_visible()
    assert (preview.get_attribute("src") or "").startswith("data:image/jpeg;base64,")
    expect(page.locator("#image-slot-2")).to_be_visible()  # the next place appears
    page.get_by_label(words["description"]).first.fill("Een groen weiland onder een blauwe lucht")
    assert_accessible(page, f"the composer with a photo ({language})")
    page.screenshot(path=str(artifacts / f"composer-with-photo-{language}.png"), full_page=True)

    # Taking it off again empties the place; choosing it again brings the preview back.
    page.get_by_role("button", name=words["remove"]).click()
    expect(preview).to_be_hidden()
    expect(page.locator("#image-slot-2")).to_be_hidden()
    assert page.locator("#image_1").evaluate("input => input.files.length") == 0
    page.locator("#image_1").set_input_files(str(photo))
    expect(preview).to_be_visible()
    page.locator("#description_1").fill("Een groen weiland onder een blauwe lucht")

    page.get_by_role("button", name=words["publish"]).click()
    page.wait_for_url(re.compile(r"/@anna/\d+$"))
    post_id = int(page.url.rsplit("/", 1)[1])
    shown = page.locator("article.post .attachments img").first
    expect(shown).to_have_attribute("alt", "Een groen weiland onder een blauwe lucht")
    assert shown.evaluate("img => img.complete && img.naturalWidth > 0")  # served from /media, CSP allows it
    assert_accessible(page, f"the post with a photo ({language})")
    [stored] = images_of_post(ede, post_id)
    assert stored["description"] == "Een groen weiland onder een blauwe lucht"

    # Edit the alt text after posting.
    page.goto(f"/@anna/{post_id}/edit")
    expect(page.locator("#image-slot-1 img.image-preview")).to_be_visible()  # the stored image, as it is
    expect(page.locator("#description_1")).to_have_value("Een groen weiland onder een blauwe lucht")
    assert_accessible(page, f"the edit form with a photo ({language})")
    page.screenshot(path=str(artifacts / f"edit-photo-alt-text-{language}.png"), full_page=True)
    page.locator("#description_1").fill("Een groen weiland met koeien, onder een blauwe lucht")
    page.get_by_role("button", name=words["save"]).click()
    page.wait_for_url(re.compile(rf"/@anna/{post_id}$"))
    expect(page.locator("article.post .attachments img").first).to_have_attribute(
        "alt", "Een groen weiland met koeien, onder een blauwe lucht")
    assert [i["description"] for i in images_of_post(ede, post_id)] == [
        "Een groen weiland met koeien, onder een blauwe lucht"]
    assert db_fetch(ede.database_url, "SELECT kind FROM outbox_events WHERE subject_id = $1 ORDER BY id",
                    post_id) == [{"kind": "post.created"}, {"kind": "post.updated"}]

    assert console.csp_violations() == [], console.csp_violations()
    assert console.errors() == [], console.errors()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_missing_alt_text_keeps_the_photo_in_the_form(ede: Node, photo: Path, artifacts: Path, language: str,
                                                        new_context: Callable[..., BrowserContext]) -> None:
    """wim's organisation asks for alt text: the warning comes back with the uploaded photo kept, not lost."""
    page = new_context(ede.url, language=language).new_page()
    sign_in(page, "wim", factories.PASSWORD)
    page.goto(f"/lang/{language}?next=/compose")
    page.locator("#text").fill("Nieuwe fietsenstalling bij het station")
    # While typing, the composer's preview of the checks knows of the chosen photo and its (missing) description.
    finding = page.locator(".policy-preview .finding-warn")
    expect(finding).to_have_count(0)
    page.get_by_text(TEXT[language]["images"]).click()
    page.locator("#image_1").set_input_files(str(photo))
    expect(finding).to_contain_text("Attachment 1" if language == "en" else "Bijlage 1")
    page.locator("#description_1").fill("Fietsen")
    expect(finding).to_have_count(0)
    page.locator("#description_1").fill("")
    expect(finding).to_have_count(1)
    page.get_by_role("button", name=TEXT[language]["publish"]).click()
    expect(page.get_by_role("alert")).to_contain_text("alt" if language == "en" else "alt-tekst")
    expect(page.locator("#image-slot-1 img.image-preview")).to_be_visible()  # kept on the server, shown again
    expect(page.locator("input[name=media_id_1]")).to_have_count(1)
    assert_accessible(page, f"the composer's alt-text warning with a kept photo ({language})")
    page.screenshot(path=str(artifacts / f"composer-photo-alt-text-warning-{language}.png"), full_page=True)
    page.locator("#description_1").fill("Overdekte fietsenstalling met twee verdiepingen")
    page.locator("#confirm_policy").check()  # the warning's box is required once shown, as for any warning
    page.get_by_role("button", name=TEXT[language]["publish"]).click()
    page.wait_for_url(re.compile(r"/@wim/\d+$"))
    expect(page.locator("article.post .attachments img").first).to_have_attribute(
        "alt", "Overdekte fietsenstalling met twee verdiepingen")


def test_without_javascript_the_file_inputs_still_work(ede: Node, photo: Path,
                                                       new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(ede.url, java_script_enabled=False).new_page()
    sign_in(page, "anna", factories.PASSWORD)
    page.goto("/compose")
    page.get_by_text(TEXT["nl"]["images"]).click()
    for n in range(1, 5):  # every place is a plain file input with its description field
        expect(page.locator(f"#image_{n}")).to_be_visible()
        expect(page.locator(f"#description_{n}")).to_be_visible()
    expect(page.locator("button.remove-image")).to_have_count(0)
    # axe needs JavaScript itself: it checks the same places in a browser with scripts, all of them shown as here.
    checked = new_context(ede.url).new_page()
    sign_in(checked, "anna", factories.PASSWORD)
    checked.goto("/compose")
    checked.locator("details.images").evaluate("""box => { box.open = true;
        box.querySelectorAll("[hidden]").forEach(element => element.hidden = false); }""")
    expect(checked.locator("#description_4")).to_be_visible()
    assert_accessible(checked, "the composer's four image places, as without JavaScript")
    page.locator("#text").fill("Zonder script")
    page.locator("#image_2").set_input_files(str(photo))
    page.locator("#description_2").fill("Weiland, zonder script geplaatst")
    page.get_by_role("button", name="Publiceren").click()
    page.wait_for_url(re.compile(r"/@anna/\d+$"))
    post_id = int(page.url.rsplit("/", 1)[1])
    assert [i["description"] for i in images_of_post(ede, post_id)] == ["Weiland, zonder script geplaatst"]
    # Removing it on the edit form, with the checkbox.
    page.goto(f"/@anna/{post_id}/edit")
    page.locator("#remove_1").check()
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    page.wait_for_url(re.compile(rf"/@anna/{post_id}$"))
    assert images_of_post(ede, post_id) == []
    expect(page.locator("article.post .attachments img")).to_have_count(0)
