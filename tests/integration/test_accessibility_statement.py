"""The accessibility statement at /toegankelijkheid: the model statement's sections, filled in by an instance admin
through /admin/statement, with a clear notice while it is empty."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

SECTIONS_NL = ("Reikwijdte", "Nalevingsstatus", "Bekende problemen", "Contactgegevens", "Laatste onderzoek")
SECTIONS_EN = ("Scope", "Compliance status", "Known issues", "Contact details", "Last audit")
FILLED = {"organisation_name": "Gemeente Ede", "scope": "https://ambtenaar.ede.nl & de apps <script>",
          "status": "B", "known_issues": "Sommige afbeeldingen van andere servers hebben geen beschrijving.\n"
          "PDF's van bijlagen zijn niet getoetst.", "contact_email": "toegankelijkheid@ede.nl",
          "contact_details": "Bel 14 0318, binnen 5 werkdagen antwoord.", "audit_date": "2026-11-02",
          "audit_by": "Stichting Accessibility", "audit_report_url": "https://ede.nl/rapport.pdf"}


@pytest.fixture(scope="module")
def town(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", role="org_admin")
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0
    return node


def _admin(node: Node, language: str = "nl") -> WebClient:
    client = WebClient(node.url, language=language)
    assert client.login("beheer", factories.PASSWORD).status_code == 303
    return client


def test_an_empty_statement_says_so_with_every_section(town: Node) -> None:
    page = WebClient(town.url).get("/toegankelijkheid")
    assert page.status_code == 200
    assert "hebben de toegankelijkheidsverklaring nog niet ingevuld" in page.text
    assert all(f">{heading}</h2>" in page.text for heading in SECTIONS_NL)
    assert page.text.count("Nog niet ingevuld.") == len(SECTIONS_NL)
    english = WebClient(town.url, language="en").get("/toegankelijkheid").text
    assert "have not filled in the accessibility statement yet" in english
    assert all(f">{heading}</h2>" in english for heading in SECTIONS_EN)
    assert 'href="/toegankelijkheid"' in WebClient(town.url).get("/public").text  # linked from every page


def test_only_instance_admins_fill_it_in(town: Node) -> None:
    assert WebClient(town.url).get("/admin/statement").status_code == 303  # to the sign-in page
    anna = WebClient(town.url)
    assert anna.login("anna", factories.PASSWORD).status_code == 303
    assert anna.get("/admin/statement").status_code == 403
    assert anna.post("/admin/statement", FILLED).status_code == 403
    assert scalar(town.database_url, "SELECT count(*) FROM accessibility_statements") == 0


def test_a_refused_statement_is_not_stored_and_keeps_what_was_typed(town: Node) -> None:
    admin = _admin(town)
    refused = admin.post("/admin/statement", {**FILLED, "contact_email": "geen adres"})
    assert refused.status_code == 422 and "Geef een e-mailadres" in refused.text
    assert "Stichting Accessibility" in refused.text
    future = admin.post("/admin/statement", {**FILLED, "audit_date": "2999-01-01"})
    assert future.status_code == 422 and "niet in de toekomst" in future.text
    assert admin.post("/admin/statement", {**FILLED, "status": "Z"}).status_code == 422
    assert scalar(town.database_url, "SELECT count(*) FROM accessibility_statements") == 0


def test_the_admin_fills_it_in_and_the_public_page_shows_it(town: Node) -> None:
    admin = _admin(town)
    saved = admin.post("/admin/statement", FILLED)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/statement?done=saved"
    form = admin.get(saved.headers["location"]).text
    assert "De verklaring is opgeslagen." in form and 'value="toegankelijkheid@ede.nl"' in form
    page = WebClient(town.url).get("/toegankelijkheid").text
    assert "nog niet ingevuld" not in page and "Nog niet ingevuld." not in page
    assert "https://ambtenaar.ede.nl &amp; de apps &lt;script&gt;" in page and "<script>" not in page
    assert "Nalevingsstatus B: Voldoet gedeeltelijk" in page
    assert "<p>Sommige afbeeldingen van andere servers hebben geen beschrijving.</p>" in page
    assert "<p>PDF&#39;s van bijlagen zijn niet getoetst.</p>" in page
    assert 'href="mailto:toegankelijkheid@ede.nl"' in page and "binnen 5 werkdagen" in page
    assert "2 november 2026" in page and "Stichting Accessibility" in page
    assert 'href="https://ede.nl/rapport.pdf"' in page
    english = WebClient(town.url, language="en").get("/toegankelijkheid").text
    assert "Compliance status B: Partially compliant" in english and "November 2, 2026" in english
    changed = admin.post("/admin/statement", {**FILLED, "status": "A", "known_issues": ""})
    assert changed.status_code == 303
    page = WebClient(town.url).get("/toegankelijkheid").text
    assert "Nalevingsstatus A: Voldoet volledig" in page and "Er zijn geen bekende problemen opgegeven." in page
    assert scalar(town.database_url, "SELECT count(*) FROM accessibility_statements") == 1
