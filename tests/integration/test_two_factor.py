"""Passwords and two-factor sign-in (issue 13) through real node processes: reset links, sessions and apps, TOTP
and recovery codes, who must use a second factor, the OAuth authorize flow, throttling, and the secret at rest."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx
import pyotp
import pytest

from server import account_security, two_factor
from server.config import settings_from
from tests import factories
from tests.helpers.database import TestPostgres, fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

OOB = "urn:ietf:wg:oauth:2.0:oob"
NEW_PASSWORD = "een-nieuw-wachtwoord-42"
_SECRET = re.compile(r'<p class="code" id="secret">([A-Z2-7 ]+)</p>')
_CODES = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """The node's default rule: admins and moderators must use a second factor."""
    running = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("node"),
                   require_2fa_for="staff").start()
    factories.organisation(running)
    yield running
    running.stop()


def is_signed_in(client: WebClient) -> bool:
    return client.get("/settings/security").status_code == 200


def login(node: Node, username: str, password: str = factories.PASSWORD, next_path: str = "/") -> tuple[WebClient,
                                                                                                          httpx.Response]:
    client = WebClient(node.url)
    return client, client.post("/login", {"username": username, "password": password, "next": next_path})


def enrol(client: WebClient) -> tuple[str, list[str]]:
    """Set up an authenticator app on the setup page, as a person with a phone would: the key and the codes."""
    page = client.get("/two-factor/setup")
    assert page.status_code == 200, page.text[:300]
    secret = _SECRET.search(page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    done = client.post("/two-factor/setup", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.text[:500]
    codes = _CODES.findall(done.text)
    assert len(codes) == 10
    return secret, codes


def code_at(secret: str, offset_steps: int) -> str:
    """The code of a later step (allowed as one step of clock drift), for a second sign-in within 30 seconds."""
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def audit_actions(node: Node, username: str) -> list[str]:
    rows = fetch(node.database_url, "SELECT l.action FROM audit_log l JOIN accounts a ON a.id::text = l.subject_id "
                 "WHERE l.subject_type = 'account' AND a.username = $1 ORDER BY l.id", username)
    return [r["action"] for r in rows]


def test_totp_sign_in_a_replayed_or_wrong_code_is_refused_and_the_secret_is_encrypted(node: Node) -> None:
    factories.person(node, "tessa", org="gemeente-ede")
    client, first = login(node, "tessa")
    assert first.status_code == 303 and first.headers["location"] == "/"  # not required of her: no second step
    secret, _codes = enrol(client)
    assert "two_factor.enabled" in audit_actions(node, "tessa")

    # At rest: no trace of the key in clear, and the stored bytes open only with the node's secret key and id.
    stored = fetch(node.database_url, "SELECT t.account_id, t.secret_enc FROM two_factor_secrets t "
                   "JOIN accounts a ON a.id = t.account_id WHERE a.username = 'tessa'")[0]
    assert secret.encode() not in bytes(stored["secret_enc"])
    assert scalar(node.database_url, "SELECT count(*) FROM two_factor_secrets WHERE encode(secret_enc, 'escape') "
                  "LIKE '%' || $1 || '%'", secret) == 0
    assert scalar(node.database_url, "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%' || $1 || '%'",
                  secret) == 0
    key = (node.data_dir / "secret_key").read_text().strip()
    assert two_factor.decrypt_secret(key, stored["account_id"], bytes(stored["secret_enc"])) == secret
    with pytest.raises(two_factor.SecretUnreadable):
        two_factor.decrypt_secret(key, stored["account_id"] + 1, bytes(stored["secret_enc"]))
    with pytest.raises(two_factor.SecretUnreadable):
        two_factor.decrypt_secret("another-secret-key-of-forty-characters!!", stored["account_id"],
                                  bytes(stored["secret_enc"]))

    # Signing in: the password leads to the second step, and until it is done nothing is signed in.
    other, step = login(node, "tessa")
    assert step.status_code == 303 and step.headers["location"] == "/login/two-factor"
    assert not is_signed_in(other)
    assert other.get("/compose").headers.get("location", "").startswith("/login")
    wrong = other.post("/login/two-factor", {"code": "000000" if code_at(secret, 0) != "000000" else "111111"})
    assert wrong.status_code == 422 and not is_signed_in(other)
    good = code_at(secret, 1)  # step 0 was spent on enrolment
    done = other.post("/login/two-factor", {"code": good})
    assert done.status_code == 303 and done.headers["location"] == "/" and is_signed_in(other)

    # The same code again, in a new sign-in: refused, it was spent.
    third, _ = login(node, "tessa")
    replay = third.post("/login/two-factor", {"code": good})
    assert replay.status_code == 422 and not is_signed_in(third)


def test_recovery_codes_work_once_each(node: Node) -> None:
    factories.person(node, "rik", org="gemeente-ede")
    client, _ = login(node, "rik")
    _secret, codes = enrol(client)
    assert scalar(node.database_url, "SELECT count(*) FROM recovery_codes r JOIN accounts a ON a.id = r.account_id "
                  "WHERE a.username = 'rik' AND r.code_hash = convert_to($1, 'UTF8')", codes[0]) == 0

    first, _ = login(node, "rik")
    assert first.post("/login/two-factor", {"code": codes[0].upper()}).status_code == 303  # as typed from paper
    assert is_signed_in(first)
    assert "Ongebruikte herstelcodes: 9" in first.get("/settings/security").text
    again, _ = login(node, "rik")
    assert again.post("/login/two-factor", {"code": codes[0]}).status_code == 422 and not is_signed_in(again)
    assert again.post("/login/two-factor", {"code": codes[1]}).status_code == 303 and is_signed_in(again)
    assert audit_actions(node, "rik").count("two_factor.recovery_code_used") == 2

    # New codes (with the password) make the old ones worthless.
    renewed = again.post("/settings/security/recovery-codes", {"current_password": factories.PASSWORD})
    fresh = _CODES.findall(renewed.text)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    late, _ = login(node, "rik")
    assert late.post("/login/two-factor", {"code": codes[2]}).status_code == 422
    assert late.post("/login/two-factor", {"code": fresh[0]}).status_code == 303


def test_wrong_codes_are_throttled_per_account(node: Node) -> None:
    factories.person(node, "wim", org="gemeente-ede")
    client, _ = login(node, "wim")
    secret, codes = enrol(client)
    attempt, _ = login(node, "wim")
    wrong = "123456" if "123456" not in {code_at(secret, s) for s in (-1, 0, 1, 2)} else "654321"
    for _ in range(5):  # --login-attempts 5
        assert attempt.post("/login/two-factor", {"code": wrong}).status_code == 422
    throttled = attempt.post("/login/two-factor", {"code": codes[0]})  # even a right code waits now
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    assert not is_signed_in(attempt)
    # A new sign-in does not reset the count: it belongs to the account.
    fresh, _ = login(node, "wim")
    assert fresh.post("/login/two-factor", {"code": codes[1]}).status_code == 429
    assert scalar(node.database_url, "SELECT count(*) FROM recovery_codes r JOIN accounts a ON a.id = r.account_id "
                  "WHERE a.username = 'wim' AND r.used_at IS NULL") == 10


def test_staff_must_set_up_a_second_factor_before_anything_else(node: Node) -> None:
    """--require-2fa-for staff (the default): an admin's password leads to the setup page and nowhere else."""
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0
    factories.person(node, "gewoon")
    _, plain = login(node, "gewoon")
    assert plain.headers["location"] == "/"
    admin, step = login(node, "beheer", next_path="/admin/reports")
    assert step.headers["location"] == "/two-factor/setup"
    assert not is_signed_in(admin)
    assert admin.get("/admin/reports").status_code == 303  # to the sign-in page: not signed in
    assert admin.get("/login/two-factor").headers["location"] == "/login"  # another step than the one it waits for
    page = admin.get("/two-factor/setup")
    assert "Je account moet inloggen in twee stappen gebruiken" in page.text
    secret = _SECRET.search(page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    done = admin.post("/two-factor/setup", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and 'href="/admin/reports"' in done.text
    assert is_signed_in(admin) and admin.get("/admin/reports").status_code == 200
    # Required of them: it cannot be switched off.
    refused = admin.post("/settings/security/two-factor/disable", {"current_password": factories.PASSWORD})
    assert refused.status_code == 403
    assert scalar(node.database_url, "SELECT count(*) FROM two_factor_secrets t JOIN accounts a ON a.id = "
                  "t.account_id WHERE a.username = 'beheer' AND t.confirmed_at IS NOT NULL") == 1


def test_everyone_and_none(postgres: TestPostgres, tmp_path: Path) -> None:
    """--require-2fa-for everyone asks it of every person; none of nobody, not even admins."""
    strict = Node(database_url=postgres.fresh_database(), data_dir=tmp_path / "strict",
                  require_2fa_for="everyone").start()
    try:
        factories.person(strict, "iedereen")
        _, step = login(strict, "iedereen")
        assert step.headers["location"] == "/two-factor/setup"
    finally:
        strict.stop()
    relaxed = Node(database_url=postgres.fresh_database(), data_dir=tmp_path / "relaxed",
                   require_2fa_for="none").start()
    try:
        assert relaxed.cli("admin", "create", "--username", "baas", "--password-stdin",
                           stdin=factories.PASSWORD + "\n").code == 0
        _, step = login(relaxed, "baas")
        assert step.headers["location"] == "/"
    finally:
        relaxed.stop()


def test_an_organisation_can_require_it_of_its_members(node: Node) -> None:
    factories.organisation(node, slug="waterschap-rijn", name="Waterschap Rijn", kind="waterschap")
    factories.person(node, "olga", org="waterschap-rijn", role="org-admin")
    factories.person(node, "mees", org="waterschap-rijn")
    factories.person(node, "buiten", org="gemeente-ede")
    member, _ = login(node, "mees")
    outsider, _ = login(node, "buiten")
    assert is_signed_in(member)
    org_admin, _ = login(node, "olga")
    assert org_admin.post("/orgs/gemeente-ede/two-factor", {"required": "on"}).status_code == 403
    assert org_admin.post("/orgs/waterschap-rijn/two-factor", {"required": "on"}).status_code == 303
    # Members without a second factor are signed out; the session she acted from stays, but she too must set
    # one up before any other page; people of other organisations are left alone.
    assert org_admin.get("/orgs/waterschap-rijn/two-factor").headers["location"] == "/two-factor/setup"
    assert not is_signed_in(member)
    assert is_signed_in(outsider)
    entry = fetch(node.database_url, "SELECT detail FROM audit_log WHERE action = 'organisation.two_factor_required'")
    assert json.loads(entry[0]["detail"])["sessions_ended"] == 1
    assert login(node, "olga")[1].headers["location"] == "/two-factor/setup"  # her next sign-in sets it up
    enrol(org_admin)
    assert "checked" in org_admin.get("/orgs/waterschap-rijn/two-factor").text
    again, step = login(node, "mees")
    assert step.headers["location"] == "/two-factor/setup" and not is_signed_in(again)
    enrol(again)
    assert is_signed_in(again)
    # An invite to the organisation leads its new member to the setup page too.
    link = factories.invite(node, "waterschap-rijn").removeprefix(node.url)
    newcomer = WebClient(node.url)
    newcomer.get(link)
    joined = newcomer.post(link, {"username": "nieuw", "display_name": "", "email": "", "password": factories.PASSWORD,
                                  "password_confirm": factories.PASSWORD})
    assert joined.headers["location"] == "/two-factor/setup" and not is_signed_in(newcomer)


def test_changing_the_password_signs_out_other_sessions(node: Node) -> None:
    factories.person(node, "pia", org="gemeente-ede")
    here, _ = login(node, "pia")
    elsewhere, _ = login(node, "pia")
    wrong = here.post("/settings/security/password", {"current_password": "not-my-password",
                                                      "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})
    assert wrong.status_code == 422 and is_signed_in(elsewhere)
    changed = here.post("/settings/security/password", {"current_password": factories.PASSWORD,
                                                        "new_password": NEW_PASSWORD,
                                                        "new_password_confirm": NEW_PASSWORD})
    assert changed.status_code == 200 and "uitgelogd: 1" in changed.text
    assert is_signed_in(here) and not is_signed_in(elsewhere)
    assert login(node, "pia")[1].status_code == 422
    assert login(node, "pia", NEW_PASSWORD)[1].status_code == 303
    assert "password.changed" in audit_actions(node, "pia")


def test_an_admin_reset_link_works_once_for_24_hours_and_ends_old_sessions(node: Node) -> None:
    factories.person(node, "rosa", org="gemeente-ede")
    old, _ = login(node, "rosa")
    made = node.cli("user", "reset-password", "--username", "rosa")
    assert made.code == 0, made.err
    link = made.out.splitlines()[0]
    assert re.fullmatch(rf"{re.escape(node.url)}/password/reset/[A-Za-z0-9_-]{{40,}}", link)
    assert "24 hours" in made.out and "Nothing was mailed" in made.out
    row = fetch(node.database_url, "SELECT r.created_at, r.expires_at FROM password_resets r JOIN accounts a "
                "ON a.id = r.account_id WHERE a.username = 'rosa'")[0]
    assert row["expires_at"] - row["created_at"] == timedelta(hours=24)
    path = link.removeprefix(node.url)
    visitor = WebClient(node.url)
    assert visitor.get(path).status_code == 200
    short = visitor.post(path, {"password": "kort", "password_confirm": "kort"})
    assert short.status_code == 422  # a weak password does not spend the link
    done = visitor.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 200
    assert not is_signed_in(old)
    assert visitor.get(path).status_code == 404  # once
    assert visitor.post(path, {"password": "nog-een-wachtwoord", "password_confirm": "nog-een-wachtwoord"}
                        ).status_code == 404
    assert login(node, "rosa", NEW_PASSWORD)[1].status_code == 303
    assert {"password.reset_link_created", "password.reset"} <= set(audit_actions(node, "rosa"))
    # A link past its 24 hours is refused like a spent one.
    expired = node.cli("user", "reset-password", "--username", "rosa").out.splitlines()[0].removeprefix(node.url)
    scalar(node.database_url, "UPDATE password_resets SET created_at = created_at - interval '25 hours', "
           "expires_at = expires_at - interval '25 hours' WHERE used_at IS NULL")
    assert visitor.get(expired).status_code == 404


def test_sessions_and_apps_are_listed_and_can_be_ended(node: Node) -> None:
    factories.person(node, "sem", org="gemeente-ede")
    laptop, _ = login(node, "sem")
    phone, _ = login(node, "sem")
    page = laptop.get("/settings/security").text
    session_ids = re.findall(r'action="/settings/security/sessions/(\d+)/end"', page)
    assert len(session_ids) == 1 and "Deze sessie" in page  # the other one can be ended; this one is marked
    assert laptop.post(f"/settings/security/sessions/{session_ids[0]}/end").status_code == 303
    assert not is_signed_in(phone) and is_signed_in(laptop)
    assert laptop.post(f"/settings/security/sessions/{session_ids[0]}/end").status_code == 404
    tablet, _ = login(node, "sem")
    assert laptop.post("/settings/security/sessions/others/end").status_code == 303
    assert not is_signed_in(tablet) and is_signed_in(laptop)

    token = node.cli("token", "create", "--username", "sem", "--app", "Rapportage-script").out.strip()
    api = httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/accounts/verify_credentials").status_code == 200
    page = laptop.get("/settings/security").text
    assert "Rapportage-script" in page
    app_id = re.search(r'action="/settings/security/apps/(\d+)/revoke"', page).group(1)  # type: ignore[union-attr]
    # Someone else cannot revoke it.
    factories.person(node, "ander")
    stranger, _ = login(node, "ander")
    assert stranger.post(f"/settings/security/apps/{app_id}/revoke").status_code == 404
    assert api.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert laptop.post(f"/settings/security/apps/{app_id}/revoke").status_code == 303
    assert api.get("/api/v1/accounts/verify_credentials").status_code == 401
    assert "Rapportage-script" not in laptop.get("/settings/security").text
    assert {"session.ended", "session.ended_others", "app.revoked"} <= set(audit_actions(node, "sem"))


def test_the_oauth_authorize_flow_asks_for_the_second_factor(node: Node) -> None:
    factories.person(node, "otto", org="gemeente-ede")
    client, _ = login(node, "otto")
    secret, _codes = enrol(client)
    app = httpx.post(f"{node.url}/api/v1/apps", data={"client_name": "Buitenapp", "redirect_uris": OOB,
                                                      "scopes": "read"}).json()
    authorize = "/oauth/authorize?" + urlencode({"client_id": app["client_id"], "redirect_uri": OOB,
                                                 "response_type": "code", "scope": "read"})
    person = WebClient(node.url)
    first = person.get(authorize)
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
    next_path = unescape(parse_qs(urlsplit(first.headers["location"]).query)["next"][0])
    step = person.post("/login", {"username": "otto", "password": factories.PASSWORD, "next": next_path})
    assert step.headers["location"] == "/login/two-factor"
    # With the password alone the consent page still asks to sign in, and allowing is refused.
    assert person.get(authorize).headers["location"].startswith("/login?next=")
    refused = person.post("/oauth/authorize", {"client_id": app["client_id"], "redirect_uri": OOB, "scope": "read",
                                               "decision": "allow"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
    assert scalar(node.database_url, "SELECT count(*) FROM oauth_codes c JOIN oauth_apps a ON a.id = c.app_id "
                  "WHERE a.name = 'Buitenapp'") == 0
    done = person.post("/login/two-factor", {"code": code_at(secret, 1)})
    assert done.status_code == 303 and done.headers["location"] == next_path
    consent = person.get(next_path)
    assert consent.status_code == 200 and "Buitenapp" in consent.text


def test_a_lost_phone_and_lost_codes_the_operator_switches_it_off(node: Node) -> None:
    factories.person(node, "lotte", org="gemeente-ede")
    client, _ = login(node, "lotte")
    enrol(client)
    unknown = node.cli("user", "reset-password", "--username", "niemand")
    assert unknown.code == 1 and unknown.out == "" and len(unknown.err.strip().splitlines()) == 1
    made = node.cli("user", "reset-password", "--username", "lotte", "--disable-2fa")
    assert made.code == 0, made.err
    assert is_signed_in(client)  # the link ends the sessions when it is used, not the command
    visitor = WebClient(node.url)
    path = made.out.splitlines()[0].removeprefix(node.url)
    assert visitor.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 200
    assert not is_signed_in(client)
    _, step = login(node, "lotte", NEW_PASSWORD)
    assert step.headers["location"] == "/"  # no second step any more
    assert scalar(node.database_url, "SELECT count(*) FROM recovery_codes r JOIN accounts a ON a.id = r.account_id "
                  "WHERE a.username = 'lotte'") == 0
    entry = fetch(node.database_url, "SELECT l.actor_account_id FROM audit_log l JOIN accounts a "
                  "ON a.id::text = l.subject_id WHERE l.action = 'two_factor.disabled' AND a.username = 'lotte'")
    assert entry == [{"actor_account_id": None}]  # the operator at the command line


def test_a_reset_link_does_not_get_past_the_second_factor(node: Node) -> None:
    factories.person(node, "vera", org="gemeente-ede")
    client, _ = login(node, "vera")
    enrol(client)
    path = node.cli("user", "reset-password", "--username", "vera").out.splitlines()[0].removeprefix(node.url)
    visitor = WebClient(node.url)
    assert visitor.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 200
    other, step = login(node, "vera", NEW_PASSWORD)
    assert step.headers["location"] == "/login/two-factor" and not is_signed_in(other)


def test_housekeeping_removes_unfinished_sign_ins_set_ups_and_old_reset_links(node: Node) -> None:
    factories.person(node, "hanna", org="gemeente-ede")
    client, _ = login(node, "hanna")
    assert client.get("/two-factor/setup").status_code == 200  # begun, never confirmed
    assert node.cli("user", "reset-password", "--username", "hanna").code == 0
    factories.person(node, "henk", org="gemeente-ede")
    enrol(login(node, "henk")[0])
    waiting, step = login(node, "henk")  # waits for its second step
    assert step.headers["location"] == "/login/two-factor"

    async def run() -> None:
        conn = await asyncpg.connect(node.database_url)
        try:
            later = datetime.now(UTC) + timedelta(days=2)
            await two_factor.housekeep(conn, later, settings_from({}))
            await account_security.housekeep(conn, later, settings_from({}))
        finally:
            await conn.close()

    asyncio.run(run())
    assert scalar(node.database_url, "SELECT count(*) FROM sign_in_challenges") == 0
    assert scalar(node.database_url, "SELECT count(*) FROM password_resets") == 0
    assert scalar(node.database_url, "SELECT count(*) FROM two_factor_secrets t JOIN accounts a ON a.id = "
                  "t.account_id WHERE a.username = 'hanna'") == 0
    assert scalar(node.database_url, "SELECT count(*) FROM two_factor_secrets t JOIN accounts a ON a.id = "
                  "t.account_id WHERE a.username = 'henk'") == 1  # a confirmed one stays
    assert waiting.get("/login/two-factor").headers["location"] == "/login"


def test_a_session_from_before_a_requirement_cannot_authorise_an_app_until_it_is_set_up(node: Node) -> None:
    factories.organisation(node, slug="provincie-gld", name="Provincie Gelderland", kind="provincie")
    factories.person(node, "pim", org="provincie-gld", role="org-admin")
    admin, _ = login(node, "pim")
    assert admin.post("/orgs/provincie-gld/two-factor", {"required": "on"}).status_code == 303
    # The session she acted from stays, but leads only to setting up a second factor.
    assert admin.get("/settings/security").headers["location"] == "/two-factor/setup"
    assert admin.get("/two-factor/setup").status_code == 200
    app = httpx.post(f"{node.url}/api/v1/apps", data={"client_name": "Provincie-app", "redirect_uris": OOB,
                                                      "scopes": "read"}).json()
    fields = {"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code", "scope": "read"}
    assert admin.get("/oauth/authorize?" + urlencode(fields)).headers["location"] == "/two-factor/setup"
    refused = admin.post("/oauth/authorize", {**fields, "decision": "allow"})
    assert refused.status_code == 303 and refused.headers["location"] == "/two-factor/setup"
    assert scalar(node.database_url, "SELECT count(*) FROM oauth_codes c JOIN oauth_apps a ON a.id = c.app_id "
                  "WHERE a.name = 'Provincie-app'") == 0
    enrol(admin)
    assert admin.get("/oauth/authorize?" + urlencode(fields)).status_code == 200


def test_a_session_from_before_the_node_required_it_leads_only_to_the_setup(postgres: TestPostgres,
                                                                            tmp_path: Path) -> None:
    """An admin signed in while the node asked no second factor; the operator restarts it with `staff`: her old
    session reaches no page but the setup (and signing out) until she has set one up."""
    relaxed = Node(database_url=postgres.fresh_database(), data_dir=tmp_path / "n", require_2fa_for="none").start()
    try:
        assert relaxed.cli("admin", "create", "--username", "voorheen", "--password-stdin",
                           stdin=factories.PASSWORD + "\n").code == 0
        admin, step = login(relaxed, "voorheen")
        assert step.headers["location"] == "/" and admin.get("/admin/domains").status_code == 200
        relaxed.stop()
        relaxed.require_2fa_for = "staff"
        relaxed.start()
        for path in ("/admin/domains", "/settings/security", "/"):
            answer = admin.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == "/two-factor/setup", path
        refused = admin.post("/admin/domains/block", {"domain": "spam.example", "severity": "suspend"})
        assert refused.headers.get("location") == "/two-factor/setup"
        assert scalar(relaxed.database_url, "SELECT count(*) FROM domain_policies") == 0
        enrol(admin)
        assert admin.get("/admin/domains").status_code == 200
    finally:
        relaxed.stop()
