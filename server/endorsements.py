"""What a person keeps about other accounts: the accounts they endorse on their profile (Mastodon's "feature on
profile", /api/v1/accounts/:id/pin), and a private note on an account that only they see.

Owns: the endorsements and account_notes tables and their SQL, and the rules: one endorses only an account one
follows (Mastodon's AccountPin validation), a note is at most 2,000 characters and an empty note is removed.
Never: shows anything to the endorsed or noted account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import follows
from server.accounts import Account
from server.errors import Invalid
from server.ids import new_id

MAX_NOTE = 2000


@dataclass(frozen=True)
class Kept:
    """What the viewer's Relationship entity shows of their own words about an account."""

    endorsed: bool = False
    note: str = ""


async def endorse(conn: asyncpg.Connection, viewer: Account, target: Account, now: datetime) -> None:
    following = (await follows.list_relationships(conn, viewer.id, [target.id])).get(target.id, (False,))[0]
    if not following:
        raise Invalid("You can only feature accounts you follow on your profile.")
    await conn.execute("INSERT INTO endorsements (id, account_id, target_account_id, created_at) "
                       "VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, target_account_id) DO NOTHING",
                       new_id(now), viewer.id, target.id, now)


async def delete_endorsement(conn: asyncpg.Connection, account_id: int, target_id: int) -> None:
    await conn.execute("DELETE FROM endorsements WHERE account_id = $1 AND target_account_id = $2",
                       account_id, target_id)


async def list_endorsed_ids(conn: asyncpg.Connection, account_id: int, *, max_id: int | None, since_id: int | None,
                            limit: int) -> list[tuple[int, int]]:
    """(endorsement id, endorsed account id), newest first, paged by the endorsement's id."""
    rows = await conn.fetch(
        "SELECT id, target_account_id FROM endorsements WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2) "
        "AND ($3::bigint IS NULL OR id > $3) ORDER BY id DESC LIMIT $4", account_id, max_id, since_id, limit)
    return [(r["id"], r["target_account_id"]) for r in rows]


async def upsert_note(conn: asyncpg.Connection, account_id: int, target_id: int, comment: str, now: datetime) -> None:
    """Keep the viewer's private note on an account; an empty comment removes it (as Mastodon does)."""
    comment = comment.strip()
    if len(comment) > MAX_NOTE:
        raise Invalid("A note is at most %(n)d characters.", n=MAX_NOTE)
    if not comment:
        await conn.execute("DELETE FROM account_notes WHERE account_id = $1 AND target_account_id = $2",
                           account_id, target_id)
        return
    await conn.execute("INSERT INTO account_notes (account_id, target_account_id, comment, updated_at) "
                       "VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, target_account_id) "
                       "DO UPDATE SET comment = $3, updated_at = $4", account_id, target_id, comment, now)


async def list_kept(conn: asyncpg.Connection, viewer_id: int, other_ids: Sequence[int]) -> dict[int, Kept]:
    """Endorsements and notes of the viewer about each of the accounts (absent: neither)."""
    rows = await conn.fetch(
        """SELECT o.id, e.id IS NOT NULL AS endorsed, coalesce(n.comment, '') AS note
           FROM unnest($2::bigint[]) AS o(id)
           LEFT JOIN endorsements e ON e.account_id = $1 AND e.target_account_id = o.id
           LEFT JOIN account_notes n ON n.account_id = $1 AND n.target_account_id = o.id
           WHERE e.id IS NOT NULL OR n.comment IS NOT NULL""", viewer_id, list(other_ids))
    return {r["id"]: Kept(r["endorsed"], r["note"]) for r in rows}
