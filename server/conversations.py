"""Conversations (Mastodon's /api/v1/conversations): the threads of direct posts a person wrote or was mentioned
in, newest activity first, each with its other participants, its last post and whether it is unread.

Owns: the conversation_states table (read up to, removed up to) and the conversation read: the viewer's direct
posts (the same condition as the `direct` stream, server/timelines.LIVE_TIMELINES, and the visibility rule),
grouped by the first post of their thread, whose id is the conversation's id (as the streaming API's
`conversation` event names it). A conversation is unread when its last post is newer than where the person
read it and not their own. Never: writes posts, or decides who may see one.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from server import timelines, visibility
from server.errors import NotFound

MAX_DEPTH = 200


@dataclass(frozen=True)
class Conversation:
    id: int  # the thread's first post
    last_post_id: int
    unread: bool
    participant_ids: tuple[int, ...]  # everyone in its posts but the viewer, first seen first


def _threads_sql() -> str:
    """Per conversation of the viewer ($1): its id, last post, posts, and state (parameters from $2 on free).
    The viewer's direct posts are read from their own (posts_account_direct) and their mentions
    (post_mentions_account), then held to the `direct` timeline's condition and the rule, not found by reading
    every direct post of the node."""
    return f"""WITH RECURSIVE mine AS (
          SELECT p.id FROM (SELECT id FROM posts WHERE account_id = $1 AND visibility = 'direct'
                              AND deleted_at IS NULL
                            UNION SELECT post_id FROM post_mentions WHERE account_id = $1) c
          JOIN posts p ON p.id = c.id WHERE p.deleted_at IS NULL AND p.reblog_of_id IS NULL
            AND {visibility.visible_sql('p', '$1')} AND {timelines.LIVE_TIMELINES['direct']('$1')}),
        up(start, id, parent, depth) AS (
          SELECT m.id, p.id, p.in_reply_to_id, 0 FROM mine m JOIN posts p ON p.id = m.id
          UNION ALL SELECT up.start, p.id, p.in_reply_to_id, up.depth + 1 FROM posts p JOIN up ON p.id = up.parent
          WHERE up.depth < {MAX_DEPTH}),
        roots AS (SELECT DISTINCT ON (start) start AS post_id, id AS root_id FROM up ORDER BY start, depth DESC),
        threads AS (SELECT root_id, max(post_id) AS last_id, array_agg(post_id) AS post_ids FROM roots
                    GROUP BY root_id)
        SELECT t.root_id, t.last_id, t.post_ids, coalesce(s.read_up_to, 0) AS read_up_to,
               (SELECT lp.account_id FROM posts lp WHERE lp.id = t.last_id) AS last_author
          FROM threads t LEFT JOIN conversation_states s ON s.account_id = $1 AND s.root_id = t.root_id
         WHERE t.last_id > coalesce(s.removed_up_to, 0)"""


async def _participants(conn: asyncpg.Connection, viewer_id: int,
                        threads: dict[int, list[int]]) -> dict[int, tuple[int, ...]]:
    """Per conversation (root id -> its posts): everyone in its posts but the viewer, first seen first; one query
    for a whole page."""
    pairs = [(root, post) for root, post_ids in threads.items() for post in post_ids]
    rows = await conn.fetch(
        """SELECT t.root_id, x.who FROM unnest($1::bigint[], $2::bigint[]) AS t(root_id, post_id)
           CROSS JOIN LATERAL (SELECT p.account_id AS who, p.id AS at FROM posts p WHERE p.id = t.post_id
             UNION ALL SELECT m.account_id, m.post_id FROM post_mentions m WHERE m.post_id = t.post_id) x
           WHERE x.who <> $3 GROUP BY t.root_id, x.who ORDER BY t.root_id, min(x.at)""",
        [root for root, _ in pairs], [post for _, post in pairs], viewer_id)
    found: dict[int, list[int]] = {root: [] for root in threads}
    for r in rows:
        found[r["root_id"]].append(r["who"])
    return {root: tuple(who) for root, who in found.items()}


async def _conversations(conn: asyncpg.Connection, viewer_id: int, rows: list[asyncpg.Record]) -> list[Conversation]:
    people = await _participants(conn, viewer_id, {r["root_id"]: list(r["post_ids"]) for r in rows}) if rows else {}
    return [Conversation(r["root_id"], r["last_id"], r["last_id"] > r["read_up_to"] and r["last_author"] != viewer_id,
                         people[r["root_id"]]) for r in rows]


async def list_conversations(conn: asyncpg.Connection, viewer_id: int, *, max_id: int | None, since_id: int | None,
                             min_id: int | None, limit: int) -> list[Conversation]:
    """A page, by last post (Mastodon pages conversations by their last status id), newest first."""
    order = "ASC" if min_id is not None else "DESC"
    rows = await conn.fetch(
        f"""SELECT * FROM ({_threads_sql()}) c WHERE ($2::bigint IS NULL OR c.last_id < $2)
              AND ($3::bigint IS NULL OR c.last_id > $3) AND ($4::bigint IS NULL OR c.last_id > $4)
            ORDER BY c.last_id {order} LIMIT $5""", viewer_id, max_id, since_id, min_id, limit)
    return sorted(await _conversations(conn, viewer_id, list(rows)), key=lambda c: c.last_post_id, reverse=True)


async def get_conversation(conn: asyncpg.Connection, viewer_id: int, conversation_id: int) -> Conversation:
    row = await conn.fetchrow(f"SELECT * FROM ({_threads_sql()}) c WHERE c.root_id = $2", viewer_id, conversation_id)
    if row is None:
        raise NotFound("Record not found")
    return (await _conversations(conn, viewer_id, [row]))[0]


async def mark_read(conn: asyncpg.Connection, viewer_id: int, conversation_id: int) -> Conversation:
    found = await get_conversation(conn, viewer_id, conversation_id)
    await conn.execute("INSERT INTO conversation_states (account_id, root_id, read_up_to) VALUES ($1, $2, $3) "
                       "ON CONFLICT (account_id, root_id) DO UPDATE SET read_up_to = EXCLUDED.read_up_to",
                       viewer_id, found.id, found.last_post_id)
    return Conversation(found.id, found.last_post_id, False, found.participant_ids)


async def remove(conn: asyncpg.Connection, viewer_id: int, conversation_id: int) -> None:
    """Take it off the person's list; a later post in the thread brings it back, as on Mastodon."""
    found = await get_conversation(conn, viewer_id, conversation_id)
    await conn.execute("INSERT INTO conversation_states (account_id, root_id, removed_up_to) VALUES ($1, $2, $3) "
                       "ON CONFLICT (account_id, root_id) DO UPDATE SET removed_up_to = EXCLUDED.removed_up_to",
                       viewer_id, found.id, found.last_post_id)
