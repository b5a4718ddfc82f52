"""Webcare: the organisation answers citizens as a team.

Owns: the webcare_conversations, webcare_messages and webcare_events tables (migration 0051) and their SQL;
**the one webcare rule** (`check_team`: who may work an organisation's inbox and act as its account: that
organisation's members with the `webcare` role, its organisation admins and instance admins, local and in good
standing); which posts start or join a conversation (`take_in`, called wherever a post becomes published: local
posts by `publishing.py`, other servers' by `federation/inbound/notes.py`); the steps on a conversation (claim,
release, status, labels, internal notes), each written to the conversation's history and the audit log in the
caller's transaction, with the webhooks' deliveries (`webcare_hooks.py`).

A conversation starts at a citizen's post that concerns the organisation: one that mentions its account (a
direct message to the account is one), or that replies to a post of its account or to an official-voice post of
one of its members. Each such post starts its own conversation (a thread of fifty citizens' replies to one post is
fifty conversations, as webcare tools count them); a later post that replies to any message of a conversation
joins it. Posts of the organisation's side (its account, its members in official voice for it) are answers;
personal-voice posts of its members are not the organisation's business and never enter.

Never: publishes (answering goes through `server/compose.py` and `publishing.py` as the organisation's account,
with the writer kept in `posts.written_by_id`), renders, or decides who may see a post (the team reads a
conversation as the organisation's account sees it, through `visibility.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from server import accounts, audit, webcare_hooks
from server.accounts import Account
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.ids import new_id
from server.posts import Post

STATUSES = ("open", "waiting", "done")
# The kinds of history event; each is audited as `webcare.<kind>` (web/pages/audit.py has a sentence for each).
EVENT_KINDS = ("opened", "message_in", "claimed", "released", "note", "answered", "status", "labels")
MAX_LABELS = 10
MAX_LABEL_CHARS = 40
MAX_NOTE_CHARS = 5000
_COLUMNS = ("id, organisation_id, citizen_account_id, start_post_id, status, assignee_id, labels, visibility, "
            "created_at, last_activity_at, waiting_since, first_response_at, first_responder_id")


@dataclass(frozen=True)
class Conversation:
    id: int
    organisation_id: int
    citizen_account_id: int
    start_post_id: int
    status: str
    assignee_id: int | None
    labels: list[str]
    visibility: str  # public or direct: how the organisation answers by default
    created_at: datetime
    last_activity_at: datetime
    waiting_since: datetime | None  # the citizen's unanswered message arrived then; None once answered
    first_response_at: datetime | None
    first_responder_id: int | None


@dataclass(frozen=True)
class Message:
    post_id: int
    direction: str  # in (the citizen, or anyone but the organisation's side) or out (the organisation)
    written_by_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    actor_id: int | None
    post_id: int | None
    detail: dict[str, Any]
    created_at: datetime


def _conversation(row: asyncpg.Record) -> Conversation:
    values = dict(row)
    values["labels"] = list(values["labels"])
    return Conversation(**values)


# ------------------------------------------------------------------ the one webcare rule

def may_work(person: Account | None, organisation_id: int) -> bool:
    """Whether `person` may work the organisation's webcare inbox and post as its account."""
    if person is None or not person.is_local or not person.is_active or person.is_organisation:
        return False
    if person.administers(organisation_id):
        return True
    return person.organisation_id == organisation_id and person.org_role == "webcare"


def check_team(person: Account | None, organisation_id: int) -> Account:
    if person is None or not may_work(person, organisation_id):
        raise Forbidden("Only the organisation's webcare team and its admins may do this.")
    return person


async def organisation_account(conn: asyncpg.Connection, organisation_id: int) -> Account:
    account = await accounts.get_organisation_account(conn, organisation_id)
    if account is None or not account.is_active:
        raise Conflict("The organisation's own account is missing or disabled.")
    return account


# ------------------------------------------------------------------ taking posts in

