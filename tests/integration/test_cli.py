"""The `ambtenaar` command as an admin uses it: clear one-line errors, exit 1, nothing half-written."""

from __future__ import annotations

import json

import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)


def test_org_create_also_creates_the_organisation_account(node: Node) -> None:
    result = node.cli("org", "create", "--name", "Provincie Gelderland", "--slug", "gelderland", "--kind",
                      "provincie", "--website", "https://www.gelderland.nl")
    assert result.code == 0, result.err
    assert "@gelderland" in result.out
    row = fetch(node.database_url, "SELECT a.kind, a.display_name, a.default_voice, o.name FROM accounts a "
                "JOIN organisations o ON o.id = a.organisation_id WHERE o.slug = 'gelderland'")
    assert row == [{"kind": "organisation", "display_name": "Provincie Gelderland", "default_voice": "official",
                    "name": "Provincie Gelderland"}]


def test_user_create_with_password_on_stdin_can_sign_in(node: Node) -> None:
    result = node.cli("user", "create", "--username", "rita", "--email", "rita@ede.nl", "--org", "gemeente-ede",
                      "--role", "reviewer", "--password-stdin", stdin="een-lang-wachtwoord\n")
    assert result.code == 0, result.err
    assert "Password" not in result.out
    assert fetch(node.database_url, "SELECT org_role FROM accounts WHERE username = 'rita'") == [
        {"org_role": "reviewer"}]
    from tests.helpers.web import WebClient
    assert WebClient(node.url).login("rita", "een-lang-wachtwoord").status_code == 303


def test_user_create_without_stdin_prints_a_generated_password_once(node: Node) -> None:
    result = node.cli("user", "create", "--username", "kees", "--email", "kees@ede.nl", "--org", "gemeente-ede",
                      "--role", "org-admin")
    assert result.code == 0, result.err
    password = result.out.split("Password (shown once): ")[1].strip()
    hashed = scalar(node.database_url, "SELECT password_hash FROM accounts WHERE username = 'kees'")
    assert hashed.startswith("$argon2id$") and password not in hashed
    assert scalar(node.database_url, "SELECT org_role FROM accounts WHERE username = 'kees'") == "org_admin"


def test_admin_and_moderator_create(node: Node) -> None:
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin="beheerder-wachtwoord\n").code == 0
    assert node.cli("admin", "create", "--username", "mod", "--moderator", "--password-stdin",
                    stdin="moderator-wachtwoord\n").code == 0
    rows = {r["username"]: (r["is_admin"], r["is_moderator"]) for r in fetch(
        node.database_url, "SELECT username, is_admin, is_moderator FROM accounts WHERE username IN ('beheer', 'mod')")}
    assert rows == {"beheer": (True, True), "mod": (False, True)}


def test_user_list_as_text_and_json(node: Node) -> None:
    factories.person(node, "lijst", org="gemeente-ede")
    listed = node.cli("user", "list", "--json")
    assert listed.code == 0
    people = {p["username"]: p for p in json.loads(listed.out)}
    assert people["lijst"]["organisation"] == "gemeente-ede" and people["lijst"]["role"] == "official"
    assert people["gemeente_ede"]["role"] == "organisation"
    assert "lijst\tofficial\tgemeente-ede" in node.cli("user", "list").out


def test_invite_prints_a_url_that_expires(node: Node) -> None:
    url = factories.invite(node, "gemeente-ede", "reviewer")
    row = fetch(node.database_url, "SELECT org_role, expires_at - created_at AS valid FROM invites "
                "ORDER BY created_at DESC LIMIT 1")[0]
    assert row["org_role"] == "reviewer" and row["valid"].days == 7
    assert url.split("/invite/")[1].encode() not in [r["token_hash"] for r in fetch(
        node.database_url, "SELECT token_hash FROM invites")]


@pytest.mark.parametrize("args, stdin, message", [
    (["org", "create", "--name", "Dubbel", "--slug", "gemeente-ede", "--kind", "gemeente"], None,
     "already exists"),
    (["org", "create", "--name", "X", "--slug", "Foute Slug", "--kind", "gemeente"], None, "slug must be"),
    (["org", "create", "--name", "X", "--slug", "x-org", "--kind", "koninkrijk"], None, "invalid choice"),
    (["org", "create", "--name", "X", "--slug", "x-org", "--kind", "gemeente", "--website", "ftp://x"], None,
     "website must be"),
    (["user", "create", "--username", "nieuw", "--email", "n@ede.nl", "--org", "onbekend"], None,
     "no organisation with slug onbekend"),
    (["user", "create", "--username", "nieuw", "--email", "n@ede.nl", "--org", "gemeente-ede", "--role", "baas"],
     None, "role must be"),
    (["user", "create", "--username", "nieuw", "--email", "n@ede.nl", "--role", "official"], None,
     "--role needs --org"),
    (["user", "create", "--username", "niet geldig", "--email", "n@ede.nl"], None, "username has"),
    (["user", "create", "--username", "nieuw", "--email", "geen-adres"], None, "not an e-mail address"),
    (["user", "create", "--username", "nieuw", "--email", "n@ede.nl", "--password-stdin"], "kort\n",
     "at least 10 characters"),
    (["user", "create", "--username", "nieuw", "--email", "n@ede.nl", "--password-stdin"], "", "no password"),
    (["user", "create", "--username", "admin", "--email", "n@ede.nl"], None, "reserved"),
    (["user", "invite", "--org", "onbekend"], None, "no organisation"),
    (["user", "invite", "--org", "gemeente-ede", "--role", "chef"], None, "role must be"),
    (["user", "create", "--email", "n@ede.nl"], None, "required: --username"),
    (["bestaat-niet"], None, "invalid choice"),
    (["user", "list", "--max-post-length", "veel"], None, "whole number"),
])
def test_bad_input_gives_one_line_and_exit_1_and_writes_nothing(node: Node, args: list[str], stdin: str | None,
                                                                 message: str) -> None:
    counts = "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM organisations) + " \
             "(SELECT count(*) FROM invites)"
    before = scalar(node.database_url, counts)
    result = node.cli(*args, stdin=stdin)
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ambtenaar: error: "), result.err
    assert message in lines[0]
    assert "Traceback" not in result.err
    assert scalar(node.database_url, counts) == before


def test_duplicate_username_is_refused_case_insensitively(node: Node) -> None:
    factories.person(node, "Joost")
    result = node.cli("user", "create", "--username", "joost", "--email", "ander@ede.nl", "--password-stdin",
                      stdin="nog-een-wachtwoord\n")
    assert result.code == 1 and "already taken" in result.err
    assert scalar(node.database_url, "SELECT count(*) FROM accounts WHERE lower(username) = 'joost'") == 1
