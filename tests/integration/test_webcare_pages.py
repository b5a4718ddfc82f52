"""Webcare on the web (issue 15): the team's inbox, a conversation with its forms, settings and report, over real
HTTP against one node, as the team, an official without the role, another organisation's admin and nobody.

Bert (a local person without an organisation) plays the citizen, as in tests/integration/test_webcare_inbox.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

INBOX = "/orgs/gemeente-ede/webcare"
VALID_BSN = "111222333"  # passes the elfproef


@dataclass
class Town:
    node: Node
    web: dict[str, WebClient]
    bert: httpx.Client

    def ask(self, text: str) -> int:
        """Bert mentions the organisation's account: a new conversation; its id."""
        posted = self.bert.post("/api/v1/statuses", json={"status": f"@gemeente_ede {text}"})
        assert posted.status_code == 200, posted.text
        return int(scalar(self.node.database_url, "SELECT id FROM webcare_conversations WHERE start_post_id = $1",
                          int(posted.json()["id"])))


@pytest.fixture(scope="module")
def town(node: Node) -> Iterator[Town]:
    factories.organisation(node)
    factories.organisation(node, slug="gemeente-wageningen", name="Gemeente Wageningen")
    factories.person(node, "kees", org="gemeente-ede", role="webcare", display_name="Kees Jansen")
    factories.person(node, "wim", org="gemeente-ede", role="webcare", display_name="Wim de Boer")
    factories.person(node, "ada", org="gemeente-ede", role="org-admin", display_name="Ada Beheer")
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "olga", org="gemeente-wageningen", role="org-admin")
    factories.person(node, "bert", display_name="Bert Burger")
    web = {}
    for name in ("kees", "wim", "ada", "anna", "olga"):
        web[name] = WebClient(node.url)
        assert web[name].login(name, factories.PASSWORD).status_code == 303
    token = node.cli("token", "create", "--username", "bert", "--scopes", "read write").out.strip()
    with httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as bert:
        yield Town(node, web, bert)
    for client in web.values():
        client.close()


def _seen(page: str) -> str:
    match = re.search(r'name="seen_event_id" id="seen_event_id" value="(\d+)"', page)
    assert match, "the answer form has no seen_event_id"
    return match.group(1)


def test_inbox_lists_conversations_for_the_team_only(town: Town) -> None:
    conversation = town.ask("wanneer wordt mijn <b>container</b> geleegd?\nTweede regel")
    page = town.web["kees"].get(INBOX)
    assert page.status_code == 200, page.text
    row = re.search(rf'<tr id="conversation-{conversation}">.*?</tr>', page.text, re.S)
    assert row, page.text
    assert "Bert Burger" in row.group(0) and "@bert" in row.group(0)
    assert "wanneer wordt mijn &lt;b&gt;container&lt;/b&gt; geleegd?" in row.group(0)  # text, escaped
    assert "Tweede regel" not in row.group(0)
    assert "Niemand" in row.group(0)
    assert re.search(r'class="clock clock-(green|orange|red)"><strong>(Op tijd|Bijna te laat|Te laat)', row.group(0))
    assert "Open <span class=\"count\">(" in page.text
    # An official without the role and another organisation's admin are refused; nobody signed in must sign in.
    assert town.web["anna"].get(INBOX).status_code == 403
    assert town.web["olga"].get(INBOX).status_code == 403
    assert town.web["olga"].get(f"{INBOX}/{conversation}").status_code == 403
    assert town.web["olga"].get(f"/orgs/gemeente-wageningen/webcare/{conversation}").status_code == 404
    assert town.web["anna"].get(f"{INBOX}/{conversation}/state").status_code == 403
    anonymous = WebClient(town.node.url).get(INBOX)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert town.web["ada"].get(INBOX).status_code == 200  # the organisation's admin works it too
    assert town.web["kees"].get("/webcare").headers["location"] == INBOX