def _side(author: Account, post: Post, organisation_id: int) -> str | None:
    """out for the organisation's side, in for anyone else, None for its members' personal posts."""
    if author.is_local and author.is_organisation and author.organisation_id == organisation_id:
        return "out"
    if author.is_local and author.organisation_id == organisation_id:
        return "out" if post.voice == "official" and post.organisation_id == organisation_id else None
    return "in"


async def _organisations_concerned(conn: asyncpg.Connection, post: Post) -> set[int]:
    """Organisations a new post concerns: its account is mentioned, or the post replies to its account or to an
    official-voice post of one of its members (local posts only: other servers' organisations are theirs)."""
    found = {r["organisation_id"] for r in await conn.fetch(
        "SELECT a.organisation_id FROM post_mentions pm JOIN accounts a ON a.id = pm.account_id "
        "WHERE pm.post_id = $1 AND a.kind = 'organisation' AND a.domain IS NULL AND a.organisation_id IS NOT NULL",
        post.id)}
    if post.in_reply_to_id is not None:
        parent = await conn.fetchrow(
            "SELECT p.voice, p.organisation_id AS voice_org, p.uri, a.kind, a.organisation_id, a.domain "
            "FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1 AND p.deleted_at IS NULL",
            post.in_reply_to_id)
        if parent is not None and parent["domain"] is None and parent["uri"] is None:
            if parent["kind"] == "organisation" and parent["organisation_id"] is not None:
                found.add(parent["organisation_id"])
            elif parent["voice"] == "official" and parent["voice_org"] is not None:
                found.add(parent["voice_org"])
    return found


async def take_in(conn: asyncpg.Connection, post: Post, now: datetime) -> list[int]:
    """File a post that has just become published: join the conversations its parent is in, or start one for
    each organisation it newly concerns. The ids of the conversations it went to."""
    if post.reblog_of_id is not None or post.state != "published" or post.deleted_at is not None:
        return []
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM webcare_conversations c WHERE EXISTS (SELECT 1 FROM webcare_messages m "
        f"WHERE m.conversation_id = c.id AND m.post_id = $1) ORDER BY c.id FOR UPDATE",
        post.in_reply_to_id) if post.in_reply_to_id is not None else []
    joining = [_conversation(row) for row in rows]
    opening = await _organisations_concerned(conn, post) - {c.organisation_id for c in joining}
    if not joining and not opening:
        return []  # most posts: nothing of webcare's, and no need to read their author
    author = await accounts.get_account(conn, post.account_id)
    if author is None:
        return []
    touched: list[int] = []
    for conversation in joining:
        side = _side(author, post, conversation.organisation_id)
        if side is not None and await _add_message(conn, conversation, post, side, now):
            touched.append(conversation.id)
    for organisation_id in sorted(opening):
        if _side(author, post, organisation_id) != "in":
            continue  # the organisation's own posts and its members' personal ones open nothing
        touched.append(await _open(conn, organisation_id, author, post, now))
    return touched


async def _open(conn: asyncpg.Connection, organisation_id: int, citizen: Account, post: Post,
                now: datetime) -> int:
    row = await conn.fetchrow(
        f"INSERT INTO webcare_conversations (id, organisation_id, citizen_account_id, start_post_id, visibility, "
        f"created_at, last_activity_at, waiting_since) VALUES ($1, $2, $3, $4, $5, $6, $6, $6) "
        f"ON CONFLICT (organisation_id, start_post_id) DO NOTHING RETURNING {_COLUMNS}",
        new_id(now), organisation_id, citizen.id, post.id,
        "direct" if post.visibility in ("direct", "private") else "public", now)
    if row is None:
        return int(await conn.fetchval("SELECT id FROM webcare_conversations WHERE organisation_id = $1 "
                                       "AND start_post_id = $2", organisation_id, post.id))
    conversation = _conversation(row)
    await conn.execute("INSERT INTO webcare_messages (conversation_id, post_id, direction, created_at) "
                       "VALUES ($1, $2, 'in', $3)", conversation.id, post.id, now)
    await _event(conn, conversation, "opened", None, now, post_id=post.id, detail={"citizen": citizen.acct})
    await webcare_hooks.enqueue(conn, organisation_id, "conversation.opened",
                                _hook_data(conversation, citizen=citizen, post_id=post.id), now)
    return conversation.id


