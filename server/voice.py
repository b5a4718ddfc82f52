"""The words that say in which capacity a post speaks, as pages and other servers show them.

Owns: the default wording and an organisation's own wording, per language, and whether another server's
official post may be shown as speaking for its organisation (`organisation_verified`). Never: I/O.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

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


def organisation_verified(organisation_uri: str | None, trusted_domains: Collection[str]) -> bool:
    """Whether an official post is shown as speaking for its organisation (the official label) or only as
    claiming to ("says it speaks for …, not verified"). Ours always: a local post has no organisation URI.
    Another server's only when the organisation's node is trusted to issue badges (server/trust.py, the list
    that decides whether remote badges are verified), because any server can name an actor "Gemeente Ede"."""
    return not organisation_uri or (urlsplit(organisation_uri).netloc or "").lower() in trusted_domains
