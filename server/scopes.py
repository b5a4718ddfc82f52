"""OAuth scopes as Mastodon defines them: top-level scopes and their granular forms.

Owns: the list of scopes, parsing a scope string, and whether granted scopes cover a required one.
Never: I/O.
"""

from __future__ import annotations

from server.errors import Invalid

READ = ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes", "notifications",
        "search", "statuses")
WRITE = ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists", "media",
         "mutes", "notifications", "reports", "statuses")
TOP_LEVEL = ("read", "write", "follow", "push", "profile")
# Ours, not Mastodon's: the webcare API (web/api/webcare.py) for webcare tools and case systems. Never implied by
# read or write: an app gets it only by asking for it, and the person only uses it on their organisation's team.
OWN = ("webcare",)
# "follow" is Mastodon's older scope for relationships; it implies these granular scopes.
FOLLOW_IMPLIES = ("read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes")
ALL_SCOPES = (*TOP_LEVEL, *OWN, *(f"read:{s}" for s in READ), *(f"write:{s}" for s in WRITE))


def parse_scopes(text: str | None, default: str = "read") -> tuple[str, ...]:
    """Scopes from a space- (or plus-, or comma-) separated string; unknown scopes are refused."""
    raw = (text or default).replace("+", " ").replace(",", " ").split()
    unknown = [s for s in raw if s not in ALL_SCOPES]
    if unknown:
        raise Invalid("Unknown scope: %(scope)s.", scope=unknown[0])
    return tuple(dict.fromkeys(raw))


def covers(granted: tuple[str, ...] | list[str], required: str) -> bool:
    """Whether `granted` allows an endpoint that needs `required` (a top-level or granular scope)."""
    if required in granted:
        return True
    top, _, _ = required.partition(":")
    if top in granted and top in ("read", "write"):
        return True
    return "follow" in granted and required in FOLLOW_IMPLIES


def is_subset(requested: tuple[str, ...], allowed: tuple[str, ...]) -> bool:
    return all(covers(allowed, scope) for scope in requested)
