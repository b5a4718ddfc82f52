"""Notifications: someone followed, mentioned, liked, boosted, or edited a post you boosted; a reviewer approved or
rejected your held post (with the reason).

Owns: the notifications table, with Mastodon 4.3's `group_key` (favourites and boosts of one post, and follows,
within a span of hours share one) and `filtered` (the recipient's notification policy, server/notification_policy.py,
keeps it out of the list until they accept its request). Never: pushes anything to devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import conversation_mutes, notification_policy, relationships, streams
from server.ids import new_id

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "quote")
# A reviewer's decision on a held post. Mastodon has no such type; the client API shows them as `status` (the post
# is attached; see docs/client-api.md), so a filter on `status` includes them.
REVIEW_TYPES = ("review_approved", "review_rejected", "review_changes_requested")
# What became of one's own scheduled post at its time (server/scheduled.py): held for review (the held post is
# attached, shown as `status` like a review), or not published (the reason in `note`, no post: a type of our own).
SCHEDULED_TYPES = ("scheduled_held", "scheduled_failed")
API_TYPE = {**{t: t for t in TYPES}, **{t: "status" for t in REVIEW_TYPES}, "scheduled_held": "status",
            "scheduled_failed": "ambtenaar_scheduled_failed"}
_COLUMNS = "id, account_id, type, from_account_id, post_id, created_at, note, group_key, filtered"
GROUPABLE_TYPES = ("favourite", "reblog", "follow")
MAX_GROUP_SPAN_HOURS = 12  # Mastodon's Notification::MAXIMUM_GROUP_SPAN_HOURS


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
    group_key: str | None = None  # None: never grouped (the API shows `ungrouped-<id>`)
    filtered: bool = False

    @property
    def api_type(self) -> str:
        return API_TYPE.get(self.type, self.type)


async def insert_notification(conn: asyncpg.Connection, *, account_id: int, type: str, from_account_id: int,
                              post_id: int | None, now: datetime, note: str = "") -> None:
    """Nobody is notified of their own actions, the same like or boost notifies once, only people of this node are
    notified (remote accounts hear of it through their own server), and never by someone they block."""
    if account_id == from_account_id and type != "poll":  # a poll's end is news to its author too, as on Mastodon
        return
    decision = await notification_policy.decide(conn, account_id, from_account_id, type, post_id, now)
    if decision == "drop":
        return
    inserted = await conn.fetchval(
        "INSERT INTO notifications (id, account_id, type, from_account_id, post_id, created_at, note, group_key, "
        "filtered) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $2 "
        f"AND domain IS NULL) AND NOT {relationships.blocks_sql('$2', '$4')} "
        # A muted conversation notifies of nothing in it, as on Mastodon (a reviewer's decision still comes).
        f"AND ($3 <> ALL($10::text[]) OR NOT {conversation_mutes.muted_sql('$5::bigint', '$2')}) "
        "ON CONFLICT DO NOTHING RETURNING id",
        new_id(now), account_id, type, from_account_id, post_id, now, note[:1000],
        await _group_key(conn, account_id, type, post_id, now), decision == "filter", list(TYPES))
    if inserted is None:
        return
    if decision == "filter":
        await notification_policy.upsert_request(conn, account_id, from_account_id, post_id, now)
    else:  # a filtered notification is not streamed (Mastodon pushes none)
        await streams.publish(conn, streams.NOTIFICATION_CREATED, inserted)


async def _group_key(conn: asyncpg.Connection, account_id: int, type: str, post_id: int | None,
                     now: datetime) -> str | None:
    """Mastodon's: `<type>[-<post id>]-<hour bucket>`, reusing the previous bucket of the same prefix while it is
    less than 12 hours old, so a burst of likes stays one group."""
    if type not in GROUPABLE_TYPES:
        return None
    prefix = type if type == "follow" else f"{type}-{post_id}"
    bucket = int(now.timestamp()) // 3600
    previous = await conn.fetchval(
        "SELECT group_key FROM notifications WHERE account_id = $1 AND group_key LIKE $2 || '-%' "
        "AND created_at > $3::timestamptz - make_interval(hours => $4) ORDER BY id DESC LIMIT 1",
        account_id, prefix, now, MAX_GROUP_SPAN_HOURS)
    if previous is not None:
        earlier = int(previous.rsplit("-", 1)[1])
        if bucket < earlier + MAX_GROUP_SPAN_HOURS:
            bucket = earlier
    return f"{prefix}-{bucket}"


async def insert_review_notification(conn: asyncpg.Connection, *, author_id: int, reviewer_id: int, post_id: int,
                                     decision: str, note: str, now: datetime) -> None:
    """A reviewer's decision (`approved`, `rejected`, `changes_requested`) on the author's held post, with the
    reason; every decision notifies, also a second one after the post was changed."""
    await insert_notification(conn, account_id=author_id, type=f"review_{decision}", from_account_id=reviewer_id,
                              post_id=post_id, now=now, note=note)


async def insert_scheduled_notification(conn: asyncpg.Connection, *, author_id: int, post_id: int | None,
                                        outcome: str, note: str, now: datetime) -> None:
    """Tell the author what became of their scheduled post (`held`, `failed`); it is their own post, so the
    notification is "from" them, the one kind that is."""
    inserted = await conn.fetchval(
        "INSERT INTO notifications (id, account_id, type, from_account_id, post_id, created_at, note) "
        "VALUES ($1, $2, $3, $2, $4, $5, $6) RETURNING id",
        new_id(now), author_id, f"scheduled_{outcome}", post_id, now, note[:1000])
    await streams.publish(conn, streams.NOTIFICATION_CREATED, inserted)


def _shown(include_filtered: bool = False) -> str:
    """What the list shows of the recipient's ($1) notifications: not dismissed, not silenced, post not deleted,
    not held back by their notification policy (unless asked for: `include_filtered`)."""
    return " AND ".join(["n.account_id = $1", "n.dismissed_at IS NULL", _not_silenced_by_viewer(),
                         "TRUE" if include_filtered else "NOT n.filtered",
                         # By the post's key, not EXISTS: PostgreSQL may plan an EXISTS under OR as a hash of
                         # every post (tests/integration/test_query_plans.py).
                         "(n.post_id IS NULL OR coalesce((SELECT p.deleted_at IS NULL FROM posts p "
                         "WHERE p.id = n.post_id), false))"])


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
                             exclude_types: Sequence[str] = (), include_filtered: bool = False,
                             from_account_id: int | None = None, group_key: str | None = None) -> list[Notification]:
    """A page of the list, newest first. `group_key`: only that group's (an `ungrouped-<id>` key: that one)."""
    conditions = [_shown(include_filtered)]
    params: list[object] = [account_id]
    if from_account_id is not None:
        params.append(from_account_id)
        conditions.append(f"n.from_account_id = ${len(params)}")
    if group_key is not None:
        single = group_key.removeprefix("ungrouped-")
        if single != group_key:
            params.append(int(single) if single.isdigit() and len(single) <= 19 else 0)
            conditions.append(f"n.id = ${len(params)}")
        else:
            params.append(group_key)
            conditions.append(f"n.group_key = ${len(params)}")
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


