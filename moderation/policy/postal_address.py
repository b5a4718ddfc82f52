"""Check `personal-data.address`: a Dutch postcode together with a house number, i.e. someone's address.

Owns: the two ways it is written ("1234 AB 12a" and "Kerkstraat 12, 1234 AB") and the addresses an organisation
allows (its own offices), given as postcode and house number ("3521 AZ 1"). Never: reports a postcode alone or a
number without a postcode; never repeats the address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, Parameter, PostDraft, reject_unknown, scan, str_list

CHECK_ID = "personal-data.address"

# Postcode letters are upper case (lower case "2024 en 12" would be everywhere); SA, SD and SS are never issued.
# Each branch starts with its first digit and looks behind it (see bsn.py on why).
_POSTCODE = r"(?P<{p}>[1-9]{b}[0-9]{{3}})\ ?(?!SA|SD|SS)(?P<{l}>[A-Z]{{2}})"
_NUMBER = r"(?P<{n}>[1-9]{b}[0-9]{{0,4}}(?:\ ?[A-Za-z](?![\w])|-[0-9A-Za-z]{{1,4}}(?![\w]))?)"
# Two patterns rather than one alternation: re's fast first-character scan only works for a single branch.
_POSTCODE_FIRST = re.compile(
    _POSTCODE.format(p="pc", l="pl", b=r"(?<![\w-][1-9])") + r",?\ +" + _NUMBER.format(n="n", b="") + r"(?![\w])",
    re.VERBOSE)
_NUMBER_FIRST = re.compile(
    _NUMBER.format(n="n", b=r"(?<=[^\W\d_]\ [1-9])") + r",?\ " + _POSTCODE.format(p="pc", l="pl", b="") + r"(?![\w])",
    re.VERBOSE)


def normalise(address: str) -> str:
    """'1234 ab 12-a' -> '1234AB12A': postcode and house number, for comparing with the allow list."""
    return "".join(c for c in address.upper() if c.isalnum())


def find_addresses(text: str, allowed: frozenset[str] = frozenset()) -> Iterator[tuple[int, int, str]]:
    matches = sorted([*_POSTCODE_FIRST.finditer(text), *_NUMBER_FIRST.finditer(text)], key=lambda m: m.start())
    end = 0
    for match in matches:
        if match.start() < end:
            continue  # "Kerkstraat 12, 1234 AB 5": one address, whichever way it is read
        end = match.end()
        if normalise(match["pc"] + match["pl"] + match["n"]) not in allowed:
            yield match.start(), match.end(), f"{match['pc']} ** …"


def _message(masked: str) -> tuple[str, str]:
    return (f"Dit lijkt een adres met postcode en huisnummer ({masked}). Is het het adres van een persoon, haal het "
            "dan weg. Een adres van de organisatie kan de beheerder toestaan.",
            f"This looks like an address with postcode and house number ({masked}). If it is a person's address, "
            "remove it. Your administrator can allow the organisation's own addresses.")


def prepare(options: Mapping[str, Any]) -> frozenset[str]:
    reject_unknown(CHECK_ID, options, ("allow",))
    return frozenset(normalise(a) for a in str_list(CHECK_ID, "allow", options.get("allow", ())))


def run(draft: PostDraft, allowed: frozenset[str]) -> Iterator[Hit]:
    return scan(draft, lambda text: find_addresses(text, allowed), _message)


CHECK = Check(id=CHECK_ID, rule_id="personal_data.address", severity="medium",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="Home addresses",
              description="Finds a postcode with a house number.",
              parameters=(Parameter("allow", "lines", "Allowed addresses",
                                    "Postcode and house number that may appear, one per line, such as the town hall's.",
                                    "6711 AA 1"),))
