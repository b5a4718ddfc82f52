"""Reports about accounts and their posts, from people of this node and from other servers' Flag activities; and
moderators' warnings to accounts.

Owns: the reports, report_posts and account_warnings tables and their SQL, and the rules of filing a report: who
may report whom, the categories, the limits, which posts may be attached, and forwarding a report to the reported
account's server (an outbox event; federation/outbox.py turns it into a Flag from our instance actor).
Never: sends anything itself, or decides on an account (moderation/account_actions.py does, and resolves reports
through `update_report_state`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from server import audit, events, posts, uris, visibility
from server.accounts import Account
from server.config import Settings
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.ids import new_id

# Mastodon's categories (4.2 added "legal"); a report without one is "other", as on Mastodon.
CATEGORIES = ("spam", "legal", "violation", "other")
ACTIONS = ("none", "warn", "silence", "suspend")
MAX_COMMENT = 1000  # Mastodon's limit for a comment written here
MAX_REMOTE_COMMENT = 5000  # what we keep of a comment that came with another server's Flag
MAX_POSTS = 20
FORWARDED_KIND = "report.forwarded"

_COLUMNS = ("id, reporter_account_id, reporter_domain, reporter_actor_uri, flag_uri, target_account_id, category, "
            "comment, forward_requested, forwarded_at, state, action_taken, resolved_by_account_id, resolved_at, "
            "created_at, updated_at")


@dataclass(frozen=True)
class ReportedPost:
    """A reported post as it was when reported; `post_id` is None once the post itself is gone from this node."""

    post_id: int | None
    post_uri: str
    content_html: str
    spoiler_text: str
    posted_at: datetime


@dataclass(frozen=True)
class Report:
    id: int
    reporter_account_id: int | None
    reporter_domain: str | None
    reporter_actor_uri: str | None
    flag_uri: str | None
    target_account_id: int
    category: str
    comment: str
    forward_requested: bool
    forwarded_at: datetime | None
    state: str
    action_taken: str | None
    resolved_by_account_id: int | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    posts: tuple[ReportedPost, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def is_remote(self) -> bool:
        """Sent to us by another server (a Flag), rather than filed by someone here."""
        return self.flag_uri is not None

    @property
    def forwarded(self) -> bool:
        return self.forwarded_at is not None


@dataclass(frozen=True)
class AccountWarning:
    id: int
    account_id: int
    moderator_account_id: int | None
    report_id: int | None
    action: str
    text: str
    created_at: datetime


# ---------------------------------------------------------------- SQL


async def _with_posts(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> list[Report]:
    ids = [r["id"] for r in rows]
    found: dict[int, list[ReportedPost]] = {i: [] for i in ids}
    for p in await conn.fetch("SELECT report_id, post_id, post_uri, content_html, spoiler_text, posted_at "
                              "FROM report_posts WHERE report_id = ANY($1::bigint[]) ORDER BY posted_at", ids):
        found[p["report_id"]].append(ReportedPost(p["post_id"], p["post_uri"], p["content_html"], p["spoiler_text"],
                                                  p["posted_at"]))
    return [Report(**dict(r), posts=tuple(found[r["id"]])) for r in rows]


async def insert_report(conn: asyncpg.Connection, *, target_account_id: int, category: str, comment: str,
                        reported: Sequence[ReportedPost], now: datetime, reporter_account_id: int | None = None,
                        reporter_domain: str | None = None, reporter_actor_uri: str | None = None,
                        flag_uri: str | None = None, forward_requested: bool = False) -> Report | None:
    """Store a report and its posts; None when this Flag already made a report about this account."""
    row = await conn.fetchrow(
        f"""INSERT INTO reports (id, reporter_account_id, reporter_domain, reporter_actor_uri, flag_uri,
              target_account_id, category, comment, forward_requested, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
            ON CONFLICT (flag_uri, target_account_id) WHERE flag_uri IS NOT NULL DO NOTHING
            RETURNING {_COLUMNS}""",
        new_id(now), reporter_account_id, reporter_domain, reporter_actor_uri, flag_uri, target_account_id, category,
        comment, forward_requested, now)
    if row is None:
        return None
    await conn.executemany(
        "INSERT INTO report_posts (report_id, post_id, post_uri, content_html, spoiler_text, posted_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        [(row["id"], p.post_id, p.post_uri, p.content_html, p.spoiler_text, p.posted_at) for p in reported])
    return (await _with_posts(conn, [row]))[0]


async def get_report(conn: asyncpg.Connection, report_id: int, *, for_update: bool = False) -> Report | None:
    """One report; `for_update` locks it, so two moderators deciding at once take turns."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM reports WHERE id = $1{lock}", report_id)
    return (await _with_posts(conn, [row]))[0] if row else None


