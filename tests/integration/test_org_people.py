"""Organisations and their people on the web (issue 13): an instance admin creates an organisation, its admin
invites officials, changes roles and offboards a person who leaves (role and badge gone, sessions and app access
ended, the account kept or disabled), each through the domain function and audited; through a real node."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.oauth import authorize
from tests.helpers.web import WebClient
from tests.integration.test_badges import account_id, signed_in, update_events


@pytest.fixture(scope="module", autouse=True)
def people(node: Node) -> None:
    factories.organisation(node)
    factories.organisation(node, slug="gelderland", name="Provincie Gelderland", kind="provincie",
                           website="https://www.gelderland.nl")
    factories.person(node, "kees", org="gemeente-ede", role="org-admin", display_name="Kees Beheer")
    factories.person(node, "piet", org="gelderland", role="org-admin")
    for name in ("anna", "bert", "carla"):
        factories.person(node, name, org="gemeente-ede", display_name=name.capitalize() + " de Vries")
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0


def audit_rows(node: Node, action: str) -> list[dict[str, object]]:
    return fetch(node.database_url, "SELECT l.detail, a.username AS actor FROM audit_log l LEFT JOIN accounts a "
                 "ON a.id = l.actor_account_id WHERE l.action = $1 ORDER BY l.id", action)


def _detail(row: dict[str, object]) -> dict[str, object]:
    raw = row["detail"]
    return raw if isinstance(raw, dict) else json.loads(str(raw))


def test_instance_admin_creates_an_organisation_on_the_web(node: Node) -> None:
    assert signed_in(node, "kees").get("/admin/organisations/new").status_code == 403
    assert signed_in(node, "kees").post("/admin/organisations/new", {"name": "Gemeente Epe", "slug": "epe",
                                                                      "kind": "gemeente"}).status_code == 403
    admin = signed_in(node, "beheer")
    assert "Nieuwe organisatie" in admin.get("/admin/organisations").text
    refused = admin.post("/admin/organisations/new", {"name": "Gemeente Epe", "slug": "Epe!", "kind": "gemeente",
                                                      "website": ""})
    assert refused.status_code == 422 and "Gemeente Epe" in refused.text
    done = admin.post("/admin/organisations/new", {"name": "Gemeente Epe", "slug": "gemeente-epe",
                                                   "kind": "gemeente", "website": "https://www.epe.nl"})
    assert done.status_code == 303 and done.headers["location"] == "/orgs/gemeente-epe/people?done=created"
    page = admin.get(done.headers["location"])
    assert page.status_code == 200 and "De organisatie is aangemaakt." in page.text
    assert "Nog geen leden" in page.text
    rows = audit_rows(node, "organisation.created")
    created = [r for r in rows if _detail(r)["slug"] == "gemeente-epe"]
    assert len(created) == 1 and created[0]["actor"] == "beheer"
    assert scalar(node.database_url, "SELECT count(*) FROM organisations WHERE slug = 'gemeente-epe'") == 1


def test_org_admin_sees_only_their_own_people_and_makes_invites(node: Node) -> None:
    assert signed_in(node, "anna").get("/orgs/gemeente-ede/people").status_code == 403
    assert signed_in(node, "piet").get("/orgs/gemeente-ede/people").status_code == 403
    assert signed_in(node, "piet").post("/orgs/gemeente-ede/people/invite", {"role": "org_admin"}).status_code == 403
    kees = signed_in(node, "kees")
    page = kees.get("/orgs/gemeente-ede/people")
    assert page.status_code == 200 and "Anna de Vries" in page.text and "Mensen van Gemeente Ede" in page.text
    made = kees.post("/orgs/gemeente-ede/people/invite", {"role": "reviewer"})
    assert made.status_code == 200
    link = made.text.split('id="invite-link" value="', 1)[1].split('"', 1)[0]
    assert link.startswith(f"{node.url}/invite/")
    row = audit_rows(node, "invite.created")[-1]
    assert row["actor"] == "kees" and _detail(row)["org_role"] == "reviewer"
    # The link works: the new account has the role it was invited with.
    newcomer = WebClient(node.url)
    form = newcomer.get(urlsplit(link).path)
    assert form.status_code == 200
    assert kees.post("/orgs/gemeente-ede/people/invite", {"role": "king"}).status_code == 422


def test_role_change_is_audited_and_the_last_admin_keeps_the_role(node: Node) -> None:
    kees = signed_in(node, "kees")
    bert = account_id(node, "bert")
    assert signed_in(node, "anna").post(f"/orgs/gemeente-ede/people/{bert}/role",
                                        {"role": "org_admin"}).status_code == 403
    piet_id = account_id(node, "piet")
    assert kees.post(f"/orgs/gemeente-ede/people/{piet_id}/role", {"role": "official"}).status_code == 404
    done = kees.post(f"/orgs/gemeente-ede/people/{bert}/role", {"role": "reviewer"})
    assert done.status_code == 303
    assert "De rol is gewijzigd." in kees.get(done.headers["location"]).text
    assert scalar(node.database_url, "SELECT org_role FROM accounts WHERE id = $1", bert) == "reviewer"
    row = audit_rows(node, "account.role_changed")[-1]
    assert row["actor"] == "kees"
    assert {k: v for k, v in _detail(row).items() if k in ("from", "to")} == \
        {"from": "official", "to": "reviewer"}
    before = len(audit_rows(node, "account.role_changed"))
    last = kees.post(f"/orgs/gemeente-ede/people/{account_id(node, 'kees')}/role", {"role": "official"})
    assert last.status_code == 409 and "De laatste beheerder van de organisatie houdt die rol" in last.text
    assert scalar(node.database_url, "SELECT org_role FROM accounts WHERE username = 'kees'") == "org_admin"
    assert len(audit_rows(node, "account.role_changed")) == before
    assert "wijzigde de rol van" in kees.get("/orgs/gemeente-ede/audit").text


def _app_token(node: Node, username: str) -> str:
    app = httpx.post(f"{node.url}/api/v1/apps", json={"client_name": "Test-app", "redirect_uris":
                                                     "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"}).json()
    query = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": app["redirect_uri"],
             "scope": "read write"}
    location = authorize(node.url, f"{node.url}/oauth/authorize?{urlencode(query)}", username, factories.PASSWORD)
    code = parse_qs(urlsplit(location).query)["code"][0] if "?" in location else location.rsplit("/", 1)[-1]
    token = httpx.post(f"{node.url}/oauth/token", data={
        "grant_type": "authorization_code", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "code": code, "redirect_uri": app["redirect_uri"]})
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


def test_offboarding_takes_role_badge_sessions_and_apps_and_keeps_the_account(node: Node) -> None:
    assert node.cli("badge", "issue", "--username", "carla", "--function", "Woordvoerder", "--by", "kees").code == 0
    carla_id = account_id(node, "carla")
    carla = signed_in(node, "carla")
    token = _app_token(node, "carla")
    api = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{node.url}/api/v1/accounts/verify_credentials", headers=api).status_code == 200
    # A post of hers waits for a reviewer when she leaves.
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    held = httpx.post(f"{node.url}/api/v1/statuses", headers=api,
                      json={"status": "Nieuwe openingstijden van het gemeentehuis", "voice": "official"})
    assert held.status_code == 422 and held.json()["policy"]["outcome"] == "hold", held.text  # as Mastodon apps see it
    held_id = int(held.json()["policy"]["status_id"])
    assert scalar(node.database_url, "SELECT state FROM posts WHERE id = $1", held_id) == "held"
    kees = signed_in(node, "kees")
    assert "openingstijden" in kees.get("/review").text
    assert signed_in(node, "anna").get(f"/orgs/gemeente-ede/people/{carla_id}/offboard").status_code == 403
    confirm = kees.get(f"/orgs/gemeente-ede/people/{carla_id}/offboard")
    assert confirm.status_code == 200 and "Woordvoerder" in confirm.text
    refused = kees.post(f"/orgs/gemeente-ede/people/{carla_id}/offboard", {"account": "keep", "reason": " "})
    assert refused.status_code == 422
    assert scalar(node.database_url, "SELECT org_role FROM accounts WHERE id = $1", carla_id) == "official"
    done = kees.post(f"/orgs/gemeente-ede/people/{carla_id}/offboard",
                     {"account": "keep", "reason": "Uit dienst per 1 december"})
    assert done.status_code == 303
    assert "Carla de Vries" not in kees.get(done.headers["location"]).text
    row = fetch(node.database_url, "SELECT organisation_id, org_role, default_voice, disabled_at FROM accounts "
                "WHERE id = $1", carla_id)[0]
    assert row == {"organisation_id": None, "org_role": None, "default_voice": "personal", "disabled_at": None}
    assert scalar(node.database_url, "SELECT revoked_reason FROM badges WHERE account_id = $1", carla_id) == \
        "Uit dienst per 1 december"
    assert scalar(node.database_url, "SELECT count(*) FROM web_sessions WHERE account_id = $1", carla_id) == 0
    assert carla.get("/settings").status_code in (303, 401, 403)
    assert httpx.get(f"{node.url}/api/v1/accounts/verify_credentials", headers=api).status_code == 401
    entry = audit_rows(node, "account.offboarded")[-1]
    detail = _detail(entry)
    assert entry["actor"] == "kees" and detail["account"] == "keep" and detail["tokens_revoked"] == 1
    assert detail["sessions_ended"] >= 1 and detail["badge_revoked"] and detail["org_role"] == "official"
    assert "liet Carla de Vries vertrekken" in kees.get("/orgs/gemeente-ede/audit").text
    # Her held post can no longer be approved in the organisation's voice: it is rejected with the reason, and
    # the reviewers' queue no longer waits for it.
    assert detail["held_posts_rejected"] == [held_id]
    assert fetch(node.database_url, "SELECT state, review_note FROM posts WHERE id = $1", held_id)[0] == \
        {"state": "rejected", "review_note": "Uit dienst per 1 december"}
    assert "openingstijden" not in kees.get("/review").text
    # Kept as a personal account: she can still sign in, and only speaks for herself.
    assert WebClient(node.url).login("carla", factories.PASSWORD).status_code == 303
    # Changing the rejected post would send it to reviewers she no longer has: refused, with the way out.
    again = signed_in(node, "carla").post(f"/@carla/{held_id}/edit", {"text": "Nieuwe openingstijden!"})
    assert again.status_code == 422 and "Het kan daarom niet meer worden gepubliceerd" in again.text, again.text[:300]
    assert scalar(node.database_url, "SELECT state FROM posts WHERE id = $1", held_id) == "rejected"
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "off").code == 0


def test_offboarding_may_disable_the_account_and_never_the_last_admin(node: Node) -> None:
    kees = signed_in(node, "kees")
    kees_id = account_id(node, "kees")
    assert kees.post(f"/orgs/gemeente-ede/people/{kees_id}/offboard",
                     {"account": "keep", "reason": "weg"}).status_code == 422
    admin = signed_in(node, "beheer")
    last = admin.post(f"/orgs/gemeente-ede/people/{kees_id}/offboard", {"account": "keep", "reason": "weg"})
    assert last.status_code == 409
    anna_id = account_id(node, "anna")
    done = admin.post(f"/orgs/gemeente-ede/people/{anna_id}/offboard", {"account": "disable", "reason": "Vertrokken"})
    assert done.status_code == 303
    assert scalar(node.database_url, "SELECT disabled_at IS NOT NULL FROM accounts WHERE id = $1", anna_id) is True
    assert WebClient(node.url).login("anna", factories.PASSWORD).status_code != 303
    assert audit_rows(node, "account.offboarded")[-1]["actor"] == "beheer"


def test_the_cli_offboards_with_the_same_function(node: Node) -> None:
    refused = node.cli("user", "offboard", "--username", "bert", "--reason", "Vertrokken", "--by", "piet")
    assert refused.code == 1 and "Alleen" not in refused.err and "admins" in refused.err
    assert scalar(node.database_url, "SELECT org_role FROM accounts WHERE username = 'bert'") == "reviewer"
    done = node.cli("user", "offboard", "--username", "bert", "--reason", "Vertrokken", "--account", "disable",
                    "--by", "kees")
    assert done.code == 0, done.err
    entry = audit_rows(node, "account.offboarded")[-1]
    assert entry["actor"] == "kees" and _detail(entry)["account"] == "disable"
    assert _detail(entry)["org_role"] == "reviewer" and _detail(entry)["badge_revoked"] is None
    assert scalar(node.database_url, "SELECT disabled_at IS NOT NULL FROM accounts WHERE username = 'bert'") is True
    # Bert had no badge, yet his actor no longer names the organisation: followers' servers hear of it.
    assert update_events(node, "bert") == [{"change": "account.offboarded"}]
