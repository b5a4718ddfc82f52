"""What a name may look like: the one place that knows which characters deceive a reader.

Owns: `clean_name` (NFKC, no control, bidi or invisible characters, single spaces: for display names, handles,
badge functions and organisation names, ours and other servers'), `invisible` (the characters taken out), the
confusable skeleton of a text (`skeleton` and `look_alike`, after Unicode TR39: texts that look alike compare equal)
and `mixed_scripts` (letters of more than one script, as "Gеmeente" with a Cyrillic е). moderation/sanitize.py
uses the same definitions for what other servers send.
Never: I/O, or decides what to refuse (the owners of the names do: organisations.py, accounts.py, badges.py).

The confusables data is the Unicode Consortium's, as shipped by the confusable-homoglyphs package; the skeleton
maps every character to its prototype in that data, after NFKC, then folds case and maps again.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from confusable_homoglyphs import confusables, utils

# C0/C1 controls, bidi embeddings, overrides and isolates (a handle shown with its host reversed), zero-width and
# other invisible characters (soft hyphen, word joiner, BOM, Mongolian vowel separator, Arabic letter mark,
# combining grapheme joiner, Hangul fillers, line and paragraph separators) and Unicode tag characters. The
# zero-width joiner and non-joiner stay: emoji sequences and Persian need them.
_HIDDEN = ("\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u2028\u2029\u202a-\u202e"
           "\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\U000e0000-\U000e007f")
INVISIBLE = re.compile(f"[\x00-\x1f{_HIDDEN}]")
# The same in longer texts (a content warning, a report's comment), where tabs and line breaks may stay.
INVISIBLE_IN_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_HIDDEN}]")


def invisible(text: str) -> bool:
    return bool(INVISIBLE.search(text))


def clean_name(text: str, limit: int | None = None) -> str:
    """A name as it may be stored and shown: NFKC, no control, bidi or invisible characters, one space between
    words, none around, at most `limit` characters."""
    cleaned = " ".join(INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).split())
    return cleaned[:limit].strip() if limit is not None else cleaned


@cache
def _prototypes() -> dict[str, str]:
    """Each single character's prototype: the lowest of itself and the characters whose look-alike Unicode lists
    it as (the data lists look-alikes under a prototype, e.g. 'е' under 'e', and 'O' under '0')."""
    table: dict[str, str] = {}
    for prototype, homoglyphs in utils.load("confusables.json").items():
        if len(prototype) != 1:
            continue
        for look_alike in (h["c"] for h in homoglyphs):
            if len(look_alike) == 1:
                table[look_alike] = min(table.get(look_alike, look_alike), prototype)
    return table


def _shown(text: str) -> str:
    table = _prototypes()
    return re.sub(r"[\s\-_.]+", "", "".join(table.get(char, char) for char in text))


def skeleton(text: str) -> str:
    """What a text looks like, so that look-alikes compare equal: 'Gеmeente Ede' (Cyrillic е), 'GEMEENTE  EDE',
    'Gemeente-Ede' and 'Gemeente Ede' share one skeleton. Spaces, hyphens, underscores and dots are left out."""
    return _shown(_shown(clean_name(text)).casefold())


def _variants(text: str) -> set[str]:
    cleaned = clean_name(text)
    return {skeleton(cleaned), _shown(cleaned.casefold()), _shown(cleaned)}


def look_alike(first: str, second: str) -> bool:
    """Whether two names can be taken for each other: a skeleton in common, with case folded before or after
    the prototypes ('Oss' and '0ss' meet before folding, 'Oss' and 'oss' after it)."""
    return bool(_variants(first) & _variants(second))


def mixed_scripts(text: str) -> bool:
    """Whether the letters of `text` come from more than one script (digits and punctuation do not count)."""
    return bool(confusables.is_mixed_script(text))
