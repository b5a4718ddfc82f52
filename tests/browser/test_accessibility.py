"""axe-core finds no WCAG 2.1 A/AA violations on any page, in Dutch and in English, signed in and signed out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import TIMEOUT_MS, axe_violations, require_chromium, sign_in, watch_console
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

require_chromium()

pytestmark = pytest.mark.browser

LANGUAGES = ("nl", "en")
OOB = "urn:ietf:wg:oauth:2.0:oob"


@dataclass(frozen=True)
class Site:
    """A node with content in every shape a page can show: both voices, a thread, a boost, a content warning,
    an edited post, a hashtag, an open invite."""

    node: Node
    root_id: int  # anna, official, with a hashtag; bert replied
    reply_id: int  # bert's reply; anna answered it, so its page has posts before and after it
    answer_id: int
    edited_id: int  # anna, personal, with a content warning, edited once
    invite_path: str
    authorize_path: str  # a registered app asking for access (OAuth2, out-of-band redirect)
    report_id: int  # bert reported anna's first post, with a comment
    anna_id: int


def _posted(response_location: str) -> int:
    return int(response_location.rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def site(node: Node) -> Site:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", display_name="Bert Burger")
    factories.person(node, "kees", org="gemeente-ede", role="org-admin", display_name="Kees Jansen")
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "personal-data.phone", "--action", "warn").code == 0
    invite_path = factories.invite(node, "gemeente-ede").removeprefix(node.url)
    assert node.cli("admin", "create", "--username", "moira", "--moderator", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0
    assert node.cli("domain", "block", "spam.example", "--severity", "silence", "--reason", "Spam",
                    "--public-comment", "Ongevraagde reclame").code == 0
    assert node.cli("domain", "allow", "partner.example").code == 0
    anna, bert = WebClient(node.url), WebClient(node.url)
    try:
        assert anna.login("anna", factories.PASSWORD).status_code == 303
        assert bert.login("bert", factories.PASSWORD).status_code == 303

        def compose(client: WebClient, text: str, **fields: str) -> int:
            response = client.compose(text, **fields)
            assert response.status_code == 303, response.text
            return _posted(response.headers["location"])

        root_id = compose(anna, "Vragen over de nieuwe parkeerregels? Kijk op https://www.ede.nl #parkeren",
                          voice="official")
        reply_id = compose(bert, "@anna Geldt het ook op zondag?", in_reply_to_id=str(root_id))
        answer_id = compose(anna, "@bert Nee, op zondag is parkeren gratis.", voice="official",
                            in_reply_to_id=str(reply_id))
        edited_id = compose(anna, "Uitslag van de wedstrijd: 2-1", voice="personal", spoiler_text="Voetbal")
        assert anna.post(f"/@anna/{edited_id}/edit", {"text": "Uitslag van de wedstrijd: 3-1",
                                                      "spoiler_text": "Voetbal"}).status_code == 303
        assert anna.post("/@bert/follow").status_code == 303
        assert bert.post("/@anna/follow").status_code == 303
        assert bert.post(f"/@anna/{root_id}/boost").status_code == 303
        assert bert.post(f"/@anna/{root_id}/like").status_code == 303
        anna_id = int(scalar(node.database_url, "SELECT id FROM accounts WHERE username = 'anna'"))
        assert bert.post("/report", {"account_id": str(anna_id), "post_ids": str(root_id), "category": "other",
                                     "comment": "Klopt dit wel?"}).status_code == 303
        report_id = int(scalar(node.database_url, "SELECT max(id) FROM reports"))
        app = anna.http.post("/api/v1/apps", data={"client_name": "Raadsinformatie", "scopes": "read write",
                                                   "redirect_uris": OOB, "website": "https://example.org"})
        assert app.status_code == 200, app.text
        authorize_path = "/oauth/authorize?" + urlencode({"response_type": "code", "client_id": app.json()["client_id"],
                                                         "redirect_uri": OOB, "scope": "read write"})
    finally:
        anna.close()
        bert.close()
    return Site(node, root_id, reply_id, answer_id, edited_id, invite_path, authorize_path, report_id, anna_id)


# (name, who looks, path template, expected status). Paths are filled in with the Site's fields.
PAGES = [
    ("sign-in", None, "/login", 200),
    ("home", None, "/", 200),
    ("public timeline", None, "/public", 200),
    ("profile", None, "/@anna", 200),
    ("profile with a boost", None, "/@bert", 200),
    ("post page with a thread", None, "/@bert/{reply_id}", 200),
    ("post page with edit history", None, "/@anna/{edited_id}", 200),
    ("organisation", None, "/orgs/gemeente-ede", 200),
    ("hashtag", None, "/tags/parkeren", 200),
    ("invite", None, "{invite_path}", 200),
    ("search", None, "/search", 200),
    ("search without results", None, "/search?q=niemand", 200),
    ("page not found", None, "/deze-pagina-bestaat-niet", 404),
    ("post not found", None, "/@anna/999999", 404),
    ("home", "anna", "/", 200),
    ("compose", "anna", "/compose", 200),
    ("compose a reply", "anna", "/compose?in_reply_to={reply_id}", 200),
    ("public timeline", "anna", "/public", 200),
    ("profile", "anna", "/@anna", 200),
    ("someone else's profile", "anna", "/@bert", 200),
    ("post page with a thread", "anna", "/@bert/{reply_id}", 200),
    ("edit", "anna", "/@anna/{edited_id}/edit", 200),
    ("organisation", "anna", "/orgs/gemeente-ede", 200),
    ("hashtag", "anna", "/tags/parkeren", 200),
    ("settings", "anna", "/settings", 200),
    ("followers to remove", "anna", "/settings/followers", 200),
    ("muted accounts", "anna", "/settings/mutes", 200),
    ("blocked accounts", "anna", "/settings/blocks", 200),
    ("block confirmation", "anna", "/@bert/block", 200),
    ("post page with a thread and replies to hide", "anna", "/@anna/{root_id}", 200),
    ("search with results", "anna", "/search?q=bert", 200),
    ("allow an app", "anna", "{authorize_path}", 200),
    ("page not found", "anna", "/deze-pagina-bestaat-niet", 404),
    ("compose by a non-member", "bert", "/compose", 200),
    ("limited servers", None, "/about/domains", 200),
    ("domain policies", "moira", "/admin/domains", 200),
    ("notifications", "anna", "/notifications", 200),
    ("report a post", "bert", "/report?post_id={root_id}", 200),
    ("reports queue", "moira", "/admin/reports?state=all", 200),
    ("a report", "moira", "/admin/reports/{report_id}", 200),
    ("moderation of an account", "moira", "/admin/accounts/{anna_id}", 200),
    # The everyday screens of issue 13.
    ("security: password, two-factor, sessions and apps", "anna", "/settings/security", 200),
    ("two-factor set-up", "anna", "/two-factor/setup", 200),
    ("follow from another server", None, "/interact?account=anna", 200),
    ("answer from another server", None, "/interact?post={root_id}", 200),
    ("accessibility statement", None, "/toegankelijkheid", 200),
    ("accessibility statement form", "beheer", "/admin/statement", 200),
    ("organisations", "beheer", "/admin/organisations", 200),
    ("new organisation", "beheer", "/admin/organisations/new", 200),
    ("policy settings", "kees", "/orgs/gemeente-ede/policy", 200),
    ("audit log", "kees", "/orgs/gemeente-ede/audit", 200),
    ("people of the organisation", "kees", "/orgs/gemeente-ede/people", 200),
    ("offboarding", "kees", "/orgs/gemeente-ede/people/{anna_id}/offboard", 200),
    ("logo and house colour", "kees", "/orgs/gemeente-ede/profile", 200),
    ("two-factor for the members", "kees", "/orgs/gemeente-ede/two-factor", 200),
    ("review queue", "kees", "/review", 200),
    # Webcare (issue 15); a conversation page: tests/browser/test_webcare.py.
    ("webcare inbox", "kees", "/orgs/gemeente-ede/webcare", 200),
    ("webcare settings", "kees", "/orgs/gemeente-ede/webcare/settings", 200),
    ("webcare report", "kees", "/orgs/gemeente-ede/webcare/report", 200),
]


@pytest.fixture(scope="module")
def visitors(site: Site, browser: Browser) -> Iterator[Callable[[str, str | None], Page]]:
    """One page per (language, person), signed in through the form and switched to the language once, reused by
    the tests of this module."""
    contexts: dict[tuple[str, str | None], BrowserContext] = {}

    def visitor(language: str, username: str | None) -> Page:
        key = (language, username)
        if key not in contexts:
            context = browser.new_context(base_url=site.node.url, viewport={"width": 1000, "height": 800})
            context.set_default_timeout(TIMEOUT_MS)
            contexts[key] = context
            page = context.new_page()
            if username:
                sign_in(page, username, factories.PASSWORD)
            page.goto(f"/lang/{language}?next=/")
            expect(page.locator("html")).to_have_attribute("lang", language)
        return contexts[key].pages[0]

    yield visitor
    for context in contexts.values():
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name, username, template, status", PAGES,
                         ids=[f"{name} ({who or 'visitor'})" for name, who, _, _ in PAGES])
def test_page_has_no_wcag_violations(site: Site, visitors: Callable[[str, str | None], Page], language: str,
                                     name: str, username: str | None, template: str, status: int) -> None:
    page = visitors(language, username)
    console = watch_console(page)
    path = template.format(**site.__dict__)
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: HTTP {response and response.status}"
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    if username:
        expect(page.locator("form[action='/logout']")).to_be_attached()
    if "thread" in name:  # the root post before it, the answer after it
        expect(page.locator("section.thread article.post")).to_have_count(2)
    violations = axe_violations(page)
    assert not violations, f"axe found WCAG violations on {name} ({path}, {language}):\n" + "\n".join(violations)
    assert not console.csp_violations(), console.csp_violations()


@pytest.mark.parametrize("language", LANGUAGES)
def test_refusals_shown_in_forms_have_no_wcag_violations(site: Site, visitors: Callable[[str, str | None], Page],
                                                         language: str) -> None:
    """The error states of the forms: a failed sign-in, a refused post and a refused invite."""
    page = visitors(language, None)
    page.goto("/login")
    page.locator("#username").fill("anna")
    page.locator("#password").fill("not-the-password")
    page.locator("form.narrow button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, f"failed sign-in ({language}):\n" + "\n".join(violations)

    page.goto(site.invite_path)
    page.locator("#username").fill("nieuw")
    page.locator("#password").fill("lang-genoeg-wachtwoord")
    page.locator("#password_confirm").fill("een-ander-wachtwoord")
    page.locator("form.narrow button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, f"refused invite ({language}):\n" + "\n".join(violations)

    page = visitors(language, "bert")
    page.goto("/compose")
    page.locator("#text").fill("x" * 501)
    page.locator("form.composer button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, f"refused post ({language}):\n" + "\n".join(violations)


@pytest.mark.parametrize("language", LANGUAGES)
def test_app_authorization_code_page_has_no_wcag_violations(site: Site,
                                                            visitors: Callable[[str, str | None], Page],
                                                            language: str) -> None:
    page = visitors(language, "anna")
    page.goto(site.authorize_path)
    page.locator("form.consent button[value=allow]").click()
    expect(page.locator("#code")).not_to_have_value("")
    violations = axe_violations(page)
    assert not violations, f"authorization code ({language}):\n" + "\n".join(violations)


def test_the_check_itself_notices_violations(visitors: Callable[[str, str | None], Page]) -> None:
    """Guards against a check that passes because axe did not run: break a page on purpose and expect findings."""
    page = visitors("nl", None)
    page.goto("/login")
    page.locator("main").evaluate("""main => {
        main.insertAdjacentHTML('beforeend', '<input type="text" name="unlabelled"><img src="/static/x.png">');
    }""")
    rules = {line.split(" ", 1)[0] for line in axe_violations(page)}
    assert {"label", "image-alt"} <= rules, rules
