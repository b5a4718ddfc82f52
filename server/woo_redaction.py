"""Redacting personal data for a Woo disclosure: text in, text with markers and a list of what was taken out.

Owns: the markers (`[5.1.2e]` for personal data the policy checks' detectors find: BSN, IBAN, phone number, e-mail
address, postcode with house number; `[burger N]` for a citizen's name or handle, `[ambtenaar N]` for an official
who is not public-facing, both numbered consistently within one export), the ground (art. 5.1 lid 2 sub e Woo:
respect for personal privacy) and turning a post's HTML into plain text. Pure: no I/O, no clock.
Never: decides what is searched or written (server/woo.py, server/woo_export.py). Names of people written in free
text, without a handle we know, are not found: the Woo coordinator reads every document before anything is
published (docs/archive.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

from moderation.policy import email_address, phone, postal_address
from moderation.policy.bsn import find_bsns
from moderation.policy.email_address import find_emails
from moderation.policy.iban import find_ibans
from moderation.policy.phone import find_phones
from moderation.policy.postal_address import find_addresses

GROUND = "5.1.2e"  # art. 5.1, tweede lid, aanhef en onder e, Woo: eerbiediging van de persoonlijke levenssfeer
MARKER = f"[{GROUND}]"
# Kinds of redaction, as the inventory names them.
KINDS = ("bsn", "iban", "phone", "email", "address", "citizen", "official")
MIN_NAME = 3  # a shorter display name is not searched for in the text: it would black out ordinary words


@dataclass(frozen=True)
class Person:
    """Someone a document names or was written by. `role`: `citizen` (any account not of an organisation on this
    node), `official` (a member of an organisation here) or `organisation` (an organisation's own account)."""

    id: int
    username: str
    domain: str | None
    display_name: str
    role: str

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.domain}" if self.domain else f"@{self.username}"


@dataclass(frozen=True)
class Redaction:
    kind: str
    start: int
    end: int
    replacement: str
    ground: str = GROUND


@dataclass(frozen=True)
class Allowed:
    """What the organisation allows in its posts (its policy checks' allow lists): its own switchboard, its general
    addresses and offices are not personal data and stay."""

    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()


@dataclass
class Pseudonyms:
    """`[burger N]` and `[ambtenaar N]` numbered in order of first appearance, the same all through one export.
    `officials_public`: whether officials' names stay (the organisation's setting)."""

    officials_public: bool = True
    numbers: dict[tuple[str, int], int] = field(default_factory=dict)

    def label(self, person: Person) -> str | None:
        """The person's pseudonym, or None when the name stays."""
        if person.role == "organisation" or (person.role == "official" and self.officials_public):
            return None
        group = "burger" if person.role == "citizen" else "ambtenaar"
        key = (group, person.id)
        if key not in self.numbers:
            self.numbers[key] = 1 + sum(1 for g, _ in self.numbers if g == group)
        return f"[{group} {self.numbers[key]}]"

    def name(self, person: Person) -> str:
        """How a document names the person: the pseudonym, or name and handle."""
        label = self.label(person)
        if label is not None:
            return label
        return f"{person.display_name} ({person.handle})" if person.display_name else person.handle


def _person_patterns(person: Person) -> list[re.Pattern[str]]:
    """The handle in full, the handle without the domain, and the display name as whole words."""
    patterns = []
    if person.domain:
        patterns.append(re.compile(rf"@{re.escape(person.username)}@{re.escape(person.domain)}(?![\w.-])", re.I))
    patterns.append(re.compile(rf"(?<![\w@]){re.escape('@' + person.username)}(?![\w@])", re.I))
    if len(person.display_name.strip()) >= MIN_NAME:
        words = r"\s+".join(re.escape(w) for w in person.display_name.split())
        patterns.append(re.compile(rf"(?<!\w){words}(?!\w)", re.I))
    return patterns


def find(text: str, people: Iterable[Person], pseudonyms: Pseudonyms,
         allowed: Allowed = Allowed()) -> list[Redaction]:
    """What to take out of `text`: the detectors' findings and the names and handles of `people` who get a
    pseudonym, without overlaps (where two overlap the longer one wins, then the earlier)."""
    found: list[Redaction] = []
    for kind, finder in (("bsn", find_bsns), ("iban", find_ibans),
                         ("phone", lambda t: find_phones(t, allowed.phones)),
                         ("email", lambda t: find_emails(t, allowed.emails)),
                         ("address", lambda t: find_addresses(t, allowed.addresses))):
        found += [Redaction(kind, start, end, MARKER) for start, end, _ in finder(text)]
    for person in people:
        label = pseudonyms.label(person)
        if label is None:
            continue
        kind = "citizen" if person.role == "citizen" else "official"
        for pattern in _person_patterns(person):
            found += [Redaction(kind, m.start(), m.end(), label) for m in pattern.finditer(text)]
    chosen: list[Redaction] = []
    for candidate in sorted(found, key=lambda r: (-(r.end - r.start), r.start)):
        if all(candidate.end <= r.start or candidate.start >= r.end for r in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda r: r.start)


def apply(text: str, redactions: Iterable[Redaction]) -> str:
    out, pos = [], 0
    for r in sorted(redactions, key=lambda r: r.start):
        out += [text[pos:r.start], r.replacement]
        pos = r.end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str, people: Iterable[Person], pseudonyms: Pseudonyms,
           allowed: Allowed = Allowed()) -> tuple[str, list[Redaction]]:
    """The redacted text and what was taken out of it (positions in the original)."""
    redactions = find(text, people, pseudonyms, allowed)
    return apply(text, redactions), redactions


def count_kinds(redactions: Iterable[Redaction]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in redactions:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return {kind: counts[kind] for kind in KINDS if kind in counts}


def allowed_from_settings(settings: Mapping[str, Mapping[str, object]]) -> Allowed:
    """The allow lists of an organisation's policy settings ({check id: {"options": {"allow": [...]}}})."""
    def allow(check: str) -> list[str]:
        value = (settings.get(check) or {}).get("options") or {}
        items = value.get("allow", []) if isinstance(value, Mapping) else []
        return [items] if isinstance(items, str) else [str(i) for i in items]  # type: ignore[union-attr]

    return Allowed(phones=frozenset(phone.normalise(n) for n in allow(phone.CHECK_ID)),
                   emails=frozenset(a.lower() for a in allow(email_address.CHECK_ID)),
                   addresses=frozenset(postal_address.normalise(a) for a in allow(postal_address.CHECK_ID)))


class _Text(HTMLParser):
    BREAKS = {"br": "\n", "p": "\n\n", "li": "\n", "blockquote": "\n\n"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS and tag != "br":
            self.parts.append(self.BREAKS[tag])

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(source_text: str, content_html: str) -> str:
    """What a version says, as text: the words its local author typed, or a remote post's HTML without markup."""
    if source_text:
        return source_text
    parser = _Text()
    parser.feed(content_html)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()
