"""Verified ambtenaar badges on one node: issued, changed and revoked by organisation admins through the CLI and the
web page, shown on a public verification page (HTML and JSON), on profiles and in the API; organisations verified
by their own website; every step in the audit log and an Update of the actor queued for other servers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import REPO, Node, node_env
from tests.helpers.web import WebClient

FAR = "2099-12-31"


@pytest.fixture(scope="module", autouse=True)
def people(node: Node) -> None:
    factories.organisation(node)
    factories.organisation(node, slug="gelderland", name="Provincie Gelderland", kind="provincie",
                           website="https://www.gelderland.nl")
    factories.person(node, "kees", org="gemeente-ede", role="org-admin", display_name="Kees Beheer")
    factories.person(node, "piet", org="gelderland", role="org-admin")
    for name in ("anna", "bert", "carla", "daan", "eva", "vera", "web1", "web2"):
        factories.person(node, name, org="gemeente-ede", display_name=name.capitalize() + " de Vries")
    factories.person(node, "noor", org="gelderland")
    factories.person(node, "burger")
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0
    issued = node.cli("badge", "issue", "--username", "vera", "--function", "Woordvoerder", "--by", "kees")
    assert issued.code == 0, issued.err


def issue(node: Node, username: str, *extra: str, by: str = "kees", function: str = "Beleidsadviseur") -> str:
    """Issue a badge through the CLI and return its verification URL."""
    result = node.cli("badge", "issue", "--username", username, "--function", function, "--by", by, *extra)
    assert result.code == 0, result.err
    url = result.out.strip().rsplit(" ", 1)[-1]
    assert url.startswith(f"{node.url}/badges/"), result.out
    return url


def account_id(node: Node, username: str) -> int:
    return int(scalar(node.database_url, "SELECT id FROM accounts WHERE username = $1", username))


def audit_actions(node: Node, badge_id: int) -> list[tuple[str, str | None]]:
    rows = fetch(node.database_url, "SELECT l.action, a.username FROM audit_log l LEFT JOIN accounts a "
                 "ON a.id = l.actor_account_id WHERE subject_type = 'badge' AND subject_id = $1 ORDER BY l.id",
                 str(badge_id))
    return [(r["action"], r["username"]) for r in rows]


def update_events(node: Node, username: str) -> list[dict[str, Any]]:
    rows = fetch(node.database_url, "SELECT detail FROM outbox_events WHERE kind = 'account.updated' "
                 "AND actor_id = $1 AND subject_id = $1 ORDER BY id", account_id(node, username))
    return [json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"] for r in rows]


def signed_in(node: Node, username: str) -> WebClient:
    client = WebClient(node.url)
    assert client.login(username, factories.PASSWORD).status_code == 303
    return client


def test_cli_issue_list_and_revoke_write_the_audit_log_and_queue_an_actor_update(node: Node) -> None:
    url = issue(node, "anna", "--unit", "Team Dienstverlening", "--valid-until", FAR)
    badge_id = int(url.rsplit("/", 1)[1])
    listed = {b["username"]: b for b in json.loads(node.cli("badge", "list", "--org", "gemeente-ede", "--json").out)}
    assert listed["anna"] == {
        "id": str(badge_id), "username": "anna", "organisation": "gemeente-ede", "function": "Beleidsadviseur",
        "unit": "Team Dienstverlening", "valid_from": listed["anna"]["valid_from"], "valid_until": FAR,
        "status": "valid", "revoked_at": None, "revoked_reason": None, "url": url}
    assert date.fromisoformat(listed["anna"]["valid_from"]) >= date.today() - timedelta(days=1)
    assert audit_actions(node, badge_id) == [("badge.issued", "kees")]
    assert update_events(node, "anna") == [{"badge_id": str(badge_id), "change": "badge.issued"}]

    revoked = node.cli("badge", "revoke", "--username", "anna", "--reason", "Andere functie buiten Ede", "--by", "kees")
    assert revoked.code == 0, revoked.err
    text = node.cli("badge", "list", "--org", "gemeente-ede").out
    line = next(line for line in text.splitlines() if line.startswith(str(badge_id)))
    assert "\t@anna\tBeleidsadviseur\tTeam Dienstverlening\t" in line and "\trevoked\t" in line
    assert audit_actions(node, badge_id) == [("badge.issued", "kees"), ("badge.revoked", "kees")]
    assert [e["change"] for e in update_events(node, "anna")] == ["badge.issued", "badge.revoked"]
    row = fetch(node.database_url, "SELECT revoked_reason, revoked_by FROM badges WHERE id = $1", badge_id)[0]
    assert row == {"revoked_reason": "Andere functie buiten Ede", "revoked_by": account_id(node, "kees")}

    # After a revocation a new badge may be issued; an instance admin may issue for any organisation.
    again = issue(node, "anna", by="beheer", function="Teamleider")
    assert again != url
    assert audit_actions(node, int(again.rsplit("/", 1)[1])) == [("badge.issued", "beheer")]


def test_cli_change_renews_and_changes_in_place(node: Node) -> None:
    url = issue(node, "daan", "--valid-until", "2098-06-30")
    badge_id = int(url.rsplit("/", 1)[1])
    assert node.cli("badge", "change", "--username", "daan", "--valid-until", FAR, "--by", "kees").code == 0
    assert node.cli("badge", "change", "--username", "daan", "--function", "Senior adviseur", "--by", "kees").code == 0
    row = fetch(node.database_url, "SELECT id, function_title, valid_until FROM badges WHERE account_id = $1",
                account_id(node, "daan"))
    assert row == [{"id": badge_id, "function_title": "Senior adviseur", "valid_until": date(2099, 12, 31)}]
    assert audit_actions(node, badge_id) == [("badge.issued", "kees"), ("badge.renewed", "kees"),
                                             ("badge.changed", "kees")]
    assert len(update_events(node, "daan")) == 3


BAD_INPUT = [
    (["badge", "issue", "--username", "bert", "--function", "X", "--by", "anna"], "Only an organisation admin"),
    (["badge", "issue", "--username", "bert", "--function", "X", "--by", "piet"],
     "not a member of Provincie Gelderland"),
    (["badge", "issue", "--username", "noor", "--function", "X", "--by", "kees"], "not a member of Gemeente Ede"),
    (["badge", "issue", "--username", "burger", "--function", "X", "--by", "beheer"],
     "not a member of an organisation"),
    (["badge", "issue", "--username", "gemeente_ede", "--function", "X", "--by", "kees"], "Badges are for officials"),
    (["badge", "issue", "--username", "onbekend", "--function", "X", "--by", "kees"], "no account @onbekend"),
    (["badge", "issue", "--username", "bert", "--function", "X", "--by", "niemand"], "no account @niemand"),
    (["badge", "issue", "--username", "bert", "--function", "X", "--by", "kees", "--valid-until", "2030-13-01"],
     "--valid-until must be a date as YYYY-MM-DD"),
    (["badge", "issue", "--username", "bert", "--function", "X", "--by", "kees", "--valid-from", "gisteren"],
     "--valid-from must be a date"),
    (["badge", "issue", "--username", "bert", "--function", "X", "--by", "kees", "--valid-from", "2031-01-01",
      "--valid-until", "2030-01-01"], "end date must not be before the start date"),
    (["badge", "issue", "--username", "bert", "--function", "X", "--by", "kees", "--valid-until", "2001-01-01"],
     "end date is in the past"),
    (["badge", "issue", "--username", "bert", "--function", "   ", "--by", "kees"], "function title has 1 to 200"),
    (["badge", "issue", "--username", "bert", "--function", "x" * 201, "--by", "kees"], "function title has 1 to 200"),
    (["badge", "issue", "--username", "bert", "--function", "X", "--unit", "u" * 201, "--by", "kees"],
     "unit may be at most 200"),
    (["badge", "issue", "--username", "vera", "--function", "X", "--by", "kees"], "already has a badge"),
    (["badge", "issue", "--username", "bert", "--function", "X"], "required: --by"),
    (["badge", "revoke", "--username", "vera", "--reason", "  ", "--by", "kees"], "Give a reason"),
    (["badge", "revoke", "--username", "vera", "--reason", "Weg", "--by", "anna"], "Only an admin of the badge's"),
    (["badge", "revoke", "--username", "vera", "--reason", "Weg", "--by", "piet"], "Only an admin of the badge's"),
    (["badge", "revoke", "--username", "bert", "--reason", "Weg", "--by", "kees"], "no badge that is not revoked"),
    (["badge", "change", "--username", "vera", "--by", "kees"], "nothing to change"),
    (["badge", "change", "--username", "vera", "--valid-until", "2001-01-01", "--by", "kees"], "in the past"),
    (["badge", "list", "--org", "onbekend"], "no organisation with slug onbekend"),
    (["org", "verify", "onbekend"], "no organisation with slug onbekend"),
]


@pytest.mark.parametrize("args, message", BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_is_one_line_exit_1_and_writes_nothing(node: Node, args: list[str], message: str) -> None:
    state = "SELECT (SELECT count(*) FROM badges), (SELECT max(updated_at) FROM badges), " \
            "(SELECT count(*) FROM audit_log), (SELECT count(*) FROM outbox_events), " \
            "(SELECT count(*) FROM organisations WHERE verified_at IS NOT NULL)"
    before = fetch(node.database_url, state)
    result = node.cli(*args)
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ambtenaar: error: "), result.err
    assert message in lines[0]
    assert fetch(node.database_url, state) == before


def test_the_audit_log_refuses_updates_and_deletes(node: Node) -> None:
    import asyncpg

    from tests.helpers.database import run

    async def tamper(sql: str) -> None:
        conn = await asyncpg.connect(node.database_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            run(tamper(sql))
    assert scalar(node.database_url, "SELECT count(*) FROM audit_log") > 0


def test_verification_page_of_a_valid_badge_links_back_with_rel_me(node: Node) -> None:
    url = issue(node, "bert", "--unit", "Burgerzaken", "--valid-until", FAR,
                function="Teamleider informatievoorziening")
    path = url.removeprefix(node.url)
    page = httpx.get(url, headers={"Accept": "text/html", "Accept-Language": "nl"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'<a rel="me" href="{node.url}/@bert">Bert de Vries</a>' in page.text
    for text in ("Deze badge is geldig.", "Gemeente Ede", "Teamleider informatievoorziening", "Burgerzaken",
                 "31 december 2099", "Geldig vanaf"):
        assert text in page.text
    english = httpx.get(url, headers={"Accept-Language": "en"})
    assert "This badge is valid." in english.text and "Valid until" in english.text

    by_accept = httpx.get(url, headers={"Accept": "application/json"})
    by_suffix = httpx.get(f"{url}.json")
    assert by_accept.headers["content-type"] == "application/json" and by_accept.headers["vary"] == "Accept"
    body = by_suffix.json()
    assert {k: v for k, v in by_accept.json().items() if k != "checked_at"} == \
           {k: v for k, v in body.items() if k != "checked_at"}
    assert body["status"] == "valid" and body["valid"] is True and body["url"] == url
    assert body["official"] == {"username": "bert", "acct": f"bert@{node.domain}", "display_name": "Bert de Vries",
                                "url": f"{node.url}/@bert", "actor": f"{node.url}/users/bert"}
    assert body["organisation"]["slug"] == "gemeente-ede"
    assert body["organisation"]["actor"] == f"{node.url}/users/gemeente_ede"
    assert body["function"] == "Teamleider informatievoorziening" and body["unit"] == "Burgerzaken"
    assert body["valid_until"] == FAR and body["revoked_at"] is None and body["revoked_reason"] is None
    assert httpx.get(f"{node.url}/badges/999.json").status_code == 404
    assert httpx.get(f"{node.url}/badges/nope").status_code == 404
    assert path.startswith("/badges/")


def test_verification_page_of_a_revoked_badge_says_when_and_why_without_rel_me(node: Node) -> None:
    url = issue(node, "carla")
    assert node.cli("badge", "revoke", "--username", "carla", "--reason", "Uit dienst getreden",
                    "--by", "kees").code == 0
    page = httpx.get(url, headers={"Accept-Language": "nl"})
    assert page.status_code == 200
    assert "Deze badge is ingetrokken op" in page.text and "Uit dienst getreden" in page.text
    assert 'rel="me"' not in page.text
    body = httpx.get(f"{url}.json").json()
    assert body["status"] == "revoked" and body["valid"] is False
    assert body["revoked_reason"] == "Uit dienst getreden" and body["revoked_at"].endswith("Z")
    profile = httpx.get(f"{node.url}/@carla", headers={"Accept-Language": "nl"}).text
    assert "Geverifieerd ambtenaar" not in profile and url.removeprefix(node.url) not in profile


def test_verification_page_of_an_expired_and_of_a_future_badge(node: Node) -> None:
    url = issue(node, "eva", "--valid-until", FAR)
    badge_id = int(url.rsplit("/", 1)[1])
    # Time passes: move the badge's period into the past (nothing on the node can issue an expired badge).
    fetch(node.database_url, "UPDATE badges SET valid_from = '2020-01-01', valid_until = '2021-06-30' WHERE id = $1",
          badge_id)
    page = httpx.get(url, headers={"Accept-Language": "nl"})
    assert "Deze badge is verlopen na 30 juni 2021." in page.text and 'rel="me"' not in page.text
    assert httpx.get(url, headers={"Accept": "application/json"}).json()["status"] == "expired"
    profile = httpx.get(f"{node.url}/@eva", headers={"Accept-Language": "nl"}).text
    assert "Badge (nu niet geldig)" in profile and "Geverifieerd ambtenaar" not in profile
    assert f'href="/badges/{badge_id}"' in profile

    future = issue(node, "web2", "--valid-from", "2098-01-01", "--valid-until", FAR)
    assert httpx.get(f"{future}.json").json()["status"] == "not_yet_valid"
    assert "Deze badge is geldig vanaf 1 januari 2098." in httpx.get(future, headers={"Accept-Language": "nl"}).text


def test_profile_shows_a_valid_badge_as_verified(node: Node) -> None:
    profile = httpx.get(f"{node.url}/@vera", headers={"Accept-Language": "nl"})
    assert "Geverifieerd ambtenaar" in profile.text and "Woordvoerder" in profile.text
    badge_id = scalar(node.database_url, "SELECT id FROM badges WHERE account_id = $1", account_id(node, "vera"))
    assert f'<a href="/badges/{badge_id}">Verificatiepagina</a>' in profile.text
    assert "Verified official" in httpx.get(f"{node.url}/@vera", headers={"Accept-Language": "en"}).text


def test_api_account_entity_carries_the_badge(node: Node) -> None:
    token = node.cli("token", "create", "--username", "burger", "--scopes", "read").out.strip()
    headers = {"Authorization": f"Bearer {token}"}
    vera = httpx.get(f"{node.url}/api/v1/accounts/lookup", params={"acct": "vera"}, headers=headers).json()
    badge_id = scalar(node.database_url, "SELECT id FROM badges WHERE account_id = $1", account_id(node, "vera"))
    extension = vera["ambtenaar"]
    assert extension["organisation"]["slug"] == "gemeente-ede" and extension["role"] == "official"
    assert extension["function"] == "Woordvoerder" and extension["unit"] is None
    assert extension["verified"] is True and extension["badge_status"] == "valid"
    assert extension["badge_url"] == f"{node.url}/badges/{badge_id}"
    assert date.fromisoformat(extension["valid_from"]) <= date.today() + timedelta(days=1)
    assert extension["valid_until"] is None
    noor = httpx.get(f"{node.url}/api/v1/accounts/lookup", params={"acct": "noor"}, headers=headers).json()
    assert noor["ambtenaar"]["verified"] is False and noor["ambtenaar"]["function"] is None
    assert noor["ambtenaar"]["badge_url"] is None


def test_org_admin_page_issues_changes_and_revokes_with_csrf(node: Node) -> None:
    kees = signed_in(node, "kees")
    page = kees.get("/orgs/gemeente-ede/badges")
    assert page.status_code == 200 and "Badges van Gemeente Ede" in page.text
    assert '<label for="issue-function">Functie</label>' in page.text

    before = scalar(node.database_url, "SELECT count(*) FROM audit_log")
    forged = kees.post("/orgs/gemeente-ede/badges", {"username": "web1", "function": "X", "csrf_token": "vals"})
    assert forged.status_code == 403
    bad = kees.post("/orgs/gemeente-ede/badges", {"username": "web1", "function": "", "valid_until": ""})
    assert bad.status_code == 422 and "Een functietitel heeft 1 tot 200 tekens." in bad.text
    bad_date = kees.post("/orgs/gemeente-ede/badges", {"username": "web1", "function": "Adviseur",
                                                       "valid_until": "31-12-2099"})
    assert bad_date.status_code == 422 and "is geen datum" in bad_date.text
    outsider = kees.post("/orgs/gemeente-ede/badges", {"username": "noor", "function": "Adviseur"})
    assert outsider.status_code == 422 and "@noor is geen lid van Gemeente Ede." in outsider.text
    assert scalar(node.database_url, "SELECT count(*) FROM audit_log") == before

    issued = kees.post("/orgs/gemeente-ede/badges", {"username": "web1", "function": "Communicatieadviseur",
                                                     "unit": "Communicatie", "valid_from": "",
                                                     "valid_until": "2099-01-31"})
    assert issued.status_code == 303 and issued.headers["location"] == "/orgs/gemeente-ede/badges?done=issued"
    assert "De badge is uitgegeven." in kees.get(issued.headers["location"]).text
    badge_id = scalar(node.database_url, "SELECT id FROM badges WHERE account_id = $1", account_id(node, "web1"))

    changed = kees.post(f"/orgs/gemeente-ede/badges/{badge_id}/change",
                        {"function": "Senior communicatieadviseur", "unit": "Communicatie", "valid_until": ""})
    assert changed.status_code == 303
    row = fetch(node.database_url, "SELECT function_title, valid_until FROM badges WHERE id = $1", badge_id)[0]
    assert row == {"function_title": "Senior communicatieadviseur", "valid_until": None}

    empty_reason = kees.post(f"/orgs/gemeente-ede/badges/{badge_id}/revoke", {"reason": ""})
    assert empty_reason.status_code == 422 and "Geef een reden" in empty_reason.text
    revoked = kees.post(f"/orgs/gemeente-ede/badges/{badge_id}/revoke", {"reason": "Functie vervallen"})
    assert revoked.status_code == 303
    assert "Functie vervallen" in kees.get("/orgs/gemeente-ede/badges").text
    assert audit_actions(node, badge_id) == [("badge.issued", "kees"), ("badge.changed", "kees"),
                                             ("badge.revoked", "kees")]
    assert [e["change"] for e in update_events(node, "web1")] == ["badge.issued", "badge.changed", "badge.revoked"]
    assert kees.get("/admin/badges").headers["location"] == "/orgs/gemeente-ede/badges"


def test_org_badge_page_is_403_for_everyone_else(node: Node) -> None:
    vera_badge = scalar(node.database_url, "SELECT id FROM badges WHERE account_id = $1 AND revoked_at IS NULL",
                        account_id(node, "vera"))
    anonymous = WebClient(node.url).get("/orgs/gemeente-ede/badges")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    for username in ("anna", "piet"):
        client = signed_in(node, username)
        assert client.get("/orgs/gemeente-ede/badges").status_code == 403
        assert client.post("/orgs/gemeente-ede/badges", {"username": "web1", "function": "X"}).status_code == 403
        assert client.post(f"/orgs/gemeente-ede/badges/{vera_badge}/revoke", {"reason": "Weg"}).status_code == 403
    assert signed_in(node, "piet").get("/orgs/gelderland/badges").status_code == 200
    assert signed_in(node, "beheer").get("/orgs/gemeente-ede/badges").status_code == 200
    assert scalar(node.database_url, "SELECT revoked_at FROM badges WHERE id = $1", vera_badge) is None


class _Website:
    """A tiny website on loopback: path -> (status, content type, body)."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                status, kind, body = pages.get(self.path, (404, "text/plain", b"not here"))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def website(node: Node) -> Iterator[_Website]:
    site = _Website()
    site.pages["/ede/"] = (200, "text/html; charset=utf-8", (
        '<!doctype html><html><head><link rel="stylesheet" href="/s.css"></head><body>'
        f'<footer><a rel="me noopener" href="{node.url}/@ede_site/">Volg ons op Ambtenaar Online</a>'
        '</footer></body></html>').encode())
    site.pages["/plain/"] = (200, "text/html", (
        '<html><body><a rel="me" href="https://elders.example/@x">x</a>'
        f'<a href="{node.url}/@waterschap_vallei">no rel</a></body></html>').encode())
    site.pages["/.well-known/ambtenaar-online.json"] = (200, "application/json", json.dumps(
        {"nodes": [{"domain": node.domain, "organisations": ["waterschap-vallei"]}]}).encode())
    factories.organisation(node, slug="ede-site", name="Gemeente Ede (site)", website=f"{site.url}/ede/")
    factories.organisation(node, slug="waterschap-vallei", name="Waterschap Vallei", kind="waterschap",
                           website=f"{site.url}/plain/")
    factories.organisation(node, slug="nergens", name="Gemeente Nergens", website=f"{site.url}/plain/")
    factories.organisation(node, slug="leeg", name="Gemeente Leeg", website=f"{site.url}/missing/")
    yield site
    site.close()


