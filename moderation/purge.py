"""Removing what this node cached from remote accounts that moderators suspended.

Owns: the order of the purge (likes, notifications and media before the posts they point at; then the posts and
boosts; then the follows both ways; then the cached profile), all in the caller's transaction, so a purge is whole
or not at all. Never: local accounts (their posts are the node's own record; suspending a local account hides it,
nothing more), the organisations' received records (citizens' replies and webcare messages: kept as deleted
posts for the archive, server/archive.py purges them when their retention ends, unless the law requires
destruction: `keep_archive_copy=False`), sending anything (a suspended server hears nothing from us, as on
Mastodon), or deciding who is suspended (moderation/domain_blocks.py and the moderators' account actions do,
and audit it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import accounts, archive_records, follows, media, notifications, posts, profiles, reactions, webcare


@dataclass(frozen=True)
class PurgeResult:
    """How much was removed, for the audit entry of the step that asked for the purge."""

    accounts: int
    posts: int
    follows: int
    favourites: int
    notifications: int
    kept_for_archive: int = 0

    def as_detail(self) -> dict[str, int]:
        return {"kept_for_archive": self.kept_for_archive, "purged_accounts": self.accounts,
                "purged_posts": self.posts, "purged_follows": self.follows,
                "purged_favourites": self.favourites, "purged_notifications": self.notifications}


async def purge_remote_accounts(conn: asyncpg.Connection, account_ids: Iterable[int], now: datetime, *,
                                keep_archive_copy: bool = True) -> PurgeResult:
    """Remove the cached content of remote accounts: their posts and boosts (and boosts of their posts), their
    likes and the likes of their posts, notifications they caused, follows to and from them, and their profile.

    Local account ids are ignored. `now` is the moment of the decision (kept for callers that log it).
    """
    wanted = list(dict.fromkeys(account_ids))
    found = await accounts.list_accounts_by_ids(conn, wanted)
    ids = [a.id for a in found.values() if not a.is_local]
    if not ids:
        return PurgeResult(0, 0, 0, 0, 0)
    post_ids = await posts.list_post_ids_for_purge(conn, ids)
    kept: list[int] = []
    if keep_archive_copy:  # public records of an organisation: gone from every page, kept for the archive
        kept = await archive_records.list_received_record_ids(conn, post_ids)
        for post_id in kept:
            await posts.delete_post(conn, post_id, now)
        post_ids = [i for i in post_ids if i not in set(kept)]  # the rest goes for good
    else:  # destruction required: webcare lets go of them first (their conversations and history lines)
        await webcare.forget_posts(conn, post_ids)
    favourites = await reactions.delete_favourites_for_purge(conn, ids, post_ids)
    notified = await notifications.delete_notifications_for_purge(conn, ids, post_ids)
    await media.delete_attachments_for_purge(conn, post_ids)
    removed_posts = await posts.delete_posts_for_purge(conn, post_ids)
    removed_follows = await follows.delete_follows_of_accounts(conn, ids)
    await accounts.update_clear_remote_profiles(conn, ids)
    await profiles.delete_remote_profiles(conn, ids)
    return PurgeResult(accounts=len(ids), posts=removed_posts, follows=removed_follows, favourites=favourites,
                       notifications=notified, kept_for_archive=len(kept))