def test_claim_release_status_labels_and_note(town: Town) -> None:
    conversation = town.ask("mijn paspoort is verlopen")
    kees, wim, base = town.web["kees"], town.web["wim"], f"{INBOX}/{conversation}"
    assert kees.post(f"{base}/claim").status_code == 303
    assert "Kees Jansen behandelt dit" in wim.get(base).text
    state = wim.get(f"{base}/state?since=0").json()
    assert state["assignee"]["name"] == "Kees Jansen" and state["others_acted"] is True
    assert state["assignee_text"] == "Kees Jansen behandelt dit"
    # Taking over needs a second click.
    first = wim.post(f"{base}/claim")
    assert first.status_code == 409 and "Overnemen" in first.text
    assert wim.post(f"{base}/claim", {"take_over": "yes"}).status_code == 303
    assert "Wim de Boer nam dit over van Kees Jansen" in kees.get(base).text
    assert wim.post(f"{base}/release").status_code == 303
    assert kees.post(f"{base}/status", {"status": "done"}).status_code == 303
    assert kees.post(f"{base}/labels", {"labels": "Paspoort, Burgerzaken ,paspoort"}).status_code == 303
    assert kees.post(f"{base}/note", {"text": "Eerst <i>navragen</i> bij balie"}).status_code == 303
    page = kees.get(base).text
    assert "paspoort, burgerzaken" in page and "Afgerond" in page
    assert "Interne notitie van Kees Jansen" in page and "Eerst &lt;i&gt;navragen&lt;/i&gt; bij balie" in page
    assert f"conversation-{conversation}" in kees.get(f"{INBOX}?status=done&label=paspoort").text
    assert f"conversation-{conversation}" not in kees.get(f"{INBOX}?status=open").text
    refused = kees.post(f"{base}/labels", {"labels": "x" * 41})
    assert refused.status_code == 422 and "Een label heeft hoogstens 40 tekens." in refused.text
    assert kees.post(f"{base}/note", {"text": "  "}).status_code == 422
    kinds = [r["kind"] for r in fetch(town.node.database_url, "SELECT kind FROM webcare_events "
                                      "WHERE conversation_id = $1 ORDER BY id", conversation)]
    assert kinds == ["opened", "claimed", "claimed", "released", "status", "labels", "note"]


def test_answer_published_as_the_organisation_with_the_writer_kept(town: Town) -> None:
    conversation = town.ask("is het stadhuis open op zaterdag?")
    kees, base = town.web["kees"], f"{INBOX}/{conversation}"
    assert kees.post("/orgs/gemeente-ede/webcare/settings/replies",
                     {"title": "Openingstijden", "body_nl": "Hoi {naam}, het stadhuis is zaterdag dicht.",
                      "body_en": ""}).status_code == 303
    page = kees.get(base).text
    option = re.search(r'<option value="(\d+:nl)" data-text="([^"]*)">Openingstijden', page)
    assert option and option.group(2) == "Hoi Bert Burger, het stadhuis is zaterdag dicht."
    # Without JavaScript, "Use" fills the answer in on the page itself.
    filled = kees.post(f"{base}/answer", {"saved_reply": option.group(1), "use_reply": "yes", "text": "",
                                          "visibility": "public", "seen_event_id": _seen(page)})
    assert filled.status_code == 200
    assert ">Hoi Bert Burger, het stadhuis is zaterdag dicht.</textarea>" in filled.text
    sent = kees.post(f"{base}/answer", {"text": "Hoi Bert Burger, het stadhuis is zaterdag dicht.",
                                        "visibility": "public", "seen_event_id": _seen(filled.text)})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=answered")
    [answer] = fetch(town.node.database_url,
                     "SELECT p.state, p.in_reply_to_id, w.username AS writer, a.username AS author FROM posts p "
                     "JOIN accounts a ON a.id = p.account_id JOIN accounts w ON w.id = p.written_by_id "
                     "WHERE p.in_reply_to_id = (SELECT start_post_id FROM webcare_conversations WHERE id = $1)",
                     conversation)
    assert answer == {"state": "published", "in_reply_to_id": answer["in_reply_to_id"], "writer": "kees",
                      "author": "gemeente_ede"}
    page = kees.get(sent.headers["location"]).text
    assert "Je antwoord is geplaatst." in page and "geschreven door Kees Jansen" in page
    assert "Wacht op burger" in page


