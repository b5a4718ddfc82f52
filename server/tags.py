"""Hashtags a person follows or features: followed tags bring public posts with the tag into their home timeline
and user stream; featured tags are shown on their profile (Mastodon's tag follows and featured tags).

Owns: the followed_tags and featured_tags tables and their SQL, including the fragment timelines.py embeds in the
home condition (`followed_tag_sql`), what a valid tag name is, and the limit of featured tags.
Never: counts or shows posts (timelines.py does, through the visibility rule).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import text
from server.errors import Invalid, NotFound
from server.ids import new_id

MAX_FEATURED = 10  # Mastodon's FeaturedTag limit
_NAME = re.compile(r"^\w{1,100}$")


@dataclass(frozen=True)
class TagRow:
    id: int
    tag: str
    created_at: datetime


def tag_name(raw: str) -> str:
    """A tag as stored (lower-case, without `#`), or Invalid when it could not be a hashtag."""
    name = raw.strip().lstrip("#")
    if not _NAME.match(name) or not any(ch.isalpha() for ch in name):
        raise Invalid("A hashtag is made of letters, digits and underscores, with at least one letter.")
    return text.normalise_tag(name)


def followed_tag_sql(post: str, viewer: str) -> str:
    """True when the post `post` (a column) carries a tag that `viewer` (an SQL expression) follows."""
    return (f"EXISTS (SELECT 1 FROM followed_tags ft JOIN post_tags ftp ON ftp.tag = ft.tag "
            f"WHERE ft.account_id = {viewer} AND ftp.post_id = {post})")


async def insert_followed_tag(conn: asyncpg.Connection, account_id: int, tag: str, now: datetime) -> None:
    await conn.execute("INSERT INTO followed_tags (id, account_id, tag, created_at) VALUES ($1, $2, $3, $4) "
                       "ON CONFLICT (account_id, tag) DO NOTHING", new_id(now), account_id, tag, now)


async def delete_followed_tag(conn: asyncpg.Connection, account_id: int, tag: str) -> None:
    await conn.execute("DELETE FROM followed_tags WHERE account_id = $1 AND tag = $2", account_id, tag)


async def list_followed_tags(conn: asyncpg.Connection, account_id: int, *, max_id: int | None,
                             since_id: int | None, limit: int) -> list[TagRow]:
    """Newest follow first, paged by the follow's own id (as Mastodon pages followed tags)."""
    rows = await conn.fetch(
        "SELECT id, tag, created_at FROM followed_tags WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2) "
        "AND ($3::bigint IS NULL OR id > $3) ORDER BY id DESC LIMIT $4", account_id, max_id, since_id, limit)
    return [TagRow(**dict(r)) for r in rows]


async def list_following(conn: asyncpg.Connection, account_id: int | None, tags: Sequence[str]) -> set[str]:
    """Which of the tags the account follows."""
    if account_id is None or not tags:
        return set()
    rows = await conn.fetch("SELECT tag FROM followed_tags WHERE account_id = $1 AND tag = ANY($2::text[])",
                            account_id, list(tags))
    return {r["tag"] for r in rows}


async def insert_featured_tag(conn: asyncpg.Connection, account_id: int, tag: str, now: datetime) -> TagRow:
    """Feature a tag on the account's profile (the existing row when it is featured already)."""
    existing = await conn.fetchrow("SELECT id, tag, created_at FROM featured_tags WHERE account_id = $1 AND tag = $2",
                                   account_id, tag)
    if existing:
        return TagRow(**dict(existing))
    count = await conn.fetchval("SELECT count(*) FROM featured_tags WHERE account_id = $1", account_id)
    if count >= MAX_FEATURED:
        raise Invalid("You feature %(n)d hashtags already, the most there can be: remove one first.", n=MAX_FEATURED)
    row = await conn.fetchrow("INSERT INTO featured_tags (id, account_id, tag, created_at) VALUES ($1, $2, $3, $4) "
                              "RETURNING id, tag, created_at", new_id(now), account_id, tag, now)
    return TagRow(**dict(row))


async def delete_featured_tag(conn: asyncpg.Connection, account_id: int, featured_id: int) -> None:
    if await conn.fetchval("DELETE FROM featured_tags WHERE account_id = $1 AND id = $2 RETURNING id",
                           account_id, featured_id) is None:
        raise NotFound("You do not feature that hashtag.")


async def list_featured_tags(conn: asyncpg.Connection, account_id: int) -> list[TagRow]:
    rows = await conn.fetch("SELECT id, tag, created_at FROM featured_tags WHERE account_id = $1 ORDER BY id",
                            account_id)
    return [TagRow(**dict(r)) for r in rows]
