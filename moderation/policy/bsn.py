"""Check `personal-data.bsn`: a Dutch citizen service number (burgerservicenummer) in the post.

Owns: the BSN pattern (9 digits, written together or as 1234.56.789 / 1234 56 789 / 123 456 789) and the elfproef.
Never: reports a number that fails the elfproef, nor repeats a found number in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, PostDraft, mask, reject_unknown, scan

CHECK_ID = "personal-data.bsn"

# Not part of a longer number, a decimal, an amount, a URL, a mention or a hashtag; 123.456.789 is left out on
# purpose: written with dots in groups of three it is an amount far more often than a BSN. The patterns in this
# package start with a character class and test what precedes it by a lookbehind just after it: a leading
# lookbehind would turn off re's fast scan for the first character and make every check ~4 times slower.
_BSN = re.compile(r"""
    (?P<n> [0-9] (?<![\w€$£#@/=&+.,-][0-9]) (?<![0-9][.,\ ][0-9]) (?<![€$£]\ [0-9])
           (?: [0-9]{8} | [0-9]{3}(?P<sep>[.\ ])[0-9]{2}(?P=sep)[0-9]{3} | [0-9]{2}\ [0-9]{3}\ [0-9]{3} ) )
    (?![\w@/-])(?![.,][0-9])(?!\ [0-9])
""", re.VERBOSE)

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def is_valid_bsn(digits: str) -> bool:
    """The elfproef: 9 digits weighted 9..2 and the last -1 sum to a multiple of 11 (and not all zeros)."""
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit() or digits == "000000000":
        return False
    return sum(int(d) * w for d, w in zip(digits, _WEIGHTS)) % 11 == 0


def find_bsns(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, masked number) for every elfproef-valid BSN in text."""
    for match in _BSN.finditer(text):
        digits = match["n"].replace(".", "").replace(" ", "")
        if is_valid_bsn(digits):
            yield match.start(), match.end(), mask(digits, 0, 3)


def _message(masked: str) -> tuple[str, str]:
    return (f"Dit lijkt een burgerservicenummer ({masked}). Een BSN hoort niet in een bericht: haal het weg.",
            f"This looks like a Dutch citizen service number (BSN, {masked}). A BSN does not belong in a post: "
            "remove it.")


def prepare(options: Mapping[str, Any]) -> None:
    reject_unknown(CHECK_ID, options, ())


def run(draft: PostDraft, prepared: None) -> Iterator[Hit]:
    return scan(draft, find_bsns, _message)


CHECK = Check(id=CHECK_ID, rule_id="personal_data.bsn", severity="high",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="Citizen service numbers (BSN)",
              description="Finds a Dutch citizen service number: nine digits that pass the elfproef.")
