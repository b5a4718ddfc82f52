"""Counted messages take the language's plural form (Babel's Plural-Forms), in Dutch and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.i18n import ngettext, translations

ROOT = Path(__file__).resolve().parents[2]
PLURAL_CALL = re.compile(r'_n\(\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"')


@pytest.mark.parametrize(("lang", "n", "expected"), [
    ("nl", 0, "0 reacties"), ("nl", 1, "1 reactie"), ("nl", 2, "2 reacties"), ("nl", 21, "21 reacties"),
    ("en", 0, "0 replies"), ("en", 1, "1 reply"), ("en", 2, "2 replies"),
])
def test_replies_counted_in_both_languages(lang: str, n: int, expected: str) -> None:
    assert ngettext(lang, "%(n)d reply", "%(n)d replies", n) == expected


def test_followers_and_reports() -> None:
    assert ngettext("nl", "%(n)d follower", "%(n)d followers", 1) == "1 volger"
    assert ngettext("nl", "%(n)d follower", "%(n)d followers", 3) == "3 volgers"
    assert ngettext("en", "%(n)d follower", "%(n)d followers", 1) == "1 follower"
    assert ngettext("nl", "%(n)d open report", "%(n)d open reports", 1) == "1 open rapportage"
    assert ngettext("en", "%(n)d open report", "%(n)d open reports", 5) == "5 open reports"


def test_every_counted_template_message_has_both_dutch_forms() -> None:
    dutch = translations("nl")
    pairs = {m for t in (ROOT / "web" / "templates").rglob("*.html") for m in PLURAL_CALL.findall(t.read_text())}
    assert len(pairs) >= 5
    for singular, plural in sorted(pairs):
        one, many = dutch.ngettext(singular, plural, 1), dutch.ngettext(singular, plural, 2)
        assert (one, many) != (singular, plural), f"no Dutch plural entry for {singular!r}"
        assert "%(n)d" in one and "%(n)d" in many


def test_no_counted_message_built_with_a_single_form() -> None:
    """A count next to a one-form message reads '1 reacties'; counts go through _n."""
    single = re.compile(r'_\(\s*"%\(n\)d [^"]*s"')
    offenders = [str(t.relative_to(ROOT)) for t in (ROOT / "web" / "templates").rglob("*.html")
                 if single.search(t.read_text())]
    assert offenders == []
