"""The language of a post: whatever an app sends (`de`, `en-US`, `pt-BR`, `zh-Hant`) stored as Mastodon stores it.

Owns: turning an app's `language` parameter into the ISO 639 code a post keeps (the primary subtag of a BCP 47
tag, lower case), falling back to the author's language when the parameter names no language at all, as Mastodon
does (it never refuses a post for its language); and the list `/api/v1/instance/languages` gives. Never: the
language of pages (server/i18n.py: Dutch and English only).
"""

from __future__ import annotations

import re
from functools import cache

from babel import Locale, UnknownLocaleError

_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


_NOT_A_LANGUAGE = {"und", "mul", "zxx", "mis"}  # ISO 639-2's "undetermined", "multiple", "no content", "missing"


@cache
def known_languages() -> dict[str, str]:
    """The ISO 639-1 (two-letter) codes with their English names, as Babel (CLDR) knows them: the list apps show."""
    return {code: name for code, name in sorted(Locale("en").languages.items()) if len(code) == 2 and code.isalpha()}


def post_language(raw: str | None, fallback: str) -> str:
    """`raw` as a post's language: `en-US` → `en`; empty, malformed or unknown → `fallback`."""
    if raw is None or not _TAG.fullmatch(raw.strip()):
        return fallback
    primary = raw.strip().split("-", 1)[0].lower()
    if primary in known_languages():
        return primary
    if len(primary) == 2 or primary in _NOT_A_LANGUAGE:
        return fallback
    try:  # an ISO 639-3 code (`fil`, `yue`) Babel knows
        Locale.parse(primary)
    except (UnknownLocaleError, ValueError):
        return fallback
    return primary
