"""Notification policy and requests (Mastodon 4.3): whose notifications a person accepts, filters into a request
to look at later, or drops, and the requests themselves.

Owns: the notification_policies, notification_requests and notification_permissions tables, and the decision
(`decide`) server/notifications.py asks before it stores a notification, with Mastodon's conditions: the sender
is someone the person does not follow, who does not follow them (or began to less than 3 days ago), whose account
is younger than 30 days, who is limited (silenced) by the moderators, or who mentions them privately out of the
blue. Drop wins over filter. Staff, oneself, and accounts whose request the person accepted are always let
through; so are types Mastodon never filters (follow requests, polls, edits, and our review and scheduling
notices). Never: reads or changes notifications themselves (server/notifications.py does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server.errors import Invalid, NotFound
from server.ids import new_id

FIELDS = ("for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions",
          "for_limited_accounts")
VALUES = ("accept", "filter", "drop")
DEFAULTS = {"for_not_following": "accept", "for_not_followers": "accept", "for_new_accounts": "accept",
            "for_private_mentions": "filter", "for_limited_accounts": "filter"}
FILTERABLE_TYPES = ("mention", "status", "reblog", "follow", "favourite", "quote")


@dataclass(frozen=True)
class Policy:
    for_not_following: str
    for_not_followers: str
    for_new_accounts: str
    for_private_mentions: str
    for_limited_accounts: str


@dataclass(frozen=True)
class Request:
    id: int
    account_id: int
    from_account_id: int
    last_post_id: int | None
    notifications_count: int
    created_at: datetime
    updated_at: datetime


async def get_policy(conn: asyncpg.Connection, account_id: int) -> Policy:
    row = await conn.fetchrow(f"SELECT {', '.join(FIELDS)} FROM notification_policies WHERE account_id = $1",
                              account_id)
    return Policy(**dict(row)) if row else Policy(**DEFAULTS)


async def upsert_policy(conn: asyncpg.Connection, account_id: int, changes: dict[str, str],
                        now: datetime) -> Policy:
    """Change the given fields; each is accept, filter or drop."""
    current = await get_policy(conn, account_id)
    values = {name: getattr(current, name) for name in FIELDS}
    for name, value in changes.items():
        if name not in FIELDS or value not in VALUES:
            raise Invalid("Validation failed: %(name)s must be accept, filter or drop", name=name)
        values[name] = value
    await conn.execute(
        f"INSERT INTO notification_policies (account_id, {', '.join(FIELDS)}, updated_at) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id) DO UPDATE SET "
        f"{', '.join(f'{n} = EXCLUDED.{n}' for n in FIELDS)}, updated_at = EXCLUDED.updated_at",
        account_id, *(values[n] for n in FIELDS), now)
    return Policy(**values)


async def decide(conn: asyncpg.Connection, account_id: int, from_account_id: int, type: str,
                 post_id: int | None, now: datetime) -> str:
    """accept, filter or drop: what the recipient's policy does with this notification."""
    if type not in FILTERABLE_TYPES or account_id == from_account_id:
        return "accept"
    row = await conn.fetchrow(
        """SELECT
             (s.domain IS NULL AND (s.is_admin OR s.is_moderator))
               OR EXISTS (SELECT 1 FROM notification_permissions np WHERE np.account_id = $1
                          AND np.from_account_id = $2) AS trusted,
             NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followed_id = $2
                         AND f.state = 'accepted') AS not_following,
             NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $2 AND f.followed_id = $1
                         AND f.state = 'accepted' AND f.created_at <= $4::timestamptz - interval '3 days') AS not_follower,
             s.created_at > $4::timestamptz - interval '30 days' AS new_account,
             s.silenced_at IS NOT NULL AS limited,
             EXISTS (SELECT 1 FROM posts p WHERE p.id = $3 AND p.visibility = 'direct'
                     AND NOT EXISTS (SELECT 1 FROM posts ip WHERE ip.id = p.in_reply_to_id
                                     AND ip.account_id = $1)) AS private_mention
           FROM accounts s WHERE s.id = $2""", account_id, from_account_id, post_id, now)
    if row is None or row["trusted"]:
        return "accept"
    policy = await get_policy(conn, account_id)
    applies = {"for_not_following": row["not_following"], "for_not_followers": row["not_follower"],
               "for_new_accounts": row["new_account"], "for_limited_accounts": row["limited"] and row["not_following"],
               "for_private_mentions": type == "mention" and row["private_mention"] and row["not_following"]}
    chosen = {getattr(policy, name) for name, hit in applies.items() if hit}
    return "drop" if "drop" in chosen else "filter" if "filter" in chosen else "accept"


