"""The node's accessibility statement, in the structure of the Dutch model statement (modelverklaring).

Owns: the accessibility_statements table (one row): scope, compliance status A to E, known issues, contact and the
last audit, and the rules for what an admin may store there.
Never: renders the page (web/pages/statement.py does) or decides who is an admin (the page asks Account).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from server.errors import Invalid

# The compliance statuses of the Dutch model statement (digitoegankelijk.nl), with their English names.
STATUSES = {
    "A": "Fully compliant",
    "B": "Partially compliant",
    "C": "First measures taken",
    "D": "No measures taken yet",
    "E": "Not compliant",
}
LIMITS = {"organisation_name": 200, "scope": 2000, "known_issues": 5000, "contact_email": 320,
          "contact_details": 2000, "audit_by": 200, "audit_report_url": 2000}
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_COLUMNS = ("organisation_name, scope, status, known_issues, contact_email, contact_details, audit_date, audit_by, "
            "audit_report_url, updated_at")


@dataclass(frozen=True)
class Statement:
    organisation_name: str
    scope: str
    status: str
    known_issues: str
    contact_email: str
    contact_details: str
    audit_date: date | None
    audit_by: str
    audit_report_url: str
    updated_at: datetime


def validate(values: dict[str, str], *, today: date) -> dict[str, object]:
    """The fields as they are stored, or Invalid naming the first one that cannot be."""
    clean: dict[str, object] = {name: values.get(name, "").strip() for name in LIMITS}
    for name, limit in LIMITS.items():
        if len(str(clean[name])) > limit:
            raise Invalid("A field of the statement is too long: at most %(n)d characters.", n=limit)
    if not clean["organisation_name"]:
        raise Invalid("Name the organisation responsible for this node.")
    if not clean["scope"]:
        raise Invalid("Say which website or service the statement is about.")
    if not _EMAIL.match(str(clean["contact_email"])):
        raise Invalid("Give an e-mail address where people can report accessibility problems.")
    url = str(clean["audit_report_url"])
    if url and not url.startswith(("https://", "http://")):
        raise Invalid("The audit report's address must start with https://.")
    status = values.get("status", "")
    if status not in STATUSES:
        raise Invalid("Choose one of the compliance statuses.")
    clean["status"] = status
    raw_date = values.get("audit_date", "").strip()
    try:
        audit_date = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        raise Invalid("Give the date of the last audit as a date, like 2026-11-30.") from None
    if audit_date is not None and audit_date > today:
        raise Invalid("The date of the last audit cannot be in the future.")
    clean["audit_date"] = audit_date
    return clean


async def get_statement(conn: asyncpg.Connection) -> Statement | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accessibility_statements WHERE id = 1")
    return Statement(**dict(row)) if row else None


async def upsert_statement(conn: asyncpg.Connection, values: dict[str, str], *, by: int, now: datetime) -> Statement:
    clean = validate(values, today=now.date())
    row = await conn.fetchrow(
        f"""INSERT INTO accessibility_statements (id, organisation_name, scope, status, known_issues, contact_email,
                contact_details, audit_date, audit_by, audit_report_url, updated_at, updated_by)
            VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (id) DO UPDATE SET organisation_name = $1, scope = $2, status = $3, known_issues = $4,
                contact_email = $5, contact_details = $6, audit_date = $7, audit_by = $8, audit_report_url = $9,
                updated_at = $10, updated_by = $11
            RETURNING {_COLUMNS}""",
        clean["organisation_name"], clean["scope"], clean["status"], clean["known_issues"], clean["contact_email"],
        clean["contact_details"], clean["audit_date"], clean["audit_by"], clean["audit_report_url"], now, by)
    return Statement(**dict(row))
