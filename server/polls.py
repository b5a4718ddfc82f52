"""Polls of posts and the votes cast on them, ours and other servers'.

Owns: the polls and poll_votes tables (migration 0038) and their SQL; the limits a new poll must meet (the same
numbers `/api/v2/instance` gives as `configuration.polls`); what a viewer sees of a poll (`PollView`).
Never: decides who may vote (server/post_rules.py and server/voting.py do), records outbox events, notifies, or
builds ActivityStreams JSON.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from server.errors import Invalid
from server.ids import new_id

# Mastodon's defaults (PollValidator, instance configuration.polls): apps read them from /api/v2/instance.
MAX_OPTIONS = 4
MAX_OPTION_CHARS = 50
MIN_EXPIRATION = 300  # seconds: five minutes
MAX_EXPIRATION = 2_629_746  # seconds: a month
# Other servers' polls may have more options or longer ones (Misskey, Pleroma); kept up to these.
MAX_REMOTE_OPTIONS = 20
MAX_REMOTE_OPTION_CHARS = 500
_COLUMNS = ("post_id, options, votes, votes_count, voters_count, multiple, hide_totals, expires_at, closed_at, "
            "update_due_at")


@dataclass(frozen=True)
class PollDraft:
    """A poll as its author asked for it, before it is stored with its post."""

    options: tuple[str, ...]
    expires_in: int  # seconds
    multiple: bool = False
    hide_totals: bool = False


@dataclass(frozen=True)
class Poll:
    post_id: int
    options: tuple[str, ...]
    votes: tuple[int, ...]  # per option, in the options' order
    votes_count: int
    voters_count: int | None
    multiple: bool
    hide_totals: bool
    expires_at: datetime | None
    closed_at: datetime | None
    update_due_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.closed_at is not None or (self.expires_at is not None and self.expires_at <= now)

    def shows_totals(self, now: datetime) -> bool:
        """Hidden totals stay hidden until the poll ends, as on Mastodon."""
        return not self.hide_totals or self.expired(now)


@dataclass(frozen=True)
class PollView:
    """A poll as one viewer sees it: `own_votes` None for a visitor without an account."""

    poll: Poll
    own_votes: tuple[int, ...] | None
    is_author: bool = False

    @property
    def voted(self) -> bool:
        """Mastodon counts the poll's author as having voted, so apps show the author the results."""
        return self.is_author or bool(self.own_votes)


def validate_draft(draft: PollDraft) -> PollDraft:
    """The poll with its options trimmed, or Invalid with Mastodon's reason."""
    options = tuple(option.strip() for option in draft.options)
    if len(options) < 2:
        raise Invalid("A poll needs at least two options.")
    if len(options) > MAX_OPTIONS:
        raise Invalid("A poll can have at most %(max)d options.", max=MAX_OPTIONS)
    if any(not option for option in options):
        raise Invalid("A poll option cannot be empty.")
    if any(len(option) > MAX_OPTION_CHARS for option in options):
        raise Invalid("A poll option can be at most %(max)d characters long.", max=MAX_OPTION_CHARS)
    if len({option.casefold() for option in options}) != len(options):
        raise Invalid("The options of a poll must differ from each other.")
    if draft.expires_in < MIN_EXPIRATION:
        raise Invalid("A poll must stay open for at least five minutes.")
    if draft.expires_in > MAX_EXPIRATION:
        raise Invalid("A poll can stay open for at most a month.")
    return PollDraft(options, draft.expires_in, draft.multiple, draft.hide_totals)


def _poll(row: asyncpg.Record) -> Poll:
    values = dict(row)
    values["options"], values["votes"] = tuple(values["options"]), tuple(values["votes"])
    return Poll(**values)


async def insert_poll(conn: asyncpg.Connection, post_id: int, draft: PollDraft, now: datetime) -> Poll:
    row = await conn.fetchrow(
        f"INSERT INTO polls (post_id, options, votes, voters_count, multiple, hide_totals, expires_at, updated_at) "
        f"VALUES ($1, $2, $3, 0, $4, $5, $6, $7) RETURNING {_COLUMNS}",
        post_id, list(draft.options), [0] * len(draft.options), draft.multiple, draft.hide_totals,
        now + timedelta(seconds=draft.expires_in), now)
    return _poll(row)


