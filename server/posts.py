"""Posts, their edit history, hashtags and mentions; boosts are posts that point at another post.

Owns: the posts, post_edits, post_tags and post_mentions tables and their SQL. Never: decides whether a post may
be published (server/publishing.py does), builds ActivityStreams JSON, or calls HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from server import streams
from server.ids import new_id

VISIBILITIES = ("public", "unlisted", "private", "direct")
_COLUMNS = ("id, account_id, source_text, content_html, spoiler_text, visibility, voice, organisation_id, language, "
            "in_reply_to_id, reblog_of_id, created_at, edited_at, deleted_at, uri, url, in_reply_to_uri, voice_declared, "
            "voice_organisation_uri, voice_organisation_name, state, policy_findings, review_note, written_by_id")


@dataclass(frozen=True)
class Post:
    id: int
    account_id: int
    source_text: str
    content_html: str
    spoiler_text: str
    visibility: str
    voice: str
    organisation_id: int | None
    language: str
    in_reply_to_id: int | None
    reblog_of_id: int | None
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    # Remote posts: their id on the wire, their page, and the parent we may not have fetched.
    uri: str | None = None
    url: str | None = None
    in_reply_to_uri: str | None = None
    # Whether the post said its voice (ours always do; other software does not), and for a remote official post
    # the organisation actor it speaks for.
    voice_declared: bool = True
    voice_organisation_uri: str | None = None
    voice_organisation_name: str | None = None
    # The organisation's policy checks: a held post waits for a reviewer; a rejected one stays private.
    state: str = "published"
    policy_findings: list[dict[str, Any]] | None = None
    review_note: str | None = None
    # A post of an organisation's account written by one of its people (webcare, server/webcare.py): who, for the
    # team and the audit log; never on the wire.
    written_by_id: int | None = None


@dataclass(frozen=True)
class PostEdit:
    id: int
    source_text: str
    content_html: str
    spoiler_text: str
    created_at: datetime


def _post(row: asyncpg.Record) -> Post:
    return Post(**dict(row))


async def _announced(conn: asyncpg.Connection, row: asyncpg.Record | None) -> Post | None:
    """A boost just stored, announced to the streaming API (server/streams.py); None when nothing was stored."""
    if row is None:
        return None
    await streams.publish(conn, streams.POST_PUBLISHED, row["id"])
    return _post(row)


async def insert_post(conn: asyncpg.Connection, *, account_id: int, source_text: str, content_html: str,
                      spoiler_text: str, visibility: str, voice: str, organisation_id: int | None, language: str,
                      in_reply_to_id: int | None, tags: Sequence[str], mention_ids: Sequence[int],
                      now: datetime, state: str = "published",
                      policy_findings: Sequence[Mapping[str, Any]] | None = None,
                      written_by_id: int | None = None) -> Post:
    row = await conn.fetchrow(
        f"INSERT INTO posts (id, account_id, source_text, content_html, spoiler_text, visibility, voice, "
        f"organisation_id, language, in_reply_to_id, created_at, state, policy_findings, written_by_id) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING {_COLUMNS}",
        new_id(now), account_id, source_text, content_html, spoiler_text, visibility, voice, organisation_id,
        language, in_reply_to_id, now, state, [dict(f) for f in policy_findings] if policy_findings else None,
        written_by_id)
    post = _post(row)
    await _replace_tags_and_mentions(conn, post.id, tags, mention_ids)
    if post.state == "published":
        await streams.publish(conn, streams.POST_PUBLISHED, post.id)
    return post


async def _replace_tags_and_mentions(conn: asyncpg.Connection, post_id: int, tags: Sequence[str],
                                     mention_ids: Sequence[int]) -> None:
    await conn.execute("DELETE FROM post_tags WHERE post_id = $1", post_id)
    await conn.execute("DELETE FROM post_mentions WHERE post_id = $1", post_id)
    if tags:
        await conn.executemany("INSERT INTO post_tags (post_id, tag) VALUES ($1, $2)", [(post_id, t) for t in tags])
    if mention_ids:
        await conn.executemany("INSERT INTO post_mentions (post_id, account_id) VALUES ($1, $2)",
                               [(post_id, a) for a in mention_ids])


async def get_post(conn: asyncpg.Connection, post_id: int, *, include_deleted: bool = False,
                   for_update: bool = False) -> Post | None:
    """One post; `for_update` locks its row until the caller's transaction ends, so that an edit and a reviewer's
    decision on the same post run one after the other, each seeing what the other did."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM posts WHERE id = $1" + ("" if include_deleted else " AND deleted_at IS NULL")
        + (" FOR UPDATE" if for_update else ""), post_id)
    return _post(row) if row else None


