"""Lists: a person's named selections of accounts they follow, each with a timeline of its own (Mastodon's lists).

Owns: the lists and list_accounts tables, who may be on a list (accounts the owner follows or asked to follow, as
Mastodon), and the SQL fragments server/timelines.py builds the list timeline and the home exclusion from. A
follow that ends takes its account off the follower's lists (a trigger of migration 0047, so every way a follow
ends does it). Never: reads posts, or decides what a timeline shows (server/timelines.py does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import names
from server.errors import Invalid, NotFound
from server.ids import new_id

REPLIES_POLICIES = ("followed", "list", "none")
MAX_LISTS = 50  # Mastodon's per-account limit
MAX_TITLE = 200
_COLUMNS = "id, account_id, title, replies_policy, exclusive"


@dataclass(frozen=True)
class PersonalList:
    id: int
    account_id: int
    title: str
    replies_policy: str
    exclusive: bool


def members_sql(list_id: str) -> str:
    """The account ids on the list `list_id` (an SQL expression)."""
    return f"(SELECT la.account_id FROM list_accounts la WHERE la.list_id = {list_id})"


def owner_sql(list_id: str) -> str:
    return f"(SELECT ol.account_id FROM lists ol WHERE ol.id = {list_id})"


def replies_policy_sql(list_id: str) -> str:
    return f"(SELECT rl.replies_policy FROM lists rl WHERE rl.id = {list_id})"


def exclusive_members_sql(viewer: str) -> str:
    """Accounts on any of the viewer's exclusive lists: their posts show in those lists, not in home."""
    return (f"(SELECT xa.account_id FROM list_accounts xa JOIN lists xl ON xl.id = xa.list_id "
            f"WHERE xl.account_id = {viewer} AND xl.exclusive)")


def clean_title(title: str | None, maximum: int = MAX_TITLE) -> str:
    """A title a person gives their own list or filter: required, at most `maximum` characters, without the
    characters names may not hide (server/names.py)."""
    text = names.clean_name(title or "")
    if not text:
        raise Invalid("Validation failed: Title can't be blank")
    if len(text) > maximum:
        raise Invalid("Validation failed: Title is too long (maximum is %(n)s characters)", n=maximum)
    return text


def _clean_policy(policy: str | None, default: str) -> str:
    if policy is None or policy == "":
        return default
    if policy not in REPLIES_POLICIES:
        raise Invalid("Validation failed: replies_policy must be followed, list or none")
    return policy


async def list_lists(conn: asyncpg.Connection, account_id: int) -> list[PersonalList]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM lists WHERE account_id = $1 ORDER BY lower(title), id",
                            account_id)
    return [PersonalList(**dict(r)) for r in rows]