def test_org_verify_by_rel_me_link_and_by_well_known_file(node: Node, website: _Website) -> None:
    # The org account of ede-site is @ede_site; a link to the organisation page counts too.
    website.pages["/ede/"] = (200, "text/html", f'<a rel="me" href="{node.url}/orgs/ede-site">Ede</a>'.encode())
    result = node.cli("org", "verify", "ede-site")
    assert result.code == 0, result.err
    assert f"links to {node.url}/orgs/ede-site" in result.out
    row = fetch(node.database_url, "SELECT verified_at IS NOT NULL AS verified, verified_by, verification_method, "
                "verification_detail FROM organisations WHERE slug = 'ede-site'")[0]
    assert row["verified"] and row["verified_by"] is None and row["verification_method"] == "rel_me"
    entry = fetch(node.database_url, "SELECT actor_account_id, action, subject_type, detail FROM audit_log "
                  "WHERE action = 'organisation.verified' ORDER BY id DESC LIMIT 1")[0]
    detail = json.loads(entry["detail"]) if isinstance(entry["detail"], str) else entry["detail"]
    assert entry["actor_account_id"] is None and entry["subject_type"] == "organisation"
    assert detail["method"] == "rel_me" and detail["slug"] == "ede-site"

    known = node.cli("org", "verify", "waterschap-vallei")
    assert known.code == 0, known.err
    assert scalar(node.database_url, "SELECT verification_method FROM organisations "
                  "WHERE slug = 'waterschap-vallei'") == "well_known"


