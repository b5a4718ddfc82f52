"""Check `personal-data.phone`: a Dutch telephone number (mobile or landline) in the post.

Owns: the number formats (06-12345678, 06 1234 5678, 010-1234567, 0318 123456, +31 6 12345678, +31 (0)20 1234567,
0031 6 12345678) and the numbers an organisation allows (its own public numbers).
Never: reports service numbers (0800, 0900, 0906, 0909), the municipal 14 + area code numbers, dates, postcodes or
digits inside IBANs; never repeats a found number in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, Parameter, PostDraft, mask, reject_unknown, scan, str_list

CHECK_ID = "personal-data.phone"

# Ten digits from the leading 0 (or nine after +31/0031), single spaces or hyphens allowed between digits.
_PHONE = re.compile(r"""
    [+0] (?<![\w+/=.,@#-][+0]) (?<![0-9]\ [+0])
    (?: (?<=\+)31[\ -]?(?:\(0\)[\ -]?)? | (?<=0)031[\ -]?(?:\(0\)[\ -]?)? | (?<=0) )
    (?P<rest> [1-9](?:[\ -]?[0-9]){8} )
    (?![\w@-])(?![.,/]?[0-9])(?!\ [0-9])
""", re.VERBOSE)
_DATE_LIKE = re.compile(r"[0-9]{1,2}[\ -][0-9]{1,2}[\ -](?:19|20)[0-9]{2}", re.VERBOSE)
_SERVICE = ("800", "900", "906", "909")
_IBAN_HEAD = re.compile(r"[A-Za-z]{2}[0-9]{2}\ ?[A-Za-z]{4}\ ?$")


def normalise(number: str) -> str:
    """National digits: '+31 (0)6-1234 5678' -> '0612345678'."""
    digits = "".join(c for c in number if c.isascii() and c.isdigit())
    if number.lstrip().startswith("+31"):
        digits = digits[2:]
    elif digits.startswith("0031"):
        digits = digits[4:]
    if digits.startswith("00"):
        digits = digits[1:]  # the (0) of +31 (0)20
    return digits if digits.startswith("0") else "0" + digits


def find_phones(text: str, allowed: frozenset[str] = frozenset()) -> Iterator[tuple[int, int, str]]:
    """(start, end, masked number) for every Dutch phone number in text that is not in `allowed` (national form)."""
    for match in _PHONE.finditer(text):
        rest = match["rest"].replace(" ", "").replace("-", "")
        if rest[:3] in _SERVICE or _DATE_LIKE.match(match.group()):
            continue
        if _IBAN_HEAD.search(text, max(0, match.start() - 12), match.start()):
            continue  # the bank-code group of a spaced IBAN: NL91 ABNA 0417 1643 00
        national = "0" + rest
        if national not in allowed:
            yield match.start(), match.end(), mask(national, 2, 2)


def _message(masked: str) -> tuple[str, str]:
    return (f"Dit lijkt een telefoonnummer ({masked}). Is het het nummer van een persoon, haal het dan weg. Een "
            "algemeen nummer van de organisatie kan de beheerder toestaan.",
            f"This looks like a phone number ({masked}). If it is a person's number, remove it. Your administrator "
            "can allow the organisation's general numbers.")


def prepare(options: Mapping[str, Any]) -> frozenset[str]:
    reject_unknown(CHECK_ID, options, ("allow",))
    return frozenset(normalise(n) for n in str_list(CHECK_ID, "allow", options.get("allow", ())))


def run(draft: PostDraft, allowed: frozenset[str]) -> Iterator[Hit]:
    return scan(draft, lambda text: find_phones(text, allowed), _message)


CHECK = Check(id=CHECK_ID, rule_id="personal_data.phone", severity="medium",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="Phone numbers",
              description="Finds Dutch phone numbers; the organisation's own public numbers can be allowed.",
              parameters=(Parameter("allow", "lines", "Allowed numbers",
                                    "Numbers that may appear, one per line, such as the switchboard; 0318 123456 and "
                                    "+31 318 123456 count as the same number.", "0318 123456"),))