async def _add_message(conn: asyncpg.Connection, conversation: Conversation, post: Post, direction: str,
                       now: datetime) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO webcare_messages (conversation_id, post_id, direction, written_by_id, created_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING post_id",
        conversation.id, post.id, direction, post.written_by_id, now)
    if inserted is None:
        return False
    if direction == "in":
        status = "open"
        await conn.execute("UPDATE webcare_conversations SET status = 'open', last_activity_at = $2, "
                           "waiting_since = coalesce(waiting_since, $2) WHERE id = $1", conversation.id, now)
        await _event(conn, conversation, "message_in", None, now, post_id=post.id,
                     detail={"reopened": conversation.status == "done"})
        citizen = await accounts.get_account(conn, post.account_id)
        await webcare_hooks.enqueue(conn, conversation.organisation_id, "conversation.citizen_replied",
                                    _hook_data(conversation, citizen=citizen, post_id=post.id, status=status), now)
    else:
        writer = post.written_by_id or post.account_id
        status = "waiting" if conversation.status == "open" else conversation.status
        await conn.execute(
            "UPDATE webcare_conversations SET status = $3, last_activity_at = $2, waiting_since = NULL, "
            "first_response_at = coalesce(first_response_at, $2), "
            "first_responder_id = coalesce(first_responder_id, $4) WHERE id = $1",
            conversation.id, now, status, writer)
        await _event(conn, conversation, "answered", writer, now, post_id=post.id)
    if status != conversation.status:
        await _status_changed(conn, conversation, conversation.status, status, None, now)
    return True


def _hook_data(conversation: Conversation, *, citizen: Account | None = None, post_id: int | None = None,
               status: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"conversation_id": str(conversation.id), "organisation_id": str(conversation.organisation_id),
                            "status": status or conversation.status}
    if citizen is not None:
        data["citizen"] = {"id": str(citizen.id), "acct": citizen.acct, "url": citizen.profile_url or citizen.actor_uri}
    if post_id is not None:
        data["status_id"] = str(post_id)
    return data


async def _event(conn: asyncpg.Connection, conversation: Conversation, kind: str, actor_id: int | None,
                 now: datetime, *, post_id: int | None = None, detail: dict[str, Any] | None = None) -> Event:
    """One line of the conversation's history and of the audit log (open pages poll the history)."""
    row = await conn.fetchrow(
        "INSERT INTO webcare_events (conversation_id, kind, actor_id, post_id, detail, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, kind, actor_id, post_id, detail, created_at",
        conversation.id, kind, actor_id, post_id, dict(detail or {}), now)
    await audit.record(conn, actor_id=actor_id, action=f"webcare.{kind}", subject_type="webcare_conversation",
                       subject_id=conversation.id,
                       detail={"organisation_id": conversation.organisation_id, "post_id": post_id, **(detail or {})},
                       now=now)
    return Event(**dict(row))


async def _status_changed(conn: asyncpg.Connection, conversation: Conversation, old: str, new: str,
                          actor_id: int | None, now: datetime) -> None:
    await _event(conn, conversation, "status", actor_id, now, detail={"from": old, "to": new})
    await webcare_hooks.enqueue(conn, conversation.organisation_id, "conversation.status_changed",
                                {**_hook_data(conversation, status=new), "previous_status": old}, now)


# ------------------------------------------------------------------ reading