async def list_posts(conn: asyncpg.Connection, post_ids: Sequence[int]) -> dict[int, Post]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM posts WHERE id = ANY($1::bigint[])", list(post_ids))
    return {r["id"]: _post(r) for r in rows}


async def update_post_content(conn: asyncpg.Connection, post: Post, *, source_text: str, content_html: str,
                              spoiler_text: str, tags: Sequence[str], mention_ids: Sequence[int],
                              now: datetime) -> Post:
    """Keep the version being replaced in post_edits, then store the new one. Voice and visibility stay."""
    await conn.execute(
        "INSERT INTO post_edits (id, post_id, source_text, content_html, spoiler_text, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        new_id(now), post.id, post.source_text, post.content_html, post.spoiler_text, post.edited_at or post.created_at)
    row = await conn.fetchrow(
        f"UPDATE posts SET source_text = $2, content_html = $3, spoiler_text = $4, edited_at = $5 "
        f"WHERE id = $1 RETURNING {_COLUMNS}", post.id, source_text, content_html, spoiler_text, now)
    await _replace_tags_and_mentions(conn, post.id, tags, mention_ids)
    if row["state"] == "published":
        await streams.publish(conn, streams.POST_EDITED, post.id)
    return _post(row)


async def list_post_edits(conn: asyncpg.Connection, post_id: int) -> list[PostEdit]:
    """Earlier versions, oldest first; the current version is the post itself."""
    rows = await conn.fetch("SELECT id, source_text, content_html, spoiler_text, created_at FROM post_edits "
                            "WHERE post_id = $1 ORDER BY id", post_id)
    return [PostEdit(**dict(r)) for r in rows]


async def delete_post(conn: asyncpg.Connection, post_id: int, now: datetime) -> None:
    """Soft delete: the row stays so that replies keep their place and federation can send a Delete."""
    if await conn.execute("UPDATE posts SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL",
                          post_id, now) == "UPDATE 1":
        await streams.publish(conn, streams.POST_DELETED, post_id)
    # Boosts of a deleted post go with it, as on Mastodon.
    await conn.execute("UPDATE posts SET deleted_at = $2 WHERE reblog_of_id = $1 AND deleted_at IS NULL", post_id, now)


async def insert_boost(conn: asyncpg.Connection, *, account_id: int, post: Post, now: datetime) -> Post | None:
    """Boost `post`; None when the account had already boosted it."""
    row = await conn.fetchrow(
        f"INSERT INTO posts (id, account_id, visibility, voice, organisation_id, language, reblog_of_id, created_at) "
        f"VALUES ($1, $2, $3, 'personal', NULL, $4, $5, $6) "
        f"ON CONFLICT (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL AND deleted_at IS NULL DO NOTHING "
        f"RETURNING {_COLUMNS}",
        new_id(now), account_id, post.visibility, post.language, post.id, now)
    return await _announced(conn, row)


async def get_boost(conn: asyncpg.Connection, account_id: int, post_id: int) -> Post | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM posts WHERE account_id = $1 AND reblog_of_id = $2 "
                              f"AND deleted_at IS NULL", account_id, post_id)
    return _post(row) if row else None


async def list_mentioned_account_ids(conn: asyncpg.Connection, post_id: int) -> list[int]:
    return [r["account_id"] for r in await conn.fetch("SELECT account_id FROM post_mentions WHERE post_id = $1",
                                                      post_id)]


