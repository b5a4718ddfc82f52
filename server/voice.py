"""The words that say in which capacity a post speaks, as pages and other servers show them.

Owns: the default wording and an organisation's own wording, per language. Never: I/O.
"""

from __future__ import annotations

from server.organisations import Organisation

OFFICIAL_MARK = "🏛"
PERSONAL_MARK = "💬"
DEFAULTS = {
    ("official", "nl"): "Namens {org}",
    ("official", "en"): "On behalf of {org}",
    ("personal", "nl"): "Op persoonlijke titel",
    ("personal", "en"): "Personal capacity",
}


def label(voice: str, language: str, organisation: Organisation | None) -> str:
    """The label without its mark, in the post's language (Dutch unless the post is English)."""
    lang = "en" if language == "en" else "nl"
    custom = getattr(organisation, f"{voice}_label_{lang}", None) if organisation else None
    template = custom or DEFAULTS[(voice, lang)]
    return template.replace("{org}", organisation.name if organisation else "").strip()


def line(voice: str, language: str, organisation: Organisation | None) -> str:
    """The visible first line of a federated post, e.g. "🏛 Namens Gemeente Ede"."""
    mark = OFFICIAL_MARK if voice == "official" else PERSONAL_MARK
    return f"{mark} {label(voice, language, organisation)}"
