from __future__ import annotations

import re
from pathlib import Path

from server.i18n import choose_language, parse_accept_language, translations

ROOT = Path(__file__).resolve().parents[2]


def _messages_used() -> set[str]:
    """English message ids used in templates and in refusals shown on pages."""
    found: set[str] = set()
    for template in (ROOT / "web" / "templates").rglob("*.html"):
        found |= set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', template.read_text()))
    pattern = re.compile(r'(?:Invalid|Forbidden|NotFound|Conflict|TooManyAttempts|CsrfRejected|_Mismatch|gettext)'
                         r'\(\s*"((?:[^"\\]|\\.)*)"(?:\s*\n?\s*"((?:[^"\\]|\\.)*)")?')
    for source in [*(ROOT / "server").rglob("*.py"), *(ROOT / "web").rglob("*.py")]:
        if source.parent.name == "cli":
            continue  # the CLI (server/cli/) speaks English to admins
        for match in pattern.finditer(source.read_text()):
            found.add(match.group(1) + (match.group(2) or ""))
    return found


SAME_IN_DUTCH = {"App", "Code"}


def test_every_page_string_has_a_dutch_translation() -> None:
    dutch = translations("nl")
    used = _messages_used()
    assert len(used) > 80
    missing = sorted(m for m in used - SAME_IN_DUTCH if dutch.gettext(m) == m)
    assert missing == []


def test_voice_labels() -> None:
    assert translations("nl").gettext("On behalf of %(org)s") % {"org": "Gemeente Ede"} == "Namens Gemeente Ede"
    assert translations("nl").gettext("Personal capacity") == "Op persoonlijke titel"
    assert translations("en").gettext("Personal capacity") == "Personal capacity"


def test_accept_language_order_and_quality() -> None:
    assert parse_accept_language("de;q=0.5, en-GB, nl;q=0.9, fr;q=0") == ["en-gb", "nl", "de"]


def test_language_choice_order() -> None:
    assert choose_language(cookie="en", account_language="nl", accept_language="nl", default="nl") == "en"
    assert choose_language(cookie=None, account_language="en", accept_language="nl", default="nl") == "en"
    assert choose_language(cookie=None, account_language=None, accept_language="fr, en;q=0.5", default="nl") == "en"
    assert choose_language(cookie="xx", account_language=None, accept_language="fr", default="nl") == "nl"
