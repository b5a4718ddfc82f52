"""Moderators' decisions about an account, local or remote: warn, limit (silence), suspend, and lifting them; and
closing or reopening a report.

Owns: what each decision does, in the caller's transaction, with its audit_log entry (subject 'account' for the
account, 'report' for the report it resolves) and the moderator's note to the account (account_warnings).
Never: SQL of its own (server/accounts.py, moderation/reports.py and moderation/purge.py own the tables), or
sending (a local suspension is an `account.updated` outbox event; ending a remote account's follows are
`follow.rejected` events; federation/outbox.py builds the activities).

What each decision does, as Mastodon does it:
- warn: a note to the account. A person here sees it in their notifications; for a remote account it is a record.
- silence ("limit"): posts reach only followers and the people mentioned (the visibility rule in
  server/timelines.py); not federated.
- suspend, local: no sign-in, sessions and tokens refused, profile gone (410), posts hidden; the actor document
  stays up with `suspended: true` and an Update of it goes to the followers' servers, as Mastodon does.
- suspend, remote: its cached posts, likes, boosts and profile are purged, follows both ways end (its follows of
  our people are answered with Reject, as Mastodon does), our inbox drops its activities and nothing more is
  delivered to it.
- unsilence / unsuspend: the limit is lifted; a local account's servers get an Update; purged remote content does
  not come back (it is fetched again as it appears).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from moderation import domain_blocks, purge, reports
from moderation.reports import AccountWarning, Report
from server import accounts, audit, events, follows
from server.accounts import Account
from server.errors import Conflict, Forbidden, Invalid

MAX_TEXT = 5000
# The decisions a moderator can take about an account, with the action they record on a report.
DECISIONS = ("warn", "silence", "suspend", "unsilence", "unsuspend")


def require_moderator(moderator: Account | None) -> Account:
    if not reports.is_moderator(moderator):
        raise Forbidden("Only moderators can do this.")
    assert moderator is not None
    return moderator


def _check_target(moderator: Account, target: Account, decision: str) -> None:
    if target.id == moderator.id:
        raise Invalid("You cannot moderate your own account.")
    if decision in ("silence", "suspend") and target.is_local and (target.is_admin or target.is_moderator):
        raise Forbidden("An admin or moderator account cannot be limited or suspended; change its role first.")


async def _check_not_from_domain_policy(conn: asyncpg.Connection, target: Account, decision: str) -> None:
    """A limit that came with the policy on the account's server (it carries the policy's moment) is lifted by
    changing that policy, not account by account: otherwise its server would still be refused, or the account
    limited again, while this page says it is not."""
    if target.is_local or decision not in ("unsilence", "unsuspend"):
        return
    policy = await domain_blocks.policy_for(conn, str(target.domain))
    moment = target.suspended_at if decision == "unsuspend" else target.silenced_at
    if policy is not None and moment is not None and policy.limited_at == moment:
        raise Conflict("This limit comes from the policy on %(domain)s; change that policy instead.",
                       domain=policy.domain)


async def _suspend(conn: asyncpg.Connection, target: Account, now: datetime, *,
                   keep_archive_copy: bool = True) -> dict[str, int]:
    await accounts.update_suspended(conn, target.id, now)
    if target.is_local:
        # Followers' servers learn of it from the actor itself (Update with suspended: true), as from Mastodon.
        await events.record_event(conn, "account.updated", target.id, target.id, now)
        return {}
    # Its follows of our people are answered with Reject before the purge ends them, so its server stops
    # expecting our posts; the Reject comes from the person it followed.
    followed = await follows.list_following_ids(conn, target.id, max_id=None, since_id=None, limit=10_000)
    for local in (await accounts.list_accounts_by_ids(conn, followed)).values():
        if local.is_local:
            state = await follows.get_follow_state(conn, target.id, local.id)
            await events.record_event(conn, "follow.rejected", target.id, local.id, now,
                                      {"follow_uri": state[1] if state else None})
    return (await purge.purge_remote_accounts(conn, [target.id], now,
                                              keep_archive_copy=keep_archive_copy)).as_detail()


async def _unsuspend(conn: asyncpg.Connection, target: Account, now: datetime) -> None:
    await accounts.update_suspended(conn, target.id, None)
    if target.is_local:
        await events.record_event(conn, "account.updated", target.id, target.id, now)


async def decide(conn: asyncpg.Connection, moderator: Account | None, target: Account, decision: str, *,
                 text: str = "", report: Report | None = None, now: datetime,
                 destroy_records: bool = False) -> AccountWarning:
    """Apply one decision to an account, record the note and the audit entry, and resolve the report it came
    from (when given). Refuses a decision that changes nothing (suspending a suspended account). Suspending a
    remote account keeps an archive copy of organisations' received records from it unless `destroy_records`
    (the law requires their destruction)."""
    moderator = require_moderator(moderator)
    if decision not in DECISIONS:
        raise Invalid("Unknown moderation action.")
    _check_target(moderator, target, decision)
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise Invalid("The text is too long: at most %(n)d characters.", n=MAX_TEXT)
    if decision == "warn" and not text:
        raise Invalid("Write the warning the account will read.")
    if report is not None and report.target_account_id != target.id:
        raise Invalid("This report is about another account.")
    already = {"silence": target.is_silenced, "suspend": target.is_suspended,
               "unsilence": not target.is_silenced, "unsuspend": not target.is_suspended}.get(decision, False)
    if already:
        raise Conflict("Nothing to change: the account is already in that state.")
    await _check_not_from_domain_policy(conn, target, decision)
    detail: dict[str, object] = {"text": text, "report_id": report.id if report else None,
                                 "domain": target.domain}
    if decision == "silence":
        await accounts.update_silenced(conn, target.id, now)
    elif decision == "unsilence":
        await accounts.update_silenced(conn, target.id, None)
    elif decision == "suspend":
        detail.update(await _suspend(conn, target, now, keep_archive_copy=not destroy_records))
        detail["records_destroyed"] = destroy_records
    elif decision == "unsuspend":
        await _unsuspend(conn, target, now)
    warning = await reports.insert_warning(conn, account_id=target.id, moderator_id=moderator.id,
                                           report_id=report.id if report else None, action=decision, text=text,
                                           now=now)
    past = {"warn": "warned", "silence": "silenced", "suspend": "suspended", "unsilence": "unsilenced",
            "unsuspend": "unsuspended"}[decision]
    await audit.record(conn, actor_id=moderator.id, action=f"account.{past}", subject_type="account",
                       subject_id=target.id, detail=detail, now=now)
    if report is not None and report.is_open and decision in ("warn", "silence", "suspend"):
        await resolve(conn, moderator, report, action=decision, now=now)
    return warning


async def resolve(conn: asyncpg.Connection, moderator: Account | None, report: Report, *, action: str = "none",
                  now: datetime) -> Report:
    """Close a report, with the action that was taken ("none" when the moderator decided nothing was needed)."""
    moderator = require_moderator(moderator)
    if action not in reports.ACTIONS:
        raise Invalid("Unknown moderation action.")
    if not report.is_open:
        raise Conflict("This report is already resolved.")
    updated = await reports.update_report_state(conn, report.id, state="resolved", action_taken=action,
                                                moderator_id=moderator.id, now=now)
    assert updated is not None
    await audit.record(conn, actor_id=moderator.id, action="report.resolved", subject_type="report",
                       subject_id=report.id, detail={"action": action, "account_id": report.target_account_id},
                       now=now)
    return updated


async def reopen(conn: asyncpg.Connection, moderator: Account | None, report: Report, *, now: datetime) -> Report:
    moderator = require_moderator(moderator)
    if report.is_open:
        raise Conflict("This report is already open.")
    updated = await reports.update_report_state(conn, report.id, state="open", action_taken=None,
                                                moderator_id=None, now=now)
    assert updated is not None
    await audit.record(conn, actor_id=moderator.id, action="report.reopened", subject_type="report",
                       subject_id=report.id, detail={"account_id": report.target_account_id}, now=now)
    return updated