async def count_unread(conn: asyncpg.Connection, account_id: int, after_id: int, *, groups: bool = False,
                       types: Sequence[str] = (), exclude_types: Sequence[str] = (),
                       from_account_id: int | None = None, limit: int = 1000) -> int:
    """Unread notifications after the marker (`groups`: the groups they form, as v2 counts), at most `limit`."""
    counted = "DISTINCT coalesce(n.group_key, n.id::text)" if groups else "n.id"
    return int(await conn.fetchval(
        f"SELECT count(*) FROM (SELECT {counted} FROM notifications n WHERE n.account_id = $1 AND n.id > $2 "
        f"AND n.dismissed_at IS NULL AND NOT n.filtered AND {_not_silenced_by_viewer()} "
        "AND (cardinality($3::text[]) = 0 OR n.type = ANY($3::text[])) AND NOT (n.type = ANY($4::text[])) "
        "AND ($5::bigint IS NULL OR n.from_account_id = $5) LIMIT $6) AS unread",
        account_id, after_id, list(types), list(exclude_types), from_account_id, limit) or 0)


async def dismiss_group(conn: asyncpg.Connection, account_id: int, group_key: str, now: datetime) -> None:
    """Dismiss every notification of a group (an `ungrouped-<id>` key: that one)."""
    single = group_key.removeprefix("ungrouped-")
    if single != group_key:
        if single.isdigit() and len(single) <= 19:
            await dismiss_notification(conn, account_id, int(single), now)
        return
    await conn.execute("UPDATE notifications SET dismissed_at = $3 WHERE account_id = $1 AND group_key = $2 "
                       "AND dismissed_at IS NULL", account_id, group_key, now)


async def update_unfiltered(conn: asyncpg.Connection, account_id: int, from_account_ids: Sequence[int]) -> None:
    """An accepted request lets the sender's filtered notifications into the list."""
    await conn.execute("UPDATE notifications SET filtered = false WHERE account_id = $1 AND filtered "
                       "AND from_account_id = ANY($2::bigint[])", account_id, list(from_account_ids))


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
