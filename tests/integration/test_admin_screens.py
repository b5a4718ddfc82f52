"""Screens a non-technical team can run (issue 13, item 6): the audit log in sentences, in the organisation's time
zone, with links; a held post without reactions; the author hears of the reviewer's decision (on the page and in
the client API); a reply to one's own organisation's official post starts in the official voice; the domain
policy form chooses no policy for the moderator."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)
    factories.organisation(node, slug="gemeente-wageningen", name="Gemeente Wageningen",
                           website="https://www.wageningen.nl")
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna")
    factories.person(node, "kees", org="gemeente-ede", role="org-admin", display_name="Kees")
    factories.person(node, "willem", org="gemeente-wageningen", display_name="Willem")
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0


def _api(node: Node, username: str) -> httpx.Client:
    token = node.cli("token", "create", "--username", username, "--scopes", "read write").out.strip()
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def anna_api(node: Node) -> Iterator[httpx.Client]:
    with _api(node, "anna") as client:
        yield client


def _signed_in(node: Node, username: str, language: str = "nl") -> WebClient:
    client = WebClient(node.url)
    assert client.login(username, factories.PASSWORD).status_code == 303
    if language != "nl":
        assert client.get(f"/lang/{language}?next=/").status_code in (302, 303)
    return client


def _held(anna_api: httpx.Client, text: str) -> int:
    answer = anna_api.post("/api/v1/statuses", json={"status": text, "voice": "official"})
    assert answer.status_code == 422 and answer.json()["policy"]["outcome"] == "hold", answer.text
    return int(answer.json()["policy"]["status_id"])


def _row(page: str, entry_id: int) -> str:
    match = re.search(rf'<tr id="audit-{entry_id}".*?</tr>', page, re.S)
    assert match, f"audit entry {entry_id} is not on the page"
    return html.unescape(match.group(0))


def test_the_audit_log_speaks_in_sentences_local_minutes_and_links(node: Node, anna_api: httpx.Client) -> None:
    post_id = _held(anna_api, "Het stadhuis is morgen gesloten.")
    assert node.cli("review", "approve", str(post_id), "--by", "kees").code == 0
    entry = fetch(node.database_url, "SELECT id, at FROM audit_log WHERE action = 'review.approved' "
                  "AND subject_id = $1", str(post_id))[0]
    created = fetch(node.database_url, "SELECT id FROM audit_log WHERE action = 'account.created' "
                    "AND detail->>'username' = 'anna'")[0]
    kees = _signed_in(node, "kees")
    page = kees.get("/orgs/gemeente-ede/audit").text
    row = _row(page, entry["id"])
    assert "Kees keurde het bericht van Anna goed" in row
    assert f'href="/@anna/{post_id}"' in row
    local = entry["at"].astimezone(ZoneInfo("Europe/Amsterdam"))
    assert f">{local.day} dec {local.year} {local:%H:%M}<" in row  # to the minute, no seconds
    assert f"{entry['at'].astimezone(ZoneInfo('UTC')):%H:%M}" != f"{local:%H:%M}"  # so the zone is visible
    assert "Europe/Amsterdam" in page
    account_row = _row(page, created["id"])
    assert "Een beheerder op de opdrachtregel maakte het account van Anna aan" in account_row
    assert 'href="/@anna"' in account_row
    english = _signed_in(node, "kees", "en").get("/orgs/gemeente-ede/audit").text
    assert "Kees approved the post by Anna" in _row(english, entry["id"])
    assert f">{local.day} Dec {local.year} {local:%H:%M}<" in _row(english, entry["id"])


def _reaction_controls(page: str, post_id: int) -> list[str]:
    return [found for found in (f'/posts/{post_id}/like', f'/posts/{post_id}/boost', f'/compose?in_reply_to={post_id}',
                                'id="answer-heading"') if found in page]


def test_a_held_post_has_no_reactions_and_says_it_waits(node: Node, anna_api: httpx.Client) -> None:
    post_id = _held(anna_api, "Nieuwe openingstijden van de milieustraat.")
    anna = _signed_in(node, "anna")
    waiting = anna.get(f"/@anna/{post_id}").text
    assert "Wacht op controle" in waiting
    assert _reaction_controls(waiting, post_id) == []
    assert node.cli("review", "approve", str(post_id), "--by", "kees").code == 0
    published = anna.get(f"/@anna/{post_id}").text
    assert "Wacht op controle" not in published
    assert len(_reaction_controls(published, post_id)) == 4


def test_the_author_hears_of_approval_and_rejection_with_the_reason(node: Node, anna_api: httpx.Client) -> None:
    approved = _held(anna_api, "De markt gaat door.")
    rejected = _held(anna_api, "De markt gaat niet door.")
    changes = _held(anna_api, "De markt gaat misschien door.")
    assert node.cli("review", "approve", str(approved), "--by", "kees").code == 0
    kees = _signed_in(node, "kees")
    assert kees.review(rejected, "reject", "Klopt niet: de markt gaat wel door.").status_code == 303
    assert kees.review(changes, "changes", "Noem de datum.").status_code == 303

    listed = anna_api.get("/api/v1/notifications").json()
    by_post = {n["status"]["id"]: n for n in listed if n.get("ambtenaar_review")}
    assert {n["type"] for n in by_post.values()} == {"status"}  # a type every Mastodon app knows
    assert by_post[str(approved)]["ambtenaar_review"] == {"decision": "approved", "reason": None}
    assert by_post[str(rejected)]["ambtenaar_review"] == {"decision": "rejected",
                                                          "reason": "Klopt niet: de markt gaat wel door."}
    assert by_post[str(changes)]["ambtenaar_review"] == {"decision": "changes_requested", "reason": "Noem de datum."}
    assert {n["account"]["username"] for n in by_post.values()} == {"kees"}
    only_status = anna_api.get("/api/v1/notifications", params={"types[]": "status"}).json()
    assert {n["status"]["id"] for n in only_status} >= set(by_post)
    without = anna_api.get("/api/v1/notifications", params={"exclude_types[]": "status"}).json()
    assert not [n for n in without if n.get("ambtenaar_review")]

    page = html.unescape(_signed_in(node, "anna").get("/notifications").text)
    assert "Kees keurde je bericht goed: het is nu gepubliceerd" in page
    assert "Kees keurde je bericht niet goed" in page and "Reden: Klopt niet: de markt gaat wel door." in page
    assert "Kees vraagt je je bericht aan te passen" in page and "Reden: Noem de datum." in page
    rows = fetch(node.database_url, "SELECT n.type, n.note FROM notifications n JOIN accounts a ON a.id = n.account_id "
                 "WHERE a.username = 'anna' AND n.post_id = $1", rejected)
    assert rows == [{"type": "review_rejected", "note": "Klopt niet: de markt gaat wel door."}]


def _checked_voice(page: str) -> str:
    match = re.search(r'<input type="radio" id="voice-(official|personal)" name="voice" value="\1" checked', page)
    assert match, "no voice is chosen in the composer"
    return match.group(1)


def test_a_reply_to_an_official_post_of_ones_own_organisation_starts_official(node: Node,
                                                                           anna_api: httpx.Client) -> None:
    own_id = _held(anna_api, "Welkom in het nieuwe stadhuis!")
    assert node.cli("review", "approve", str(own_id), "--by", "kees").code == 0
    other = _api(node, "willem").post("/api/v1/statuses", json={"status": "Hallo Ede", "voice": "official"})
    personal = anna_api.post("/api/v1/statuses", json={"status": "Fijn weekend", "voice": "personal"})
    assert other.status_code == 200 and personal.status_code == 200, (other.text, personal.text)
    kees = _signed_in(node, "kees")
    assert _checked_voice(kees.get(f"/@anna/{own_id}").text) == "official"
    assert _checked_voice(kees.get(f"/compose?in_reply_to={own_id}").text) == "official"
    assert _checked_voice(kees.get(f"/@willem/{other.json()['id']}").text) == "personal"  # another organisation
    assert _checked_voice(kees.get(f"/compose?in_reply_to={personal.json()['id']}").text) == "personal"
    # Still switchable: the personal voice can be chosen, and a personal reply is published as personal.
    page = kees.get(f"/compose?in_reply_to={own_id}").text
    assert re.search(r'<input type="radio" id="voice-personal" name="voice" value="personal"(?![^>]*disabled)', page)
    answer = kees.compose("@anna Mooi!", voice="personal", in_reply_to_id=str(own_id))
    assert answer.status_code == 303, answer.text
    reply_id = int(answer.headers["location"].rsplit("/", 1)[1])
    assert fetch(node.database_url, "SELECT voice FROM posts WHERE id = $1", reply_id) == [{"voice": "personal"}]


def test_the_domain_policy_form_preselects_no_policy(node: Node) -> None:
    page = _signed_in(node, "beheer").get("/admin/domains").text
    severities = re.findall(r'<input type="radio" id="severity-[a-z-]+" name="severity"[^>]*>', page)
    assert len(severities) == 3 and not [s for s in severities if "checked" in s]
    assert all("required" in s for s in severities[:1])
    options = re.search(r'<select id="import-severity".*?</select>', page, re.S)
    assert options and re.findall(r'<option value="([^"]*)"', options.group(0))[0] == ""
    assert "selected" not in options.group(0)


def test_a_refused_decision_notifies_nobody(node: Node, anna_api: httpx.Client) -> None:
    post_id = _held(anna_api, "Wijziging van de afvalkalender.")
    refused = node.cli("review", "approve", str(post_id), "--by", "kees", "--version", "0" * 16)
    assert refused.code == 1, refused.out
    assert fetch(node.database_url, "SELECT type FROM notifications WHERE post_id = $1", post_id) == []
    assert node.cli("review", "approve", str(post_id), "--by", "kees").code == 0
    assert fetch(node.database_url, "SELECT type FROM notifications WHERE post_id = $1", post_id) == [
        {"type": "review_approved"}]