async def list_tags(conn: asyncpg.Connection, post_ids: Sequence[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for r in await conn.fetch("SELECT post_id, tag FROM post_tags WHERE post_id = ANY($1::bigint[]) ORDER BY tag",
                              list(post_ids)):
        result.setdefault(r["post_id"], []).append(r["tag"])
    return result


async def search_tags(conn: asyncpg.Connection, query: str, limit: int, offset: int) -> list[str]:
    prefix = query.strip().lstrip("#").lower()
    if not prefix:
        return []
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await conn.fetch("SELECT tag FROM post_tags WHERE tag LIKE $1 || '%' GROUP BY tag "
                            "ORDER BY count(*) DESC, tag LIMIT $2 OFFSET $3", pattern, limit, offset)
    return [r["tag"] for r in rows]


async def get_post_by_uri(conn: asyncpg.Connection, uri: str, *, include_deleted: bool = False) -> Post | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM posts WHERE uri = $1"
                              + ("" if include_deleted else " AND deleted_at IS NULL"), uri)
    return _post(row) if row else None


async def upsert_remote_post(conn: asyncpg.Connection, *, account_id: int, uri: str, url: str | None,
                             content_html: str, spoiler_text: str, visibility: str, language: str,
                             in_reply_to_id: int | None, in_reply_to_uri: str | None, tags: Sequence[str],
                             mention_ids: Sequence[int], published: datetime, updated: datetime | None,
                             now: datetime, voice: str | None = None, voice_organisation_uri: str | None = None,
                             voice_organisation_name: str | None = None) -> tuple[Post, bool]:
    """Store a remote Note (or refresh it after an Update); (post, created). A post without our voice term is
    stored as personal and marked undeclared; an edit never changes the voice it was published with."""
    existing = await get_post_by_uri(conn, uri, include_deleted=True)
    if existing is not None:
        if existing.deleted_at is not None or existing.account_id != account_id:
            return existing, False
        if content_html != existing.content_html or spoiler_text != existing.spoiler_text:
            await conn.execute(
                "INSERT INTO post_edits (id, post_id, source_text, content_html, spoiler_text, created_at) "
                "VALUES ($1, $2, '', $3, $4, $5)", new_id(now), existing.id, existing.content_html,
                existing.spoiler_text, existing.edited_at or existing.created_at)
            row = await conn.fetchrow(f"UPDATE posts SET content_html = $2, spoiler_text = $3, edited_at = $4 "
                                      f"WHERE id = $1 RETURNING {_COLUMNS}", existing.id, content_html, spoiler_text,
                                      updated or now)
            await _replace_tags_and_mentions(conn, existing.id, tags, mention_ids)
            await streams.publish(conn, streams.POST_EDITED, existing.id)
            return _post(row), False
        return existing, False
    official = voice == "official" and voice_organisation_uri is not None
    row = await conn.fetchrow(
        f"INSERT INTO posts (id, account_id, content_html, spoiler_text, visibility, voice, language, in_reply_to_id, "
        f"in_reply_to_uri, uri, url, created_at, voice_declared, voice_organisation_uri, voice_organisation_name) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING {_COLUMNS}",
        new_id(published if published <= now else now), account_id, content_html, spoiler_text, visibility,
        "official" if official else "personal", language, in_reply_to_id, in_reply_to_uri, uri, url, published,
        voice in ("official", "personal"), voice_organisation_uri if official else None,
        voice_organisation_name if official else None)
    post = _post(row)
    await _replace_tags_and_mentions(conn, post.id, tags, mention_ids)
    await streams.publish(conn, streams.POST_PUBLISHED, post.id)
    return post, True


async def insert_remote_boost(conn: asyncpg.Connection, *, account_id: int, post: Post, uri: str,
                              now: datetime) -> Post | None:
    row = await conn.fetchrow(
        f"INSERT INTO posts (id, account_id, visibility, voice, language, reblog_of_id, uri, created_at) "
        f"VALUES ($1, $2, $3, 'personal', $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING {_COLUMNS}",
        new_id(now), account_id, post.visibility, post.language, post.id, uri, now)
    return await _announced(conn, row)


async def update_state(conn: asyncpg.Connection, post_id: int, state: str, *, note: str | None) -> Post | None:
    """Move a held post to published or rejected (only from held: a decision is made once)."""
    row = await conn.fetchrow(f"UPDATE posts SET state = $2, review_note = $3 WHERE id = $1 AND state = 'held' "
                              f"AND deleted_at IS NULL RETURNING {_COLUMNS}", post_id, state, note)
    if row is not None and state == "published":
        await streams.publish(conn, streams.POST_PUBLISHED, post_id)
    return _post(row) if row else None


async def update_resubmitted(conn: asyncpg.Connection, post_id: int) -> Post | None:
    """A rejected post its author changed goes back to the reviewers (server/publishing.py edit_post)."""
    row = await conn.fetchrow(f"UPDATE posts SET state = 'held' WHERE id = $1 AND state = 'rejected' "
                              f"AND deleted_at IS NULL RETURNING {_COLUMNS}", post_id)
    return _post(row) if row else None


async def list_held(conn: asyncpg.Connection, organisation_id: int, limit: int = 100) -> list[int]:
    """Held posts of the organisation's members, oldest first: the reviewers' queue."""
    rows = await conn.fetch("SELECT p.id FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.state = 'held' "
                            "AND p.deleted_at IS NULL AND a.organisation_id = $1 ORDER BY p.id LIMIT $2",
                            organisation_id, limit)
    return [r["id"] for r in rows]


async def reject_held_of_author(conn: asyncpg.Connection, account_id: int, note: str) -> list[int]:
    """Reject every held post of an author at once (they left their organisation: no reviewer may decide any more,
    and none of it may go out in the organisation's voice); their ids."""
    rows = await conn.fetch("UPDATE posts SET state = 'rejected', review_note = $2 WHERE account_id = $1 "
                            "AND state = 'held' AND deleted_at IS NULL RETURNING id", account_id, note)
    return sorted(r["id"] for r in rows)


async def count_official_since(conn: asyncpg.Connection, organisation_id: int, since: datetime) -> int:
    """Official-voice posts of an organisation since a moment (for its hourly limit)."""
    return int(await conn.fetchval("SELECT count(*) FROM posts WHERE organisation_id = $1 AND voice = 'official' "
                                   "AND created_at > $2 AND deleted_at IS NULL AND reblog_of_id IS NULL",
                                   organisation_id, since) or 0)


async def list_post_ids_for_purge(conn: asyncpg.Connection, account_ids: Sequence[int]) -> list[int]:
    """Everything a purge of these (remote) accounts removes: their posts and boosts, and anyone's boosts of them."""
    rows = await conn.fetch(
        "WITH theirs AS (SELECT id FROM posts WHERE account_id = ANY($1::bigint[])) "
        "SELECT id FROM theirs UNION SELECT id FROM posts WHERE reblog_of_id IN (SELECT id FROM theirs)",
        list(account_ids))
    return [r["id"] for r in rows]


async def delete_posts_for_purge(conn: asyncpg.Connection, post_ids: Sequence[int]) -> int:
    """Remove posts for good, with their edits, tags and mentions (moderation's purge of a suspended account's
    cached content; the caller removes likes, notifications and media first). Replies from others keep their
    place as replies to a post we no longer have (its URI stays in in_reply_to_uri), as when a parent was never
    fetched."""
    ids = list(post_ids)
    if not ids:
        return 0
    await conn.execute(
        "UPDATE posts c SET in_reply_to_id = NULL, in_reply_to_uri = coalesce(c.in_reply_to_uri, p.uri) "
        "FROM posts p WHERE c.in_reply_to_id = p.id AND p.id = ANY($1::bigint[]) AND NOT c.id = ANY($1::bigint[])",
        ids)
    for table in ("post_edits", "post_tags", "post_mentions"):
        await conn.execute(f"DELETE FROM {table} WHERE post_id = ANY($1::bigint[])", ids)
    status = await conn.execute("DELETE FROM posts WHERE id = ANY($1::bigint[])", ids)
    return int(status.split()[-1])


def root_sql(post: str) -> str:
    """SQL for the first post of the thread the post `post` (an SQL expression) belongs to: the topmost one we
    have, deleted or not, at most 200 replies up. The one definition of a thread's root (conversations, mutes)."""
    return (f"""(WITH RECURSIVE up(id, parent, depth) AS (
                  SELECT rp.id, rp.in_reply_to_id, 0 FROM posts rp WHERE rp.id = {post}
                  UNION ALL SELECT up_p.id, up_p.in_reply_to_id, up.depth + 1 FROM posts up_p
                  JOIN up ON up_p.id = up.parent WHERE up.depth < 200)
                SELECT id FROM up ORDER BY depth DESC LIMIT 1)""")


async def get_root_id(conn: asyncpg.Connection, post_id: int) -> int:
    """The first post of the thread a post belongs to (the topmost one we have), deleted or not."""
    return int(await conn.fetchval(f"SELECT {root_sql('$1::bigint')}", post_id) or post_id)
