"""Unit tests for moderation.policy: each check's true and false positives, the engine's rules, and properties."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from moderation.policy import (CATALOGUE, Attachment, Author, CheckSetting, Finding, PolicySettings, PostDraft,
                               Verdict, evaluate, findings_to_json)
from moderation.policy.bsn import is_valid_bsn
from moderation.policy.iban import is_valid_iban

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Saturday evening, so working hours never fire unless a test wants them to.
SATURDAY = datetime(2025, 3, 15, 20, 0, tzinfo=AMSTERDAM)
MONDAY_10 = datetime(2025, 3, 17, 10, 0, tzinfo=AMSTERDAM)


def draft(text: str = "", voice: str = "personal", now: datetime = SATURDAY, **kwargs: object) -> PostDraft:
    return PostDraft(text=text, voice=voice, now=now, author=Author("anna", "member"), organisation="gemeente-x",
                     **kwargs)


def run(check_id: str, post: PostDraft, action: str = "warn", **options: object) -> Verdict:
    return evaluate(post, PolicySettings({check_id: CheckSetting(action, options)}))


def found(check_id: str, text: str, **options: object) -> list[str]:
    """The pieces of `text` a text check flags, in order."""
    verdict = run(check_id, draft(text), **options)
    return [text[f.span[0]:f.span[1]] for f in verdict.findings]


# ---------------------------------------------------------------- personal data: BSN

def test_elfproef_on_computed_examples() -> None:
    # 111222333: 9+8+7+12+10+8+9+6 - 3 = 66 = 6 x 11.   123456782: 156 - 2 = 154 = 14 x 11.
    assert is_valid_bsn("111222333") and is_valid_bsn("123456782")
    # 123456789: 156 - 9 = 147 = 13 x 11 + 4.
    assert not is_valid_bsn("123456789")
    assert not is_valid_bsn("111222334") and not is_valid_bsn("000000000") and not is_valid_bsn("12345678")


@pytest.mark.parametrize("text, expected", [
    ("Mijn BSN is 111222333.", "111222333"),
    ("bsn:123456782", "123456782"),
    ("BSN 1234.56.782 graag", "1234.56.782"),
    ("BSN 1234 56 782 graag", "1234 56 782"),
    ("nummer 123 456 782!", "123 456 782"),
    ("(111222333)", "111222333"),
])
def test_bsn_found(text: str, expected: str) -> None:
    assert found("personal-data.bsn", text) == [expected]


@pytest.mark.parametrize("text", [
    "Nummer 123456789 faalt de elfproef.",
    "Order 111222334 is verzonden.",
    "Een langere reeks 1112223330 telt niet, 01112223331 ook niet.",
    "Bel +31 612345678 of 0031 111222333.",
    "IBAN NL91ABNA0417164300 en NL91 ABNA 0417 1643 00.",
    "Op 12.03.2024 om 11:22.",
    "Begroting € 111222333 en €111222333.",
    "Bedrag 111.222.333 euro.",
    "Kijk op https://voorbeeld.nl/zaak/111222333 of ?id=111222333",
    "#111222333 @111222333",
    "Reeks 111222333 4 en 1112.22.333,5",
])
def test_bsn_not_found(text: str) -> None:
    assert found("personal-data.bsn", text) == []


def test_bsn_message_masks_the_number() -> None:
    finding = run("personal-data.bsn", draft("BSN 111222333"), "block").findings[0]
    assert "111222333" not in finding.message_nl + finding.message_en
    assert "******333" in finding.message_nl and "******333" in finding.message_en
    assert finding.rule_id == "personal_data.bsn" and finding.severity == "high" and finding.field == "text"


# ---------------------------------------------------------------- personal data: IBAN

def test_iban_mod97() -> None:
    assert is_valid_iban("NL91ABNA0417164300")
    assert not is_valid_iban("NL91ABNA0417164301")  # one digit changed
    assert not is_valid_iban("NL91ABNA041716430")  # one short for NL
    assert is_valid_iban("GB82WEST12345698765432") and is_valid_iban("DE89370400440532013000")
    assert is_valid_iban("BE68539007547034")


@pytest.mark.parametrize("text, expected", [
    ("Maak over naar NL91ABNA0417164300.", ["NL91ABNA0417164300"]),
    ("Maak over naar NL91 ABNA 0417 1643 00 voor 1 mei.", ["NL91 ABNA 0417 1643 00"]),
    ("rekening nl91abna0417164300", ["nl91abna0417164300"]),
    ("DE89 3704 0044 0532 0130 00 en BE68539007547034", ["DE89 3704 0044 0532 0130 00", "BE68539007547034"]),
    ("NL91ABNA0417164300 GB82WEST12345698765432", ["NL91ABNA0417164300", "GB82WEST12345698765432"]),
])
def test_iban_found(text: str, expected: list[str]) -> None:
    assert found("personal-data.iban", text) == expected


@pytest.mark.parametrize("text", [
    "Maak over naar NL91ABNA0417164301.",  # checksum wrong by one digit
    "NL91 ABNA 0417 1643 01",
    "XNL91ABNA0417164300",  # part of a longer token
    "NL91ABNA0417164300X",
    "ZZ91ABNA0417164300",  # no such country
])
def test_iban_not_found(text: str) -> None:
    assert found("personal-data.iban", text) == []


def test_iban_message_masks_the_number() -> None:
    finding = run("personal-data.iban", draft("NL91ABNA0417164300")).findings[0]
    assert "0417164300" not in finding.message_nl + finding.message_en
    assert "NL…4300" in finding.message_nl


# ---------------------------------------------------------------- personal data: phone

@pytest.mark.parametrize("text, expected", [
    ("Bel 06-12345678.", "06-12345678"),
    ("Bel 0612345678", "0612345678"),
    ("Bel 06 1234 5678", "06 1234 5678"),
    ("Bel 06 12 34 56 78", "06 12 34 56 78"),
    ("Bel +31 6 12345678", "+31 6 12345678"),
    ("Bel +31612345678", "+31612345678"),
    ("Bel +31 (0)20 1234567", "+31 (0)20 1234567"),
    ("Bel 0031 6 12345678", "0031 6 12345678"),
    ("Bel 0031612345678", "0031612345678"),
    ("Bel 010-1234567", "010-1234567"),
    ("Bel 020 123 4567", "020 123 4567"),
    ("Bel 0318-123456", "0318-123456"),
])
def test_phone_found(text: str, expected: str) -> None:
    assert found("personal-data.phone", text) == [expected]


@pytest.mark.parametrize("text", [
    "Bel 14 0318 voor de gemeente.",
    "Gratis via 0800-1234 of 0800 0123456 of 0900-1234567.",
    "Afspraak 01-02-2024 10 uur, of 05 03 2024 12 uur.",
    "Postcode 1234 AB.",
    "Bel 112",
    "IBAN NL91 ABNA 0417 1643 00",
    "Een nummer van 11 cijfers: 06123456789; van 9: 061234567.",
    "BSN 111222333",
    "Code 3.0612345678 en x0612345678",
])
def test_phone_not_found(text: str) -> None:
    assert found("personal-data.phone", text) == []


def test_phone_allow_list_and_mask() -> None:
    assert found("personal-data.phone", "Bel 030-2861111 of 06-12345678", allow=["+31 30 286 1111"]) == ["06-12345678"]
    finding = run("personal-data.phone", draft("Bel 06-12345678")).findings[0]
    assert "12345678" not in finding.message_nl and "06******78" in finding.message_en


# ---------------------------------------------------------------- personal data: e-mail

@pytest.mark.parametrize("text, expected", [
    ("Mail j.jansen@gemeente-x.nl.", ["j.jansen@gemeente-x.nl"]),
    ("Mail piet+post@mail.example.org of A_B@x.io", ["piet+post@mail.example.org", "A_B@x.io"]),
    ("<kees@voorbeeld.nl>", ["kees@voorbeeld.nl"]),
])
def test_email_found(text: str, expected: list[str]) -> None:
    assert found("personal-data.email", text) == expected


@pytest.mark.parametrize("text", [
    "Volg @anna@gemeente.social en @bob@mastodon.nl",
    "Geen adres: anna@ of @gemeente.nl of a@b of a@b.c",
    "Twitter @gemeente_x",
])
def test_email_not_found(text: str) -> None:
    assert found("personal-data.email", text) == []


def test_email_allow_list() -> None:
    text = "Mail info@gemeente-x.nl, pers@gemeente-x.nl, j.jansen@gemeente-x.nl of x@elders.nl"
    assert found("personal-data.email", text, allow=["Info@Gemeente-X.nl", "@elders.nl"]) == [
        "pers@gemeente-x.nl", "j.jansen@gemeente-x.nl"]
    finding = run("personal-data.email", draft("j.jansen@gemeente-x.nl")).findings[0]
    assert "j.jansen" not in finding.message_nl and "j***@gemeente-x.nl" in finding.message_nl


# ---------------------------------------------------------------- personal data: address

@pytest.mark.parametrize("text, expected", [
    ("Adres: 1234 AB 12.", "1234 AB 12"),
    ("Adres: 1234AB 12a", "1234AB 12a"),
    ("Adres 1234 AB, 7-2 graag", "1234 AB, 7-2"),
    ("Kerkstraat 12, 1234 AB Utrecht", "12, 1234 AB"),
    ("Dorpsweg 3a 9999 ZZ Ergens", "3a 9999 ZZ"),
])
def test_address_found(text: str, expected: str) -> None:
    assert found("personal-data.address", text) == [expected]


@pytest.mark.parametrize("text", [
    "Postcode 1234 AB Utrecht, zonder huisnummer.",
    "In 2024 en 12 scholen; in 1990 en 5 dorpen? 1234 SA 12 bestaat niet.",
    "Bel 06-12345678 of kom langs.",
    "Vergadering om 1234 uur.",
])
def test_address_not_found(text: str) -> None:
    assert found("personal-data.address", text) == []


def test_address_allow_list() -> None:
    text = "Stadhuis: Stadsplateau 1, 3521 AZ Utrecht. Thuis: 1234 AB 12."
    assert found("personal-data.address", text, allow=["3521AZ 1"]) == ["1234 AB 12"]


# ---------------------------------------------------------------- deliberation

WINDPARK = {"terms": ["windpark noord", "turbines"], "from": "2025-03-01", "until": "2025-03-31"}


@pytest.mark.parametrize("now, active", [
    (datetime(2025, 2, 28, 23, 59, tzinfo=AMSTERDAM), False),
    (datetime(2025, 3, 1, 0, 0, tzinfo=AMSTERDAM), True),
    (datetime(2025, 3, 31, 23, 59, tzinfo=AMSTERDAM), True),
    (datetime(2025, 3, 31, 21, 59, tzinfo=timezone.utc), True),  # 23:59 in Amsterdam (CEST)
    (datetime(2025, 3, 31, 22, 30, tzinfo=timezone.utc), False),  # 00:30 on 1 April in Amsterdam
    (datetime(2025, 2, 28, 23, 30, tzinfo=timezone.utc), True),  # 00:30 on 1 March in Amsterdam
])
def test_deliberation_period(now: datetime, active: bool) -> None:
    verdict = run("deliberation", draft("Over het Windpark Noord", now=now), "hold", topics=[WINDPARK])
    assert (verdict.outcome == "hold") is active


def test_deliberation_matches_words_and_phrases_only() -> None:
    now = datetime(2025, 3, 10, 12, tzinfo=AMSTERDAM)
    text = "WINDPARK  NOORD, windpark\nnoord, #WindparkNoord, turbines; windparknoordelijk, turbinesx, windpark zuid"
    verdict = run("deliberation", draft(text, now=now), topics=[WINDPARK])
    assert [text[slice(*f.span)] for f in verdict.findings] == [
        "WINDPARK  NOORD", "windpark\nnoord", "WindparkNoord", "turbines"]
    assert "31 maart 2025" in verdict.findings[0].message_nl
    assert "31 March 2025" in verdict.findings[0].message_en
    assert "“WINDPARK NOORD”" in verdict.findings[0].message_nl


def test_deliberation_open_ended_and_personal_only() -> None:
    topics = [{"terms": ["begroting"], "personal_only": True}]
    assert run("deliberation", draft("De begroting", voice="personal"), "block", topics=topics).outcome == "block"
    assert run("deliberation", draft("De begroting", voice="official"), "block", topics=topics).outcome == "pass"
    topics = [{"terms": ["begroting"]}]
    assert run("deliberation", draft("De begroting", voice="official"), "block", topics=topics).outcome == "block"


def test_deliberation_looks_at_content_warning_and_alt_text() -> None:
    post = draft("Niets", spoiler_text="Over de begroting", attachments=(Attachment("Grafiek begroting", "image/png"),))
    findings = run("deliberation", post, topics=[{"terms": ["begroting"]}]).findings
    assert [(f.field, f.attachment, f.span) for f in findings] == [("spoiler_text", None, (8, 17)),
                                                                   ("attachments", 0, (8, 17))]


@pytest.mark.parametrize("topics", [
    [{"terms": []}],
    [{"terms": ["x"], "from": "2025-04-01", "until": "2025-03-01"}],
    [{"terms": ["x"], "until": "31-03-2025"}],
    [{"terms": ["x"], "vote": "2025-03-01"}],
    "begroting",
])
def test_deliberation_rejects_bad_topics(topics: object) -> None:
    with pytest.raises(ValueError, match="deliberation"):
        PolicySettings({"deliberation": CheckSetting("warn", {"topics": topics})})


# ---------------------------------------------------------------- personal voice on policy

def test_personal_voice_on_policy_topic_needs_confirmation() -> None:
    verdict = run("personal-voice-policy", draft("Ik vind het parkeerbeleid te streng"),
                  topics=["parkeerbeleid", "betaald parkeren"])
    assert verdict.outcome == "warn" and verdict.requires_confirmation
    assert verdict.findings[0].rule_id == "personal_on_policy"
    assert "gemeente-x" in verdict.findings[0].message_nl and "“parkeerbeleid”" in verdict.findings[0].message_en
    official = run("personal-voice-policy", draft("Het parkeerbeleid", voice="official"), topics=["parkeerbeleid"])
    assert official.outcome == "pass"
    assert run("personal-voice-policy", draft("Over parkeren"), topics=["parkeerbeleid"]).outcome == "pass"


def test_personal_voice_policy_is_warn_only() -> None:
    with pytest.raises(ValueError, match="not possible"):
        PolicySettings({"personal-voice-policy": CheckSetting("block", {"topics": ["x"]})})


# ---------------------------------------------------------------- four-eyes

def test_four_eyes_holds_official_voice_only() -> None:
    held = run("four-eyes", draft("Persbericht", voice="official"), "hold")
    assert held.outcome == "hold" and not held.requires_confirmation
    assert held.findings[0].rule_id == "four_eyes" and held.findings[0].span is None
    assert run("four-eyes", draft("Eigen mening", voice="personal"), "hold").outcome == "pass"
    with pytest.raises(ValueError, match="four-eyes"):
        PolicySettings({"four-eyes": CheckSetting("warn")})


# ---------------------------------------------------------------- accessibility

def test_alt_text_missing_on_images() -> None:
    post = draft("Foto's", attachments=(Attachment("Het stadhuis", "image/jpeg"), Attachment("  ", "image/png"),
                                        Attachment("", "video/mp4"), ("", "IMAGE/GIF")))
    findings = run("alt-text", post, "block").findings
    assert [(f.field, f.attachment, f.rule_id) for f in findings] == [
        ("attachments", 1, "accessibility.alt_text"), ("attachments", 3, "accessibility.alt_text")]
    assert "Bijlage 2" in findings[0].message_nl and "Attachment 2" in findings[0].message_en
    with_video = run("alt-text", post, "warn", media_types=["image/", "video/"]).findings
    assert [f.attachment for f in with_video] == [1, 2, 3]


# ---------------------------------------------------------------- links on a deny list

@pytest.mark.parametrize("text, expected", [
    ("Lees https://nepnieuws.example/artikel.", ["https://nepnieuws.example/artikel"]),
    ("Lees http://www.nepnieuws.example", ["http://www.nepnieuws.example"]),
    ("Lees (https://a.b.nepnieuws.example/x?y=1)", ["https://a.b.nepnieuws.example/x?y=1"]),
    ("Lees www.nepnieuws.example/pagina, echt", ["www.nepnieuws.example/pagina"]),
    ("Lees NEPNIEUWS.example!", ["NEPNIEUWS.example"]),
    ("Lees https://goed.nl@nepnieuws.example/", ["https://goed.nl@nepnieuws.example/"]),
    ("Lees https://nepnieuws.example:8443/x", ["https://nepnieuws.example:8443/x"]),
])
def test_denied_links_found(text: str, expected: list[str]) -> None:
    assert found("link-denylist", text, domains=["nepnieuws.example", "https://*.andere.example/"]) == expected


@pytest.mark.parametrize("text", [
    "Lees https://nietnepnieuws.example/ en https://nepnieuws.example.org/",
    "Volg @redactie@nepnieuws.example",
    "Mail tips@nepnieuws.example",
    "Lees https://goed.nl/?ref=nepnieuws.example",
    "Lees nepnieuws example",
])
def test_denied_links_not_found(text: str) -> None:
    assert found("link-denylist", text, domains=["nepnieuws.example"]) == []


def test_denied_link_message_names_the_host() -> None:
    finding = run("link-denylist", draft("Zie https://sub.nepnieuws.example/x"), "block",
                  domains=["nepnieuws.example"]).findings[0]
    assert "sub.nepnieuws.example" in finding.message_nl and finding.rule_id == "links.denied_domain"


def test_denied_idn_domain() -> None:
    assert found("link-denylist", "Zie https://bücher.example/ en xn--bcher-kva.example",
                 domains=["bücher.example"]) == ["https://bücher.example/", "xn--bcher-kva.example"]


# ---------------------------------------------------------------- official rate

@pytest.mark.parametrize("voice, recent, outcome", [
    ("official", 2, "pass"), ("official", 3, "hold"), ("official", 40, "hold"), ("personal", 40, "pass"),
])
def test_official_rate(voice: str, recent: int, outcome: str) -> None:
    post = draft("Bericht", voice=voice, recent_official_posts_last_hour=recent)
    verdict = run("official-rate", post, "hold", max_per_hour=3)
    assert verdict.outcome == outcome
    if outcome == "hold":
        assert verdict.findings[0].rule_id == "rate.official_per_hour" and "3" in verdict.findings[0].message_nl


def test_official_rate_rejects_bad_limit() -> None:
    for bad in (0, -1, "veel", True):
        with pytest.raises(ValueError, match="max_per_hour"):
            PolicySettings({"official-rate": CheckSetting("warn", {"max_per_hour": bad})})


# ---------------------------------------------------------------- working hours

@pytest.mark.parametrize("now, warned", [
    (datetime(2025, 3, 17, 10, 0, tzinfo=AMSTERDAM), True),  # Monday
    (datetime(2025, 3, 17, 8, 59, tzinfo=AMSTERDAM), False),
    (datetime(2025, 3, 17, 9, 0, tzinfo=AMSTERDAM), True),
    (datetime(2025, 3, 17, 16, 59, tzinfo=AMSTERDAM), True),
    (datetime(2025, 3, 17, 17, 0, tzinfo=AMSTERDAM), False),
    (datetime(2025, 3, 15, 10, 0, tzinfo=AMSTERDAM), False),  # Saturday
    (datetime(2025, 1, 6, 8, 30, tzinfo=timezone.utc), True),  # 09:30 CET
    (datetime(2025, 1, 6, 7, 30, tzinfo=timezone.utc), False),  # 08:30 CET
    (datetime(2025, 7, 7, 7, 30, tzinfo=timezone.utc), True),  # 09:30 CEST
    (datetime(2025, 7, 7, 15, 30, tzinfo=timezone.utc), False),  # 17:30 CEST
    (datetime(2025, 7, 7, 3, 30, tzinfo=ZoneInfo("America/New_York")), True),  # 09:30 CEST
    (datetime(2025, 3, 16, 23, 30, tzinfo=timezone(timedelta(hours=-10))), True),  # Monday 10:30 CET
])
def test_working_hours_in_amsterdam(now: datetime, warned: bool) -> None:
    verdict = run("working-hours", draft("Eigen post", now=now), "warn")
    assert (verdict.outcome == "warn") is warned
    if warned:
        assert "ma, di, wo, do, vr 9:00–17:00" in verdict.findings[0].message_nl


def test_working_hours_options_and_voice() -> None:
    options = {"start": "8:30", "end": 12, "weekdays": [6], "timezone": "Asia/Tokyo"}
    saturday_morning_tokyo = datetime(2025, 3, 15, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert run("working-hours", draft("x", now=saturday_morning_tokyo), **options).outcome == "warn"
    assert run("working-hours", draft("x", now=saturday_morning_tokyo - timedelta(minutes=31)),
               **options).outcome == "pass"
    assert run("working-hours", draft("x", voice="official", now=MONDAY_10)).outcome == "pass"
    for bad in ({"start": 17, "end": 9}, {"weekdays": [0]}, {"timezone": "Mars/Olympus"}, {"start": "9:75"}):
        with pytest.raises(ValueError, match="working-hours"):
            PolicySettings({"working-hours": CheckSetting("warn", bad)})
    with pytest.raises(ValueError, match="not possible"):
        PolicySettings({"working-hours": CheckSetting("hold")})


# ---------------------------------------------------------------- the engine

EVERYTHING = "BSN 111222333, NL91ABNA0417164300, 06-12345678, a@b.nl, 1234 AB 12, begroting, https://slecht.example"


def everything_on(action: str = "warn") -> PolicySettings:
    options = {"deliberation": {"topics": [{"terms": ["begroting"]}]},
               "personal-voice-policy": {"topics": ["begroting"]},
               "link-denylist": {"domains": ["slecht.example"]}}
    return PolicySettings({check.id: CheckSetting(action if action in check.actions else min(check.actions),
                                                  options.get(check.id, {})) for check in CATALOGUE})


def test_every_check_is_off_by_default() -> None:
    post = draft(EVERYTHING, voice="official", now=MONDAY_10, recent_official_posts_last_hour=1000,
                 attachments=(Attachment("", "image/png"),))
    for settings in (PolicySettings(), PolicySettings({c.id: CheckSetting() for c in CATALOGUE})):
        verdict = evaluate(post, settings)
        assert verdict == Verdict("pass", ()) and not verdict.requires_confirmation
    assert PolicySettings().setting("four-eyes") == CheckSetting("off")


def test_every_check_fires_and_spans_point_at_the_text() -> None:
    post = draft(EVERYTHING, now=MONDAY_10, attachments=(Attachment("", "image/png"),))
    verdict = evaluate(post, everything_on())
    by_rule = {f.rule_id: EVERYTHING[slice(*f.span)] if f.span else None for f in verdict.findings}
    assert by_rule == {
        "personal_data.bsn": "111222333", "personal_data.iban": "NL91ABNA0417164300",
        "personal_data.phone": "06-12345678", "personal_data.email": "a@b.nl", "personal_data.address": "1234 AB 12",
        "deliberation": "begroting", "personal_on_policy": "begroting", "accessibility.alt_text": None,
        "links.denied_domain": "https://slecht.example", "working_hours": None}
    official = evaluate(draft("x", voice="official", recent_official_posts_last_hour=99), everything_on())
    assert {f.rule_id for f in official.findings} == {"four_eyes", "rate.official_per_hour"}


def test_action_precedence() -> None:
    post = draft("BSN 111222333, mail a@b.nl, bel 06-12345678", voice="official")
    def outcome(**actions: str) -> str:
        return evaluate(post, PolicySettings({k: CheckSetting(v) for k, v in actions.items()})).outcome
    bsn, email, phone, four = "personal-data.bsn", "personal-data.email", "personal-data.phone", "four-eyes"
    assert outcome(**{email: "warn"}) == "warn"
    assert outcome(**{email: "warn", four: "hold"}) == "hold"
    assert outcome(**{email: "warn", four: "hold", bsn: "block"}) == "block"
    assert outcome(**{bsn: "block", phone: "warn"}) == "block"
    verdict = evaluate(post, PolicySettings({email: CheckSetting("warn"), four: CheckSetting("hold")}))
    assert verdict.requires_confirmation  # confirm the warning, then it waits for review
    verdict = evaluate(post, PolicySettings({email: CheckSetting("warn"), bsn: CheckSetting("block")}))
    assert not verdict.requires_confirmation  # blocked: nothing to confirm
    assert [f.action for f in verdict.findings] == ["block", "warn"]


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="unknown check"):
        PolicySettings({"personal_data.bsn": CheckSetting("block")})
    with pytest.raises(ValueError, match="action must be one of"):
        PolicySettings({"personal-data.bsn": CheckSetting("reject")})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown option"):
        PolicySettings({"personal-data.email": CheckSetting("off", {"allowed": ["x@y.nl"]})})
    with pytest.raises(KeyError):
        PolicySettings().setting("nope")


def test_settings_json_round_trip() -> None:
    stored = {"deliberation": {"action": "hold", "options": {"topics": [
        {"terms": ["begroting"], "from": date(2025, 3, 1), "until": "2025-03-31", "personal_only": True}]}},
        "four-eyes": {"action": "hold"}}
    settings = PolicySettings.from_json(stored)
    as_json = json.loads(json.dumps(settings.to_json()))
    assert as_json["deliberation"]["options"]["topics"][0]["from"] == "2025-03-01"
    assert PolicySettings.from_json(as_json).to_json() == as_json


def test_draft_validation() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PostDraft(text="x", voice="personal", now=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="voice"):
        PostDraft(text="x", voice="namens", now=SATURDAY)  # type: ignore[arg-type]
    post = PostDraft(text="x", voice="personal", now=SATURDAY, attachments=[("alt", "image/png")],  # type: ignore
                     author=("anna", "reviewer"))  # type: ignore[arg-type]
    assert post.attachments == (Attachment("alt", "image/png"),) and post.author.role == "reviewer"


def test_findings_serialise_to_json_and_back() -> None:
    verdict = evaluate(draft(EVERYTHING, now=MONDAY_10, attachments=(Attachment("", "image/png"),)), everything_on())
    data = json.loads(json.dumps(verdict.to_json()))
    assert data["outcome"] == "warn" and data["requires_confirmation"] is True
    assert data["findings"] == findings_to_json(verdict.findings)
    assert data["findings"][0] == {
        "check": "personal-data.bsn", "rule_id": "personal_data.bsn", "severity": "high", "action": "warn",
        "message_nl": verdict.findings[0].message_nl, "message_en": verdict.findings[0].message_en,
        "field": "text", "span": [4, 13], "attachment": None}
    assert tuple(Finding.from_json(f) for f in data["findings"]) == verdict.findings


# ---------------------------------------------------------------- properties

FRAGMENTS = st.sampled_from([
    " ", "\n", "BSN ", "111222333", "1234.56.782", "NL91ABNA0417164300", "NL91 ABNA 0417 1643 00", "06-12345678",
    "+31 (0)20 1234567", "a.b@gemeente.nl", "@anna@x.social", "1234 AB 12", "Kerkstraat 1, ", "begroting",
    "Windpark Noord", "#WindparkNoord", "https://", "slecht.example", "www.", "/pad?x=1", ".", ",", "€", "0", "9",
    "ä", "ß", "İ", "٣", "\u200b", "😀", "(", ")",
])
TEXTS = st.one_of(st.text(max_size=600), st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=60).map("".join))
ALL_ON = everything_on("warn")
ALL_ON_OFFICIAL = everything_on("block")


@hypothesis_settings(max_examples=300, deadline=None)
@given(text=TEXTS, spoiler=st.text(max_size=40), alt=TEXTS, voice=st.sampled_from(["official", "personal"]),
       minutes=st.integers(0, 60 * 24 * 366 * 2), recent=st.integers(0, 50))
def test_evaluate_never_raises_spans_fit_and_is_deterministic(text: str, spoiler: str, alt: str, voice: str,
                                                              minutes: int, recent: int) -> None:
    now = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    post = PostDraft(text=text, voice=voice, now=now, spoiler_text=spoiler,  # type: ignore[arg-type]
                     attachments=(Attachment(alt, "image/png"), Attachment("", "image/jpeg")),
                     recent_official_posts_last_hour=recent)
    for settings in (ALL_ON, ALL_ON_OFFICIAL):
        verdict = evaluate(post, settings)
        fields = {("text", None): text, ("spoiler_text", None): spoiler, ("attachments", 0): alt}
        for finding in verdict.findings:
            if finding.span is not None:
                start, end = finding.span
                assert 0 <= start < end <= len(fields[(finding.field, finding.attachment)])
        assert evaluate(post, settings) == verdict
        assert verdict.outcome == max((f.action for f in verdict.findings),
                                      key=["pass", "warn", "hold", "block"].index, default="pass")
        json.dumps(verdict.to_json())
