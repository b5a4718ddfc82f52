"""Domain policies, the pure parts: names, which policy covers which host, and Mastodon's CSV."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from moderation.domain_blocks import Policy, candidates, covers, is_own, normalise_domain, obfuscated, terms_for
from moderation.domain_lists import parse_csv, to_csv
from server.errors import Invalid

OWN = "gemeente.example:8443"

# As Mastodon 4.x writes it (Admin > Federation > Export): booleans as true/false, a quoted comment.
MASTODON_EXPORT = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,true,true,"Spam, lots of it",false
loud.example,silence,false,false,,false
pics.example,noop,true,false,Unsolicited images,true
"""


@pytest.mark.parametrize("raw, expected", [
    ("Example.COM", "example.com"),
    ("https://example.com/", "example.com"),
    ("http://example.com/users/x", "example.com"),
    (" sub.example.com. ", "sub.example.com"),
    ("127.0.0.1:8001", "127.0.0.1:8001"),
    ("gemeente.example:8443", "gemeente.example:8443"),
    ("bücher.example", "xn--bcher-kva.example"),
])
def test_domains_are_normalised(raw: str, expected: str) -> None:
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize("raw", ["", "exa mple.com", "-bad.example", "bad-.example", "ex_ample.com",
                                 "example.com:0", "example.com:99999", "example.com:", "*.example.com",
                                 "[::1]", "a" * 64 + ".example", "example..com"])
def test_bad_domains_are_refused(raw: str) -> None:
    with pytest.raises(Invalid):
        normalise_domain(raw)


def test_a_policy_covers_subdomains_and_ports_most_specific_first() -> None:
    assert candidates("a.b.example.com:8443") == ["a.b.example.com:8443", "a.b.example.com", "b.example.com",
                                                  "example.com", "com"]
    assert candidates("example.com") == ["example.com", "com"]
    assert covers("example.com", "sub.example.com")
    assert covers("example.com", "example.com:8443")
    assert not covers("example.com", "badexample.com")
    assert not covers("sub.example.com", "example.com")
    assert not covers("example.com:8443", "example.com:9443")


def test_an_ip_address_covers_only_itself() -> None:
    assert candidates("127.0.0.1:8001") == ["127.0.0.1:8001", "127.0.0.1"]
    assert not covers("0.0.1", "127.0.0.1")


def test_own_domain_with_or_without_port() -> None:
    assert is_own("gemeente.example:8443", OWN) and is_own("gemeente.example", OWN)
    assert not is_own("other.example", OWN) and not is_own("sub.gemeente.example", OWN)


def test_obfuscation_keeps_the_ends_and_the_dots() -> None:
    assert obfuscated("spam.example") == "spa*.****ple"
    assert obfuscated("a.bc") == "a.*c"


def test_severity_names() -> None:
    assert terms_for("reject-media").severity == "noop" and terms_for("reject-media").reject_media
    assert terms_for("Silence").severity == "silence"
    with pytest.raises(Invalid):
        terms_for("ban")
    with pytest.raises(Invalid):
        terms_for("suspend", public_comment="x" * 2001)


def test_mastodon_export_is_read() -> None:
    rows, repeated = parse_csv(MASTODON_EXPORT, own_domain=OWN)
    assert repeated == 0
    by_domain = {r.domain: r.terms for r in rows}
    assert by_domain["spam.example"].severity == "suspend" and by_domain["spam.example"].reject_reports
    assert by_domain["spam.example"].public_comment == "Spam, lots of it"
    assert by_domain["loud.example"].severity == "silence" and not by_domain["loud.example"].reject_media
    assert by_domain["pics.example"].severity == "noop" and by_domain["pics.example"].reject_media
    assert by_domain["pics.example"].obfuscate


def test_columns_in_any_order_upper_case_booleans_and_a_bom() -> None:
    text = "\ufeff#severity,#domain,#obfuscate\r\nSILENCE,Loud.Example,TRUE\r\n\r\n"
    rows, _ = parse_csv(text, own_domain=OWN)
    assert [(r.domain, r.terms.severity, r.terms.obfuscate) for r in rows] == [("loud.example", "silence", True)]


def test_a_plain_list_gets_the_default_severity_and_repeats_count_once() -> None:
    rows, repeated = parse_csv("# shared list\nspam.example\nloud.example\nSPAM.example\n", own_domain=OWN,
                               default_severity="silence")
    assert [(r.domain, r.terms.severity) for r in rows] == [("spam.example", "silence"), ("loud.example", "silence")]
    assert repeated == 1


@pytest.mark.parametrize("text, message", [
    ("#domain,#severity\nnot a domain,suspend\n", "Line 2 of the file: not a domain is not a domain name."),
    ("#domain,#severity\nok.example,obliterate\n", "Line 2 of the file: the severity must be"),
    ("#domain,#severity,#reject_media\nok.example,silence,maybe\n", "Line 2 of the file: maybe is not true or false"),
    ("#domain,#severity\ngemeente.example,suspend\n", "is this node's own domain"),
    ('#domain,#severity\n"unclosed,suspend\n', "not a domain name"),
])
def test_a_bad_row_refuses_the_whole_file_naming_its_line(text: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_csv(text, own_domain=OWN)
    assert message in str(refused.value)


def test_export_round_trips_through_import() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows, _ = parse_csv(MASTODON_EXPORT, own_domain=OWN)
    policies = [Policy(r.domain, r.terms.severity, r.terms.reject_media, r.terms.reject_reports, r.terms.obfuscate,
                       "", r.terms.public_comment, now, None, now, now) for r in rows]
    exported = to_csv(policies)
    assert exported.splitlines()[0] == "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    assert exported == MASTODON_EXPORT
    again, _ = parse_csv(exported, own_domain=OWN)
    assert again == rows
