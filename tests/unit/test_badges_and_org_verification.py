"""Pure parts of badges and organisation verification: a badge's status on a date, and what a website proves."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from server.badges import Badge, local_date, parse_date
from server.errors import Invalid
from server.org_verification import Fetched, NotVerified, decide, rel_me_links, well_known_url
from server.organisations import Organisation

BASE = "https://ambt.example.nl"
EDE = Organisation(id=1, slug="gemeente-ede", name="Gemeente Ede", kind="gemeente", website="https://www.ede.nl/",
                   created_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
MOMENT = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)


def badge(valid_from: date, valid_until: date | None, revoked: bool = False) -> Badge:
    return Badge(id=7, account_id=2, organisation_id=1, function_title="Adviseur", unit="", valid_from=valid_from,
                 valid_until=valid_until, issued_by=3, created_at=MOMENT, updated_at=MOMENT,
                 revoked_at=MOMENT if revoked else None, revoked_reason="Weg" if revoked else None,
                 revoked_by=3 if revoked else None, organisation_slug="gemeente-ede",
                 organisation_name="Gemeente Ede")


@pytest.mark.parametrize("today, expected", [
    (date(2024, 12, 31), "not_yet_valid"), (date(2025, 1, 1), "valid"), (date(2025, 6, 30), "valid"),
    (date(2025, 7, 1), "expired"),
])
def test_status_on_a_date_counts_the_last_day_as_valid(today: date, expected: str) -> None:
    assert badge(date(2025, 1, 1), date(2025, 6, 30)).status(today) == expected
    assert badge(date(2025, 1, 1), date(2025, 6, 30), revoked=True).status(today) == "revoked"


def test_no_end_date_stays_valid_and_dates_are_dutch_calendar_days() -> None:
    assert badge(date(2025, 1, 1), None).status(date(2999, 1, 1)) == "valid"
    assert local_date(datetime(2025, 6, 30, 22, 30, tzinfo=timezone.utc)) == date(2025, 7, 1)
    assert parse_date(" 2025-01-31 ") == date(2025, 1, 31)
    with pytest.raises(Invalid):
        parse_date("31-01-2025")


def page(html: str, url: str = "https://www.ede.nl/", status: int = 200) -> Fetched:
    return Fetched(url=url, status=status, content_type="text/html", body=html.encode())


def proves(html: str, url: str = "https://www.ede.nl/", known: Fetched | None = None) -> str:
    return decide(organisation=EDE, org_username="gemeente_ede", base_url=BASE, domain="ambt.example.nl",
                  page=page(html, url), well_known=known).method


@pytest.mark.parametrize("html", [
    f'<a rel="me" href="{BASE}/@gemeente_ede">Volg ons</a>',
    f'<a href="{BASE}/@gemeente_ede/" rel="noopener ME">Volg ons</a>',
    f'<link rel="me" href="{BASE}/users/gemeente_ede">',
    f'<a rel="me" href="{BASE.upper().replace("HTTPS", "https")}:443/orgs/gemeente-ede#top">Ede</a>',
    '<base href="https://ambt.example.nl/"><a rel="me" href="/@gemeente_ede">Ede</a>',
])
def test_rel_me_links_to_the_organisation_prove_it(html: str) -> None:
    assert proves(html) == "rel_me"


@pytest.mark.parametrize("html", [
    f'<a href="{BASE}/@gemeente_ede">no rel</a>',
    f'<a rel="me" href="{BASE}/@iemand_anders">someone else</a>',
    '<a rel="me" href="https://elders.example/@gemeente_ede">other server</a>',
    '<a rel="me" href="http://ambt.example.nl/@gemeente_ede">other scheme</a>',
    f'<!-- <a rel="me" href="{BASE}/@gemeente_ede"> --><p>commented out</p>',
])
def test_other_links_prove_nothing(html: str) -> None:
    with pytest.raises(NotVerified, match="has no rel=\"me\" link to"):
        proves(html)


def test_relative_links_resolve_against_the_final_url() -> None:
    assert rel_me_links('<a rel="me" href="/x">x</a>', "https://www.ede.nl/a/b") == ["https://www.ede.nl/x"]


def known(doc: object, status: int = 200) -> Fetched:
    return Fetched(url=well_known_url(EDE.website), status=status, content_type="application/json",
                   body=json.dumps(doc).encode())


@pytest.mark.parametrize("doc", [
    {"nodes": [{"domain": "ambt.example.nl", "organisations": ["gemeente-ede"]}]},
    {"domain": "AMBT.example.nl", "organisations": [f"{BASE}/@gemeente_ede"]},
])
def test_well_known_file_naming_node_and_organisation_proves_it(doc: object) -> None:
    assert proves("<p>nothing</p>", known=known(doc)) == "well_known"


@pytest.mark.parametrize("doc", [
    {"nodes": [{"domain": "ambt.example.nl", "organisations": ["andere-gemeente"]}]},
    {"nodes": [{"domain": "elders.example", "organisations": ["gemeente-ede"]}]},
    {"domain": "ambt.example.nl"},
    ["ambt.example.nl"],
])
def test_well_known_file_must_name_both(doc: object) -> None:
    with pytest.raises(NotVerified, match="does not name ambt.example.nl with organisation gemeente-ede"):
        proves("<p>nothing</p>", known=known(doc))


def test_failures_are_named_in_one_line() -> None:
    with pytest.raises(NotVerified) as caught:
        decide(organisation=EDE, org_username="gemeente_ede", base_url=BASE, domain="ambt.example.nl",
               page=Fetched(url=EDE.website, status=0, error="refusing: loopback address"),
               well_known=known({}, status=404))
    message = str(caught.value)
    assert "\n" not in message
    assert "could not be fetched (refusing: loopback address)" in message and "answered HTTP 404" in message
    assert well_known_url("https://www.ede.nl/over/ons?x=1") == "https://www.ede.nl/.well-known/ambtenaar-online.json"
