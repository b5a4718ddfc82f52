"""What the archive holds of an organisation: its posts of a period with every version, attachments, decisions,
federation and deletion, and the citizens' replies it received; and which deleted records have outlived their
retention period.

Owns: the archive's read-only queries across posts, post_edits, post_mentions, audit_log and outbox_events (as
timelines.py reads across tables for a timeline). **Who may read**: no visibility rule applies here, on purpose: an
archive holds deleted, held and rejected posts too. Only the archive export and retention call it, after their own
check (an organisation admin, an archivist, or the operator at the command line). Never: writes, or shows anything
to a reader directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from server import accounts, media, posts
from server.accounts import Account
from server.media import Attachment
from server.posts import Post

PAGE = 200


@dataclass(frozen=True)
class Version:
    """One version of a post's text, numbered from 1, with the moment it became current."""

    number: int
    source_text: str
    content_html: str
    spoiler_text: str
    at: datetime


@dataclass(frozen=True)
class Happening:
    """An audit entry or an outbox event about a post: what (its action or kind), when, and who."""

    kind: str
    at: datetime
    actor_id: int | None
    detail: dict[str, Any]
    actor: Account | None = None


@dataclass(frozen=True)
class Record:
    post: Post
    author: Account
    versions: tuple[Version, ...]
    attachments: tuple[Attachment, ...]
    tags: tuple[str, ...]
    mentioned: tuple[Account, ...]
    parent: tuple[Post, Account] | None
    happenings: tuple[Happening, ...]
    received: tuple[Record, ...] = ()


def _scope(voice: str) -> str:
    """The organisation's posts: its official voice, and (voice "all") its current members' personal posts."""
    official = "(p.voice = 'official' AND p.organisation_id = $1)"
    if voice == "official":
        return official
    return (f"({official} OR (p.voice = 'personal' AND EXISTS (SELECT 1 FROM accounts m WHERE m.id = p.account_id "
            f"AND m.organisation_id = $1 AND m.domain IS NULL)))")


async def count_posts(conn: asyncpg.Connection, organisation_id: int, start: datetime, end: datetime,
                      voice: str) -> int:
    return int(await conn.fetchval(
        f"SELECT count(*) FROM posts p WHERE {_scope(voice)} AND p.reblog_of_id IS NULL "
        f"AND p.created_at >= $2 AND p.created_at < $3", organisation_id, start, end) or 0)


async def list_post_ids(conn: asyncpg.Connection, organisation_id: int, start: datetime, end: datetime, voice: str,
                        *, after_id: int, limit: int = PAGE) -> list[int]:
    """One page of the organisation's posts of a period (deleted, held and rejected ones too), by id."""
    rows = await conn.fetch(
        f"SELECT p.id FROM posts p WHERE {_scope(voice)} AND p.reblog_of_id IS NULL "
        f"AND p.created_at >= $2 AND p.created_at < $3 AND p.id > $4 ORDER BY p.id LIMIT $5",
        organisation_id, start, end, after_id, limit)
    return [r["id"] for r in rows]


async def _versions(conn: asyncpg.Connection, found: dict[int, Post]) -> dict[int, list[Version]]:
    """Every version: post_edits keeps each replaced one with the moment it became current; the post is the last."""
    earlier: dict[int, list[asyncpg.Record]] = {}
    for row in await conn.fetch("SELECT post_id, source_text, content_html, spoiler_text, created_at FROM post_edits "
                                "WHERE post_id = ANY($1::bigint[]) ORDER BY post_id, id", list(found)):
        earlier.setdefault(row["post_id"], []).append(row)
    result = {}
    for post_id, post in found.items():
        rows = earlier.get(post_id, [])
        versions = [Version(i + 1, r["source_text"], r["content_html"], r["spoiler_text"], r["created_at"])
                    for i, r in enumerate(rows)]
        versions.append(Version(len(rows) + 1, post.source_text, post.content_html, post.spoiler_text,
                                post.edited_at or post.created_at))
        result[post_id] = versions
    return result