async def list_reports(conn: asyncpg.Connection, *, state: str | None = None, target_account_id: int | None = None,
                       before_id: int | None = None, limit: int = 50) -> list[Report]:
    """Newest first; the queue asks for the open ones first, then the resolved ones."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM reports WHERE ($1::text IS NULL OR state = $1) "
        f"AND ($2::bigint IS NULL OR target_account_id = $2) AND ($3::bigint IS NULL OR id < $3) "
        f"ORDER BY id DESC LIMIT $4", state, target_account_id, before_id, max(1, min(limit, 200)))
    return await _with_posts(conn, rows)


async def count_reports(conn: asyncpg.Connection, *, state: str = "open") -> int:
    return int(await conn.fetchval("SELECT count(*) FROM reports WHERE state = $1", state) or 0)


async def update_report_state(conn: asyncpg.Connection, report_id: int, *, state: str, action_taken: str | None,
                              moderator_id: int | None, now: datetime) -> Report | None:
    """Resolve (with the action taken) or reopen a report."""
    resolved = state == "resolved"
    row = await conn.fetchrow(
        f"UPDATE reports SET state = $2, action_taken = $3, resolved_by_account_id = $4, resolved_at = $5, "
        f"updated_at = $6 WHERE id = $1 RETURNING {_COLUMNS}",
        report_id, state, action_taken if resolved else None, moderator_id if resolved else None,
        now if resolved else None, now)
    return (await _with_posts(conn, [row]))[0] if row else None


async def update_forwarded(conn: asyncpg.Connection, report_id: int, now: datetime) -> bool:
    """Mark a report as sent to the reported account's server; False when it already was."""
    status = await conn.execute("UPDATE reports SET forwarded_at = $2, updated_at = $2 WHERE id = $1 "
                                "AND forwarded_at IS NULL", report_id, now)
    return status.endswith(" 1")


async def insert_warning(conn: asyncpg.Connection, *, account_id: int, moderator_id: int | None,
                         report_id: int | None, action: str, text: str, now: datetime) -> AccountWarning:
    row = await conn.fetchrow(
        "INSERT INTO account_warnings (id, account_id, moderator_account_id, report_id, action, text, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "RETURNING id, account_id, moderator_account_id, report_id, action, text, created_at",
        new_id(now), account_id, moderator_id, report_id, action, text, now)
    return AccountWarning(**dict(row))


async def list_warnings(conn: asyncpg.Connection, account_id: int, *, limit: int = 50) -> list[AccountWarning]:
    """An account's warnings and the notes that came with limits, newest first."""
    rows = await conn.fetch("SELECT id, account_id, moderator_account_id, report_id, action, text, created_at "
                            "FROM account_warnings WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
                            account_id, max(1, min(limit, 200)))
    return [AccountWarning(**dict(r)) for r in rows]


# ---------------------------------------------------------------- filing


def is_moderator(account: Account | None) -> bool:
    """Admins and moderators of this node, while their own account is in good standing."""
    return account is not None and account.may_moderate


def _category(value: str | None) -> str:
    category = (value or "other").strip().lower()
    if category not in CATEGORIES:
        raise Invalid("Choose a category: spam, legal, violation or other.")
    return category


def snapshot(settings: Settings, post: posts.Post, author: Account) -> ReportedPost:
    uri = post.uri or uris.status(settings, author.username, post.id)
    return ReportedPost(post.id, uri, post.content_html, post.spoiler_text, post.created_at)


