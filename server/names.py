"""What a name may look like: the one place that knows which characters deceive a reader.

Owns: `clean_name` (NFKC, no control, bidi or invisible characters, single spaces: for display names, handles,
badge functions and organisation names, ours and other servers'), `invisible` (the characters taken out), the
confusable skeleton of a text (`skeleton`, `skeletons` and `look_alike`, after Unicode TR39: texts that look alike
share a skeleton) and `mixed_scripts` (letters of more than one script, as "Gеmeente" with a Cyrillic е).
moderation/sanitize.py uses the same definitions for what other servers send.
Never: I/O, or decides what to refuse (the owners of the names do: organisations.py, accounts.py, badges.py).

The confusables data is the Unicode Consortium's (confusables.txt), as shipped and kept current by the
confusable-homoglyphs package; that package compares single characters only, so the skeleton (which maps one
character to several, as 'm' to 'rn') is computed here from its data.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache


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


# The package's data wraps right-to-left characters in left-to-right marks so that they print in order.
_LRM = "\u200e"
_SEPARATORS = re.compile(r"[\s\-_.]+")


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character's prototype, as Unicode's confusables.txt maps it ('е' → 'e', '0' → 'O',
    'I' → 'l', 'm' → 'rn').

    The package keeps each line of confusables.txt in both directions (source under target, target under source),
    so the direction is read back: a source has one line of its own, so one entry, naming its prototype; a
    prototype lists all its sources, and a prototype of several characters is never a source. Where two characters
    only name each other the direction is lost, and the lower one is taken: both still get the same skeleton."""
    from confusable_homoglyphs import utils  # here, not at import: the data is about 6 MiB of a process's memory

    listed: dict[str, set[str]] = {}
    for key, entries in utils.load("confusables.json").items():
        listed.setdefault(key.replace(_LRM, ""), set()).update(e["c"].replace(_LRM, "") for e in entries)
    table: dict[str, str] = {}
    for char, others in listed.items():
        if len(char) != 1 or len(others) != 1:
            continue
        (other,) = others
        if other and (len(other) > 1 or len(listed.get(other, ())) > 1 or other < char):
            table[char] = other
    return table


def _mapped(text: str) -> str:
    """TR39's mapping step: NFD, each character to its prototype, NFD, until nothing changes (one step with the
    real data; a pair whose direction was guessed may take one more)."""
    table = _prototypes()
    for _ in range(4):
        mapped = unicodedata.normalize("NFD", "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text)))
        if mapped == text:
            break
        text = mapped
    return text


def _key(text: str) -> str:
    return _SEPARATORS.sub("", _mapped(text))


def skeleton(text: str) -> str:
    """What a name looks like, after Unicode TR39: texts that can be taken for each other share one skeleton.
    'Gеmeente Ede' (a Cyrillic е), 'GEMEENTE EDE', 'Gemeente-Ede' and 'Gemeente Ede'; 'Gemeente Ernrnen' and
    'Gemeente Emmen'; 'Gemeente EIst' and 'Gemeente Elst'. Beyond TR39: the name is cleaned first (NFKC, no
    invisible characters), case is folded after the prototypes (so '0ss' meets 'oss' through 'Oss'), and spaces,
    hyphens, underscores and dots are left out."""
    return _key(_mapped(clean_name(text)).casefold())


def skeletons(text: str) -> frozenset[str]:
    """The skeleton, and the one with case folded first: 'I' is drawn as 'l' but stands for 'i', so
    'GEMEENTE IJSSELSTEIN' meets 'Gemeente IJsselstein' only that way."""
    return frozenset({skeleton(text), _key(clean_name(text).casefold())})


def look_alike(first: str, second: str) -> bool:
    """Whether two names can be taken for each other: a skeleton in common."""
    return bool(skeletons(first) & skeletons(second))


def mixed_scripts(text: str) -> bool:
    """Whether the letters of `text` come from more than one script (digits and punctuation do not count)."""
    # The package's own is_mixed_script, without importing its confusables module, which loads all of its data.
    from confusable_homoglyphs import categories

    return len(categories.unique_aliases(text) - {"COMMON"}) > 1