async def update_poll(conn: asyncpg.Connection, post_id: int, draft: PollDraft, now: datetime) -> None:
    """A local post's poll as its author edited it (a checked draft), as Mastodon's UpdateStatusService changes it:
    new options or a change of multiple choice wipe every vote; the poll runs `expires_in` from now (an ended one
    opens again), so a poll sent back is always a change. A post without a poll gets one."""
    current = await get_poll(conn, post_id, for_update=True)
    if current is None:
        await insert_poll(conn, post_id, draft, now)
        return
    reset = current.options != draft.options or current.multiple != draft.multiple
    expires_at = now + timedelta(seconds=draft.expires_in)
    if reset:
        await conn.execute("DELETE FROM poll_votes WHERE post_id = $1", post_id)
    await conn.execute(
        """UPDATE polls SET options = $2, multiple = $3, hide_totals = $4, expires_at = $5, closed_at = NULL,
                  votes = CASE WHEN $6 THEN $7::integer[] ELSE votes END,
                  votes_count = CASE WHEN $6 THEN 0 ELSE votes_count END,
                  voters_count = CASE WHEN $6 THEN 0 ELSE voters_count END, updated_at = $8
           WHERE post_id = $1""",
        post_id, list(draft.options), draft.multiple, draft.hide_totals, expires_at, reset,
        [0] * len(draft.options), now)


async def get_poll(conn: asyncpg.Connection, post_id: int, *, for_update: bool = False) -> Poll | None:
    """`for_update` holds the poll's row until the caller's transaction ends: votes on one poll count one at a
    time, so a single-choice poll never takes two answers from one voter."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM polls WHERE post_id = $1" + (" FOR UPDATE" if for_update else ""),
                              post_id)
    return _poll(row) if row else None


async def list_poll_views(conn: asyncpg.Connection, post_ids: Sequence[int],
                          viewer_id: int | None) -> dict[int, PollView]:
    """The polls of these posts with the viewer's own votes; posts without a poll are left out."""
    rows = await conn.fetch(
        f"""SELECT {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))}, po.account_id AS author_id,
                   (SELECT array_agg(v.choice ORDER BY v.choice) FROM poll_votes v
                     WHERE v.post_id = p.post_id AND v.account_id = $2) AS own
              FROM polls p JOIN posts po ON po.id = p.post_id WHERE p.post_id = ANY($1::bigint[])""",
        list(post_ids), viewer_id)
    views = {}
    for row in rows:
        values = dict(row)
        author_id, own = values.pop("author_id"), values.pop("own")
        poll = _poll(values)  # type: ignore[arg-type]
        views[poll.post_id] = PollView(poll, None if viewer_id is None else tuple(own or ()),
                                       is_author=viewer_id is not None and author_id == viewer_id)
    return views


async def list_own_choices(conn: asyncpg.Connection, post_id: int, account_id: int) -> list[int]:
    rows = await conn.fetch("SELECT choice FROM poll_votes WHERE post_id = $1 AND account_id = $2 ORDER BY choice",
                            post_id, account_id)
    return [r["choice"] for r in rows]


async def exists_vote_uri(conn: asyncpg.Connection, uri: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM poll_votes WHERE uri = $1)", uri))


async def insert_vote(conn: asyncpg.Connection, post_id: int, account_id: int, choice: int, now: datetime,
                      uri: str | None = None) -> int | None:
    """One choice of one voter; None when that choice was counted already (a retried delivery)."""
    return await conn.fetchval(
        "INSERT INTO poll_votes (id, post_id, account_id, choice, uri, created_at) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT DO NOTHING RETURNING id", new_id(now), post_id, account_id, choice, uri, now)


async def set_vote_uri(conn: asyncpg.Connection, vote_id: int, uri: str) -> None:
    await conn.execute("UPDATE poll_votes SET uri = $2 WHERE id = $1", vote_id, uri)


async def update_counts_from_votes(conn: asyncpg.Connection, post_id: int, now: datetime,
                                   update_due_at: datetime | None) -> Poll:
    """A local poll's counts, counted again from its votes; `update_due_at` is kept when one is due already (the
    debounce: one Update for the votes of a while, not one per vote)."""
    row = await conn.fetchrow(
        f"""UPDATE polls p SET
              votes = (SELECT array_agg((SELECT count(*) FROM poll_votes v WHERE v.post_id = p.post_id
                                          AND v.choice = i - 1)::integer ORDER BY i)
                         FROM generate_subscripts(p.options, 1) AS i),
              votes_count = (SELECT count(*) FROM poll_votes v WHERE v.post_id = p.post_id),
              voters_count = (SELECT count(DISTINCT v.account_id) FROM poll_votes v WHERE v.post_id = p.post_id),
              update_due_at = coalesce(p.update_due_at, $3), updated_at = $2
            WHERE p.post_id = $1 RETURNING {_COLUMNS}""", post_id, now, update_due_at)
    return _poll(row)


