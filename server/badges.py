"""Verified ambtenaar badges: an organisation says that one of its members holds a function, for a period.

Owns: the badges table and its SQL; who may issue, change and revoke a badge; a badge's status on a given date.
Every step writes the audit log and records `account.updated` for the official (other servers then get an Update
of the actor), all in the caller's transaction. Also the badges other servers' actors claim: their status
(`remote_status`: verified, unverified with a reason, or still being checked) and the queue of their checks
(`remote_badge_checks`, migration 0022; federation/remote_badges.py does the checking in the worker).
Never: builds ActivityStreams JSON, calls HTTP or renders pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from server import accounts, audit, events, names, organisations
from server.db import queue
from server.accounts import Account
from server.errors import Conflict, Forbidden, Invalid
from server.ids import new_id

VALID = "valid"
EXPIRED = "expired"
REVOKED = "revoked"
NOT_YET_VALID = "not_yet_valid"
PENDING = "pending"  # self-issued, waiting for a second admin's approval
STATUSES = (VALID, EXPIRED, REVOKED, NOT_YET_VALID, PENDING)
# Badge dates are calendar dates of the Netherlands: a badge "valid until 31 December" holds that whole day there.
BADGE_TIMEZONE = ZoneInfo("Europe/Amsterdam")
MAX_FUNCTION = 200
MAX_UNIT = 200
MAX_REASON = 500
_COLUMNS = ("b.id, b.account_id, b.organisation_id, b.function_title, b.unit, b.valid_from, b.valid_until, "
            "b.issued_by, b.created_at, b.updated_at, b.revoked_at, b.revoked_reason, b.revoked_by, "
            "o.slug AS organisation_slug, o.name AS organisation_name, b.awaiting_approval, b.approved_by, "
            "b.approved_at")
_FROM = "FROM badges b JOIN organisations o ON o.id = b.organisation_id"


@dataclass(frozen=True)
class Badge:
    """One badge row, with the name and slug of its organisation (every view of a badge shows them)."""

    id: int
    account_id: int
    organisation_id: int
    function_title: str
    unit: str
    valid_from: date
    valid_until: date | None
    issued_by: int
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    revoked_by: int | None
    organisation_slug: str
    organisation_name: str
    awaiting_approval: bool = False  # four eyes: its holder issued or changed it; a second admin must approve
    approved_by: int | None = None
    approved_at: datetime | None = None

    @property
    def path(self) -> str:
        """The public verification page of this badge on this node (stable for the badge's whole life)."""
        return badge_path(self.id)

    def status(self, today: date) -> str:
        """valid, expired, revoked, not_yet_valid or pending on `today` (valid_until is the last valid day)."""
        if self.revoked_at is not None:
            return REVOKED
        if self.awaiting_approval:
            return PENDING
        if today < self.valid_from:
            return NOT_YET_VALID
        if self.valid_until is not None and today > self.valid_until:
            return EXPIRED
        return VALID

    def is_valid(self, today: date) -> bool:
        return self.status(today) == VALID


def badge_path(badge_id: int) -> str:
    return f"/badges/{badge_id}"


def badge_url(base_url: str, badge_id: int) -> str:
    return f"{base_url}{badge_path(badge_id)}"


def local_date(now: datetime) -> date:
    """The calendar date in the Netherlands at `now`: the `today` that badge statuses are judged on."""
    return now.astimezone(BADGE_TIMEZONE).date()


def parse_date(text: str) -> date:
    """A date as YYYY-MM-DD (what the CLI and date inputs send)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("%(value)s is not a date; write it as YYYY-MM-DD, e.g. 2025-01-31.", value=text[:40]) from None


def may_manage(actor: Account, organisation_id: int) -> bool:
    """Instance admins manage every badge; an organisation admin manages those of their own organisation."""
    return actor.administers(organisation_id)


def _row(row: asyncpg.Record) -> Badge:
    return Badge(**dict(row))


def _clean_function(function_title: str) -> str:
    cleaned = names.clean_name(function_title)
    if not cleaned or len(cleaned) > MAX_FUNCTION:
        raise Invalid("A function title has 1 to 200 characters.")
    return cleaned


def _clean_unit(unit: str | None) -> str:
    cleaned = names.clean_name(unit or "")
    if len(cleaned) > MAX_UNIT:
        raise Invalid("An organisation unit may be at most 200 characters.")
    return cleaned


def _check_dates(valid_from: date, valid_until: date | None, today: date) -> None:
    if valid_until is None:
        return
    if valid_until < today:
        raise Invalid("The end date is in the past. To end a badge now, revoke it.")
    if valid_until < valid_from:
        raise Invalid("The end date must not be before the start date.")


def _describe(badge: Badge) -> dict[str, Any]:
    return {"function_title": badge.function_title, "unit": badge.unit, "valid_from": badge.valid_from.isoformat(),
            "valid_until": badge.valid_until.isoformat() if badge.valid_until else None}


async def _changed(conn: asyncpg.Connection, action: str, badge: Badge, actor: Account, official_id: int,
                   detail: dict[str, Any], now: datetime) -> None:
    await audit.record(conn, actor_id=actor.id, action=action, subject_type="badge", subject_id=badge.id,
                       detail={"account_id": str(official_id), "organisation": badge.organisation_slug, **detail},
                       now=now)
    # The actor document carries the badge, so followers' servers must hear that the actor changed.
    await events.record_event(conn, "account.updated", official_id, official_id, now,
                              {"badge_id": str(badge.id), "change": action})


async def get_badge(conn: asyncpg.Connection, badge_id: int) -> Badge | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} {_FROM} WHERE b.id = $1", badge_id)
    return _row(row) if row else None


async def get_current_badge(conn: asyncpg.Connection, account_id: int) -> Badge | None:
    """The account's badge that is not revoked (it may be expired or not yet valid), or None."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} {_FROM} WHERE b.account_id = $1 AND b.revoked_at IS NULL",
                              account_id)
    return _row(row) if row else None