def test_teammate_warning_and_send_anyway(town: Town) -> None:
    conversation = town.ask("waar kan ik grofvuil kwijt?")
    kees, wim, base = town.web["kees"], town.web["wim"], f"{INBOX}/{conversation}"
    seen_by_wim = _seen(wim.get(base).text)
    assert kees.post(f"{base}/answer", {"text": "Bij de milieustraat.", "visibility": "public",
                                        "seen_event_id": _seen(kees.get(base).text)}).status_code == 303
    warned = wim.post(f"{base}/answer", {"text": "Bij de milieustraat aan de Rijnkade.", "visibility": "public",
                                         "seen_event_id": seen_by_wim})
    assert warned.status_code == 409
    assert "Kees Jansen heeft intussen geantwoord of dit opgepakt" in warned.text
    assert ">Bij de milieustraat aan de Rijnkade.</textarea>" in warned.text
    assert 'id="send_anyway"' in warned.text
    again = wim.post(f"{base}/answer", {"text": "Bij de milieustraat aan de Rijnkade.", "visibility": "public",
                                        "seen_event_id": seen_by_wim, "send_anyway": "yes"})
    assert again.status_code == 303
    assert scalar(town.node.database_url, "SELECT count(*) FROM webcare_messages WHERE conversation_id = $1 "
                  "AND direction = 'out'", conversation) == 2


def test_bsn_blocked_then_four_eyes_hold(town: Town) -> None:
    node = town.node
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "personal-data.bsn",
                    "--action", "block").code == 0
    conversation = town.ask("wat is mijn dossier?")
    kees, base = town.web["kees"], f"{INBOX}/{conversation}"
    text = f"Uw BSN {VALID_BSN} staat erin."
    blocked = kees.post(f"{base}/answer", {"text": text, "visibility": "direct",
                                           "seen_event_id": _seen(kees.get(base).text)})
    assert blocked.status_code == 422 and "Niet gepubliceerd" in blocked.text
    assert f">{text}</textarea>" in blocked.text
    assert 'id="visibility-direct" name="visibility" value="direct" checked' in blocked.text
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    try:
        held = kees.post(f"{base}/answer", {"text": "We zoeken het uit.", "visibility": "direct",
                                            "seen_event_id": _seen(kees.get(base).text)})
        assert held.status_code == 303 and held.headers["location"].endswith("?done=held")
        page = kees.get(held.headers["location"]).text
        assert "Je antwoord wacht op beoordeling (vier ogen)" in page and "wacht op beoordeling" in page
    finally:
        for check in ("four-eyes", "personal-data.bsn"):
            node.cli("policy", "set", "--org", "gemeente-ede", "--check", check, "--action", "off")


