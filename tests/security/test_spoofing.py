"""Issue 11's finding 7 and the text parts of finding 8, as the outside tester tried them: a look-alike server's
"Gemeente Ede" speaking officially, names that read differently from what they are, and organisations that can be
taken for one another. Against a real node, the CLI, and a hostile signed remote server.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient
from tests.helpers.xss import AS_PUBLIC, HostileServer

RLO = "\u202e"  # right-to-left override: the text after it reads backwards


@pytest.fixture(scope="module")
def ede(node: Node) -> Iterator[Node]:
    factories.organisation(node)
    factories.organisation(node, "gemeente-elst", "Gemeente Elst", website="https://www.elst.nl")
    factories.organisation(node, "gemeente-emmen", "Gemeente Emmen", website="https://www.emmen.nl")
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "hoofd", org="gemeente-ede", role="org-admin")
    yield node


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


def _article(page: str, text: str) -> str:
    """The post on a page that holds `text`."""
    at = page.index(text)
    return page[page.rindex("<article", 0, at):page.index("</article>", at)]


def _official_reply(node: Node, hostile: HostileServer, in_reply_to: str, organisation: str, text: str) -> str:
    """The hostile server's spokesman answers in the official voice of `organisation`; the Note's id."""
    mallory = hostile.actor("woordvoerder", name="Woordvoerder")
    note_id = f"{mallory}/statuses/{secrets.token_hex(6)}"
    activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity", "type": "Create",
                "actor": mallory, "to": [AS_PUBLIC], "object": {
                    "id": note_id, "type": "Note", "attributedTo": mallory, "inReplyTo": in_reply_to,
                    "content": f"<p>{text}</p>", "to": [AS_PUBLIC], "voice": "official",
                    "voiceOrganisation": organisation, "published": datetime.now(UTC).isoformat()}}
    assert hostile.deliver(node, mallory, activity).status_code == 202
    return note_id


def test_a_look_alike_servers_official_voice_is_shown_as_an_unverified_claim(ede: Node,
                                                                            hostile: HostileServer) -> None:
    """Before: a remote Organization named 'Gemeente Ede' on any host got '🏛 Namens Gemeente Ede (host)' in the
    style of our own official posts."""
    anna = httpx.Client(base_url=ede.url, headers={"Authorization": f"Bearer {token_for(ede, 'anna')}"}, timeout=30)
    post = anna.post("/api/v1/statuses", json={"status": "Vragen over de afvalinzameling?", "voice": "personal"}).json()
    organisation = hostile.actor("gemeente", type="Organization", name="Gemeente Ede")
    note_id = _official_reply(ede, hostile, post["uri"], organisation, "De inzameling stopt per direct.")
    eventually(lambda: scalar(ede.database_url, "SELECT voice_organisation_name FROM posts WHERE uri = $1", note_id),
               until=lambda name: name == "Gemeente Ede", what="the remote official post")
    page = WebClient(ede.url).get(f"/@anna/{post['id']}").text
    host = hostile.url.removeprefix("http://")
    assert "zegt te spreken namens Gemeente Ede" in page and "niet geverifieerd" in page
    assert f"({host})" in page  # the host in full, port and all
    reply = _article(page, "De inzameling stopt")
    assert "voice-official" not in reply and "Namens Gemeente Ede" not in reply
    assert '<p class="voice voice-claim">' in reply and "zegt te spreken namens Gemeente Ede" in reply
    context = anna.get(f"/api/v1/statuses/{post['id']}/context").json()["descendants"]
    assert context[0]["organisation"] == {"slug": None, "name": "Gemeente Ede", "kind": None, "website": None,
                                          "url": organisation, "verified": False}


def test_a_server_cannot_borrow_an_organisation_of_a_trusted_node(ede: Node, hostile: HostileServer) -> None:
    """The verified label depends on the organisation's node being trusted, so a post may speak only for an
    organisation of its own server: the hostile server names the real 'Gemeente Ede' of a trusted node (here the
    node itself, trusted for the length of the test), and gets no label at all, neither verified nor claimed."""
    anna = httpx.Client(base_url=ede.url, headers={"Authorization": f"Bearer {token_for(ede, 'anna')}"}, timeout=30)
    post = anna.post("/api/v1/statuses", json={"status": "Wanneer gaat het zwembad open?", "voice": "personal"}).json()
    assert ede.cli("trust", "add", ede.domain).code == 0
    try:
        note_id = _official_reply(ede, hostile, post["uri"], f"{ede.url}/users/gemeente_ede", "Het zwembad sluit.")
        eventually(lambda: scalar(ede.database_url, "SELECT count(*) FROM posts WHERE uri = $1", note_id),
                   until=lambda found: found == 1, what="the borrowing post")
        page = WebClient(ede.url).get(f"/@anna/{post['id']}").text
        reply = _article(page, "Het zwembad sluit.")
        assert "Gemeente Ede" not in reply and "voice-official" not in reply and "voice-claim" not in reply
        context = anna.get(f"/api/v1/statuses/{post['id']}/context").json()["descendants"]
        assert context[0]["organisation"] is None
    finally:
        assert ede.cli("trust", "remove", ede.domain).code == 0


def test_names_are_stored_without_invisible_or_bidi_characters(ede: Node, hostile: HostileServer) -> None:
    """Before: bidi controls and invisible characters stayed in local display names, remote handles and names, and
    badge functions, so '@bob@evil.example' could render with its host reversed."""
    anna = httpx.Client(base_url=ede.url, headers={"Authorization": f"Bearer {token_for(ede, 'anna')}"}, timeout=30)
    changed = anna.patch("/api/v1/accounts/update_credentials",
                         data={"display_name": f"Anna{RLO}lpmaxe.live\u200b de\u2066 Vries"})
    assert changed.status_code == 200 and changed.json()["display_name"] == "Annalpmaxe.live de Vries"
    spoofer = hostile.actor("bob", preferredUsername=f"bob{RLO}moc.evil", name=f"Bob\u200b{RLO} Bouwer\u00ad")
    found = anna.get("/api/v2/search", params={"q": spoofer, "resolve": "true", "type": "accounts"}).json()
    assert found["accounts"], found
    remote = found["accounts"][0]
    assert RLO not in remote["acct"] and remote["acct"].startswith("bobmoc.evil@")
    assert remote["display_name"] == "Bob Bouwer"
    badge_holder = hostile.actor("ambtenaar", ambtenaarBadge={
        "type": "AmbtenaarBadge", "function": f"Burgemeester{RLO}", "verification": f"{hostile.url}/badges/1",
        "organisation": {"id": f"{hostile.url}/users/org", "name": "Gemeente Ede"}})
    held = anna.get("/api/v2/search", params={"q": badge_holder, "resolve": "true", "type": "accounts"}).json()
    assert scalar(ede.database_url, "SELECT remote_badge FROM accounts WHERE actor_uri = $1", badge_holder) is None
    assert held["accounts"]
    result = ede.cli("badge", "issue", "--username", "anna", "--function", f"Team\u200bleider{RLO} ICT",
                     "--by", "hoofd")
    assert result.code == 0, result.err
    assert scalar(ede.database_url, "SELECT function_title FROM badges ORDER BY id DESC LIMIT 1") == "Teamleider ICT"
    # The organisation's own wording of the voice line stands beside every post it speaks in.
    assert ede.cli("org", "update", "gemeente-ede", "--official-label-nl", f"Namens {{org}}{RLO} (team\u200b)").code == 0
    assert scalar(ede.database_url, "SELECT official_label_nl FROM organisations WHERE slug = 'gemeente-ede'") == (
        "Namens {org} (team)")


def test_names_stored_before_the_fix_are_cleaned_by_migrating(ede: Node) -> None:
    """Migration 0020: what was stored before names were cleaned loses its bidi and invisible characters, so an
    old display name no longer shows a handle reversed (remote accounts are cleaned when their actor is fetched
    again)."""
    anna = httpx.Client(base_url=ede.url, headers={"Authorization": f"Bearer {token_for(ede, 'anna')}"}, timeout=30)
    post = anna.post("/api/v1/statuses", json={"status": "Oud bericht", "voice": "personal"}).json()
    assert ede.cli("badge", "issue", "--username", "hoofd", "--function", "Teamleider", "--by", "hoofd").code == 0
    factories.organisation(ede, "gemeente-wijchen", "Gemeente Wijchen", website="https://www.wijchen.nl")
    url = ede.database_url
    scalar(url, "UPDATE accounts SET display_name = $1 WHERE username = 'anna' AND domain IS NULL RETURNING id",
           f"Anna{RLO}lpmaxe.live\u200b  de Vries\u00ad")
    scalar(url, "UPDATE badges SET function_title = $1, unit = $2 WHERE account_id = "
           "(SELECT id FROM accounts WHERE username = 'hoofd' AND domain IS NULL) RETURNING id",
           f"Team{RLO}leider", "ICT\u2066\U000e0041")
    scalar(url, "UPDATE organisations SET name = $1, official_label_nl = $2 WHERE slug = 'gemeente-wijchen' "
           "RETURNING id", "Gemeente\u200b Wijchen\ufeff", f"Namens {{org}}{RLO}")
    scalar(url, "UPDATE posts SET voice_organisation_name = $1 WHERE id = $2 RETURNING id", f"Gemeente{RLO} Ede",
           int(post["id"]))
    assert scalar(url, "DELETE FROM schema_migrations WHERE version = '0020_clean_names' RETURNING version")
    assert ede.cli("migrate").code == 0
    assert scalar(url, "SELECT display_name FROM accounts WHERE username = 'anna' AND domain IS NULL") == (
        "Annalpmaxe.live de Vries")
    assert fetch(url, "SELECT function_title, unit FROM badges WHERE account_id = "
                 "(SELECT id FROM accounts WHERE username = 'hoofd' AND domain IS NULL)") == [
        {"function_title": "Teamleider", "unit": "ICT"}]
    assert fetch(url, "SELECT name, official_label_nl FROM organisations WHERE slug = 'gemeente-wijchen'") == [
        {"name": "Gemeente Wijchen", "official_label_nl": "Namens {org}"}]
    assert scalar(url, "SELECT voice_organisation_name FROM posts WHERE id = $1", int(post["id"])) == "Gemeente Ede"


EDE = "looks like the existing organisation Gemeente Ede (gemeente-ede)"


@pytest.mark.parametrize(("name", "slug", "why"), [
    ("G\u0435meente Ede", "gemeente-ede-2", EDE),                # a Cyrillic е: the line names what it imitates
    ("Gemeente Ede", "gemeente-ede-twee", EDE),                  # a second identical name
    ("GEMEENTE  EDE", "ede-gemeente", EDE),
    ("\uff27emeente Ede", "ede-2", EDE),                          # a fullwidth Ｇ (NFKC makes it a G)
    ("Gemeente EIst", "gemeente-eist",                           # a capital I for the l
     "looks like the existing organisation Gemeente Elst (gemeente-elst)"),
    ("Gemeente Ernrnen", "gemeente-ernrnen",                     # rn for m
     "looks like the existing organisation Gemeente Emmen (gemeente-emmen)"),
    ("Gemeente Barneveld", "gerneente-ede", EDE),                # a slug with rn for m
    ("Gemeente Edé", "gemeente-ede-", "slug"),                  # a trailing hyphen
    ("Gemeente Edé", "gemeente--ede", "slug"),                  # a double hyphen
    ("Gemeente Ede (nieuw)", "gemeente-ede", "already exists"),
    ("Gemeente \u039fss", "gemeente-oss", "mixes"),               # a Greek Ο, and no Oss here to name
])
def test_look_alike_organisations_are_refused(ede: Node, name: str, slug: str, why: str) -> None:
    result = ede.cli("org", "create", "--name", name, "--slug", slug, "--kind", "gemeente", "--website",
                     "https://www.ede.nl")
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1 and why in result.err, result
    assert scalar(ede.database_url, "SELECT count(*) FROM organisations WHERE slug = $1", slug) == (
        1 if slug == "gemeente-ede" else 0)


def test_an_existing_look_alike_is_flagged_on_the_admins_page(ede: Node) -> None:
    """Organisations made before the check: the admins' page warns about the pair."""
    scalar(ede.database_url, "INSERT INTO organisations (id, slug, name, kind, website) VALUES "
           "(4242, 'gemeente-ede-oud', 'G\u0435meente Ede', 'gemeente', 'https://www.ede.nl') RETURNING id")
    assert ede.cli("admin", "create", "--username", "beheer", "--password-stdin",
                   stdin=factories.PASSWORD + "\n").code == 0
    admin = WebClient(ede.url, language="en")
    admin.login("beheer", factories.PASSWORD)
    page = admin.get("/admin/organisations").text
    assert page.count('<p class="warning" role="note">') == 2 and "Lijkt op: Gemeente Ede" in page
