"""Redaction for Woo disclosures (issue 16 item 5), pure: the detectors' findings become [5.1.2e], citizens become
[burger N] consistently, officials keep their names unless the organisation says they are not public-facing."""

from __future__ import annotations

from server.woo_redaction import (MARKER, Allowed, Person, Pseudonyms, allowed_from_settings, count_kinds,
                                  plain_text, redact)

BERT = Person(1, "bert", "burger.test", "Bert Burger", "citizen")
CLARA = Person(2, "clara", None, "Clara", "citizen")
ANNA = Person(3, "anna", None, "Anna de Vries", "official")
EDE = Person(4, "gemeente_ede", None, "Gemeente Ede", "organisation")


def test_each_detector_finding_becomes_the_marker() -> None:
    text = ("BSN 111222333, rekening NL91ABNA0417164300, bel 06-12345678, mail jan@example.org, "
            "woont 1234 AB 12.")
    redacted, found = redact(text, [], Pseudonyms())
    assert redacted == (f"BSN {MARKER}, rekening {MARKER}, bel {MARKER}, mail {MARKER}, woont {MARKER}.")
    assert count_kinds(found) == {"bsn": 1, "iban": 1, "phone": 1, "email": 1, "address": 1}
    assert all(r.ground == "5.1.2e" for r in found)
    # Positions are the original text's.
    assert [text[r.start:r.end] for r in found][:2] == ["111222333", "NL91ABNA0417164300"]


def test_a_number_failing_its_check_stays() -> None:
    assert redact("Zaaknummer 123456789", [], Pseudonyms())[0] == "Zaaknummer 123456789"


def test_citizens_are_numbered_consistently_within_one_export() -> None:
    names = Pseudonyms()
    first, _ = redact("Dank @bert@burger.test en @clara!", [BERT, CLARA], names)
    second, found = redact("Bert Burger schreef: @bert, zie ook @Bert@burger.test", [BERT], names)
    assert first == "Dank [burger 1] en [burger 2]!"
    assert second == "[burger 1] schreef: [burger 1], zie ook [burger 1]"
    assert count_kinds(found) == {"citizen": 3}
    assert names.name(BERT) == "[burger 1]" and names.name(CLARA) == "[burger 2]"
    # Another export starts again at 1.
    assert redact("@clara", [CLARA], Pseudonyms())[0] == "[burger 1]"


def test_officials_stay_unless_not_public_facing() -> None:
    assert redact("Anna de Vries (@anna) antwoordt", [ANNA, EDE], Pseudonyms())[0] == "Anna de Vries (@anna) antwoordt"
    hidden = Pseudonyms(officials_public=False)
    text, found = redact("Anna de Vries (@anna) namens @gemeente_ede", [ANNA, EDE], hidden)
    assert text == "[ambtenaar 1] ([ambtenaar 1]) namens @gemeente_ede"
    assert count_kinds(found) == {"official": 2}
    assert hidden.name(EDE) == "Gemeente Ede (@gemeente_ede)"


def test_a_handle_is_not_matched_inside_another() -> None:
    assert redact("@bertje en @bert.", [Person(5, "bert", None, "", "citizen")], Pseudonyms())[0] == \
        "@bertje en [burger 1]."


def test_the_organisations_allowed_numbers_stay() -> None:
    allowed = allowed_from_settings({"personal-data.phone": {"action": "warn", "options": {"allow": ["0318 123456"]}},
                                     "personal-data.email": {"options": {"allow": ["info@ede.nl"]}}})
    assert allowed == Allowed(phones=frozenset({"0318123456"}), emails=frozenset({"info@ede.nl"}))
    text, found = redact("Bel 0318 123456 of 06-12345678, mail info@ede.nl", [], Pseudonyms(), allowed)
    assert text == f"Bel 0318 123456 of {MARKER}, mail info@ede.nl"
    assert count_kinds(found) == {"phone": 1}


def test_plain_text_of_remote_html() -> None:
    html = ('<p>Hallo <span class="h-card"><a href="https://x/@gemeente_ede" class="u-url mention">'
            '@<span>gemeente_ede</span></a></span> &amp; co</p><p>regel&lt;2<br>3</p>')
    assert plain_text("", html) == "Hallo @gemeente_ede & co\n\nregel<2\n3"
    assert plain_text("getypt", html) == "getypt"
