"""Handles on an organisation's own domain (issue 17) against one real node: the CLI and the admins' page set it
(pending), bad input is one line and exit 1; WebFinger answers the handle-domain form while pending (only the
domain's own redirect can bring anyone here) and, once active, gives it as the subject for every form; the actor
carries it (FEP-2c59); a mention of @alice@<handle domain> is local; /readyz shows a failing domain as a detail;
a change after the organisation federated is refused.

The real self-test against a real redirect over TLS is tests/interop/test_handle_domain_with_peer.py; here the
domain does not resolve, so the check fails with a line, and an UPDATE stands in for a passing check.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

DOMAIN = "ede.example"
PAGE = "/orgs/gemeente-ede/handle-domain"


@pytest.fixture(scope="module")
def org(node: Node) -> Iterator[Node]:
    factories.organisation(node)
    factories.person(node, "kees", org="gemeente-ede", role="org-admin")
    factories.person(node, "alice", org="gemeente-ede")
    factories.organisation(node, slug="provincie-gld", name="Provincie Gelderland", kind="provincie")
    factories.person(node, "piet", org="provincie-gld", role="org-admin")
    yield node


def _finger(node: Node, resource: str) -> httpx.Response:
    return httpx.get(f"{node.url}/.well-known/webfinger", params={"resource": resource})


def _activate(node: Node) -> None:
    """Stands in for a passing self-test (which needs a TLS redirect: the interop test runs it)."""
    fetch(node.database_url, "UPDATE handle_domains SET state = 'active', activated_at = now(), checked_at = now() "
                             "WHERE domain = $1", DOMAIN)
    # As server/handle_domains.py does on a change of state: the node renders WebFinger and actors anew.
    fetch(node.database_url, "SELECT pg_notify('ambtenaar_read_cache', string_agg(a.id::text, ' ')) FROM accounts a "
                             "JOIN handle_domains h ON h.organisation_id = a.organisation_id WHERE h.domain = $1",
          DOMAIN)


def test_set_by_the_operator_pending_until_checked_and_webfinger_answers_it(org: Node) -> None:
    bad = org.cli("org", "domain", "--org", "gemeente-ede", "--handle-domain", "https://ede.example/")
    assert bad.code == 1 and len(bad.err.strip().splitlines()) == 1 and "bare domain" in bad.err
    own = org.cli("org", "domain", "--org", "gemeente-ede", "--handle-domain", org.domain.split(":")[0])
    assert own.code == 1 and "not a valid domain" in own.err  # 127.0.0.1: an address, never a handle domain
    done = org.cli("org", "domain", "--org", "gemeente-ede", "--handle-domain", "Ede.Example")
    assert done.code == 0 and f"{DOMAIN} is pending" in done.out, done.err
    taken = org.cli("org", "domain", "--org", "provincie-gld", "--handle-domain", DOMAIN)
    assert taken.code == 1 and "another organisation" in taken.err

    pending = _finger(org, f"acct:alice@{DOMAIN}")
    assert pending.status_code == 200 and pending.json()["subject"] == f"acct:alice@{DOMAIN}"
    assert pending.headers["access-control-allow-origin"] == "*"
    assert _finger(org, f"acct:piet@{DOMAIN}").status_code == 404  # another organisation's member
    assert _finger(org, f"acct:alice@{org.domain}").json()["subject"] == f"acct:alice@{org.domain}"
    actor = httpx.get(f"{org.url}/users/alice", headers={"Accept": "application/activity+json"}).json()
    assert actor["webfinger"] == f"alice@{org.domain}" and actor["id"] == f"{org.url}/users/alice"

    check = org.cli("org", "domain-check", "--org", "gemeente-ede")
    assert check.code == 1 and "is pending" in check.err and "FAIL webfinger redirect: could not reach" in check.err
    assert "FAIL nodeinfo redirect" in check.err
    row = fetch(org.database_url, "SELECT state, check_lines FROM handle_domains WHERE domain = $1", DOMAIN)[0]
    assert row["state"] == "pending" and any(line.startswith("FAIL") for line in row["check_lines"])


def test_active_domain_is_the_subject_of_every_form_and_mentions_resolve_locally(org: Node, tmp_path: Path) -> None:
    _activate(org)
    for resource in (f"acct:alice@{DOMAIN}", f"acct:alice@{org.domain}", f"{org.url}/users/alice",
                     f"{org.url}/@alice"):
        answer = _finger(org, resource).json()
        assert answer["subject"] == f"acct:alice@{DOMAIN}", resource
        assert {"rel": "self", "type": "application/activity+json", "href": f"{org.url}/users/alice"} \
            in answer["links"]
    actor = httpx.get(f"{org.url}/users/alice", headers={"Accept": "application/activity+json"}).json()
    assert actor["webfinger"] == f"alice@{DOMAIN}" and actor["id"] == f"{org.url}/users/alice"
    assert "webfinger" in actor["@context"][2]

    token = org.cli("token", "create", "--username", "kees", "--scopes", "read write").out.strip()
    with httpx.Client(base_url=org.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as kees:
        status = kees.post("/api/v1/statuses", json={"status": f"Welkom @alice@{DOMAIN}!", "voice": "official"})
        assert status.status_code == 200, status.text
        assert [m["acct"] for m in status.json()["mentions"]] == ["alice"]  # local: the bare username, as Mastodon
        assert f'href="{org.url}/@alice"' in status.json()["content"]
        found = kees.get("/api/v2/search", params={"q": f"alice@{DOMAIN}", "resolve": "true"}).json()
        assert [a["acct"] for a in found["accounts"]] == ["alice"]
    assert httpx.get(f"{org.url}/readyz").json()["handle_domains"]["active"] == 1
    # Our pages give the handle in its domain form, with the line saying the domain proves the organisation.
    profile = httpx.get(f"{org.url}/@alice", headers={"Accept-Language": "en"}).text
    assert f"@alice@{DOMAIN}" in profile and f"@alice@{org.domain}" not in profile
    assert f"Handle on the domain of Gemeente Ede, checked by this node: {DOMAIN}" in profile
    assert f"@gemeente_ede@{DOMAIN}" in httpx.get(f"{org.url}/orgs/gemeente-ede").text
    assert f"@kees@{DOMAIN}" in httpx.get(f"{org.url}/@kees").text
    # ... and so does the archive: kees's official post is in a dossier named with his handle on the domain.
    today = datetime.now(UTC).date().isoformat()
    out = tmp_path / "bag"
    exported = org.cli("archive", "export", "--org", "gemeente-ede", "--from", today, "--to", today, "--out", str(out))
    assert exported.code == 0, exported.err
    assert f"@kees@{DOMAIN}" in (out / "data" / "kees" / "kees.mdto.xml").read_text()


def test_the_page_is_the_admins_and_a_change_after_federating_is_refused(org: Node) -> None:
    outsider = WebClient(org.url)
    assert outsider.login("alice", factories.PASSWORD).status_code == 303
    assert outsider.get(PAGE).status_code == 403
    other_admin = WebClient(org.url)
    assert other_admin.login("piet", factories.PASSWORD).status_code == 303
    assert other_admin.get(PAGE).status_code == 403

    admin = WebClient(org.url, language="en")
    assert admin.login("kees", factories.PASSWORD).status_code == 303
    admin.get("/lang/en")  # kees's account speaks Dutch; this page is read in English here
    page = admin.get(PAGE)
    assert page.status_code == 200 and f"{DOMAIN} is active" in page.text
    assert "return 301 https://" in page.text and "appendQueryString" in page.text  # nginx … IIS
    assert "Run the check" in page.text
    # kees posted in the official voice since activation (previous test): the domain is in use elsewhere.
    refused = admin.post(PAGE, {"domain": "gemeente-ede.example"})
    assert refused.status_code == 409 and "can no longer be changed" in refused.text
    cli = org.cli("org", "domain", "--org", "gemeente-ede", "--handle-domain", "gemeente-ede.example")
    assert cli.code == 1 and "can no longer be changed" in cli.err and len(cli.err.strip().splitlines()) == 1
    assert "federated under this domain" in admin.get(PAGE).text
    assert WebClient(org.url).get(PAGE).status_code in (302, 303)  # anonymous: to the sign-in page

    fetch(org.database_url, "UPDATE handle_domains SET state = 'failing' WHERE domain = $1", DOMAIN)
    ready = httpx.get(f"{org.url}/readyz")
    assert ready.status_code == 200 and ready.json()["handle_domains"]["failing_domains"] == [DOMAIN]
    assert "is failing" in admin.get(PAGE).text
    # The organisation's admin is warned where they look every day; a member is not.
    assert f"The handle domain {DOMAIN} of Gemeente Ede failed its daily check" in admin.get("/notifications").text
    assert "failed its daily check" not in outsider.get("/notifications").text
    assert _finger(org, f"acct:alice@{org.domain}").json()["subject"] == f"acct:alice@{DOMAIN}"


def test_a_remote_split_domain_account_is_given_by_its_confirmed_handle(org: Node) -> None:
    """A Mastodon server with LOCAL_DOMAIN != WEB_DOMAIN: bob's actor is on social.example.com, his handle
    bob@example.com (confirmed by WebFinger when he was looked up; stored as federation/actors.resolve_handle does).
    The API names him by that handle, and a search for it finds the one stored account without asking anyone."""
    bob = fetch(org.database_url, "INSERT INTO accounts (id, username, kind, domain, actor_uri, fetched_at) VALUES "
                "(424242, 'bob', 'person', 'social.example.com', 'https://social.example.com/users/bob', now()) "
                "RETURNING id")[0]["id"]
    fetch(org.database_url, "INSERT INTO remote_handle_domains (account_id, username, handle_domain, confirmed_at) "
          "VALUES ($1, 'bob', 'example.com', now())", bob)
    token = org.cli("token", "create", "--username", "kees", "--scopes", "read").out.strip()
    with httpx.Client(base_url=org.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as kees:
        assert kees.get(f"/api/v1/accounts/{bob}").json()["acct"] == "bob@example.com"
        found = kees.get("/api/v2/search", params={"q": "@bob@example.com", "resolve": "true",
                                                   "type": "accounts"}).json()["accounts"]
        assert [(a["id"], a["acct"]) for a in found] == [(str(bob), "bob@example.com")]