async def upsert_request(conn: asyncpg.Connection, account_id: int, from_account_id: int, post_id: int | None,
                         now: datetime) -> None:
    """One more filtered notification from this account: its request counts it and shows its latest post."""
    await conn.execute(
        "INSERT INTO notification_requests (id, account_id, from_account_id, last_post_id, notifications_count, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5) ON CONFLICT (account_id, from_account_id) DO "
        "UPDATE SET notifications_count = notification_requests.notifications_count + 1, "
        "last_post_id = coalesce(EXCLUDED.last_post_id, notification_requests.last_post_id), updated_at = $5",
        new_id(now), account_id, from_account_id, post_id, now)


_REQUEST = ("id, account_id, from_account_id, last_post_id, notifications_count, created_at, updated_at")


async def list_requests(conn: asyncpg.Connection, account_id: int, *, max_id: int | None, since_id: int | None,
                        min_id: int | None, limit: int) -> list[Request]:
    """The person's pending requests, newest first (by id), as Mastodon pages them."""
    params: list[object] = [account_id]
    conditions = ["account_id = $1"]
    for op, value in (("<", max_id), (">", since_id), (">", min_id)):
        if value is not None:
            params.append(value)
            conditions.append(f"id {op} ${len(params)}")
    order = "ASC" if min_id is not None else "DESC"
    rows = await conn.fetch(f"SELECT {_REQUEST} FROM notification_requests WHERE {' AND '.join(conditions)} "
                            f"ORDER BY id {order} LIMIT {int(limit)}", *params)
    return sorted((Request(**dict(r)) for r in rows), key=lambda r: r.id, reverse=True)


async def get_request(conn: asyncpg.Connection, account_id: int, request_id: int) -> Request:
    row = await conn.fetchrow(f"SELECT {_REQUEST} FROM notification_requests WHERE id = $1 AND account_id = $2",
                              request_id, account_id)
    if row is None:
        raise NotFound("Record not found")
    return Request(**dict(row))


async def accept_requests(conn: asyncpg.Connection, account_id: int, request_ids: Sequence[int],
                          now: datetime) -> list[int]:
    """Accept: the account's notifications come through from now on; returns whose request it was (the caller
    lets their filtered notifications into the list)."""
    rows = await conn.fetch("DELETE FROM notification_requests WHERE account_id = $1 AND id = ANY($2::bigint[]) "
                            "RETURNING from_account_id", account_id, list(request_ids))
    senders = [r["from_account_id"] for r in rows]
    await conn.execute("INSERT INTO notification_permissions (account_id, from_account_id, created_at) "
                       "SELECT $1, unnest($2::bigint[]), $3 ON CONFLICT DO NOTHING", account_id, senders, now)
    return senders


async def dismiss_requests(conn: asyncpg.Connection, account_id: int, request_ids: Sequence[int]) -> None:
    """Dismiss: the request goes; its notifications stay filtered (a later one opens a new request)."""
    await conn.execute("DELETE FROM notification_requests WHERE account_id = $1 AND id = ANY($2::bigint[])",
                       account_id, list(request_ids))


async def summary(conn: asyncpg.Connection, account_id: int) -> tuple[int, int]:
    """(pending requests, notifications in them), capped as Mastodon caps them."""
    row = await conn.fetchrow("SELECT count(*) AS requests, coalesce(sum(notifications_count), 0) AS notifications "
                              "FROM notification_requests WHERE account_id = $1", account_id)
    return min(int(row["requests"]), 100), min(int(row["notifications"]), 100)