async def get_conversation(conn: asyncpg.Connection, person: Account | None, conversation_id: int, *,
                           for_update: bool = False) -> Conversation:
    """A conversation the person may work on; 404 for one that does not exist or is another team's."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM webcare_conversations WHERE id = $1"
                              + (" FOR UPDATE" if for_update else ""), conversation_id)
    if row is None or not may_work(person, row["organisation_id"]):
        raise NotFound("There is no conversation with that id.")
    return _conversation(row)


async def list_conversations(conn: asyncpg.Connection, organisation_id: int, *, status: str | None = None,
                             assignee_id: int | None = None, unassigned: bool = False, label: str | None = None,
                             order: str = "waiting", max_id: int | None = None,
                             before: tuple[datetime, int] | None = None, after: tuple[datetime, int] | None = None,
                             limit: int = 50) -> list[Conversation]:
    """The inbox: by status, assignee and label. `waiting` puts the oldest unanswered first (then the rest by
    latest activity), paged by `max_id` on the id; `activity` is newest activity first (the API's order), paged
    by a (last_activity_at, id) cursor: `before` gives the next older page, `after` the page just newer than it
    (still newest first), as Mastodon's max_id and min_id do."""
    if status is not None and status not in STATUSES:
        raise Invalid("The status must be open, waiting or done.")
    cursor, args = "", []
    if order == "activity":
        ordering = "last_activity_at DESC, id DESC"
        if before is not None:
            cursor, args = " AND (last_activity_at, id) < ($8::timestamptz, $9::bigint)", list(before)
        elif after is not None:
            cursor, args = " AND (last_activity_at, id) > ($8::timestamptz, $9::bigint)", list(after)
            ordering = "last_activity_at ASC, id ASC"
    else:
        ordering = "waiting_since ASC NULLS LAST, last_activity_at DESC, id DESC"
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM webcare_conversations WHERE organisation_id = $1 "
        f"AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR assignee_id = $3) "
        f"AND (NOT $4 OR assignee_id IS NULL) AND ($5::text IS NULL OR $5 = ANY(labels)) "
        f"AND ($6::bigint IS NULL OR id < $6){cursor} ORDER BY {ordering} LIMIT $7",
        organisation_id, status, assignee_id, unassigned, label, max_id, max(1, min(limit, 200)), *args)
    found = [_conversation(r) for r in rows]
    return found[::-1] if order == "activity" and after is not None and before is None else found


async def count_by_status(conn: asyncpg.Connection, organisation_id: int) -> dict[str, int]:
    rows = await conn.fetch("SELECT status, count(*) AS n FROM webcare_conversations WHERE organisation_id = $1 "
                            "GROUP BY status", organisation_id)
    return {s: 0 for s in STATUSES} | {r["status"]: r["n"] for r in rows}


async def list_labels(conn: asyncpg.Connection, organisation_id: int) -> list[str]:
    return [r["label"] for r in await conn.fetch(
        "SELECT DISTINCT unnest(labels) AS label FROM webcare_conversations WHERE organisation_id = $1 "
        "ORDER BY label", organisation_id)]


async def list_messages(conn: asyncpg.Connection, conversation_id: int) -> list[Message]:
    rows = await conn.fetch("SELECT post_id, direction, written_by_id, created_at FROM webcare_messages "
                            "WHERE conversation_id = $1 ORDER BY post_id", conversation_id)
    return [Message(**dict(r)) for r in rows]


async def list_events(conn: asyncpg.Connection, conversation_id: int) -> list[Event]:
    rows = await conn.fetch("SELECT id, kind, actor_id, post_id, detail, created_at FROM webcare_events "
                            "WHERE conversation_id = $1 ORDER BY id", conversation_id)
    return [Event(**dict(r)) for r in rows]


async def earlier_with(conn: asyncpg.Connection, conversation: Conversation, limit: int = 20) -> list[Conversation]:
    """The organisation's other conversations with the same citizen, newest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM webcare_conversations WHERE organisation_id = $1 AND citizen_account_id = $2 "
        f"AND id <> $3 ORDER BY id DESC LIMIT $4",
        conversation.organisation_id, conversation.citizen_account_id, conversation.id, limit)
    return [_conversation(r) for r in rows]


async def list_for_archive(conn: asyncpg.Connection, organisation_id: int, since: datetime, until: datetime, *,
                           after_id: int, limit: int) -> list[Conversation]:
    """The organisation's conversations opened in [since, until), by id, a page after `after_id` (the archive
    export, server/archive_webcare.py)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM webcare_conversations WHERE organisation_id = $1 AND created_at >= $2 "
        f"AND created_at < $3 AND id > $4 ORDER BY id LIMIT $5", organisation_id, since, until, after_id, limit)
    return [_conversation(r) for r in rows]


