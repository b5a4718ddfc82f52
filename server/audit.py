"""The audit log: who did what to which thing, and when, for the steps an organisation must be able to account for.

Owns: the audit_log table and its SQL. Never: UPDATE or DELETE (the table's trigger refuses them too); rows are
written inside the caller's transaction, so a refused step leaves no entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

_COLUMNS = "id, at, actor_account_id, action, subject_type, subject_id, detail"


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor_account_id: int | None
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any]


async def record(conn: asyncpg.Connection, *, actor_id: int | None, action: str, subject_type: str,
                 subject_id: int | str, detail: Mapping[str, Any] | None, now: datetime) -> Entry:
    """Append one entry; `actor_id` is None when an operator acted at the command line without an account."""
    row = await conn.fetchrow(
        f"INSERT INTO audit_log (at, actor_account_id, action, subject_type, subject_id, detail) "
        f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}",
        now, actor_id, action, subject_type, str(subject_id), dict(detail or {}))
    return Entry(**dict(row))


async def list_entries(conn: asyncpg.Connection, *, subject_type: str | None = None,
                       subject_id: int | str | None = None, actor_id: int | None = None,
                       action_prefix: str | None = None, before_id: int | None = None,
                       limit: int = 100) -> list[Entry]:
    """Newest first, optionally for one subject, one actor or one family of actions (e.g. "badge.")."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM audit_log "
        f"WHERE ($1::text IS NULL OR subject_type = $1) AND ($2::text IS NULL OR subject_id = $2) "
        f"AND ($3::bigint IS NULL OR actor_account_id = $3) AND ($4::text IS NULL OR starts_with(action, $4)) "
        f"AND ($5::bigint IS NULL OR id < $5) ORDER BY id DESC LIMIT $6",
        subject_type, None if subject_id is None else str(subject_id), actor_id, action_prefix, before_id,
        max(1, min(limit, 1000)))
    return [Entry(**dict(r)) for r in rows]


async def list_for_organisation(conn: asyncpg.Connection, organisation_id: int, *, action_prefix: str | None = None,
                                since: datetime | None = None, until: datetime | None = None,
                                limit: int = 1000) -> list[Entry]:
    """What concerns one organisation (its settings, its badges, its invites, its members' posts and accounts),
    newest first."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM audit_log l
            WHERE (($2::text IS NULL OR starts_with(l.action, $2))
              AND ($3::timestamptz IS NULL OR l.at >= $3) AND ($4::timestamptz IS NULL OR l.at < $4))
              AND ((l.subject_type = 'organisation' AND l.subject_id = ($1::bigint)::text)
                OR (l.subject_type = 'post' AND EXISTS (SELECT 1 FROM posts p JOIN accounts a ON a.id = p.account_id
                      WHERE p.id::text = l.subject_id AND a.organisation_id = $1::bigint))
                OR (l.subject_type = 'account' AND EXISTS (SELECT 1 FROM accounts a
                      WHERE a.id::text = l.subject_id AND a.organisation_id = $1::bigint))
                OR (l.subject_type = 'account' AND l.action IN ('account.role_changed', 'account.offboarded')
                    AND l.detail->>'organisation_id' = ($1::bigint)::text)
                OR (l.subject_type = 'badge' AND EXISTS (SELECT 1 FROM badges b
                      WHERE b.id::text = l.subject_id AND b.organisation_id = $1::bigint))
                OR (l.subject_type = 'invite' AND EXISTS (SELECT 1 FROM invites i
                      WHERE i.id::text = l.subject_id AND i.organisation_id = $1::bigint))
                OR (l.subject_type = 'webcare_conversation'
                    AND l.detail->>'organisation_id' = ($1::bigint)::text))
            ORDER BY l.id DESC LIMIT $5""",
        organisation_id, action_prefix or None, since, until, max(1, min(limit, 10_000)))
    return [Entry(**dict(r)) for r in rows]