async def _happenings(conn: asyncpg.Connection, post_ids: list[int]) -> dict[int, list[Happening]]:
    """Audit entries about the posts and their outbox events (what federation was asked to send), in time order."""
    result: dict[int, list[Happening]] = {}
    for row in await conn.fetch(
            "SELECT subject_id::bigint AS post_id, action AS kind, at, actor_account_id AS actor_id, detail "
            "FROM audit_log WHERE subject_type = 'post' AND subject_id = ANY($1::text[]) "
            "UNION ALL SELECT subject_id, kind, coalesce(processed_at, created_at), actor_id, "
            "jsonb_build_object('state', state, 'queued_at', created_at) FROM outbox_events "
            "WHERE subject_id = ANY($2::bigint[]) AND kind IN ('post.created', 'post.updated', 'post.deleted') "
            "ORDER BY 3", [str(i) for i in post_ids], post_ids):
        detail = row["detail"] if isinstance(row["detail"], dict) else {}
        result.setdefault(row["post_id"], []).append(Happening(row["kind"], row["at"], row["actor_id"], detail))
    return result


async def _mentions(conn: asyncpg.Connection, post_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    for row in await conn.fetch("SELECT post_id, account_id FROM post_mentions WHERE post_id = ANY($1::bigint[]) "
                                "ORDER BY account_id", post_ids):
        result.setdefault(row["post_id"], []).append(row["account_id"])
    return result


async def _received_ids(conn: asyncpg.Connection, post_ids: list[int]) -> dict[int, list[int]]:
    """Replies from other servers' accounts (citizens) to these posts, deleted ones included."""
    result: dict[int, list[int]] = {}
    for row in await conn.fetch(
            "SELECT r.in_reply_to_id AS parent, r.id FROM posts r JOIN accounts a ON a.id = r.account_id "
            "WHERE r.in_reply_to_id = ANY($1::bigint[]) AND a.domain IS NOT NULL AND r.reblog_of_id IS NULL "
            "ORDER BY r.id", post_ids):
        result.setdefault(row["parent"], []).append(row["id"])
    return result


async def load_records(conn: asyncpg.Connection, post_ids: Sequence[int], *, with_received: bool = True) -> list[Record]:
    """The records of these posts, in the order given, with a fixed number of queries per page."""
    ids = list(post_ids)
    found = await posts.list_posts(conn, ids)
    received = await _received_ids(conn, ids) if with_received else {}
    received_records = {r.post.id: r for r in await load_records(
        conn, [i for group in received.values() for i in group], with_received=False)} if received else {}
    parent_ids = [p.in_reply_to_id for p in found.values() if p.in_reply_to_id]
    parents = await posts.list_posts(conn, parent_ids) if parent_ids else {}
    mentions = await _mentions(conn, ids)
    account_ids = {p.account_id for p in found.values()} | {p.account_id for p in parents.values()}
    account_ids |= {a for group in mentions.values() for a in group}
    happenings = await _happenings(conn, ids)
    account_ids |= {h.actor_id for group in happenings.values() for h in group if h.actor_id}
    people = await accounts.list_accounts_by_ids(conn, list(account_ids))
    happenings = {k: [replace(h, actor=people.get(h.actor_id or 0)) for h in group] for k, group in happenings.items()}
    versions = await _versions(conn, found)
    attachments = await media.list_for_posts(conn, ids)
    tags = await posts.list_tags(conn, ids)
    records = []
    for post_id in ids:
        post = found.get(post_id)
        if post is None:
            continue
        parent = parents.get(post.in_reply_to_id) if post.in_reply_to_id else None
        records.append(Record(
            post=post, author=people[post.account_id], versions=tuple(versions[post_id]),
            attachments=tuple(attachments.get(post_id, [])), tags=tuple(tags.get(post_id, [])),
            mentioned=tuple(people[a] for a in mentions.get(post_id, []) if a in people),
            parent=(parent, people[parent.account_id]) if parent and parent.account_id in people else None,
            happenings=tuple(happenings.get(post_id, [])),
            received=tuple(received_records[i] for i in received.get(post_id, []) if i in received_records)))
    return records


async def list_expired(conn: asyncpg.Connection, organisation_id: int, *, official_before: datetime,
                       personal_before: datetime, received_before: datetime) -> dict[str, list[int]]:
    """Deleted records whose retention period has passed, by kind (official, personal, received): a record is kept
    until its creation plus the period, and at least until it is deleted. Posts a webcare conversation or an
    unexpired idempotency key still points at wait (webcare keeps its conversations whole), and so do posts whose
    outbox events are not processed yet (the Delete is built from the row)."""
    spared = ("NOT EXISTS (SELECT 1 FROM webcare_messages w WHERE w.post_id = p.id) "
              "AND NOT EXISTS (SELECT 1 FROM webcare_conversations w WHERE w.start_post_id = p.id) "
              "AND NOT EXISTS (SELECT 1 FROM webcare_events w WHERE w.post_id = p.id) "
              "AND NOT EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.post_id = p.id) "
              # The outbox still has to turn the deletion (or an earlier change) into activities from the row.
              "AND NOT EXISTS (SELECT 1 FROM outbox_events e WHERE e.subject_id = p.id AND e.processed_at IS NULL)")
    rows = await conn.fetch(
        f"""SELECT p.id, CASE
                 WHEN p.voice = 'official' AND p.organisation_id = $1 AND p.created_at < $2 THEN 'official'
                 WHEN p.voice = 'personal' AND a.organisation_id = $1 AND a.domain IS NULL AND p.created_at < $3
                   THEN 'personal'
                 WHEN a.domain IS NOT NULL AND p.created_at < $4 AND EXISTS (
                   SELECT 1 FROM posts o JOIN accounts oa ON oa.id = o.account_id
                   WHERE o.id = p.in_reply_to_id AND oa.organisation_id = $1 AND oa.domain IS NULL) THEN 'received'
               END AS kind
            FROM posts p JOIN accounts a ON a.id = p.account_id
            WHERE p.deleted_at IS NOT NULL AND p.reblog_of_id IS NULL AND {spared}""",
        organisation_id, official_before, personal_before, received_before)
    result: dict[str, list[int]] = {"official": [], "personal": [], "received": []}
    for row in rows:
        if row["kind"]:
            result[row["kind"]].append(row["id"])
    return result


async def list_boost_ids(conn: asyncpg.Connection, post_ids: list[int]) -> list[int]:
    """Boosts of these posts (they go when the post goes)."""
    return [r["id"] for r in await conn.fetch("SELECT id FROM posts WHERE reblog_of_id = ANY($1::bigint[])", post_ids)]


async def list_received_record_ids(conn: asyncpg.Connection, post_ids: Sequence[int]) -> list[int]:
    """Of these (remote) posts, the ones that are an organisation's received records: replies to a post of one of
    its people, or posts in one of its webcare conversations."""
    rows = await conn.fetch(
        "SELECT p.id FROM posts p WHERE p.id = ANY($1::bigint[]) AND p.reblog_of_id IS NULL AND ("
        "EXISTS (SELECT 1 FROM posts o JOIN accounts oa ON oa.id = o.account_id WHERE o.id = p.in_reply_to_id "
        "AND oa.organisation_id IS NOT NULL AND oa.domain IS NULL) "
        "OR EXISTS (SELECT 1 FROM webcare_messages w WHERE w.post_id = p.id) "
        "OR EXISTS (SELECT 1 FROM webcare_conversations w WHERE w.start_post_id = p.id))", list(post_ids))
    return [r["id"] for r in rows]
