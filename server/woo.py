"""Woo requests (Wet open overheid): find everything an organisation published or received on a subject.

Owns: the search over the organisation's record (reads only: posts, post_edits, post_mentions, accounts, whose
tables server/posts.py and server/accounts.py own, as timelines.py reads them) with PostgreSQL text search in the
`dutch` configuration, and the audit of every search (`woo.searched`). Never: redacts or writes files
(server/woo_export.py), or decides who may search (`archive_jobs.may_archive` is the one rule for the archive and
Woo pages; the CLI is the operator's).

What is searched, for one organisation (docs/archive.md, "Woo requests"):
- its own posts: every official-voice post that spoke for it (`posts.organisation_id`: its account's and its
  members' official posts, also of people who have left since), and with voice `all` also the personal-voice posts
  of its current members (the node keeps no membership history, so a former member's personal posts are theirs);
- received posts: posts by anyone not a member that reply to one of its own posts or mention its account;
- every version of each (the earlier ones in post_edits), deleted posts, held and rejected ones and direct ones
  included: a Woo request covers what the organisation holds, not what it shows. Boosts carry no text of their own.
This read path is not the visibility rule's on purpose: the people `may_archive` lets in read the whole record.
`to_tsvector('dutch', ...)` is computed in the query, after the organisation's posts are narrowed down by index;
no text index is kept (an organisation's few thousand posts are searched in well under a second).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from server import audit
from server.errors import Invalid

ZONE = ZoneInfo("Europe/Amsterdam")
MAX_QUERY = 200
VOICES = ("official", "all")
PAGE_LIMIT = 200  # hits shown on the page; the export and the CLI take all


@dataclass(frozen=True)
class Scope:
    """What one search covers: an organisation, the voices, and a period of the posts' creation (Amsterdam days,
    both inclusive; None: unbounded)."""

    organisation_id: int
    voice: str = "official"
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.voice not in VOICES:
            raise Invalid("The voice must be official or all.")
        if self.start and self.end and self.end < self.start:
            raise Invalid("The end of the period lies before its start.")

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        start = datetime.combine(self.start, time(), ZONE) if self.start else None
        end = datetime.combine(self.end + timedelta(days=1), time(), ZONE) if self.end else None
        return start, end


@dataclass(frozen=True)
class Hit:
    """One version of a post that matched. `version` counts from 1 (the first text); the current one is
    `versions`. `kind`: `own` (the organisation's) or `received`."""

    post_id: int
    kind: str
    version: int
    versions: int
    account_id: int
    voice: str
    visibility: str
    state: str
    uri: str | None
    in_reply_to_id: int | None
    created_at: datetime
    written_at: datetime
    deleted_at: datetime | None
    source_text: str
    content_html: str
    spoiler_text: str

    @property
    def current(self) -> bool:
        return self.version == self.versions


def check_query(text: str) -> str:
    """The search words as typed (websearch syntax: "a phrase", or, -without)."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise Invalid("Type the words to search for.")
    if len(cleaned) > MAX_QUERY:
        raise Invalid("Search words are at most %(limit)d characters.", limit=MAX_QUERY)
    return cleaned


_SEARCH = """
WITH members AS (
    SELECT id FROM accounts WHERE organisation_id = $1
), own AS (
    SELECT p.id FROM posts p
    WHERE p.reblog_of_id IS NULL
      AND ((p.voice = 'official' AND p.organisation_id = $1)
           OR ($2 AND p.voice = 'personal' AND p.account_id IN (SELECT id FROM members)))
), received AS (
    SELECT r.id FROM posts r
    WHERE r.reblog_of_id IS NULL AND r.account_id NOT IN (SELECT id FROM members)
      AND r.id NOT IN (SELECT id FROM own)
      AND (r.in_reply_to_id IN (SELECT id FROM own)
           OR r.id IN (SELECT m.post_id FROM post_mentions m JOIN accounts a ON a.id = m.account_id
                       WHERE a.organisation_id = $1 AND a.kind = 'organisation'))
), candidates AS (
    SELECT c.id, c.kind, (SELECT count(*) FROM post_edits e WHERE e.post_id = c.id) + 1 AS versions
    FROM (SELECT id, 'own' AS kind FROM own UNION ALL SELECT id, 'received' FROM received) c
    JOIN posts p ON p.id = c.id
    WHERE ($3::timestamptz IS NULL OR p.created_at >= $3) AND ($4::timestamptz IS NULL OR p.created_at < $4)
), versions AS (
    SELECT e.post_id, row_number() OVER (PARTITION BY e.post_id ORDER BY e.id) AS version, e.source_text,
           e.content_html, e.spoiler_text, e.created_at AS written_at
    FROM post_edits e WHERE e.post_id IN (SELECT id FROM candidates)
    UNION ALL
    SELECT p.id, c.versions, p.source_text, p.content_html, p.spoiler_text, coalesce(p.edited_at, p.created_at)
    FROM posts p JOIN candidates c ON c.id = p.id
)
SELECT {columns}
FROM versions v JOIN candidates c ON c.id = v.post_id JOIN posts p ON p.id = v.post_id
WHERE to_tsvector('dutch', v.spoiler_text || ' ' || CASE WHEN v.source_text <> '' THEN v.source_text
                  ELSE regexp_replace(v.content_html, '<[^>]*>', ' ', 'g') END) @@ websearch_to_tsquery('dutch', $5)
{order}
"""
_COLUMNS = ("v.post_id, c.kind, v.version::int AS version, c.versions::int AS versions, p.account_id, p.voice, "
            "p.visibility, p.state, p.uri, p.in_reply_to_id, p.created_at, v.written_at, p.deleted_at, "
            "v.source_text, v.content_html, v.spoiler_text")
_ORDER = "ORDER BY p.created_at, v.post_id, v.version"


async def _arguments(conn: asyncpg.Connection, scope: Scope, query: str) -> list[Any]:
    query = check_query(query)
    if not await conn.fetchval("SELECT numnode(websearch_to_tsquery('dutch', $1)) > 0", query):
        raise Invalid("These words are too common to search for; add a more specific word.")
    start, end = scope.bounds()
    return [scope.organisation_id, scope.voice == "all", start, end, query]


async def search(conn: asyncpg.Connection, scope: Scope, query: str, *,
                 limit: int = PAGE_LIMIT) -> tuple[list[Hit], int]:
    """The first `limit` hits, oldest post first, and how many there are in all."""
    args = await _arguments(conn, scope, query)
    total = await conn.fetchval(_SEARCH.format(columns="count(*)", order=""), *args)
    rows = await conn.fetch(_SEARCH.format(columns=_COLUMNS, order=f"{_ORDER} LIMIT {int(limit)}"), *args)
    return [Hit(**dict(r)) for r in rows], int(total)


async def iter_hits(conn: asyncpg.Connection, scope: Scope, query: str, *, batch: int = 200) -> AsyncIterator[list[Hit]]:
    """Every hit, oldest post first, a batch at a time through a cursor (the caller holds a transaction), so an
    export of any size keeps memory flat."""
    args = await _arguments(conn, scope, query)
    cursor = await conn.cursor(_SEARCH.format(columns=_COLUMNS, order=_ORDER), *args)
    while rows := await cursor.fetch(batch):
        yield [Hit(**dict(r)) for r in rows]


async def list_mentions(conn: asyncpg.Connection, post_ids: list[int]) -> dict[int, list[int]]:
    """The accounts each post mentions (its current version's), for naming them consistently in an export."""
    found: dict[int, list[int]] = {}
    for row in await conn.fetch("SELECT post_id, account_id FROM post_mentions WHERE post_id = ANY($1::bigint[]) "
                                "ORDER BY post_id, account_id", post_ids):
        found.setdefault(row["post_id"], []).append(row["account_id"])
    return found


async def record_search(conn: asyncpg.Connection, *, actor_id: int | None, organisation_id: int, scope: Scope,
                        query: str, hits: int, via: str, now: datetime) -> None:
    """Every search is audited: what was looked for, over what, and how much was found."""
    await audit.record(conn, actor_id=actor_id, action="woo.searched", subject_type="organisation",
                       subject_id=organisation_id, detail={**describe(scope, query), "hits": hits, "via": via},
                       now=now)


def describe(scope: Scope, query: str) -> dict[str, Any]:
    return {"query": query, "voice": scope.voice, "from": scope.start.isoformat() if scope.start else None,
            "to": scope.end.isoformat() if scope.end else None}