async def report_rows(conn: asyncpg.Connection, organisation_id: int, since: datetime,
                      until: datetime) -> list[dict[str, Any]]:
    """The conversations opened in [since, until), with whoever answered first (server/webcare_reports.py)."""
    rows = await conn.fetch(
        "SELECT c.created_at, c.first_response_at, c.labels, a.username AS first_responder "
        "FROM webcare_conversations c LEFT JOIN accounts a ON a.id = c.first_responder_id "
        "WHERE c.organisation_id = $1 AND c.created_at >= $2 AND c.created_at < $3 ORDER BY c.id",
        organisation_id, since, until)
    return [{**dict(r), "labels": list(r["labels"])} for r in rows]


async def forget_posts(conn: asyncpg.Connection, post_ids: list[int]) -> int:
    """Before posts are removed for good (a moderator's purge where the law requires destruction): conversations
    they started go with their history, their other messages leave their conversations, and history lines keep no
    pointer to them. The organisation's own answers stay as its posts. How many conversations went."""
    if not post_ids:
        return 0
    status = await conn.execute("DELETE FROM webcare_conversations WHERE start_post_id = ANY($1::bigint[])", post_ids)
    await conn.execute("DELETE FROM webcare_messages WHERE post_id = ANY($1::bigint[])", post_ids)
    await conn.execute("UPDATE webcare_events SET post_id = NULL WHERE post_id = ANY($1::bigint[])", post_ids)
    return int(status.split()[-1])


async def latest_event_id(conn: asyncpg.Connection, conversation_id: int) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM webcare_events WHERE conversation_id = $1",
                                   conversation_id))


async def others_since(conn: asyncpg.Connection, conversation: Conversation, person: Account,
                       seen_event_id: int) -> list[Event]:
    """What teammates did since the person's page showed `seen_event_id`: a claim or an answer by someone else
    (the warning before sending a second answer)."""
    rows = await conn.fetch(
        "SELECT id, kind, actor_id, post_id, detail, created_at FROM webcare_events WHERE conversation_id = $1 "
        "AND id > $2 AND kind IN ('claimed', 'answered') AND actor_id IS DISTINCT FROM $3 ORDER BY id",
        conversation.id, seen_event_id, person.id)
    return [Event(**dict(r)) for r in rows]


async def held_answers(conn: asyncpg.Connection, conversation_id: int) -> list[int]:
    """Answers of the organisation in this conversation that wait for a reviewer (four eyes)."""
    return [r["post_id"] for r in await conn.fetch(
        "SELECT e.post_id FROM webcare_events e JOIN posts p ON p.id = e.post_id WHERE e.conversation_id = $1 "
        "AND e.kind = 'answered' AND p.state = 'held' AND p.deleted_at IS NULL ORDER BY e.id", conversation_id)]


# ------------------------------------------------------------------ the team's steps

async def claim(conn: asyncpg.Connection, person: Account, conversation_id: int, now: datetime, *,
                take_over: bool = True) -> Conversation:
    """The person takes the conversation (`Kees behandelt dit`); taking it from a teammate is allowed and
    recorded, unless `take_over` is False (then 409)."""
    conversation = await get_conversation(conn, person, conversation_id, for_update=True)
    if conversation.assignee_id == person.id:
        return conversation
    if conversation.assignee_id is not None and not take_over:
        raise Conflict("Someone else is handling this conversation.")
    await conn.execute("UPDATE webcare_conversations SET assignee_id = $2 WHERE id = $1", conversation.id, person.id)
    await _event(conn, conversation, "claimed", person.id, now,
                 detail={"from": conversation.assignee_id} if conversation.assignee_id else {})
    return await get_conversation(conn, person, conversation_id)


