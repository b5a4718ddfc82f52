"""Domain lists in Mastodon's CSV format: reading one (or a plain list of domains) and importing it as domain
policies, and writing the policies out again.

Owns: the file format (columns, flags, limits on size and rows) and the import's rules (every row checked before
anything is written; domains that already have a policy are skipped, as Mastodon does). Never: SQL or the effects
of a policy (domain_blocks.block applies and audits each one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from moderation.domain_blocks import (MAX_COMMENT, SEVERITIES, SEVERITY_CHOICES, Policy, Terms, block, is_own,
                                      list_policies, moderator_id, normalise_domain, terms_for)
from server.accounts import Account
from server.errors import Invalid

MAX_IMPORT_ROWS = 20_000
CSV_HEADER = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate")
_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off", ""}


@dataclass(frozen=True)
class CsvRow:
    line: int
    domain: str
    terms: Terms


def _flag(value: str | None, line: int) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid("Line %(line)s of the file: %(value)s is not true or false.", line=line, value=text[:50])


def parse_csv(text: str, *, own_domain: str, default_severity: str = "suspend") -> tuple[list[CsvRow], int]:
    """Rows of a domain list: Mastodon's export (`#domain,#severity,#reject_media,#reject_reports,
    #public_comment,#obfuscate`, in any order, other columns ignored), or a plain list of domains, one per line,
    which get `default_severity`. Every row is checked before anything is written; a bad one refuses the file.
    Returns the rows and how many repeated domains were left out (the first one counts)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    rows: list[CsvRow] = []
    seen: set[str] = set()
    repeated = 0
    columns: dict[str, int] | None = None
    try:
        for number, cells in enumerate(reader, start=1):
            if not cells or not any(c.strip() for c in cells):
                continue
            names = [c.strip().lower().lstrip("#") for c in cells]
            if columns is None and not rows and "domain" in names:
                columns = {name: i for i, name in enumerate(names)}
                continue
            if columns is None and cells[0].strip().startswith("#"):
                continue  # a comment line in a plain list
            if len(rows) >= MAX_IMPORT_ROWS:
                raise Invalid("The file has more than %(limit)s domains.", limit=MAX_IMPORT_ROWS)

            def cell(name: str, cells: list[str] = cells, columns: dict[str, int] | None = columns) -> str | None:
                if columns is None:
                    return cells[0] if name == "domain" else None
                index = columns.get(name)
                return cells[index] if index is not None and index < len(cells) else None

            raw_domain = (cell("domain") or "").strip()
            try:
                domain = normalise_domain(raw_domain)
            except Invalid:
                raise Invalid("Line %(line)s of the file: %(domain)s is not a domain name.", line=number,
                              domain=raw_domain[:100]) from None
            if is_own(domain, own_domain):
                raise Invalid("Line %(line)s of the file: %(domain)s is this node's own domain.", line=number,
                              domain=domain)
            severity = (cell("severity") or "").strip().lower() or default_severity
            if severity not in (*SEVERITIES, "reject-media"):
                raise Invalid("Line %(line)s of the file: the severity must be suspend, silence, noop or "
                              "reject-media, not %(value)s.", line=number, value=severity[:50])
            comment = (cell("public_comment") or "").strip()
            private = (cell("private_comment") or "").strip()
            if len(comment) > MAX_COMMENT or len(private) > MAX_COMMENT:
                raise Invalid("Line %(line)s of the file: a comment may be at most %(limit)s characters.",
                              line=number, limit=MAX_COMMENT)
            if domain in seen:
                repeated += 1
                continue
            seen.add(domain)
            rows.append(CsvRow(number, domain, terms_for(
                severity, reject_media=_flag(cell("reject_media"), number),
                reject_reports=_flag(cell("reject_reports"), number), obfuscate=_flag(cell("obfuscate"), number),
                private_comment=private, public_comment=comment)))
    except csv.Error:
        raise Invalid("The file is not a CSV file.") from None
    return rows, repeated


def to_csv(policies: Iterable[Policy]) -> str:
    """Mastodon's export format, which Mastodon (and we) can import again."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for p in policies:
        writer.writerow([p.domain, p.severity, str(p.reject_media).lower(), str(p.reject_reports).lower(),
                         p.public_comment, str(p.obfuscate).lower()])
    return out.getvalue()


@dataclass(frozen=True)
class Imported:
    added: list[str]
    skipped: list[str]  # already had a policy here: a shared list never weakens or overrides our own decision
    repeated: int


# The largest domain list a moderator may import; callers read one byte more, so a larger one is refused whole.
MAX_CSV_BYTES = 8 * 1024 * 1024


async def import_csv(conn: asyncpg.Connection, data: bytes, *, own_domain: str, actor: Account | None, now: datetime,
                     source: str, default_severity: str = "suspend") -> Imported:
    """Add the policies of a CSV file (its bytes, as uploaded or read), in the caller's transaction; domains that
    already have one are skipped, as Mastodon's import does. The private comment says where the entry came from
    unless the file gives one."""
    moderator_id(actor)
    if len(data) > MAX_CSV_BYTES:
        raise Invalid("The file is larger than %(size)s MiB.", size=MAX_CSV_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("The file is not a CSV file.") from None
    if default_severity not in SEVERITY_CHOICES:
        raise Invalid("The severity must be suspend, silence or reject-media.")
    rows, repeated = parse_csv(text, own_domain=own_domain, default_severity=default_severity)
    existing = {p.domain for p in await list_policies(conn)}
    added, skipped = [], []
    for row in rows:
        if row.domain in existing:
            skipped.append(row.domain)
            continue
        terms = row.terms
        if not terms.private_comment:
            terms = Terms(terms.severity, terms.reject_media, terms.reject_reports, terms.obfuscate,
                          f"Imported from {source[:200]}", terms.public_comment)
        await block(conn, row.domain, terms, own_domain=own_domain, actor=actor, now=now, source=source[:200])
        added.append(row.domain)
    return Imported(added, skipped, repeated)
