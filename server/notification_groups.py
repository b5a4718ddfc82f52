"""Grouped notifications (Mastodon 4.3's /api/v2/notifications): a page of groups, each summed up within the page.

Owns: how notifications become a page of groups, as Mastodon's NotificationGroup does it: going down the list
(up, for `min_id`), notifications join the group of their `group_key` (when the app asked to group their type;
otherwise each is its own `ungrouped-<id>`) until one would open a group past the limit; each group then tells
how many of its notifications the page covers, the oldest and newest of them, and up to 8 accounts, most recent
first. So a group that spans two pages appears on both with its part, as on Mastodon. Never: SQL (it reads
through server/notifications.py), or rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import notifications
from server.notifications import Notification

SAMPLE_ACCOUNTS = 8  # Mastodon's NotificationGroup::SAMPLE_ACCOUNTS_SIZE
SCAN = 400  # notifications read at most for one page of groups
GROUPABLE = notifications.GROUPABLE_TYPES


@dataclass(frozen=True)
class Group:
    group_key: str
    latest: Notification  # the group's newest notification in the page: its type, post and extensions
    notifications_count: int
    page_min_id: int
    page_max_id: int
    latest_page_notification_at: datetime
    sample_account_ids: tuple[int, ...]


def key_of(n: Notification, grouped_types: Sequence[str]) -> str:
    return n.group_key if n.group_key and n.api_type in grouped_types else f"ungrouped-{n.id}"


def build_groups(scanned: Sequence[Notification], limit: int, grouped_types: Sequence[str]) -> list[Group]:
    """Groups from notifications in the order read (newest first, or oldest first for forward paging), at most
    `limit`; returned newest group first."""
    members: dict[str, list[Notification]] = {}
    for n in scanned:
        key = key_of(n, grouped_types)
        if key not in members and len(members) >= limit:
            break
        members.setdefault(key, []).append(n)
    groups = []
    for key, found in members.items():
        newest_first = sorted(found, key=lambda n: n.id, reverse=True)
        samples: list[int] = []
        for n in newest_first:
            if n.from_account_id not in samples and len(samples) < SAMPLE_ACCOUNTS:
                samples.append(n.from_account_id)
        groups.append(Group(key, newest_first[0], len(found), newest_first[-1].id, newest_first[0].id,
                            newest_first[0].created_at, tuple(samples)))
    return sorted(groups, key=lambda g: g.page_max_id, reverse=True)


async def list_groups(conn: asyncpg.Connection, account_id: int, *, max_id: int | None, since_id: int | None,
                      min_id: int | None, limit: int, grouped_types: Sequence[str] = GROUPABLE,
                      types: Sequence[str] = (), exclude_types: Sequence[str] = (), include_filtered: bool = False,
                      from_account_id: int | None = None) -> list[Group]:
    scanned = await notifications.list_notifications(
        conn, account_id, max_id=max_id, since_id=since_id, min_id=min_id, limit=SCAN, types=types,
        exclude_types=exclude_types, include_filtered=include_filtered, from_account_id=from_account_id)
    if min_id is not None:
        scanned = scanned[::-1]  # forward paging groups from the oldest unseen one up
    return build_groups(scanned, limit, grouped_types)


async def get_group(conn: asyncpg.Connection, account_id: int, group_key: str) -> Group | None:
    """One whole group (its newest SCAN notifications), or None when the person has no such group."""
    found = await notifications.list_notifications(conn, account_id, max_id=None, since_id=None, min_id=None,
                                                   limit=SCAN, group_key=group_key, include_filtered=True)
    groups = build_groups(found, 1, () if group_key.startswith("ungrouped-") else GROUPABLE)
    return groups[0] if groups else None


async def list_group_account_ids(conn: asyncpg.Connection, account_id: int, group_key: str) -> list[int]:
    """The accounts of a group, most recent first, each once."""
    found = await notifications.list_notifications(conn, account_id, max_id=None, since_id=None, min_id=None,
                                                   limit=SCAN, group_key=group_key, include_filtered=True)
    return list(dict.fromkeys(n.from_account_id for n in found))