async def list_current_for_accounts(conn: asyncpg.Connection, account_ids: list[int]) -> dict[int, Badge]:
    """Each account's badge that is not revoked, whatever its dates, by account id; one query."""
    if not account_ids:
        return {}
    rows = await conn.fetch(f"SELECT {_COLUMNS} {_FROM} WHERE b.account_id = ANY($1::bigint[]) "
                            f"AND b.revoked_at IS NULL", list(set(account_ids)))
    return {r["account_id"]: _row(r) for r in rows}


async def list_active_for_accounts(conn: asyncpg.Connection, account_ids: list[int], today: date) -> dict[int, Badge]:
    """Each account's badge that is valid on `today` (not revoked, within its dates), by account id; one query.

    Accounts without such a badge are absent. For post author lines: a badge shown there is a valid one.
    """
    if not account_ids:
        return {}
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE b.account_id = ANY($1::bigint[]) AND b.revoked_at IS NULL "
        f"AND NOT b.awaiting_approval AND b.valid_from <= $2 AND (b.valid_until IS NULL OR b.valid_until >= $2)",
        list(set(account_ids)), today)
    return {r["account_id"]: _row(r) for r in rows}


async def list_organisation_badges(conn: asyncpg.Connection, organisation_id: int, *,
                                   include_revoked: bool = True) -> list[Badge]:
    """The organisation's badges, current ones first, then newest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE b.organisation_id = $1 AND ($2 OR b.revoked_at IS NULL) "
        f"ORDER BY (b.revoked_at IS NULL) DESC, b.id DESC", organisation_id, include_revoked)
    return [_row(r) for r in rows]


async def issue(conn: asyncpg.Connection, *, actor: Account, official: Account, function_title: str,
                unit: str | None = None, valid_from: date | None = None, valid_until: date | None = None,
                now: datetime) -> Badge:
    """Issue a badge to a member of the actor's organisation (an instance admin: of the official's organisation)."""
    if not actor.is_local or actor.disabled_at is not None or not (actor.is_admin or actor.org_role == "org_admin"):
        raise Forbidden("Only an organisation admin or an instance admin may issue badges.")
    if not official.is_local or official.is_organisation or official.disabled_at is not None:
        raise Invalid("Badges are for officials with an active account on this node.")
    org_id = official.organisation_id if actor.is_admin else actor.organisation_id
    org = await organisations.get_organisation(conn, org_id) if org_id is not None else None
    if org is None:
        raise Invalid("@%(username)s is not a member of an organisation.", username=official.username)
    if official.organisation_id != org.id:
        raise Invalid("@%(username)s is not a member of %(org)s.", username=official.username, org=org.name)
    today = local_date(now)
    start = valid_from or today
    _check_dates(start, valid_until, today)
    title, cleaned_unit = _clean_function(function_title), _clean_unit(unit)
    badge_id = new_id(now)
    own = official.id == actor.id  # four eyes: a badge one gives oneself waits for a second admin
    try:
        await conn.execute(
            "INSERT INTO badges (id, account_id, organisation_id, function_title, unit, valid_from, valid_until, "
            "issued_by, created_at, updated_at, awaiting_approval) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
            badge_id, official.id, org.id, title, cleaned_unit, start, valid_until, actor.id, now, own)
    except asyncpg.UniqueViolationError:
        raise Conflict("@%(username)s already has a badge. Change or revoke that one first.",
                       username=official.username) from None
    badge = await get_badge(conn, badge_id)
    assert badge is not None
    await _changed(conn, "badge.issued", badge, actor, official.id,
                   {"username": official.username, "awaiting_approval": own, **_describe(badge)}, now)
    return badge


async def change(conn: asyncpg.Connection, badge: Badge, *, actor: Account, function_title: str | None = None,
                 unit: str | None = None, valid_until: date | None = None, clear_valid_until: bool = False,
                 now: datetime) -> Badge:
    """Change the function or unit, or renew (a new end date, or none with `clear_valid_until`); None keeps."""
    if not may_manage(actor, badge.organisation_id):
        raise Forbidden("Only an admin of the badge's organisation or an instance admin may change it.")
    if badge.revoked_at is not None:
        raise Conflict("This badge has been revoked; issue a new one instead.")
    title = badge.function_title if function_title is None else _clean_function(function_title)
    new_unit = badge.unit if unit is None else _clean_unit(unit)
    until = None if clear_valid_until else (badge.valid_until if valid_until is None else valid_until)
    if valid_until is not None or clear_valid_until:
        _check_dates(badge.valid_from, until, local_date(now))
    if (title, new_unit, until) == (badge.function_title, badge.unit, badge.valid_until):
        return badge
    # Four eyes: changing or renewing one's own badge makes it wait for a second admin again.
    own = badge.account_id == actor.id
    await conn.execute("UPDATE badges SET function_title = $2, unit = $3, valid_until = $4, updated_at = $5, "
                       "awaiting_approval = awaiting_approval OR $6 WHERE id = $1 AND revoked_at IS NULL",
                       badge.id, title, new_unit, until, now, own)
    updated = await get_badge(conn, badge.id)
    assert updated is not None
    only_dates = (title, new_unit) == (badge.function_title, badge.unit)
    await _changed(conn, "badge.renewed" if only_dates else "badge.changed", updated, actor, badge.account_id,
                   {"before": _describe(badge), "after": _describe(updated),
                    "awaiting_approval": updated.awaiting_approval}, now)
    return updated


async def approve(conn: asyncpg.Connection, badge: Badge, *, actor: Account, now: datetime) -> Badge:
    """The second pair of eyes on a badge its holder issued or changed: another admin of the organisation, or an
    instance admin, never the holder. The audit records exactly what was approved."""
    if not may_manage(actor, badge.organisation_id):
        raise Forbidden("Only an admin of the badge's organisation or an instance admin may approve it.")
    if actor.id == badge.account_id:
        raise Forbidden("A badge of your own needs a second admin: someone else must approve it.")
    if badge.revoked_at is not None or not badge.awaiting_approval:
        raise Conflict("This badge is not waiting for approval.")
    await conn.execute("UPDATE badges SET awaiting_approval = false, approved_by = $2, approved_at = $3, "
                       "updated_at = $3 WHERE id = $1 AND awaiting_approval AND revoked_at IS NULL",
                       badge.id, actor.id, now)
    approved = await get_badge(conn, badge.id)
    assert approved is not None
    await _changed(conn, "badge.approved", approved, actor, badge.account_id,
                   {"issued_by": str(badge.issued_by), **_describe(approved)}, now)
    return approved


async def revoke(conn: asyncpg.Connection, badge: Badge, *, actor: Account, reason: str, now: datetime) -> Badge:
    """Revoke for good, with a reason the public verification page shows."""
    if not may_manage(actor, badge.organisation_id):
        raise Forbidden("Only an admin of the badge's organisation or an instance admin may revoke it.")
    if badge.revoked_at is not None:
        raise Conflict("This badge has already been revoked.")
    cleaned = " ".join(reason.split())
    if not cleaned or len(cleaned) > MAX_REASON:
        raise Invalid("Give a reason for revoking, of 1 to 500 characters.")
    await conn.execute("UPDATE badges SET revoked_at = $2, revoked_reason = $3, revoked_by = $4, updated_at = $2 "
                       "WHERE id = $1 AND revoked_at IS NULL", badge.id, now, cleaned, actor.id)
    revoked = await get_badge(conn, badge.id)
    assert revoked is not None
    await _changed(conn, "badge.revoked", revoked, actor, badge.account_id,
                   {"reason": cleaned, **_describe(revoked)}, now)
    return revoked


# Badges other servers' actors claim (accounts.remote_badge). A claim is stored unchecked (not verified, no
# reason) and checked by a worker; the verdict comes with its reason. Pages and the API show an unchecked claim as
# being checked, never as verified.
REMOTE_VERIFIED = "verified"
REMOTE_UNVERIFIED = "unverified"
REMOTE_CHECKING = "checking"
CHECK_LEASE = timedelta(minutes=2)
# The badge-check queue on the one queue module (server/db/queue.py); a finished check's row is deleted.
REMOTE_CHECKS = queue.Queue("remote_badge_checks", key="account_id", order_by="next_attempt_at", lease=CHECK_LEASE,
                            states={queue.DEAD: "failed"})


def remote_status(account: Account) -> str | None:
    """verified, unverified (remote_badge_reason says why) or checking; None without a claimed badge."""
    if account.remote_badge is None:
        return None
    if account.remote_badge_verified:
        return REMOTE_VERIFIED
    return REMOTE_UNVERIFIED if account.remote_badge_reason else REMOTE_CHECKING


@dataclass(frozen=True)
class RemoteBadgeCheck:
    """A claimed badge waiting for its check; `attempts` counts this one."""

    account_id: int
    badge: dict[str, Any]
    attempts: int


async def lock_remote_check(conn: asyncpg.Connection, account_id: int) -> None:
    """Take the account's check row (if any) before its account row, in the order finish_remote_check takes them,
    so storing an actor and finishing its check wait for each other instead of deadlocking."""
    await conn.execute("SELECT 1 FROM remote_badge_checks WHERE account_id = $1 FOR UPDATE", account_id)


async def record_remote_claim(conn: asyncpg.Connection, account: Account, badge: Mapping[str, Any] | None,
                              now: datetime) -> Account:
    """The badge a remote actor's latest document claims, in the transaction that stores the actor: none clears it
    (a revoked badge leaves the actor document); a new or changed one is stored unchecked; every claim is
    queued for a check (a claim seen before keeps its verdict until the check renews it)."""
    if badge is None:
        await conn.execute("DELETE FROM remote_badge_checks WHERE account_id = $1", account.id)
        if account.remote_badge is None:
            return account
        await accounts.update_remote_badge(conn, account.id, None, False, None)
    else:
        if account.remote_badge != dict(badge):
            await accounts.update_remote_badge(conn, account.id, badge, False, None)
        await conn.execute(
            "INSERT INTO remote_badge_checks (account_id, badge, state, attempts, next_attempt_at, queued_at) "
            "VALUES ($1, $2, 'pending', 0, $3, $3) ON CONFLICT (account_id) DO UPDATE SET badge = EXCLUDED.badge, "
            "state = 'pending', attempts = 0, next_attempt_at = EXCLUDED.next_attempt_at, locked_until = NULL, "
            "locked_by = NULL, "
            "last_error = NULL, queued_at = EXCLUDED.queued_at", account.id, dict(badge), now)
    return await accounts.get_account(conn, account.id) or account


async def claim_remote_checks(conn: asyncpg.Connection, now: datetime, limit: int = 10, *,
                              worker: int | None = None) -> list[RemoteBadgeCheck]:
    """Due checks, leased to `worker` (queue.claim: FOR UPDATE SKIP LOCKED, so workers never take the same one,
    and a worker that dies gives its checks back through queue.reclaim)."""
    rows = await queue.claim(conn, REMOTE_CHECKS, now, limit, ("account_id", "badge", "attempts"), worker=worker)
    return [RemoteBadgeCheck(**r) for r in rows]


async def get_remote_check(conn: asyncpg.Connection, account_id: int) -> RemoteBadgeCheck | None:
    row = await conn.fetchrow("SELECT account_id, badge, attempts FROM remote_badge_checks "
                              "WHERE account_id = $1 AND state = 'pending'", account_id)
    return RemoteBadgeCheck(**dict(row)) if row else None


async def finish_remote_check(conn: asyncpg.Connection, check: RemoteBadgeCheck, verified: bool,
                              reason: str | None) -> bool:
    """Store the verdict and end the check, in the caller's transaction, only while the checked claim is still
    the one queued and the account's. An actor stored since with another badge has that one queued instead (its
    check goes on); a claim the account no longer makes (purged, say) ends with no verdict."""
    queued = await conn.fetchval("SELECT badge FROM remote_badge_checks WHERE account_id = $1 FOR UPDATE",
                                 check.account_id)
    if queued != check.badge:
        return False
    account = await accounts.get_account(conn, check.account_id)
    if account is None or account.remote_badge != check.badge:
        await drop_remote_check(conn, check.account_id)
        return False
    await accounts.update_remote_badge(conn, check.account_id, check.badge, verified, reason)
    await conn.execute("DELETE FROM remote_badge_checks WHERE account_id = $1", check.account_id)
    return True


async def drop_remote_check(conn: asyncpg.Connection, account_id: int) -> None:
    """No check is due any more (the account is gone or suspended here)."""
    await conn.execute("DELETE FROM remote_badge_checks WHERE account_id = $1", account_id)


async def retry_remote_check(conn: asyncpg.Connection, check: RemoteBadgeCheck, error: str, now: datetime) -> bool:
    """A check that could not be done (the issuer did not answer): tried again on db/queue.py's schedule; False
    when that gives up (the caller then stores the verdict it has). A claim replaced meanwhile keeps its own
    schedule (True: nothing to store for the old one)."""
    queued = await conn.fetchval("SELECT badge FROM remote_badge_checks WHERE account_id = $1 FOR UPDATE",
                                 check.account_id)
    if queued != check.badge:
        return True
    return not await queue.retry(conn, REMOTE_CHECKS, check.account_id, check.attempts, error, now)