async def file_report(conn: asyncpg.Connection, settings: Settings, reporter: Account, target: Account, *,
                      post_ids: Sequence[int], category: str | None, comment: str, forward: bool,
                      now: datetime) -> Report:
    """A person of this node reports an account, optionally with some of its posts, in one transaction.

    Only posts the reporter can see and that the reported account wrote may be attached. `forward` asks for the
    report to go to the account's own server too (only for remote accounts; without the reporter's name).
    """
    if not reporter.is_local or not reporter.is_active:
        raise Forbidden("Only people of this server can report.")
    if target.id == reporter.id:
        raise Invalid("You cannot report yourself.")
    if not target.is_active:
        raise NotFound("There is no account with that name here.")
    chosen = _category(category)
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid("The comment is too long: at most %(n)d characters.", n=MAX_COMMENT)
    unique_ids = list(dict.fromkeys(post_ids))
    if len(unique_ids) > MAX_POSTS:
        raise Invalid("A report can point at %(n)d posts at most.", n=MAX_POSTS)
    reported = []
    for post_id in unique_ids:
        post = await visibility.get_visible_post(conn, post_id, reporter.id)
        if post is None:
            raise NotFound("A reported post does not exist or is not visible to you.")
        if post.account_id != target.id or post.reblog_of_id is not None:
            raise Invalid("Only posts of the reported account can be added to the report.")
        reported.append(snapshot(settings, post, target))
    forward = forward and not target.is_local
    report = await insert_report(conn, target_account_id=target.id, category=chosen, comment=comment,
                                 reported=reported, now=now, reporter_account_id=reporter.id,
                                 forward_requested=forward)
    assert report is not None  # only Flags can collide
    await audit.record(conn, actor_id=reporter.id, action="report.created", subject_type="report",
                       subject_id=report.id, detail={"account_id": target.id, "category": chosen,
                                                      "posts": len(reported), "forward": forward}, now=now)
    if forward:
        report = await forward_report(conn, reporter, report, target, comment=comment, now=now, by_reporter=True)
    return report


async def receive_flag(conn: asyncpg.Connection, *, flag_uri: str, actor_uri: str, domain: str, target: Account,
                       reported: Sequence[posts.Post], settings: Settings, comment: str,
                       now: datetime) -> Report | None:
    """Another server reports one of our accounts; None when the same Flag was already stored, or the target is
    already suspended (as Mastodon skips it)."""
    if not target.is_local or target.is_suspended:
        return None
    report = await insert_report(
        conn, target_account_id=target.id, category="other", comment=comment.strip()[:MAX_REMOTE_COMMENT],
        reported=[snapshot(settings, p, target) for p in reported[:MAX_POSTS]], now=now,
        reporter_domain=domain.lower()[:300], reporter_actor_uri=actor_uri, flag_uri=flag_uri)
    if report is not None:
        await audit.record(conn, actor_id=None, action="report.received", subject_type="report",
                           subject_id=report.id, detail={"account_id": target.id, "from": domain,
                                                          "flag": flag_uri, "posts": len(report.posts)}, now=now)
    return report


async def forward_report(conn: asyncpg.Connection, by: Account, report: Report, target: Account, *, comment: str,
                         now: datetime, by_reporter: bool = False) -> Report:
    """Send the report to the reported account's server as a Flag from our instance actor (never naming the
    reporter), through an outbox event in this transaction.

    `comment` is what the other server's moderators read: the reporter's own words when they asked for the
    forward, otherwise what the moderator writes (a reporter's comment is not passed on without their say).
    """
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid("The comment is too long: at most %(n)d characters.", n=MAX_COMMENT)
    if not by_reporter and not is_moderator(by):
        raise Forbidden("Only moderators can do this.")
    if target.is_local or target.id != report.target_account_id:
        raise Invalid("Only a report about an account on another server can be forwarded.")
    if report.is_remote:
        raise Invalid("This report came from %(domain)s; it is not sent back.", domain=report.reporter_domain or "")
    if not await update_forwarded(conn, report.id, now):
        raise Conflict("This report was already sent to %(domain)s.", domain=target.domain or "")
    await events.record_event(conn, FORWARDED_KIND, report.id, by.id, now, {
        "account_id": target.id, "post_uris": [p.post_uri for p in report.posts], "comment": comment})
    await audit.record(conn, actor_id=by.id, action="report.forwarded", subject_type="report", subject_id=report.id,
                       detail={"account_id": target.id, "domain": target.domain, "by_reporter": by_reporter},
                       now=now)
    return replace(report, forwarded_at=now)
