"""Scheduled posts: a post's parameters kept until its time, then published through `publishing.create_post`.

Owns: the scheduled_statuses table and its SQL; Mastodon's limits (at least 5 minutes ahead, 300 waiting, 25 on one
day); the organisation's checks when a post is scheduled (judged as of its time: block refuses, warn asks the
author to confirm, hold is stored and left for publication to decide) and again at publication, where a held post
goes to review and a refused one stays as `failed` with the reason, for its author; publishing each due post
exactly once, however many workers run (`publish_due`: claimed FOR UPDATE SKIP LOCKED through server/db/queue.py,
published and deleted in the claiming transaction).
Never: decides who may post what (publishing.py), federation/ or HTTP (the mention lookup is a parameter, as in
compose.py), or shows anything (web/ does).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from server import accounts, audit, housekeeping, idempotency, media, notifications, polls, publishing
from server.accounts import Account
from server.compose import MentionResolver
from server.db import queue
from server.db.pool import transaction
from server.deps import Deps
from server.errors import DomainError, Forbidden, Invalid, NotFound
from server.i18n import translations
from server.ids import new_id
from server.posts import Post
from server.publishing import Draft

log = logging.getLogger("ambtenaar.scheduled")
MINIMUM_OFFSET = timedelta(minutes=5)  # Mastodon's ScheduledStatus::MINIMUM_OFFSET
TOTAL_LIMIT = 300  # waiting at once, per account (Mastodon's TOTAL_LIMIT)
DAILY_LIMIT = 25  # on one calendar day, per account (Mastodon's DAILY_LIMIT; our day is Amsterdam's, not UTC's)
ZONE = ZoneInfo("Europe/Amsterdam")
KEEP_FAILED = timedelta(days=30)
PENDING, FAILED, DEAD = queue.PENDING, queue.FAILED, queue.DEAD
# No lease: the publishing transaction holds its rows locked and deletes them, so a crash rolls the claim back.
QUEUE = queue.Queue("scheduled_statuses", order_by="next_attempt_at", lease=None)
_COLUMNS = ("id", "account_id", "scheduled_at", "params", "idempotency_key", "created_at", "failure", "state",
            "attempts")
_SELECT = ", ".join(_COLUMNS)
UNEXPECTED = "The server could not publish it because of an error. Please post it again."


@dataclass(frozen=True)
class ScheduledStatus:
    id: int
    account_id: int
    scheduled_at: datetime
    params: dict[str, Any]
    idempotency_key: str | None
    created_at: datetime
    failure: dict[str, str] | None  # the reason publication was refused, {"en": .., "nl": ..}
    state: str
    attempts: int

    @property
    def media_ids(self) -> tuple[int, ...]:
        return tuple(int(i) for i in self.params.get("media_ids") or ())

    def draft(self) -> Draft:
        p = self.params
        poll = p.get("poll")
        return Draft(text=p.get("text") or "", spoiler_text=p.get("spoiler_text") or "",
                     visibility=p.get("visibility") or "public", voice=p.get("voice"),
                     in_reply_to_id=int(p["in_reply_to_id"]) if p.get("in_reply_to_id") else None,
                     language=p.get("language"), media_ids=self.media_ids,
                     confirm_policy=bool(p.get("confirm_policy")), quote_policy=p.get("quote_approval_policy"),
                     # The poll's duration counts from publication, as on Mastodon.
                     poll=polls.PollDraft(tuple(poll["options"]), int(poll["expires_in"]), bool(poll["multiple"]),
                                          bool(poll["hide_totals"])) if poll else None)

    def reason(self, lang: str) -> str:
        return (self.failure or {}).get(lang) or (self.failure or {}).get("en", "")


def _params(draft: Draft, *, sensitive: bool | None, application_id: int | None) -> dict[str, Any]:
    """What publication needs, stored as given (Mastodon keeps the request's parameters the same way)."""
    return {"text": draft.text, "spoiler_text": draft.spoiler_text, "visibility": draft.visibility,
            "voice": draft.voice, "in_reply_to_id": str(draft.in_reply_to_id) if draft.in_reply_to_id else None,
            "language": draft.language, "media_ids": [str(i) for i in draft.media_ids] or None,
            "sensitive": sensitive, "application_id": application_id, "confirm_policy": draft.confirm_policy,
            "quote_approval_policy": draft.quote_policy,
            "poll": {"options": list(draft.poll.options), "expires_in": draft.poll.expires_in,
                     "multiple": draft.poll.multiple, "hide_totals": draft.poll.hide_totals} if draft.poll else None}


def _from_row(row: asyncpg.Record | dict[str, Any]) -> ScheduledStatus:
    values = dict(row)
    return ScheduledStatus(**{name: values[name] for name in _COLUMNS})


def check_time(scheduled_at: datetime, now: datetime) -> None:
    if scheduled_at.tzinfo is None:
        raise Invalid("The time of a scheduled post needs a time zone.")
    if scheduled_at < now + MINIMUM_OFFSET:
        raise Invalid("A scheduled post must be at least 5 minutes in the future.")


async def _check_limits(conn: asyncpg.Connection, account_id: int, scheduled_at: datetime,
                        other_than: int | None = None) -> None:
    """Mastodon's limits, counted under a lock per account so that requests at once cannot pass them together."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('scheduled_statuses', $1))", account_id)
    day = scheduled_at.astimezone(ZONE).date()
    after = day + timedelta(days=1)
    row = await conn.fetchrow(
        "SELECT count(*) AS total, count(*) FILTER (WHERE scheduled_at >= $3 AND scheduled_at < $4) AS on_day "
        "FROM scheduled_statuses WHERE account_id = $1 AND state = 'pending' AND id IS DISTINCT FROM $2",
        account_id, other_than, datetime(day.year, day.month, day.day, tzinfo=ZONE),
        datetime(after.year, after.month, after.day, tzinfo=ZONE))
    if row["total"] >= TOTAL_LIMIT:
        raise Invalid("You have reached the limit of %(limit)d scheduled posts.", limit=TOTAL_LIMIT)
    if row["on_day"] >= DAILY_LIMIT:
        raise Invalid("You have reached the limit of %(limit)d scheduled posts on one day.", limit=DAILY_LIMIT)


async def schedule_post(deps: Deps, author: Account, draft: Draft, scheduled_at: datetime, *,
                        resolve_mentions: MentionResolver, idempotency_key: str = "", sensitive: bool | None = None,
                        application_id: int | None = None) -> ScheduledStatus:
    """Keep a post for `scheduled_at`, after the rules and the organisation's checks as of that moment.

    Raises what `publishing.check_draft` raises (a `PolicyStopped` after its audit entry, as compose_post does).
    With an `idempotency_key`, a retry within the hour gets the first scheduled post back."""
    check_time(scheduled_at, deps.now())
    await resolve_mentions(draft.text)  # cached now, so that publication links them without the network
    now = deps.now()
    try:
        async with transaction(deps.pool) as conn:
            if idempotency_key:
                await idempotency.lock_key(conn, author.id, idempotency_key)
                earlier = await conn.fetchrow(
                    f"SELECT {_SELECT} FROM scheduled_statuses WHERE account_id = $1 AND idempotency_key = $2 "
                    "AND created_at > $3 AND state = 'pending'", author.id, idempotency_key, now - idempotency.KEEP_FOR)
                if earlier is not None:
                    return _from_row(earlier)
            await _check_limits(conn, author.id, scheduled_at)
            voice, _, verdict = await publishing.check_draft(conn, deps.settings, author, draft, scheduled_at)
            # The voice as chosen now, so that a later change of the author's default does not change the post.
            params = _params(replace(draft, voice=voice), sensitive=sensitive, application_id=application_id)
            scheduled_id = new_id(now)
            row = await conn.fetchrow(
                f"INSERT INTO scheduled_statuses (id, account_id, scheduled_at, params, idempotency_key, created_at, "
                f"next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $3) RETURNING {_SELECT}",
                scheduled_id, author.id, scheduled_at, params, idempotency_key or None, now)
            await media.attach_to_scheduled(conn, author.id, scheduled_id, draft.media_ids)
            if verdict is not None:
                await audit.record(conn, actor_id=author.id, action="policy.checked_scheduled",
                                   subject_type="account", subject_id=author.id,
                                   detail={**verdict.to_json(), "confirmed": draft.confirm_policy,
                                           "scheduled_status_id": str(scheduled_id)}, now=now)
            return _from_row(row)
    except publishing.PolicyStopped as stopped:
        async with transaction(deps.pool) as conn:
            await publishing.record_policy_refusal(conn, author, stopped, now)
        raise


async def list_scheduled(conn: asyncpg.Connection, account_id: int, *, max_id: int | None = None,
                         since_id: int | None = None, min_id: int | None = None, limit: int = 20,
                         states: Sequence[str] = (PENDING,)) -> list[ScheduledStatus]:
    """The account's own scheduled posts by id, newest first, as Mastodon pages them (the API: waiting ones)."""
    conditions, args = ["account_id = $1", "state = ANY($2::text[])"], [account_id, list(states)]
    for op, value in (("<", max_id), (">", since_id), (">", min_id)):
        if value is not None:
            args.append(value)
            conditions.append(f"id {op} ${len(args)}")
    order = "ASC" if min_id is not None else "DESC"
    rows = await conn.fetch(f"SELECT {_SELECT} FROM scheduled_statuses WHERE {' AND '.join(conditions)} "
                            f"ORDER BY id {order} LIMIT {int(limit)}", *args)
    return sorted((_from_row(r) for r in rows), key=lambda s: s.id, reverse=True)


async def get_scheduled(conn: asyncpg.Connection, viewer_id: int, scheduled_id: int, *,
                        states: Sequence[str] = (PENDING,), for_update: bool = False) -> ScheduledStatus:
    """One of the viewer's own scheduled posts: nobody else's exists for them (404, as Mastodon answers)."""
    row = await conn.fetchrow(f"SELECT {_SELECT} FROM scheduled_statuses WHERE id = $1 AND account_id = $2 "
                              f"AND state = ANY($3::text[]){' FOR UPDATE' if for_update else ''}",
                              scheduled_id, viewer_id, list(states))
    if row is None:
        raise NotFound("Record not found")
    return _from_row(row)


async def update_time(conn: asyncpg.Connection, author: Account, scheduled_id: int, scheduled_at: datetime,
                      now: datetime) -> ScheduledStatus:
    """A new time for a waiting scheduled post (Mastodon's only change to one); its checks run again then."""
    current = await get_scheduled(conn, author.id, scheduled_id, for_update=True)
    check_time(scheduled_at, now)
    await _check_limits(conn, author.id, scheduled_at, other_than=current.id)
    row = await conn.fetchrow(f"UPDATE scheduled_statuses SET scheduled_at = $2, next_attempt_at = $2 "
                              f"WHERE id = $1 AND state = 'pending' RETURNING {_SELECT}", current.id, scheduled_at)
    return _from_row(row)


async def delete_scheduled(conn: asyncpg.Connection, author: Account, scheduled_id: int) -> None:
    """Cancel a waiting scheduled post or forget a failed one; its images become the author's uploads again."""
    current = await get_scheduled(conn, author.id, scheduled_id, states=(PENDING, FAILED, DEAD), for_update=True)
    await conn.execute("DELETE FROM scheduled_statuses WHERE id = $1", current.id)


async def publish_due(deps: Deps, limit: int = 20) -> int:
    """Publish the scheduled posts whose time has come; how many were handled. For the workers' loop, which
    turns every few seconds: each row is claimed, published and deleted in one transaction (SKIP LOCKED), so
    several workers publish it once, and a crash publishes nothing and loses nothing."""
    now = deps.now()
    async with transaction(deps.pool) as conn:
        rows = await queue.claim(conn, QUEUE, now, limit, _COLUMNS)
        for item in map(_from_row, rows):
            try:
                async with conn.transaction():  # a savepoint: a refusal leaves the claim and the others alone
                    post = await _publish(conn, deps, item, now)
            except DomainError as refused:
                await _refuse(conn, item, refused, now)
                continue
            except Exception as exc:  # a bug or a lost connection: tried again on the queue's schedule
                gave_up = await queue.retry(conn, QUEUE, item.id, item.attempts + 1, queue.error_text(exc), now,
                                            values_if_given_up={"failure": _both(Invalid(UNEXPECTED))})
                log.warning("scheduled post failed", extra={"scheduled_status": item.id, "gave_up": gave_up,
                                                            "error": queue.error_text(exc)})
                if gave_up:
                    await _notify_failed(conn, item, Invalid(UNEXPECTED), now)
                continue
            log.info("scheduled post published", extra={"scheduled_status": item.id, "post": post.id,
                                                        "state": post.state})
    return len(rows)


async def _publish(conn: asyncpg.Connection, deps: Deps, item: ScheduledStatus, now: datetime) -> Post:
    author = await accounts.get_account(conn, item.account_id)
    if author is None or not author.is_active:
        raise Forbidden("Your account is disabled or suspended, so your scheduled post was not published.")
    await media.release_scheduled(conn, item.id)
    # The whole path of a post, with the organisation's checks as they are now (a deliberation period may have
    # started since): a held post goes to the reviewers instead of out.
    post = await publishing.create_post(conn, deps.settings, author, item.draft(), now)
    await conn.execute("DELETE FROM scheduled_statuses WHERE id = $1", item.id)
    if post.state == "held":
        await notifications.insert_scheduled_notification(conn, author_id=author.id, post_id=post.id,
                                                          outcome="held", note="", now=now)
    return post


def _both(error: DomainError) -> dict[str, str]:
    return {lang: error.translated(translations(lang).gettext) for lang in ("en", "nl")}


async def _refuse(conn: asyncpg.Connection, item: ScheduledStatus, refused: DomainError, now: datetime) -> None:
    """Publication was refused (blocked by a check now, the author no longer allowed to post so): kept as failed
    with the reason, for the author's page of scheduled posts, and the author notified."""
    if isinstance(refused, publishing.PolicyStopped):
        author = await accounts.get_account(conn, item.account_id)
        if author is not None:
            await publishing.record_policy_refusal(conn, author, refused, now)
    await queue.give_up(conn, QUEUE, [item.id], str(refused), state=FAILED, values={"failure": _both(refused)})
    await _notify_failed(conn, item, refused, now)


async def _notify_failed(conn: asyncpg.Connection, item: ScheduledStatus, refused: DomainError,
                         now: datetime) -> None:
    author = await accounts.get_account(conn, item.account_id)
    lang = author.language if author is not None and author.language in ("en", "nl") else "nl"
    await notifications.insert_scheduled_notification(conn, author_id=item.account_id, post_id=None,
                                                      outcome="failed", note=_both(refused)[lang], now=now)


@housekeeping.register("scheduled_statuses")
async def delete_old_failures(conn: asyncpg.Connection, now: datetime, settings: object = None) -> None:
    """Failed scheduled posts are kept for their authors to read for a month."""
    await conn.execute("DELETE FROM scheduled_statuses WHERE state <> 'pending' AND scheduled_at < $1",
                       now - KEEP_FAILED)