def test_org_verify_without_proof_is_one_line_exit_1_and_writes_nothing(node: Node, website: _Website) -> None:
    before = scalar(node.database_url, "SELECT count(*) FROM audit_log")
    for slug, why in (("nergens", "does not name"), ("leeg", "answered HTTP 404")):
        result = node.cli("org", "verify", slug)
        assert result.code == 1
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ambtenaar: error: The website does not vouch"), result.err
        assert why in lines[0]
    assert scalar(node.database_url, "SELECT count(*) FROM organisations WHERE slug IN ('nergens', 'leeg') "
                  "AND verified_at IS NOT NULL") == 0
    assert scalar(node.database_url, "SELECT count(*) FROM audit_log") == before


def test_org_verify_refuses_private_addresses_unless_allowed(node: Node, website: _Website) -> None:
    flags = [f for f in node.settings_flags() if f != "--allow-private-addresses"]
    done = subprocess.run([sys.executable, "-m", "server", "org", "verify", "ede-site", *flags], capture_output=True,
                          text=True, env=node_env(), cwd=REPO, timeout=120)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "loopback address" in done.stderr


def test_admin_page_runs_the_website_check(node: Node, website: _Website) -> None:
    assert signed_in(node, "kees").get("/admin/organisations").status_code == 403
    admin = signed_in(node, "beheer")
    page = admin.get("/admin/organisations")
    assert page.status_code == 200 and "Website controleren" in page.text
    failed = admin.post("/admin/organisations/nergens/verify")
    assert failed.status_code == 422 and "De website bevestigt deze organisatie niet" in failed.text
    website.pages["/ede/"] = (200, "text/html", f'<a rel="me" href="{node.url}/@ede_site">Ede</a>'.encode())
    done = admin.post("/admin/organisations/ede-site/verify")
    assert done.status_code == 303
    assert "De website van Gemeente Ede (site) bevestigt het account hier." in admin.get(done.headers["location"]).text
    assert scalar(node.database_url, "SELECT verified_by FROM organisations WHERE slug = 'ede-site'") == \
        account_id(node, "beheer")
    assert admin.post("/admin/organisations/ede-site/verify", {"csrf_token": "vals"}).status_code == 403


