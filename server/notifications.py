"""Notifications: someone followed, mentioned, liked, boosted, or edited a post you boosted; a reviewer approved or
rejected your held post (with the reason).

Owns: the notifications table. Never: pushes anything to devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import relationships, streams
from server.ids import new_id

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update")
# A reviewer's decision on a held post. Mastodon has no such type; the client API shows them as `status` (the post
# is attached; see docs/client-api.md), so a filter on `status` includes them.
REVIEW_TYPES = ("review_approved", "review_rejected", "review_changes_requested")
API_TYPE = {**{t: t for t in TYPES}, **{t: "status" for t in REVIEW_TYPES}}
_COLUMNS = "id, account_id, type, from_account_id, post_id, created_at, note"


def stored_types(api_types: Sequence[str]) -> list[str]:
    """The stored types behind the client API's names (`status` also means a reviewer's decision)."""
    wanted = set(api_types)
    return [stored for stored, shown in API_TYPE.items() if shown in wanted]


def _not_silenced_by_viewer() -> str:
    """The viewer ($1) does not see notifications from accounts they mute with notifications, or block, nor from
    someone the moderators suspended (gone from view, as on Mastodon). The list and the unread count both use it,
    so the count never includes what the list hides. (Built at call time: relationships imports this module.)"""
    return (f"NOT {relationships.mutes_sql('$1', 'n.from_account_id', notifications_only=True)} "
            f"AND NOT {relationships.blocks_sql('$1', 'n.from_account_id')} "
            f"AND NOT EXISTS (SELECT 1 FROM accounts fa WHERE fa.id = n.from_account_id AND fa.suspended_at IS NOT NULL)")


@dataclass(frozen=True)
class Notification:
    id: int
    account_id: int
    type: str
    from_account_id: int
    post_id: int | None
    created_at: datetime
    note: str = ""  # a reviewer's reason

    @property
    def api_type(self) -> str:
        return API_TYPE.get(self.type, self.type)


async def insert_notification(conn: asyncpg.Connection, *, account_id: int, type: str, from_account_id: int,
                              post_id: int | None, now: datetime, note: str = "") -> None:
    """Nobody is notified of their own actions, the same like or boost notifies once, only people of this node are
    notified (remote accounts hear of it through their own server), and never by someone they block."""
    if account_id == from_account_id:
        return
    inserted = await conn.fetchval(
        "INSERT INTO notifications (id, account_id, type, from_account_id, post_id, created_at, note) "
        "SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $2 AND domain IS NULL) "
        f"AND NOT {relationships.blocks_sql('$2', '$4')} ON CONFLICT DO NOTHING RETURNING id",
        new_id(now), account_id, type, from_account_id, post_id, now, note[:1000])
    if inserted is not None:
        await streams.publish(conn, streams.NOTIFICATION_CREATED, inserted)


async def insert_review_notification(conn: asyncpg.Connection, *, author_id: int, reviewer_id: int, post_id: int,
                                     decision: str, note: str, now: datetime) -> None:
    """A reviewer's decision (`approved`, `rejected`, `changes_requested`) on the author's held post, with the
    reason; every decision notifies, also a second one after the post was changed."""
    await insert_notification(conn, account_id=author_id, type=f"review_{decision}", from_account_id=reviewer_id,
                              post_id=post_id, now=now, note=note)


def _shown() -> str:
    """What the list shows of the recipient's ($1) notifications: not dismissed, not silenced, post not deleted."""
    return " AND ".join(["n.account_id = $1", "n.dismissed_at IS NULL", _not_silenced_by_viewer(),
                         "(n.post_id IS NULL OR EXISTS (SELECT 1 FROM posts p WHERE p.id = n.post_id "
                         "AND p.deleted_at IS NULL))"])


async def get_shown_notification(conn: asyncpg.Connection, notification_id: int) -> Notification | None:
    """A notification as its recipient's list would show it, or None: the streaming API sends each new one only
    when the list would have it."""
    account_id = await conn.fetchval("SELECT account_id FROM notifications WHERE id = $1", notification_id)
    if account_id is None:
        return None
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM notifications n WHERE {_shown()} AND n.id = $2",
                              account_id, notification_id)
    return Notification(**dict(row)) if row else None


async def list_notifications(conn: asyncpg.Connection, account_id: int, *, max_id: int | None, since_id: int | None,
                             min_id: int | None, limit: int, types: Sequence[str] = (),
                             exclude_types: Sequence[str] = ()) -> list[Notification]:
    conditions = [_shown()]
    params: list[object] = [account_id]
    for op, value in (("<", max_id), (">", since_id), (">", min_id)):
        if value is not None:
            params.append(value)
            conditions.append(f"n.id {op} ${len(params)}")
    if types:
        params.append(list(types))
        conditions.append(f"n.type = ANY(${len(params)}::text[])")
    if exclude_types:
        params.append(list(exclude_types))
        conditions.append(f"NOT (n.type = ANY(${len(params)}::text[]))")
    order = "ASC" if min_id is not None else "DESC"
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM notifications n WHERE {' AND '.join(conditions)} "
                            f"ORDER BY n.id {order} LIMIT {int(limit)}", *params)
    found = [Notification(**dict(r)) for r in rows]
    return sorted(found, key=lambda n: n.id, reverse=True)


async def get_notification(conn: asyncpg.Connection, account_id: int, notification_id: int) -> Notification | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM notifications WHERE id = $1 AND account_id = $2 "
                              f"AND dismissed_at IS NULL", notification_id, account_id)
    return Notification(**dict(row)) if row else None


async def dismiss_notification(conn: asyncpg.Connection, account_id: int, notification_id: int,
                               now: datetime) -> bool:
    status = await conn.execute("UPDATE notifications SET dismissed_at = $3 WHERE id = $1 AND account_id = $2 "
                                "AND dismissed_at IS NULL", notification_id, account_id, now)
    return status.endswith(" 1")


async def clear_notifications(conn: asyncpg.Connection, account_id: int, now: datetime) -> None:
    await conn.execute("UPDATE notifications SET dismissed_at = $2 WHERE account_id = $1 AND dismissed_at IS NULL",
                       account_id, now)


async def count_unread(conn: asyncpg.Connection, account_id: int, after_id: int) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM notifications n WHERE n.account_id = $1 AND n.id > $2 "
                                   f"AND n.dismissed_at IS NULL AND {_not_silenced_by_viewer()}",
                                   account_id, after_id) or 0)


async def delete_notifications_from(conn: asyncpg.Connection, account_id: int, from_account_id: int) -> None:
    """A block takes away what the blocked account caused (Mastodon clears them too), so unblocking brings none back."""
    await conn.execute("DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2",
                       account_id, from_account_id)


async def delete_notifications_for_purge(conn: asyncpg.Connection, from_account_ids: list[int],
                                         post_ids: list[int]) -> int:
    """Notifications caused by these accounts or about these posts (before the posts are purged)."""
    status = await conn.execute("DELETE FROM notifications WHERE from_account_id = ANY($1::bigint[]) "
                                "OR post_id = ANY($2::bigint[])", from_account_ids, post_ids)
    return int(status.split()[-1])
