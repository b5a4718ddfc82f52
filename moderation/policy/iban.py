"""Check `personal-data.iban`: a bank account number (IBAN) in the post.

Owns: the IBAN lengths per country and the mod-97 test, for IBANs written together or in groups of four.
Never: reports a string that fails mod-97 or has the wrong length for its country, nor repeats an IBAN in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, PostDraft, reject_unknown, scan

CHECK_ID = "personal-data.iban"

# Total IBAN length per country (SWIFT IBAN registry).
LENGTHS: Mapping[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24,
    "XK": 20,
}

# A start: country letters and check digits, then enough characters for the shortest IBAN; the exact length is
# taken per country in find_ibans (the regex alone would swallow a following word or a second IBAN). The match
# begins at the first check digit and looks back at the country letters: starting at a letter would try the
# pattern at nearly every character of the post (four times slower).
_START = re.compile(r"[0-9](?<=(?<![A-Za-z0-9])[A-Za-z]{2}[0-9])[0-9](?:\ ?[A-Za-z0-9]){11}")


def is_valid_iban(compact: str) -> bool:
    """Country length and ISO 7064 mod 97-10 on an IBAN without spaces."""
    compact = compact.upper()
    if LENGTHS.get(compact[:2]) != len(compact) or not compact.isascii() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _take(text: str, start: int, length: int) -> tuple[str, int] | None:
    """`length` alphanumerics from start, allowing single spaces between them; (compact, end) or None."""
    chars: list[str] = []
    i, n = start, len(text)
    while i < n and len(chars) < length:
        c = text[i]
        if c.isascii() and c.isalnum():
            chars.append(c)
        elif not (c == " " and chars and i + 1 < n and text[i + 1] != " "):
            return None
        i += 1
    if len(chars) < length or (i < n and text[i].isalnum()):
        return None
    return "".join(chars).upper(), i


def find_ibans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, masked IBAN) for every valid IBAN in text."""
    pos = 0
    while (match := _START.search(text, pos)) is not None:
        start = match.start() - 2
        length = LENGTHS.get(text[start:start + 2].upper())
        taken = _take(text, start, length) if length else None
        if taken is not None and is_valid_iban(taken[0]):
            yield start, taken[1], f"{taken[0][:2]}…{taken[0][-4:]}"
            pos = taken[1]
        else:
            pos = match.start() + 1


def _message(masked: str) -> tuple[str, str]:
    return (f"Dit lijkt een IBAN-rekeningnummer ({masked}). Staat hier de rekening van een persoon? Haal het dan weg.",
            f"This looks like a bank account number (IBAN, {masked}). If it belongs to a person, remove it.")


def prepare(options: Mapping[str, Any]) -> None:
    reject_unknown(CHECK_ID, options, ())


def run(draft: PostDraft, prepared: None) -> Iterator[Hit]:
    return scan(draft, find_ibans, _message)


CHECK = Check(id=CHECK_ID, rule_id="personal_data.iban", severity="high",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="Bank account numbers (IBAN)",
              description="Finds a bank account number (IBAN) with a valid check number.")