async def release(conn: asyncpg.Connection, person: Account, conversation_id: int, now: datetime) -> Conversation:
    conversation = await get_conversation(conn, person, conversation_id, for_update=True)
    if conversation.assignee_id is None:
        return conversation
    await conn.execute("UPDATE webcare_conversations SET assignee_id = NULL WHERE id = $1", conversation.id)
    await _event(conn, conversation, "released", person.id, now, detail={"from": conversation.assignee_id})
    return await get_conversation(conn, person, conversation_id)


async def set_status(conn: asyncpg.Connection, person: Account, conversation_id: int, status: str,
                     now: datetime) -> Conversation:
    if status not in STATUSES:
        raise Invalid("The status must be open, waiting or done.")
    conversation = await get_conversation(conn, person, conversation_id, for_update=True)
    if status == conversation.status:
        return conversation
    await conn.execute("UPDATE webcare_conversations SET status = $2, last_activity_at = $3 WHERE id = $1",
                       conversation.id, status, now)
    await _status_changed(conn, conversation, conversation.status, status, person.id, now)
    return await get_conversation(conn, person, conversation_id)


def clean_labels(labels: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for label in labels:
        label = " ".join(str(label).split()).lower()
        if not label:
            continue
        if len(label) > MAX_LABEL_CHARS:
            raise Invalid("A label is at most 40 characters.")
        if label not in cleaned:
            cleaned.append(label)
    if len(cleaned) > MAX_LABELS:
        raise Invalid("A conversation has at most 10 labels.")
    return cleaned


async def set_labels(conn: asyncpg.Connection, person: Account, conversation_id: int, labels: Sequence[str],
                     now: datetime) -> Conversation:
    cleaned = clean_labels(labels)
    conversation = await get_conversation(conn, person, conversation_id, for_update=True)
    if cleaned == conversation.labels:
        return conversation
    await conn.execute("UPDATE webcare_conversations SET labels = $2 WHERE id = $1", conversation.id, cleaned)
    await _event(conn, conversation, "labels", person.id, now, detail={"from": conversation.labels, "to": cleaned})
    return await get_conversation(conn, person, conversation_id)


async def add_note(conn: asyncpg.Connection, person: Account, conversation_id: int, text: str,
                   now: datetime) -> Event:
    """An internal note: for the team only, never federated, never in the Mastodon API."""
    text = text.strip()
    if not text:
        raise Invalid("A note needs some text.")
    if len(text) > MAX_NOTE_CHARS:
        raise Invalid("A note is at most 5,000 characters.")
    conversation = await get_conversation(conn, person, conversation_id)
    return await _event(conn, conversation, "note", person.id, now, detail={"text": text})


async def record_answer(conn: asyncpg.Connection, person: Account, conversation: Conversation, post: Post,
                        now: datetime) -> None:
    """After an answer is stored: a held one waits for a reviewer (history says so); a published one was already
    filed by `take_in` when it was announced. The writer is in the audit log either way
    (`post.written_for_organisation`, by `publishing.create_post`)."""
    if post.state == "held":
        await _event(conn, conversation, "answered", person.id, now, post_id=post.id, detail={"held": True})
    if conversation.assignee_id is None:
        await conn.execute("UPDATE webcare_conversations SET assignee_id = $2 WHERE id = $1 AND assignee_id IS NULL",
                           conversation.id, person.id)


async def reply_target(conn: asyncpg.Connection, conversation: Conversation) -> int:
    """The message an answer replies to: the citizen's latest in the conversation."""
    post_id = await conn.fetchval(
        "SELECT m.post_id FROM webcare_messages m JOIN posts p ON p.id = m.post_id WHERE m.conversation_id = $1 "
        "AND m.direction = 'in' AND p.deleted_at IS NULL ORDER BY m.post_id DESC LIMIT 1", conversation.id)
    if post_id is None:
        raise Conflict("The citizen's messages in this conversation were deleted: there is nothing to answer.")
    return int(post_id)
