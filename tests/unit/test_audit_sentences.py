"""Every action the domain audits about an organisation, its people, posts, badges or invites reads as a sentence
on the organisation's audit page (web/pages/audit.py), in English and Dutch; a new action without one would show
its code name."""

from __future__ import annotations

import re
from pathlib import Path

from server import webcare, webcare_settings
from server.i18n import translations
from web.pages.audit import SENTENCES

ROOT = Path(__file__).resolve().parents[2]
# subject types the organisation's audit page lists (server/audit.list_for_organisation)
SHOWN = {"organisation", "post", "account", "badge", "invite", "webcare_conversation"}
CALL = re.compile(r'audit\.record\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\)', re.S)


def audited_actions() -> set[str]:
    found: set[str] = set()
    for source in [*(ROOT / "server").rglob("*.py"), *(ROOT / "moderation").rglob("*.py")]:
        for call in CALL.finditer(source.read_text()):
            args = call.group("args")
            subject = re.search(r'subject_type="([a-z_]+)"', args)
            action = re.search(r'action="([a-z_.]+)"', args)
            if subject and action and subject.group(1) in SHOWN:
                found.add(action.group(1))
    # Webcare audits its history events and settings changes under names built from a constant, which the scan
    # above cannot read.
    found |= {f"webcare.{kind}" for kind in (*webcare.EVENT_KINDS, *webcare_settings.AUDITED)}
    return found


def test_every_audited_action_shown_to_an_organisation_has_a_sentence() -> None:
    actions = audited_actions()
    assert len(actions) > 20  # the scan finds the calls
    assert sorted(actions - set(SENTENCES)) == []


def test_every_sentence_has_a_dutch_translation() -> None:
    dutch = translations("nl")
    assert [s for s in SENTENCES.values() if dutch.gettext(s) == s] == []
