"""Signing in, invites, settings, language and the operational endpoints of a real node process."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")


def test_sign_in_sets_a_secure_session_cookie_and_sign_out_ends_it(node: Node) -> None:
    client = WebClient(node.url)
    response = client.login("anna", factories.PASSWORD)
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("ao_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert client.get("/settings").status_code == 200
    token = cookie.split(";")[0].split("=", 1)[1]
    stored = "SELECT count(*) FROM web_sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))"
    assert scalar(node.database_url, stored, token) == 1
    assert client.post("/logout").status_code == 303
    assert client.get("/settings").status_code == 303  # back to sign-in
    assert scalar(node.database_url, stored, token) == 0  # the session is gone on the server, not only the cookie


def test_wrong_password_shows_a_message_on_the_page(node: Node) -> None:
    response = WebClient(node.url).login("anna", "helemaal-fout")
    assert response.status_code == 422
    assert "De gebruikersnaam of het wachtwoord klopt niet." in response.text


def test_repeated_failures_are_throttled(node: Node) -> None:
    factories.person(node, "doelwit")
    client = WebClient(node.url)
    statuses = [client.login("doelwit", f"fout-{i}").status_code for i in range(6)]
    assert statuses[:5] == [422] * 5 and statuses[5] == 429
    blocked = client.login("doelwit", factories.PASSWORD)
    assert blocked.status_code == 429 and "Te veel mislukte inlogpogingen" in blocked.text


def test_signed_out_visitors_are_sent_to_sign_in(node: Node) -> None:
    response = WebClient(node.url).get("/compose")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fcompose"


def test_invite_is_accepted_once(node: Node) -> None:
    url = factories.invite(node, "gemeente-ede")
    path = url.removeprefix(node.url)
    client = WebClient(node.url)
    page = client.get(path)
    assert page.status_code == 200 and "Gemeente Ede" in page.text
    fields = {"username": "nieuwkomer", "display_name": "Nieuw", "email": "nieuw@ede.nl",
              "password": "mijn-eigen-wachtwoord", "password_confirm": "mijn-eigen-wachtwoord"}
    accepted = client.post(path, fields)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/@nieuwkomer"
    row = fetch(node.database_url, "SELECT a.org_role, o.slug FROM accounts a JOIN organisations o "
                "ON o.id = a.organisation_id WHERE a.username = 'nieuwkomer'")
    assert row == [{"org_role": "official", "slug": "gemeente-ede"}]
    assert "Namens" not in client.get("/@nieuwkomer").text
    reused = WebClient(node.url).post(path, {**fields, "username": "tweede"})
    assert reused.status_code == 422 and "al gebruikt" in reused.text
    assert scalar(node.database_url, "SELECT count(*) FROM accounts WHERE username = 'tweede'") == 0


def test_invite_refuses_bad_input_without_spending_it(node: Node) -> None:
    path = factories.invite(node, "gemeente-ede").removeprefix(node.url)
    client = WebClient(node.url)
    base = {"username": "x_invite", "display_name": "", "email": "", "password": "lang-genoeg-ww",
            "password_confirm": "lang-genoeg-ww"}
    for change, message in (({"password_confirm": "anders-dan-eerst"}, "niet gelijk"),
                            ({"password": "kort", "password_confirm": "kort"}, "minstens 10 tekens"),
                            ({"username": "anna"}, "al in gebruik"),
                            ({"username": "met spatie"}, "Een gebruikersnaam heeft"),
                            ({"email": "geen-mail"}, "geen e-mailadres")):
        response = client.post(path, {**base, **change})
        assert response.status_code in (409, 422), change
        assert message in response.text, change
    assert scalar(node.database_url, "SELECT count(*) FROM accounts WHERE username = 'x_invite'") == 0
    assert scalar(node.database_url, "SELECT count(*) FROM invites WHERE used_at IS NOT NULL "
                  "AND token_hash = sha256(convert_to($1, 'UTF8'))", path.split("/")[-1]) == 0
    assert client.post(path, base).status_code == 303


def test_expired_and_unknown_invites(node: Node) -> None:
    path = factories.invite(node, "gemeente-ede").removeprefix(node.url)
    token = path.split("/")[-1]
    fetch(node.database_url, "UPDATE invites SET expires_at = now() - interval '1 minute' "
          "WHERE token_hash = sha256(convert_to($1, 'UTF8'))", token)
    expired = WebClient(node.url).get(path)
    assert expired.status_code == 422 and "verlopen" in expired.text
    assert WebClient(node.url).get("/invite/bestaat-niet").status_code == 404


def test_settings_change_name_voice_and_language(node: Node) -> None:
    client = WebClient(node.url)
    client.login("anna", factories.PASSWORD)
    saved = client.post("/settings", {"display_name": "Anna de Vries-Jansen", "bio": "Teamleider",
                                      "default_voice": "official", "language": "en"})
    assert saved.status_code == 200 and "Your settings have been saved." in saved.text
    row = fetch(node.database_url, "SELECT display_name, bio, default_voice, language FROM accounts "
                "WHERE username = 'anna'")[0]
    assert row == {"display_name": "Anna de Vries-Jansen", "bio": "Teamleider", "default_voice": "official",
                   "language": "en"}
    assert 'id="voice-official" name="voice" value="official" checked' in client.get("/compose").text
    bad = client.post("/settings", {"display_name": "x" * 101, "bio": "", "default_voice": "official",
                                    "language": "en"})
    assert bad.status_code == 422
    assert scalar(node.database_url, "SELECT display_name FROM accounts WHERE username = 'anna'") == \
        "Anna de Vries-Jansen"


def test_non_member_cannot_default_to_official_voice(node: Node) -> None:
    factories.person(node, "burger")
    client = WebClient(node.url)
    client.login("burger", factories.PASSWORD)
    response = client.post("/settings", {"display_name": "", "bio": "", "default_voice": "official",
                                         "language": "nl"})
    assert response.status_code == 422
    assert scalar(node.database_url, "SELECT default_voice FROM accounts WHERE username = 'burger'") == "personal"


def test_language_follows_accept_language_and_the_switch(node: Node) -> None:
    assert '<html lang="nl">' in WebClient(node.url).get("/").text
    english = WebClient(node.url, language="en-GB,en;q=0.8")
    assert '<html lang="en">' in english.get("/").text
    switched = WebClient(node.url)
    response = switched.get("/lang/en?next=/public")
    assert response.status_code == 303 and response.headers["location"] == "/public"
    assert "Public posts on this node" in switched.get("/public").text
    assert switched.get("/lang/en?next=//evil.example").headers["location"] == "/"
    assert switched.get("/lang/fr").status_code == 404


def test_organisation_and_unknown_pages(node: Node) -> None:
    page = WebClient(node.url).get("/orgs/gemeente-ede")
    assert page.status_code == 200 and "Anna de Vries" in page.text and "@gemeente_ede" in page.text
    assert WebClient(node.url).get("/orgs/bestaat-niet").status_code == 404
    assert WebClient(node.url).get("/@niemand").status_code == 404
    assert WebClient(node.url).get("/@anna/123abc").status_code == 404
    assert WebClient(node.url).get("/bestaat/niet").status_code == 404


def test_health_readiness_and_security_headers(node: Node) -> None:
    client = WebClient(node.url)
    assert client.get("/healthz").text == "ok"
    ready = client.get("/readyz").json()
    assert ready.pop("pid") > 0
    assert ready == {"status": "ok", "database": "ok", "migrations": "applied", "worker": "ok"}
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # plain http here
