"""The webcare API (issue 15): a webcare tool works Gemeente Ede's conversations with a member's `webcare` token,
and a token of the organisation's own account, made by a member, posts as the organisation through Mastodon.py.

A local person without an organisation (bert) plays the citizen; tests/interop/test_webcare_with_peer.py does the
same against a Fedify peer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from mastodon import Mastodon

from server import webcare_tokens
from server.accounts import get_account_by_username
from server.db.pool import open_pool, transaction
from server.organisations import get_organisation_by_slug
from tests import factories
from tests.helpers.database import fetch, run
from tests.helpers.nodes import Node
from tests.helpers.oauth import authorize
from tests.integration.test_mastodon_client import app_for

API = "/api/v1/ambtenaar/webcare/conversations"
VALID_BSN = "111222333"  # passes the elfproef


def tool_token(node: Node, username: str, scopes: list[str]) -> str:
    """A webcare tool's token, through the real OAuth flow (the consent page included)."""
    client_id, client_secret = Mastodon.create_app("Webcare tool", scopes=scopes, api_base_url=node.url)
    client = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.url)
    code = authorize(node.url, client.auth_request_url(scopes=scopes, allow_http=True), username, factories.PASSWORD)
    return str(client.log_in(code=code, scopes=scopes, allow_http=True))


def http(node: Node, token: str) -> httpx.Client:
    return httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def town(node: Node) -> Node:
    factories.organisation(node)
    factories.organisation(node, slug="gemeente-wageningen", name="Gemeente Wageningen",
                           website="https://www.wageningen.nl")
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "kees", org="gemeente-ede", role="webcare", display_name="Kees Jansen")
    factories.person(node, "fleur", org="gemeente-ede", role="webcare", display_name="Fleur Bakker")
    factories.person(node, "wendy", org="gemeente-wageningen", role="webcare", display_name="Wendy Wageningen")
    factories.person(node, "bert", display_name="Bert Burger")
    return node


@pytest.fixture(scope="module")
def bert(town: Node) -> Mastodon:
    return app_for(town, "bert")


@pytest.fixture(scope="module")
def kees(town: Node) -> httpx.Client:
    return http(town, tool_token(town, "kees", ["webcare"]))


@pytest.fixture(scope="module")
def fleur(town: Node) -> httpx.Client:
    token = town.cli("token", "create", "--username", "fleur", "--scopes", "webcare")
    assert token.code == 0, token.err
    return http(town, token.out.strip())


