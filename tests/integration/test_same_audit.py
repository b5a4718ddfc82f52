"""One implementation per admin action (issue 12): the same action through `ambtenaar` and through the web page
leaves the same audit entry, apart from who did it, when, the entry's own id and (where the two runs needed two
subjects) the subject's id.

Each scenario runs the action one way, undoes it the other way, and does it again the other way round, on the
same subject where the action can be undone (trust, domain policies, policy settings, badges), so the entries can
be compared whole; organisation verification is simply done twice."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import moderation.policy as policy
from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

# What may differ between two entries of one action done through two interfaces.
INCIDENTAL = ("id", "at", "actor_account_id")


@pytest.fixture(scope="module", autouse=True)
def people(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "kees", org="gemeente-ede", role="org-admin")
    factories.person(node, "anna", org="gemeente-ede")
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0


def signed_in(node: Node, username: str) -> WebClient:
    client = WebClient(node.url)
    assert client.login(username, factories.PASSWORD).status_code == 303
    return client


def cli(node: Node, *args: str) -> None:
    result = node.cli(*args)
    assert result.code == 0, result.err


def posted(client: WebClient, path: str, form: dict[str, str]) -> None:
    response = client.post(path, form)
    assert response.status_code == 303, response.text[:2000]


def last_entry(node: Node) -> int:
    return int(scalar(node.database_url, "SELECT coalesce(max(id), 0) FROM audit_log"))


def entries(node: Node, action: str, subject_type: str, *, after: int = 0) -> list[dict[str, Any]]:
    """The entries of one action, oldest first (those after entry `after` only)."""
    rows = fetch(node.database_url, "SELECT id, at, actor_account_id, action, subject_type, subject_id, detail "
                 "FROM audit_log WHERE action = $1 AND subject_type = $2 AND id > $3 ORDER BY id", action,
                 subject_type, after)
    return [{**r, "detail": json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"]} for r in rows]


def assert_same(cli_entry: dict[str, Any], page_entry: dict[str, Any], *, page_actor: int,
                cli_actor: int | None = None, own_ids: bool = False) -> None:
    """Equal apart from actor, time and id (and the subject's own id with `own_ids`); the actors are who acted."""
    ignored = (*INCIDENTAL, "subject_id") if own_ids else INCIDENTAL
    assert {k: v for k, v in cli_entry.items() if k not in ignored} == \
        {k: v for k, v in page_entry.items() if k not in ignored}
    assert (cli_entry["actor_account_id"], page_entry["actor_account_id"]) == (cli_actor, page_actor)


def account_id(node: Node, username: str) -> int:
    return int(scalar(node.database_url, "SELECT id FROM accounts WHERE username = $1", username))


def test_trust_added_and_removed(node: Node) -> None:
    admin = signed_in(node, "beheer")
    cli(node, "trust", "add", "Ede.GOV.example")
    posted(admin, "/admin/trust/remove", {"domain": "ede.gov.example"})
    posted(admin, "/admin/trust/add", {"domain": "https://ede.gov.example/"})
    cli(node, "trust", "remove", "ede.gov.example")
    by_cli, by_page = entries(node, "trust.added", "domain")
    assert_same(by_cli, by_page, page_actor=account_id(node, "beheer"))
    by_page, by_cli = entries(node, "trust.removed", "domain")
    assert_same(by_cli, by_page, page_actor=account_id(node, "beheer"))
    assert by_cli["subject_id"] == "ede.gov.example"


def test_domain_policy_blocked_and_unblocked(node: Node) -> None:
    admin = signed_in(node, "beheer")
    cli(node, "domain", "block", "spam.example", "--severity", "silence", "--reason", "bulk mail",
        "--public-comment", "spam", "--reject-media", "--obfuscate")
    posted(admin, "/admin/domains/unblock", {"domain": "spam.example"})
    posted(admin, "/admin/domains/block", {"domain": "spam.example", "severity": "silence", "reason": "bulk mail",
                                           "public_comment": "spam", "reject_media": "on", "obfuscate": "on"})
    cli(node, "domain", "unblock", "spam.example")
    by_cli, by_page = entries(node, "domain.blocked", "domain")
    assert_same(by_cli, by_page, page_actor=account_id(node, "beheer"))
    assert by_cli["detail"]["severity"] == "silence" and by_cli["detail"]["reject_media"] is True
    by_page, by_cli = entries(node, "domain.unblocked", "domain")
    assert_same(by_cli, by_page, page_actor=account_id(node, "beheer"))


def _policy_form(chosen: dict[str, str]) -> dict[str, str]:
    """The organisation admins' form as a browser sends it: every check, off unless chosen, no parameters."""
    return {**{f"action-{check.id}": chosen.get(check.id, "off") for check in policy.CATALOGUE},
            **{f"options-{check.id}": "" for check in policy.CATALOGUE}}


def test_policy_settings(node: Node) -> None:
    admin = signed_in(node, "kees")
    start = last_entry(node)
    cli(node, "policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold")
    posted(admin, "/orgs/gemeente-ede/policy", _policy_form({}))
    posted(admin, "/orgs/gemeente-ede/policy", _policy_form({"four-eyes": "hold"}))
    cli(node, "policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "off")
    by_cli, by_page, again_page, again_cli = entries(node, "policy.setting", "organisation", after=start)
    kees = account_id(node, "kees")
    assert_same(by_cli, again_page, page_actor=kees)
    assert_same(again_cli, by_page, page_actor=kees)
    assert by_cli["detail"] == {"changed": {"four-eyes": {"action": "hold", "options": {}}},
                                "settings": {"four-eyes": {"action": "hold", "options": {}}}}
    assert by_page["detail"] == {"changed": {"four-eyes": {"action": "off", "options": {}}}, "settings": {}}


def test_badge_issued_and_revoked(node: Node) -> None:
    admin = signed_in(node, "kees")
    cli(node, "badge", "issue", "--username", "anna", "--function", "Beleidsadviseur", "--unit", "Team Wonen",
        "--valid-from", "2025-01-01", "--valid-until", "2099-12-31", "--by", "kees")
    first = int(scalar(node.database_url, "SELECT id FROM badges WHERE account_id = $1 AND revoked_at IS NULL",
                       account_id(node, "anna")))
    posted(admin, f"/orgs/gemeente-ede/badges/{first}/revoke", {"reason": "Andere functie"})
    posted(admin, "/orgs/gemeente-ede/badges", {"username": "anna", "function": "Beleidsadviseur",
                                                "unit": "Team Wonen", "valid_from": "2025-01-01",
                                                "valid_until": "2099-12-31"})
    cli(node, "badge", "revoke", "--username", "anna", "--reason", "Andere functie", "--by", "kees")
    kees = account_id(node, "kees")
    by_cli, by_page = entries(node, "badge.issued", "badge")
    assert_same(by_cli, by_page, cli_actor=kees, page_actor=kees, own_ids=True)
    by_page, by_cli = entries(node, "badge.revoked", "badge")
    assert_same(by_cli, by_page, cli_actor=kees, page_actor=kees, own_ids=True)
    assert by_cli["detail"]["reason"] == "Andere functie"


@pytest.fixture(scope="module")
def website(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The organisation's website on loopback, with a rel="me" link to its account here."""
    root: Path = tmp_path_factory.mktemp("website")
    (root / "index.html").write_text(f'<a rel="me" href="{node.url}/@vallei">Volg ons</a>', encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler,
                                                                      directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_organisation_verified(node: Node, website: str) -> None:
    factories.organisation(node, slug="vallei", name="Waterschap Vallei", kind="waterschap", website=website)
    cli(node, "org", "verify", "vallei")
    posted(signed_in(node, "beheer"), "/admin/organisations/vallei/verify", {})
    by_cli, by_page = entries(node, "organisation.verified", "organisation")
    assert_same(by_cli, by_page, page_actor=account_id(node, "beheer"))
    assert by_cli["detail"]["method"] == "rel_me" and by_cli["detail"]["slug"] == "vallei"


def test_held_posts_approved_and_rejected(node: Node) -> None:
    cli(node, "policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold")
    start = last_entry(node)
    author = signed_in(node, "anna")
    for _ in range(4):
        assert author.compose("Het gemeentehuis is morgen gesloten", voice="official").status_code < 400
    held = [int(r["id"]) for r in fetch(node.database_url, "SELECT id FROM posts WHERE state = 'held' ORDER BY id")]
    assert len(held) == 4
    version = json.loads(node.cli("review", "list", "--org", "gemeente-ede", "--json").out)[0]["version"]
    reviewer = signed_in(node, "kees")
    cli(node, "review", "approve", str(held[0]), "--by", "kees", "--version", version)
    assert reviewer.review(held[1], "approve").status_code == 303
    cli(node, "review", "reject", str(held[2]), "--by", "kees", "--reason", "Te vaag", "--version", version)
    assert reviewer.review(held[3], "reject", "Te vaag").status_code == 303
    cli(node, "policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "off")
    kees = account_id(node, "kees")
    for action in ("review.approved", "review.rejected"):
        by_cli, by_page = entries(node, action, "post", after=start)
        assert_same(by_cli, by_page, cli_actor=kees, page_actor=kees, own_ids=True)
        assert by_cli["detail"]["version"] == version


def test_people_and_invites_are_audited(node: Node) -> None:
    """Giving roles is an admin action too: an account made at the command line, an invite, and the account an
    invite made each leave an entry naming the role; a refused invite leaves none."""
    start = last_entry(node)
    factories.person(node, "rolf", org="gemeente-ede", role="reviewer")
    made = entries(node, "account.created", "account", after=start)
    assert [(e["actor_account_id"], e["subject_id"], e["detail"]["org_role"]) for e in made] == [
        (None, str(account_id(node, "rolf")), "reviewer")]

    url = factories.invite(node, "gemeente-ede", role="org-admin")
    invited = entries(node, "invite.created", "invite", after=start)
    assert [(e["actor_account_id"], e["detail"]["org_role"]) for e in invited] == [(None, "org_admin")]
    fields = {"username": "ineke", "display_name": "Ineke", "email": "", "password": "een-lang-wachtwoord",
              "password_confirm": "een-lang-wachtwoord"}
    refused = WebClient(node.url).post(url.removeprefix(node.url), {**fields, "password_confirm": "anders"})
    assert refused.status_code == 422
    assert len(entries(node, "account.created", "account", after=start)) == 1
    assert WebClient(node.url).post(url.removeprefix(node.url), fields).status_code == 303
    ineke = entries(node, "account.created", "account", after=start)[-1]
    assert ineke["actor_account_id"] == account_id(node, "ineke")
    assert ineke["detail"]["org_role"] == "org_admin" and ineke["detail"]["invite_id"] == int(invited[0]["subject_id"])
    kees = signed_in(node, "kees")
    log = kees.get("/orgs/gemeente-ede/audit")
    assert log.status_code == 200 and "invite.created" in log.text and "account.created" in log.text


def test_role_changed(node: Node) -> None:
    kees = signed_in(node, "kees")
    anna = account_id(node, "anna")
    start = last_entry(node)
    cli(node, "user", "role", "--username", "anna", "--role", "reviewer", "--by", "kees")
    posted(kees, f"/orgs/gemeente-ede/people/{anna}/role", {"role": "official"})
    posted(kees, f"/orgs/gemeente-ede/people/{anna}/role", {"role": "reviewer"})
    cli(node, "user", "role", "--username", "anna", "--role", "official")
    by_cli, back, by_page, operator = entries(node, "account.role_changed", "account", after=start)
    assert_same(by_cli, by_page, page_actor=account_id(node, "kees"), cli_actor=account_id(node, "kees"))
    assert by_cli["detail"] == {"username": "anna", "organisation_id": by_cli["detail"]["organisation_id"],
                                "from": "official", "to": "reviewer"}
    assert_same(operator, back, page_actor=account_id(node, "kees"))