async def add_own_votes(conn: asyncpg.Connection, post_id: int, choices: Sequence[int], new_voter: bool,
                        now: datetime) -> Poll:
    """A remote poll's counts with our person's votes added, until its server's next Update says better."""
    row = await conn.fetchrow(
        f"""UPDATE polls SET
              votes = (SELECT array_agg(n + (CASE WHEN i - 1 = ANY($2::int[]) THEN 1 ELSE 0 END) ORDER BY i)
                         FROM unnest(votes) WITH ORDINALITY AS t(n, i)),
              votes_count = votes_count + cardinality($2::int[]),
              voters_count = voters_count + (CASE WHEN $3 THEN 1 ELSE 0 END), updated_at = $4
            WHERE post_id = $1 RETURNING {_COLUMNS}""", post_id, list(choices), new_voter, now)
    return _poll(row)


async def upsert_remote_poll(conn: asyncpg.Connection, post_id: int, *, options: Sequence[str],
                             votes: Sequence[int], voters_count: int | None, multiple: bool,
                             expires_at: datetime | None, now: datetime) -> bool:
    """Another server's poll as its Question says it is now; True when something changed. Options that changed
    (the poll was edited) drop the votes of our people, as Mastodon resets them."""
    existing = await get_poll(conn, post_id, for_update=True)
    if existing is not None and existing.options != tuple(options):
        await conn.execute("DELETE FROM poll_votes WHERE post_id = $1", post_id)
    elif existing is not None and existing.votes == tuple(votes) and existing.voters_count == voters_count \
            and existing.expires_at == expires_at and existing.multiple == multiple:
        return False
    await conn.execute(
        "INSERT INTO polls (post_id, options, votes, votes_count, voters_count, multiple, expires_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (post_id) DO UPDATE SET options = $2, votes = $3, "
        "votes_count = $4, voters_count = $5, multiple = $6, expires_at = $7, updated_at = $8",
        post_id, list(options), list(votes), sum(votes), voters_count, multiple, expires_at, now)
    return True


async def claim_due_closures(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> list[Poll]:
    """Polls whose time is up, marked closed in this transaction: each is claimed by exactly one worker (rows
    another worker holds are skipped, and one closed already no longer matches), so voters hear it once."""
    rows = await conn.fetch(
        f"""UPDATE polls SET closed_at = $1, updated_at = $1 WHERE post_id IN (
              SELECT post_id FROM polls WHERE closed_at IS NULL AND expires_at <= $1 ORDER BY expires_at
              LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {_COLUMNS}""", now, limit)
    return [_poll(r) for r in rows]


async def claim_due_updates(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> list[Poll]:
    """Local polls whose debounced Update is due, taken off the list in this transaction (once, as above)."""
    rows = await conn.fetch(
        f"""UPDATE polls SET update_due_at = NULL WHERE post_id IN (
              SELECT post_id FROM polls WHERE update_due_at <= $1 ORDER BY update_due_at
              LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {_COLUMNS}""", now, limit)
    return [_poll(r) for r in rows]


async def list_voter_ids(conn: asyncpg.Connection, post_id: int) -> list[int]:
    rows = await conn.fetch("SELECT DISTINCT account_id FROM poll_votes WHERE post_id = $1", post_id)
    return [r["account_id"] for r in rows]


async def list_voting(conn: asyncpg.Connection, post_ids: Sequence[int], viewer_ids: Collection[int]) -> set[int]:
    """Those of the viewers whose Poll entity of these posts is their own (they voted, or wrote the poll)."""
    rows = await conn.fetch(
        """SELECT account_id FROM poll_votes WHERE post_id = ANY($1::bigint[]) AND account_id = ANY($2::bigint[])
           UNION SELECT po.account_id FROM polls p JOIN posts po ON po.id = p.post_id
            WHERE p.post_id = ANY($1::bigint[]) AND po.account_id = ANY($2::bigint[])""",
        list(post_ids), list(viewer_ids))
    return {r["account_id"] for r in rows}
