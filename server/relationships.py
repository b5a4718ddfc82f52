"""Mutes and blocks: whom a person chose not to see, and whom they shut out; and removing a follower.

Owns: the mutes and blocks tables and all SQL on them, including the fragments that the listing queries of
timelines.py and notifications.py embed (so those queries stay one indexed statement), and the order of steps when
someone mutes, blocks, unblocks or removes a follower. Never: tells a muted account anything, or sends anything
itself: a block of a remote account writes the outbox events `block.created`/`block.removed` (and `follow.deleted`,
`follow.rejected` for the follows it ends), which federation/outbox.py turns into Block, Undo and Reject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from server import events, follows, notifications
from server.accounts import Account
from server.errors import Forbidden, Invalid
from server.ids import new_id

MAX_MUTE_SECONDS = 100 * 365 * 24 * 3600  # "0 means forever" covers longer wishes


# ---------------------------------------------------------------- SQL fragments for other modules' queries
# Arguments are SQL expressions (a column such as "p.account_id" or a parameter such as "$1"). A NULL viewer
# matches no row, so the fragments cost nothing for someone who is not signed in.

def blocks_sql(blocker: str, blocked: str) -> str:
    """True when `blocker` blocks `blocked`."""
    return f"EXISTS (SELECT 1 FROM blocks bl WHERE bl.account_id = {blocker} AND bl.target_account_id = {blocked})"


def mutes_sql(muter: str, muted: str, *, notifications_only: bool = False) -> str:
    """True when `muter` has an active mute of `muted` (with notifications hidden, if `notifications_only`)."""
    extra = " AND mu.hide_notifications" if notifications_only else ""
    return (f"EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = {muter} AND mu.target_account_id = {muted}"
            f"{extra} AND (mu.expires_at IS NULL OR mu.expires_at > now()))")


def blocked_either_way_sql(viewer: str, author: str) -> str:
    return f"({blocks_sql(viewer, author)} OR {blocks_sql(author, viewer)})"


def hidden_accounts_sql(viewer: str) -> str:
    """The ids of accounts whose posts and boosts stay out of the viewer's timelines and threads: those the viewer
    mutes or blocks, and those who block the viewer (Mastodon's filter for home, public and threads). An
    uncorrelated subquery, so `account_id NOT IN (...)` is planned once per query, not once per row."""
    return (f"(SELECT mu.target_account_id FROM mutes mu WHERE mu.account_id = {viewer} "
            f"AND (mu.expires_at IS NULL OR mu.expires_at > now()) "
            f"UNION ALL SELECT bl.target_account_id FROM blocks bl WHERE bl.account_id = {viewer} "
            f"UNION ALL SELECT bl.account_id FROM blocks bl WHERE bl.target_account_id = {viewer})")


def blocked_accounts_sql(viewer: str) -> str:
    """The ids of accounts the viewer blocks or is blocked by: even their profile shows the viewer no posts."""
    return (f"(SELECT bl.target_account_id FROM blocks bl WHERE bl.account_id = {viewer} "
            f"UNION ALL SELECT bl.account_id FROM blocks bl WHERE bl.target_account_id = {viewer})")


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Mute:
    id: int
    account_id: int
    target_account_id: int
    hide_notifications: bool
    expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Block:
    id: int
    account_id: int
    target_account_id: int
    uri: str | None
    created_at: datetime


@dataclass(frozen=True)
class Relations:
    """What the viewer's relationship entity says beyond follows."""

    muting: bool = False
    muting_notifications: bool = False
    mute_expires_at: datetime | None = None
    blocking: bool = False
    blocked_by: bool = False


_MUTE_COLUMNS = "id, account_id, target_account_id, hide_notifications, expires_at, created_at"
_BLOCK_COLUMNS = "id, account_id, target_account_id, uri, created_at"
_ACTIVE = "(expires_at IS NULL OR expires_at > now())"


# ---------------------------------------------------------------- queries


async def get_block(conn: asyncpg.Connection, account_id: int, target_id: int) -> Block | None:
    row = await conn.fetchrow(f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE account_id = $1 "
                              f"AND target_account_id = $2", account_id, target_id)
    return Block(**dict(row)) if row else None


async def exists_block(conn: asyncpg.Connection, blocker_id: int, blocked_id: int) -> bool:
    return bool(await conn.fetchval(f"SELECT {blocks_sql('$1', '$2')}", blocker_id, blocked_id))


async def exists_block_between(conn: asyncpg.Connection, a_id: int, b_id: int) -> bool:
    return bool(await conn.fetchval(f"SELECT {blocked_either_way_sql('$1', '$2')}", a_id, b_id))


async def list_relations(conn: asyncpg.Connection, viewer_id: int, other_ids: Sequence[int]) -> dict[int, Relations]:
    """Mutes and blocks between the viewer and each other account (absent: no relation at all)."""
    rows = await conn.fetch(
        """SELECT o.id, m.hide_notifications, m.expires_at, m.id IS NOT NULL AS muting,
                   EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = $1 AND b.target_account_id = o.id) AS blocking,
                   EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = o.id AND b.target_account_id = $1)
                     AS blocked_by
            FROM unnest($2::bigint[]) AS o(id)
            LEFT JOIN mutes m ON m.account_id = $1 AND m.target_account_id = o.id
                 AND (m.expires_at IS NULL OR m.expires_at > now())
        """, viewer_id, list(other_ids))
    return {r["id"]: Relations(muting=r["muting"], muting_notifications=bool(r["muting"] and r["hide_notifications"]),
                               mute_expires_at=r["expires_at"], blocking=r["blocking"], blocked_by=r["blocked_by"])
            for r in rows}


async def _page(conn: asyncpg.Connection, table: str, columns: str, account_id: int, max_id: int | None,
                since_id: int | None, limit: int, condition: str = "TRUE") -> list[asyncpg.Record]:
    """Newest first by the row's own id, which is what Mastodon's `Link` headers page these lists by."""
    return await conn.fetch(
        f"SELECT {columns} FROM {table} WHERE account_id = $1 AND {condition} "
        f"AND ($2::bigint IS NULL OR id < $2) AND ($3::bigint IS NULL OR id > $3) ORDER BY id DESC LIMIT $4",
        account_id, max_id, since_id, limit)


async def list_mutes(conn: asyncpg.Connection, account_id: int, *, max_id: int | None = None,
                     since_id: int | None = None, limit: int = 40) -> list[Mute]:
    """The person's active mutes, newest first."""
    rows = await _page(conn, "mutes", _MUTE_COLUMNS, account_id, max_id, since_id, limit, _ACTIVE)
    return [Mute(**dict(r)) for r in rows]


async def list_blocks(conn: asyncpg.Connection, account_id: int, *, max_id: int | None = None,
                      since_id: int | None = None, limit: int = 40) -> list[Block]:
    rows = await _page(conn, "blocks", _BLOCK_COLUMNS, account_id, max_id, since_id, limit)
    return [Block(**dict(r)) for r in rows]


async def upsert_mute(conn: asyncpg.Connection, account_id: int, target_id: int, *, hide_notifications: bool,
                      expires_at: datetime | None, now: datetime) -> Mute:
    """Mute, or change an existing mute's options (as Mastodon does when one mutes again)."""
    row = await conn.fetchrow(
        f"INSERT INTO mutes (id, account_id, target_account_id, hide_notifications, expires_at, created_at) "
        f"VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, target_account_id) DO UPDATE "
        f"SET hide_notifications = EXCLUDED.hide_notifications, expires_at = EXCLUDED.expires_at "
        f"RETURNING {_MUTE_COLUMNS}", new_id(now), account_id, target_id, hide_notifications, expires_at, now)
    return Mute(**dict(row))


async def delete_mute(conn: asyncpg.Connection, account_id: int, target_id: int) -> bool:
    status = await conn.execute("DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2",
                                account_id, target_id)
    return status.endswith(" 1")


async def insert_block(conn: asyncpg.Connection, account_id: int, target_id: int, now: datetime, *,
                       uri: str | None = None) -> Block | None:
    """The new block, or None when it already existed."""
    row = await conn.fetchrow(
        f"INSERT INTO blocks (id, account_id, target_account_id, uri, created_at) VALUES ($1, $2, $3, $4, $5) "
        f"ON CONFLICT DO NOTHING RETURNING {_BLOCK_COLUMNS}", new_id(now), account_id, target_id, uri, now)
    return Block(**dict(row)) if row else None


async def delete_block(conn: asyncpg.Connection, account_id: int, target_id: int) -> Block | None:
    row = await conn.fetchrow(f"DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2 "
                              f"RETURNING {_BLOCK_COLUMNS}", account_id, target_id)
    return Block(**dict(row)) if row else None


async def delete_block_by_uri(conn: asyncpg.Connection, account_id: int, uri: str) -> bool:
    status = await conn.execute("DELETE FROM blocks WHERE account_id = $1 AND uri = $2", account_id, uri)
    return status.endswith(" 1")


# ---------------------------------------------------------------- steps


def _not_self(viewer: Account, target: Account, template: str) -> None:
    if viewer.id == target.id:
        raise Invalid(template)


async def mute(conn: asyncpg.Connection, viewer: Account, target: Account, *, notifications_too: bool = True,
               duration_seconds: int = 0, now: datetime) -> Mute:
    """Hide the target's posts and boosts (and notifications, unless asked not to) from the viewer, for
    `duration_seconds` or (0) until unmuted. Nothing is sent: the muted account never learns of it."""
    _not_self(viewer, target, "You cannot mute yourself.")
    if duration_seconds < 0 or duration_seconds > MAX_MUTE_SECONDS:
        raise Invalid("The duration must be a number of seconds from 0 (until you unmute) to %(max)d.",
                      max=MAX_MUTE_SECONDS)
    expires_at = now + timedelta(seconds=duration_seconds) if duration_seconds else None
    return await upsert_mute(conn, viewer.id, target.id, hide_notifications=notifications_too,
                             expires_at=expires_at, now=now)


async def unmute(conn: asyncpg.Connection, viewer: Account, target: Account) -> None:
    await delete_mute(conn, viewer.id, target.id)


async def _end_follow(conn: asyncpg.Connection, follower: Account, followed: Account, local: Account,
                      now: datetime) -> None:
    """End a follow either way, telling the remote side as Mastodon does: Undo of our Follow, or Reject of theirs."""
    existing = await follows.get_follow_state(conn, follower.id, followed.id)
    if existing is None or not await follows.delete_follow(conn, follower.id, followed.id):
        return
    if follower.id == local.id:
        await events.record_event(conn, "follow.deleted", followed.id, follower.id, now, {"follow_uri": existing[1]})
    elif local.id == followed.id and not follower.is_local:
        await events.record_event(conn, "follow.rejected", follower.id, followed.id, now, {"follow_uri": existing[1]})


async def block(conn: asyncpg.Connection, viewer: Account, target: Account, now: datetime) -> Block | None:
    """Shut the target out: follows both ways end, their notifications go, and a remote account's server gets a
    Block. From now on the target cannot follow, like, boost or reply to the viewer, nor notify them."""
    _not_self(viewer, target, "You cannot block yourself.")
    created = await insert_block(conn, viewer.id, target.id, now)
    if created is None:
        return await get_block(conn, viewer.id, target.id)
    await _end_follow(conn, viewer, target, viewer, now)
    await _end_follow(conn, target, viewer, viewer, now)
    await notifications.delete_notifications_from(conn, viewer.id, target.id)
    if not target.is_local:
        await events.record_event(conn, "block.created", target.id, viewer.id, now, {"block_id": created.id})
    return created


async def unblock(conn: asyncpg.Connection, viewer: Account, target: Account, now: datetime) -> None:
    """Lift a block; a remote account's server gets Undo of the Block. Ended follows stay ended."""
    removed = await delete_block(conn, viewer.id, target.id)
    if removed is not None and not target.is_local:
        await events.record_event(conn, "block.removed", target.id, viewer.id, now, {"block_id": removed.id})


async def remove_follower(conn: asyncpg.Connection, viewer: Account, follower: Account, now: datetime) -> None:
    """Mastodon's "remove from followers": the follow ends, and a remote follower's server gets a Reject of it.
    Nothing happens when the account does not follow the viewer (Mastodon answers the same way)."""
    _not_self(viewer, follower, "You cannot remove yourself from your followers.")
    await _end_follow(conn, follower, viewer, viewer, now)


async def check_may_follow(conn: asyncpg.Connection, viewer: Account, target: Account) -> None:
    """Mastodon refuses a follow when either side blocks the other."""
    if await exists_block(conn, viewer.id, target.id):
        raise Forbidden("You have blocked this account. Unblock it first.")
    if await exists_block(conn, target.id, viewer.id):
        raise Forbidden("You cannot follow this account.")


async def record_remote_block(conn: asyncpg.Connection, blocker: Account, target: Account, uri: str,
                              now: datetime) -> None:
    """A remote account blocked one of ours (its Block arrived): follows both ways end without a word back, and the
    block is kept so that our person stops seeing the blocker and cannot follow them again, as on Mastodon."""
    await follows.delete_follow(conn, blocker.id, target.id)
    await follows.delete_follow(conn, target.id, blocker.id)
    await insert_block(conn, blocker.id, target.id, now, uri=uri)