def test_settings_validation_and_rights(town: Town) -> None:
    ada, kees, settings = town.web["ada"], town.web["kees"], "/orgs/gemeente-ede/webcare/settings"
    hours = {f"open_{n}": "09:00" for n in range(1, 6)} | {f"close_{n}": "17:00" for n in range(1, 6)} | {
        "closed_6": "yes", "closed_7": "yes", "holidays": "2026-12-25\n2026-12-26", "promise_hours": "1,5",
        "promise_minutes": "15", "time_zone": "Europe/Amsterdam"}
    assert ada.post(f"{settings}/hours", hours).status_code == 303
    page = ada.get(settings).text
    assert 'value="1"' in page and 'id="promise_minutes" name="promise_minutes" value="45"' in page
    assert "2026-12-25\n2026-12-26" in page
    bad = ada.post(f"{settings}/hours", hours | {"close_1": "08:00"})
    assert bad.status_code == 422 and "De sluitingstijd moet na de openingstijd liggen." in bad.text
    assert 'id="close_1" name="close_1" value="08:00"' in bad.text  # what was typed stays
    bad_zone = ada.post(f"{settings}/hours", hours | {"time_zone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and "Onbekende tijdzone Mars/Olympus" in bad_zone.text
    bad_day = ada.post(f"{settings}/hours", hours | {"holidays": "25-12-2026"})
    assert bad_day.status_code == 422 and "JJJJ-MM-DD" in bad_day.text
    # The team sees hours read-only and may not change them; saved replies are theirs.
    assert "disabled" in kees.get(settings).text
    assert kees.post(f"{settings}/hours", hours).status_code == 403
    assert kees.post(f"{settings}/replies", {"title": "", "body_nl": "x"}).status_code == 422
    # Webhooks: the secret is shown once.
    added = ada.post(f"{settings}/hooks", {"url": "https://zaken.ede.example/hook"})
    assert added.status_code == 200 and 'id="new-secret"' in added.text
    assert 'id="new-secret"' not in ada.get(settings).text
    assert ada.post(f"{settings}/hooks", {"url": "ftp://nee"}).status_code == 422
    assert kees.post(f"{settings}/hooks", {"url": "https://x.example/"}).status_code == 403
    # A token of the organisation's account, shown once, that works on the API as that account.
    made = ada.post(f"{settings}/tokens", {"name": "Zaaksysteem", "scopes": "read write"})
    assert made.status_code == 200, made.text
    token = re.search(r'id="new-token" value="([^"]+)"', made.text)
    assert token
    me = httpx.get(f"{town.node.url}/api/v1/accounts/verify_credentials",
                   headers={"Authorization": f"Bearer {token.group(1)}"}).json()
    assert me["username"] == "gemeente_ede"
    assert "Zaaksysteem" in ada.get(settings).text
    # A webcare member makes one too (the issue: "a token a webcare member creates for it"), audited.
    by_member = kees.post(f"{settings}/tokens", {"name": "Coosto", "scopes": "read write"})
    assert by_member.status_code == 200 and 'id="new-token"' in by_member.text, by_member.text[:300]
    made_by = fetch(town.node.database_url, "SELECT a.username FROM audit_log l JOIN accounts a "
                    "ON a.id = l.actor_account_id WHERE l.action = 'webcare.token_created' ORDER BY l.id")
    assert [r["username"] for r in made_by][-2:] == ["ada", "kees"]


def test_report_page_and_csv(town: Town) -> None:
    kees = town.web["kees"]
    page = kees.get(f"{INBOX}/report")
    assert page.status_code == 200 and "Rapportage" in page.text and "Binnen de belofte" in page.text
    today = datetime.now(UTC).date()
    csv = kees.get(f"{INBOX}/report.csv?from={today - timedelta(days=2)}&to={today + timedelta(days=1)}")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["content-disposition"].startswith("attachment;")
    lines = csv.text.splitlines()
    assert lines[0].startswith("scope,name,opened,answered") and lines[1].startswith("all,,")
    assert int(lines[1].split(",")[2]) >= 5
    assert kees.get(f"{INBOX}/report?from=2026-02-01&to=2026-01-01").status_code == 422
    assert kees.get(f"{INBOX}/report?from=2020-01-01&to=2026-01-01").status_code == 422
    assert town.web["anna"].get(f"{INBOX}/report.csv").status_code == 403


def test_composer_posts_as_the_organisation(town: Town) -> None:
    kees, anna = town.web["kees"], town.web["anna"]
    assert "Plaatsen als Gemeente Ede" in kees.get("/compose").text
    assert 'name="as_organisation"' not in anna.get("/compose").text
    posted = kees.compose("De markt gaat morgen door.", as_organisation="yes", voice="personal")
    assert posted.status_code == 303, posted.text
    [row] = fetch(town.node.database_url, "SELECT a.username, p.voice, w.username AS writer FROM posts p "
                  "JOIN accounts a ON a.id = p.account_id JOIN accounts w ON w.id = p.written_by_id "
                  "WHERE p.source_text = 'De markt gaat morgen door.'")
    assert row == {"username": "gemeente_ede", "voice": "official", "writer": "kees"}