def test_website_snippet_and_feed_list_valid_badges_with_rel_me(node: Node) -> None:
    snippet = httpx.get(f"{node.url}/orgs/gemeente-ede/officials.html")
    assert snippet.status_code == 200 and snippet.headers["content-type"].startswith("text/html")
    assert f'<a rel="me" href="{node.url}/@vera">Vera de Vries</a>' in snippet.text and "Woordvoerder" in snippet.text
    feed = httpx.get(f"{node.url}/orgs/gemeente-ede/officials.json").json()
    vera = next(o for o in feed["officials"] if o["handle"] == f"@vera@{node.domain}")
    assert vera["function"] == "Woordvoerder" and vera["badge"].startswith(f"{node.url}/badges/")
    assert httpx.get(f"{node.url}/orgs/bestaat-niet/officials.json").status_code == 404
    factories.person(node, "snippet", org="gemeente-ede")
    issue(node, "snippet", function="Webredacteur")
    assert "@snippet" in httpx.get(f"{node.url}/orgs/gemeente-ede/officials.html").text
    assert node.cli("badge", "revoke", "--username", "snippet", "--reason", "Weg", "--by", "kees").code == 0
    assert "@snippet" not in httpx.get(f"{node.url}/orgs/gemeente-ede/officials.html").text