async def get_list(conn: asyncpg.Connection, account_id: int, list_id: int) -> PersonalList:
    """The owner's list; someone else's list is as unknown as one that does not exist."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM lists WHERE id = $1 AND account_id = $2", list_id, account_id)
    if row is None:
        raise NotFound("Record not found")
    return PersonalList(**dict(row))


async def insert_list(conn: asyncpg.Connection, account_id: int, *, title: str | None, replies_policy: str | None,
                      exclusive: bool, now: datetime) -> PersonalList:
    clean = clean_title(title)
    policy = _clean_policy(replies_policy, "list")
    if await conn.fetchval("SELECT count(*) FROM lists WHERE account_id = $1", account_id) >= MAX_LISTS:
        raise Invalid("Validation failed: You have reached the maximum of %(n)s lists", n=MAX_LISTS)
    row = await conn.fetchrow(
        f"INSERT INTO lists (id, account_id, title, replies_policy, exclusive, created_at) "
        f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}", new_id(now), account_id, clean, policy, exclusive,
        now)
    return PersonalList(**dict(row))


async def update_list(conn: asyncpg.Connection, account_id: int, list_id: int, *, title: str | None,
                      replies_policy: str | None, exclusive: bool | None) -> PersonalList:
    """Change what is given; what is left out stays as it was (Mastodon's PUT takes partial updates)."""
    current = await get_list(conn, account_id, list_id)
    row = await conn.fetchrow(
        f"UPDATE lists SET title = $3, replies_policy = $4, exclusive = $5 WHERE id = $1 AND account_id = $2 "
        f"RETURNING {_COLUMNS}", list_id, account_id,
        current.title if title is None else clean_title(title),
        _clean_policy(replies_policy, current.replies_policy),
        current.exclusive if exclusive is None else exclusive)
    return PersonalList(**dict(row))


async def delete_list(conn: asyncpg.Connection, account_id: int, list_id: int) -> None:
    status = await conn.execute("DELETE FROM lists WHERE id = $1 AND account_id = $2", list_id, account_id)
    if not status.endswith(" 1"):
        raise NotFound("Record not found")


async def list_member_ids(conn: asyncpg.Connection, account_id: int, list_id: int, *, max_id: int | None = None,
                          since_id: int | None = None, limit: int = 40) -> list[int]:
    """The list's members, newest first by account id (0 as limit: all of them)."""
    await get_list(conn, account_id, list_id)
    rows = await conn.fetch(
        "SELECT account_id FROM list_accounts WHERE list_id = $1 AND ($2::bigint IS NULL OR account_id < $2) "
        "AND ($3::bigint IS NULL OR account_id > $3) ORDER BY account_id DESC LIMIT $4",
        list_id, max_id, since_id, limit if limit > 0 else None)
    return [r["account_id"] for r in rows]


async def insert_members(conn: asyncpg.Connection, account_id: int, list_id: int, member_ids: Sequence[int],
                         now: datetime) -> None:
    """Put accounts on the list: only those the owner follows or asked to follow, or the whole request is
    refused, as Mastodon refuses it."""
    await get_list(conn, account_id, list_id)
    wanted = sorted(set(member_ids))
    followed = {r["followed_id"] for r in await conn.fetch(
        "SELECT followed_id FROM follows WHERE follower_id = $1 AND followed_id = ANY($2::bigint[])",
        account_id, wanted)}
    if set(wanted) - followed:
        known = await conn.fetchval("SELECT count(*) FROM accounts WHERE id = ANY($1::bigint[])", wanted)
        if known < len(wanted):
            raise NotFound("Record not found")
        raise Invalid("Validation failed: You must follow an account to add it to a list")
    await conn.execute("INSERT INTO list_accounts (list_id, account_id, created_at) "
                       "SELECT $1, unnest($2::bigint[]), $3 ON CONFLICT DO NOTHING", list_id, wanted, now)


async def delete_members(conn: asyncpg.Connection, account_id: int, list_id: int, member_ids: Sequence[int]) -> None:
    await get_list(conn, account_id, list_id)
    await conn.execute("DELETE FROM list_accounts WHERE list_id = $1 AND account_id = ANY($2::bigint[])",
                       list_id, list(member_ids))


async def list_lists_with_member(conn: asyncpg.Connection, account_id: int, member_id: int) -> list[PersonalList]:
    """The owner's lists that hold the account (GET /api/v1/accounts/:id/lists)."""
    rows = await conn.fetch(
        f"SELECT {', '.join('l.' + c.strip() for c in _COLUMNS.split(','))} FROM lists l "
        "JOIN list_accounts la ON la.list_id = l.id WHERE l.account_id = $1 AND la.account_id = $2 "
        "ORDER BY lower(l.title), l.id", account_id, member_id)
    return [PersonalList(**dict(r)) for r in rows]


async def list_owners(conn: asyncpg.Connection, list_ids: Sequence[int]) -> dict[int, int]:
    """list id -> owner's account id, for the lists that exist."""
    rows = await conn.fetch("SELECT id, account_id FROM lists WHERE id = ANY($1::bigint[])", list(list_ids))
    return {r["id"]: r["account_id"] for r in rows}
