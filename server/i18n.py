"""Translations: message ids are English, Dutch is the default language of pages and API messages.

Owns: loading the .po catalogues in server/translations (compiled in memory with Babel) and choosing a
visitor's language. It lives in server/ rather than web/ because the client API speaks the same messages.
Never: holds a catalogue in a module global outside the cache of `translations()`.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("nl", "en")
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue for a language; English is the message ids themselves."""
    if lang == "en":
        return gettext.NullTranslations()
    source = resources.files("server") / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def ngettext(lang: str, singular: str, plural: str, n: int, **values: object) -> str:
    """A counted message in the language's own plural form (Babel's Plural-Forms of the catalogue; English: one
    for 1, the plural otherwise), with `%(n)d` and any other values filled in."""
    text = translations(lang).ngettext(singular, plural, n)
    return text % {"n": n, **values}


def parse_accept_language(header: str) -> list[str]:
    """Language tags from an Accept-Language header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def choose_language(*, cookie: str | None, account_language: str | None, accept_language: str,
                    default: str) -> str:
    """An explicit switch wins, then the account's setting, then the browser's wish, then the node's default."""
    if cookie in LANGUAGES:
        return str(cookie)
    if account_language in LANGUAGES:
        return str(account_language)
    for tag in parse_accept_language(accept_language):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return default