def test_org_update_sets_wording_and_automatic_boosts(node: Node) -> None:
    result = node.cli("org", "update", "gemeente-ede", "--no-auto-boost", "--official-label-nl",
                      "Namens {org} (team communicatie)")
    assert result.code == 0 and "Namens Gemeente Ede (team communicatie)" in result.out
    row = fetch(node.database_url, "SELECT auto_boost, official_label_nl FROM organisations WHERE slug = 'gemeente-ede'")
    assert row == [{"auto_boost": False, "official_label_nl": "Namens {org} (team communicatie)"}]
    bad = node.cli("org", "update", "gemeente-ede", "--official-label-en", "Official")
    assert bad.code == 1 and "must contain {org}" in bad.err
    assert node.cli("org", "update", "gemeente-ede", "--auto-boost", "--official-label-nl", "").code == 0
    assert fetch(node.database_url, "SELECT auto_boost, official_label_nl FROM organisations "
                 "WHERE slug = 'gemeente-ede'") == [{"auto_boost": True, "official_label_nl": None}]


def test_instance_admin_keeps_the_trust_list_on_the_web(node: Node) -> None:
    admin = signed_in(node, "beheer")
    assert admin.post("/admin/trust/add", {"domain": "https://Ministerie.example/"}).status_code == 303
    page = admin.get("/admin/organisations").text
    assert "ministerie.example" in page
    assert node.cli("trust", "list", "--json").out.strip() == '["ministerie.example"]'
    assert admin.post("/admin/trust/add", {"domain": "geen domein!"}).status_code == 422
    assert admin.post("/admin/trust/remove", {"domain": "ministerie.example"}).status_code == 303
    assert node.cli("trust", "list", "--json").out.strip() == "[]"
    assert signed_in(node, "kees").post("/admin/trust/add", {"domain": "x.example"}).status_code == 403
    assert node.cli("trust", "list", "--json").out.strip() == "[]"