def ask(bert: Mastodon, kees: httpx.Client, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Bert writes to the organisation; the conversation it opened, as the tool lists it, and bert's status."""
    status = bert.status_post(f"@gemeente_ede {text}")
    listed = kees.get(API, params={"org": "gemeente-ede", "status": "open", "limit": 40})
    assert listed.status_code == 200, listed.text
    for item in listed.json():
        detail = kees.get(f"{API}/{item['id']}").json()
        if detail["messages"][0]["status"]["id"] == str(status["id"]):
            return detail, dict(status)
    raise AssertionError(f"no conversation for {text!r}")


def test_list_read_claim_label_note_and_status(bert: Mastodon, kees: httpx.Client, fleur: httpx.Client) -> None:
    conversation, question = ask(bert, kees, "wanneer wordt mijn container geleegd?")
    assert conversation["organisation"] == "gemeente-ede" and conversation["status"] == "open"
    assert conversation["citizen"]["acct"] == "bert" and conversation["assignee"] is None
    assert conversation["clock"]["colour"] in ("green", "orange", "red")
    assert isinstance(conversation["clock"]["seconds_left"], int)
    [message] = conversation["messages"]
    assert message["direction"] == "in" and message["written_by"] is None
    assert "container" in message["status"]["content"] and message["status"]["account"]["acct"] == "bert"
    assert [e["kind"] for e in conversation["history"]] == ["opened"]

    claimed = kees.post(f"{API}/{conversation['id']}/claim")
    assert claimed.status_code == 200, claimed.text
    assignee = claimed.json()["assignee"]
    assert (assignee["username"], assignee["display_name"]) == ("kees", "Kees Jansen") and assignee["id"].isdigit()
    labelled = fleur.post(f"{API}/{conversation['id']}/labels", data={"labels": "Afval, container"})
    assert labelled.status_code == 200 and labelled.json()["labels"] == ["afval", "container"], labelled.text
    by_array = fleur.post(f"{API}/{conversation['id']}/labels", json={"labels": ["afval"]})
    assert by_array.json()["labels"] == ["afval"]
    noted = kees.post(f"{API}/{conversation['id']}/notes", json={"text": "Bert belde gisteren ook al."})
    assert noted.status_code == 200 and noted.json()["kind"] == "note", noted.text
    assert noted.json()["detail"]["text"] == "Bert belde gisteren ook al."
    mine = kees.get(API, params={"org": "gemeente-ede", "assignee": "me", "label": "afval"}).json()
    assert [c["id"] for c in mine] == [conversation["id"]]
    done = kees.post(f"{API}/{conversation['id']}/status", data={"status": "done"})
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["clock"] is not None
    history = kees.get(f"{API}/{conversation['id']}").json()["history"]
    assert [e["kind"] for e in history] == ["opened", "claimed", "labels", "labels", "note", "status"]
    assert history[4]["actor"]["username"] == "kees" and history[5]["detail"] == {"from": "open", "to": "done"}
    # The note is the team's: nowhere in what Mastodon clients read of the thread.
    thread = bert.status_context(question["id"])
    assert "belde gisteren" not in str(thread)

    for bad in ({"status": "closed"}, {}):
        refused = kees.post(f"{API}/{conversation['id']}/status", data=bad)
        assert refused.status_code == 422 and "error" in refused.json()
    assert kees.post(f"{API}/{conversation['id']}/notes", json={"text": " "}).status_code == 422
    assert kees.get(API, params={"org": "gemeente-ede", "status": "later"}).status_code == 422
    assert kees.get(API).status_code == 422


def test_answer_comes_from_the_organisation_and_keeps_the_writer(town: Node, bert: Mastodon, kees: httpx.Client,
                                                                 fleur: httpx.Client) -> None:
    conversation, question = ask(bert, kees, "is het zwembad zondag open?")
    seen = conversation["last_event_id"]
    assert fleur.post(f"{API}/{conversation['id']}/claim").status_code == 200
    late = kees.post(f"{API}/{conversation['id']}/answer", json={"text": "Ja, vanaf 10 uur.", "seen_event_id": seen})
    assert late.status_code == 409 and "Fleur Bakker" in late.json()["error"], late.text

    answered = kees.post(f"{API}/{conversation['id']}/answer", json={"text": "Ja, vanaf 10 uur."})
    assert answered.status_code == 200, answered.text
    status = answered.json()
    assert status["account"]["username"] == "gemeente_ede"
    assert status["in_reply_to_id"] == str(question["id"]) and status["visibility"] == "public"
    assert "bert" in status["content"]  # the citizen's handle in front
    after = kees.get(f"{API}/{conversation['id']}").json()
    assert after["status"] == "waiting" and after["first_response_at"] is not None and after["clock"] is None
    out = after["messages"][-1]
    assert out["direction"] == "out" and out["written_by"]["username"] == "kees"
    assert out["status"]["id"] == status["id"]
    writer = fetch(town.database_url, "SELECT a.username FROM posts p JOIN accounts a ON a.id = p.written_by_id "
                   "WHERE p.id = $1", int(status["id"]))
    assert writer == [{"username": "kees"}]


def test_scope_and_team_are_required(town: Node, bert: Mastodon, kees: httpx.Client) -> None:
    conversation, _ = ask(bert, kees, "waar kan ik parkeren?")
    mastodon_app = app_for(town, "kees")  # read write follow: the webcare scope is never implied
    without = http(town, mastodon_app.access_token)
    assert without.get(API, params={"org": "gemeente-ede"}).status_code == 403
    assert without.post(f"{API}/{conversation['id']}/claim").status_code == 403
    wendy = http(town, tool_token(town, "wendy", ["webcare"]))  # on another organisation's team
    assert wendy.get(API, params={"org": "gemeente-ede"}).status_code == 403
    assert wendy.get(API, params={"org": "gemeente-wageningen"}).json() == []
    assert wendy.get(f"{API}/{conversation['id']}").status_code == 404
    assert wendy.post(f"{API}/{conversation['id']}/answer", json={"text": "Hallo"}).status_code == 404
    anna = http(town, tool_token(town, "anna", ["webcare"]))  # an official of Ede, not on its webcare team
    assert anna.get(API, params={"org": "gemeente-ede"}).status_code == 403
    assert anna.get(f"{API}/{conversation['id']}").status_code == 404
    assert kees.get(API, params={"org": "nergens"}).status_code == 404


def test_link_header_pages_newest_activity_first(bert: Mastodon, kees: httpx.Client) -> None:
    for n in range(5):
        bert.status_post(f"@gemeente_ede vraag nummer {n}")
    everything = kees.get(API, params={"org": "gemeente-ede", "limit": 40}).json()
    assert len(everything) >= 7
    stamps = [(c["last_activity_at"], int(c["id"])) for c in everything]
    assert stamps == sorted(stamps, reverse=True)
    paged: list[str] = []
    response = kees.get(API, params={"org": "gemeente-ede", "limit": 3})
    pages = 0
    while True:
        pages += 1
        assert response.status_code == 200, response.text
        paged += [c["id"] for c in response.json()]
        if "next" not in response.links:
            break
        response = kees.get(response.links["next"]["url"])
    assert paged == [c["id"] for c in everything] and pages >= 3
    second = kees.get(kees.get(API, params={"org": "gemeente-ede", "limit": 3}).links["next"]["url"])
    back = kees.get(second.links["prev"]["url"]).json()
    assert [c["id"] for c in back] == paged[:3]
    assert kees.get(API, params={"org": "gemeente-ede", "max_id": "12"}).status_code == 422


def organisation_token(town: Node, maker: str, tool: str) -> str:
    """A token of Gemeente Ede's account made by `maker` through the domain function the settings page calls."""
    async def make() -> str:
        pool = await open_pool(town.database_url)
        try:
            async with transaction(pool) as conn:
                person = await get_account_by_username(conn, maker)
                org = await get_organisation_by_slug(conn, "gemeente-ede")
                assert person is not None and org is not None
                return await webcare_tokens.create_organisation_token(conn, person, org.id, scopes="read write",
                                                                      name=tool, now=datetime.now(UTC))
        finally:
            await pool.close()
    return str(run(make()))


def test_an_organisation_token_made_by_a_member_posts_as_the_organisation(town: Node) -> None:
    token = organisation_token(town, "kees", "Coosto")
    client = Mastodon(access_token=token, api_base_url=town.url)
    assert client.account_verify_credentials()["username"] == "gemeente_ede"
    posted = client.status_post("Het gemeentehuis is maandag gesloten.")
    assert posted["account"]["username"] == "gemeente_ede"
    writer = fetch(town.database_url, "SELECT a.username FROM posts p JOIN accounts a ON a.id = p.written_by_id "
                   "WHERE p.id = $1", int(posted["id"]))
    assert writer == [{"username": "kees"}]
    [audited] = fetch(town.database_url, "SELECT actor_account_id, detail FROM audit_log "
                      "WHERE action = 'webcare.token_created'")
    assert audited["detail"].count(token) == 0 and '"read", "write"' in audited["detail"]


def test_policy_findings_come_back_as_for_any_post(town: Node, bert: Mastodon, kees: httpx.Client) -> None:
    switched = town.cli("policy", "set", "--org", "gemeente-ede", "--check", "personal-data.bsn", "--action", "block")
    assert switched.code == 0, switched.err
    conversation, _ = ask(bert, kees, "kunt u mijn aanvraag terugvinden?")
    refused = kees.post(f"{API}/{conversation['id']}/answer", json={"text": f"Ik zie BSN {VALID_BSN} in het dossier."})
    assert refused.status_code == 422, refused.text
    assert refused.json()["policy"]["outcome"] == "block" and refused.json()["policy"]["findings"]
    assert VALID_BSN not in refused.json()["error"]
    assert kees.get(f"{API}/{conversation['id']}").json()["status"] == "open"  # nothing was sent


def test_offboarding_revokes_the_organisation_tokens_the_leaver_made(town: Node) -> None:
    token = organisation_token(town, "fleur", "Zaaksysteem")
    tool = Mastodon(access_token=token, api_base_url=town.url)
    assert tool.account_verify_credentials()["username"] == "gemeente_ede"
    left = town.cli("user", "offboard", "--username", "fleur", "--reason", "Andere baan")
    assert left.code == 0, left.err
    refused = httpx.get(f"{town.url}/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    [entry] = fetch(town.database_url, "SELECT detail FROM audit_log WHERE action = 'account.offboarded'")
    assert '"organisation_tokens_revoked": 1' in entry["detail"]
