"""Check `link-denylist`: a link to a domain on the organisation's deny list, or to any of its subdomains.

Owns: finding links (http(s) URLs, and bare host names such as www.example.com/page) and matching their host
against the list. Never: fetches a link or follows a redirect; never counts a mention (@a@example.com) or an
e-mail address as a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from moderation.policy.model import Check, Hit, Parameter, PostDraft, quote, reject_unknown, str_list

CHECK_ID = "link-denylist"

_LINK = re.compile(r"""
    (?P<url> \b https?:// [^\s<>"'`]+ )
  | (?<![\w@.:/-]) (?P<host> (?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+ [^\W\d_]{2,63} ) (?![\w-]) (?!\.[^\W_])
    (?:/[^\s<>"'`]*)?
""", re.VERBOSE | re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}"


def normalise_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _domain(entry: str) -> str:
    entry = entry.strip().lower()
    if "://" in entry:
        entry = urlsplit(entry).hostname or ""
    return normalise_host(entry.split("/")[0].lstrip("*").lstrip("."))


def find_denied(text: str, denied: frozenset[str]) -> Iterator[tuple[int, int, str]]:
    """(start, end, host) for every link whose host is a denied domain or a subdomain of one."""
    for match in _LINK.finditer(text):
        start, link = match.start(), match.group().rstrip(_TRAILING)
        if match["url"]:
            try:
                host = urlsplit(link).hostname or ""
            except ValueError:
                continue
        else:
            host = match["host"]
        labels = normalise_host(host).split(".")
        if any(".".join(labels[i:]) in denied for i in range(len(labels))):
            yield start, start + len(link), host.lower()


@dataclass(frozen=True)
class Denied:
    domains: frozenset[str]  # in ASCII (IDNA) form
    needles: tuple[str, ...]  # those and the Unicode form of IDN ones: a cheap test before the link regex runs


def _unicode(domain: str) -> str:
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain


def prepare(options: Mapping[str, Any]) -> Denied:
    reject_unknown(CHECK_ID, options, ("domains",))
    entries = str_list(CHECK_ID, "domains", options.get("domains", ()))
    domains = frozenset(domain for domain in map(_domain, entries) if domain)
    return Denied(domains, tuple(sorted(domains | {_unicode(d) for d in domains})))


def run(draft: PostDraft, denied: Denied) -> Iterator[Hit]:
    for field_name, index, text in draft.text_fields():
        lowered = text.lower()
        if not any(needle in lowered for needle in denied.needles):
            continue
        for start, end, host in find_denied(text, denied.domains):
            found = quote(host)
            yield Hit(f"De link naar {found} staat op de lijst van domeinen waar je organisatie niet naar linkt. "
                      "Haal de link weg of kies een andere bron.",
                      f"The link to {found} is on your organisation's list of domains not to link to. Remove the "
                      "link or choose another source.",
                      field_name, (start, end), index)


CHECK = Check(id=CHECK_ID, rule_id="links.denied_domain", severity="medium",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="Links to denied domains",
              description="Finds links to the domains you list, and to their subdomains.",
              parameters=(Parameter("domains", "lines", "Domains",
                                    "Domains not to link to, one per line; their subdomains count too.",
                                    "example.com"),))
