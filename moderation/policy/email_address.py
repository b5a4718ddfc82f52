"""Check `personal-data.email`: an e-mail address in the post.

Owns: the address pattern and the addresses or domains an organisation allows (info@..., "@gemeente.nl").
Never: takes a fediverse mention (@anna@gemeente.social) for an address; never repeats an address in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, Parameter, PostDraft, reject_unknown, scan, str_list

CHECK_ID = "personal-data.email"

# The search starts at the "@" (a literal re finds fast) and the local part is read backwards from it: a pattern
# that starts with the local part is tried at every word in the post, and is five times slower.
_AT_DOMAIN = re.compile(r"""
    @ (?P<domain> (?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24} )
    (?![\w@-])(?!\.[A-Za-z0-9])
""", re.VERBOSE)
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+'-")


def _local_start(text: str, at: int) -> int | None:
    """Where the local part before text[at] == "@" starts, or None if there is none (or it is a mention)."""
    start = at
    while start > 0 and at - start < 64 and text[start - 1] in _LOCAL_CHARS:
        start -= 1
    before = text[start - 1] if start > 0 else " "
    if start == at or not text[start].isalnum() or before in _LOCAL_CHARS or before == "@" or before.isalnum():
        return None  # nothing before "@", too long, or @user@host: a mention
    return start


def find_emails(text: str, allowed: frozenset[str] = frozenset()) -> Iterator[tuple[int, int, str]]:
    """(start, end, masked address) for every address not allowed (exactly, or by an '@domain' entry)."""
    for match in _AT_DOMAIN.finditer(text):
        start = _local_start(text, match.start())
        if start is None:
            continue
        local, domain = text[start:match.start()], match["domain"].lower()
        if f"{local.lower()}@{domain}" in allowed or f"@{domain}" in allowed:
            continue
        yield start, match.end(), f"{local[0]}***@{domain}"


def _message(masked: str) -> tuple[str, str]:
    return (f"Dit lijkt een e-mailadres ({masked}). Is het het adres van een persoon, haal het dan weg. Een algemeen "
            "adres van de organisatie kan de beheerder toestaan.",
            f"This looks like an e-mail address ({masked}). If it is a person's address, remove it. Your "
            "administrator can allow the organisation's general addresses.")


def prepare(options: Mapping[str, Any]) -> frozenset[str]:
    reject_unknown(CHECK_ID, options, ("allow",))
    return frozenset(a.lower() for a in str_list(CHECK_ID, "allow", options.get("allow", ())))


def run(draft: PostDraft, allowed: frozenset[str]) -> Iterator[Hit]:
    return scan(draft, lambda text: find_emails(text, allowed), _message)


CHECK = Check(id=CHECK_ID, rule_id="personal_data.email", severity="medium",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="E-mail addresses",
              description="Finds e-mail addresses; the organisation's public addresses can be allowed.",
              parameters=(Parameter("allow", "lines", "Allowed addresses",
                                    "E-mail addresses that may appear, one per line.", "info@ede.nl"),))
