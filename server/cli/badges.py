"""`ambtenaar badge ...`: issue, change, revoke, approve and list officials' verified badges.

Owns: the badge commands' arguments and output. Never: SQL, or who may do what (server/badges.py validates,
writes and audits, for this command and the organisation admins' page alike).
"""

from __future__ import annotations

import argparse
import json
from datetime import date

import asyncpg

from server import accounts, badges
from server.cli.base import CliError, Group, local_account, organisation, parse_date
from server.config import Settings
from server.deps import utc_now
from server.errors import NotFound


def _badge_line(badge: badges.Badge, settings: Settings, username: str, today: date) -> str:
    until = badge.valid_until.isoformat() if badge.valid_until else "-"
    return (f"{badge.id}\t@{username}\t{badge.function_title}\t{badge.unit or '-'}\t{badge.valid_from.isoformat()}\t"
            f"{until}\t{badge.status(today)}\t{badges.badge_url(settings.base_url, badge.id)}")


async def cmd_badge_issue(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    valid_from, valid_until = parse_date(args.valid_from, "--valid-from"), parse_date(args.valid_until, "--valid-until")
    by = await local_account(conn, args.by)
    official = await local_account(conn, args.username)
    badge = await badges.issue(conn, actor=by, official=official, function_title=args.function, unit=args.unit,
                               valid_from=valid_from, valid_until=valid_until, now=utc_now())
    waiting = " (waiting for a second admin: ambtenaar badge approve)" if badge.awaiting_approval else ""
    return f"Issued badge to @{official.username} ({badge.organisation_name}){waiting}: " \
           f"{badges.badge_url(settings.base_url, badge.id)}"


async def _current_badge(conn: asyncpg.Connection, username: str) -> tuple[accounts.Account, badges.Badge]:
    official = await local_account(conn, username)
    badge = await badges.get_current_badge(conn, official.id)
    if badge is None:
        raise NotFound("@%(username)s has no badge that is not revoked.", username=official.username)
    return official, badge


async def cmd_badge_change(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    no_end = args.valid_until is not None and args.valid_until.strip().lower() == "none"
    valid_until = None if no_end else parse_date(args.valid_until, "--valid-until")
    if args.function is None and args.unit is None and args.valid_until is None:
        raise CliError("nothing to change: give --function, --unit or --valid-until")
    by = await local_account(conn, args.by)
    official, badge = await _current_badge(conn, args.username)
    badge = await badges.change(conn, badge, actor=by, function_title=args.function, unit=args.unit,
                                valid_until=valid_until, clear_valid_until=no_end, now=utc_now())
    return f"Changed the badge of @{official.username}: {badges.badge_url(settings.base_url, badge.id)}"


async def cmd_badge_approve(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    by = await local_account(conn, args.by)
    official, badge = await _current_badge(conn, args.username)
    badge = await badges.approve(conn, badge, actor=by, now=utc_now())
    return f"Approved the badge of @{official.username}: {badges.badge_url(settings.base_url, badge.id)}"


async def cmd_badge_revoke(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    by = await local_account(conn, args.by)
    official, badge = await _current_badge(conn, args.username)
    await badges.revoke(conn, badge, actor=by, reason=args.reason, now=utc_now())
    return f"Revoked the badge of @{official.username}: {badges.badge_url(settings.base_url, badge.id)}"


async def cmd_badge_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    found = await badges.list_organisation_badges(conn, org.id)
    names = {a.id: a.username for a in (await accounts.list_accounts_by_ids(conn, [b.account_id for b in found]))
             .values()}
    today = badges.local_date(utc_now())
    if args.json:
        return json.dumps([{
            "id": str(b.id), "username": names.get(b.account_id), "organisation": org.slug,
            "function": b.function_title, "unit": b.unit or None, "valid_from": b.valid_from.isoformat(),
            "valid_until": b.valid_until.isoformat() if b.valid_until else None, "status": b.status(today),
            "revoked_at": b.revoked_at.isoformat() if b.revoked_at else None, "revoked_reason": b.revoked_reason,
            "url": badges.badge_url(settings.base_url, b.id)} for b in found])
    return "\n".join(_badge_line(b, settings, names.get(b.account_id, "?"), today) for b in found)


BY_HELP = "username of the organisation admin (or instance admin)"


def add_commands(root: Group) -> None:
    badge = root.area("badge", "verified badges of officials")
    issue = badge.command("issue", "issue a verified badge to a member of an organisation", cmd_badge_issue)
    issue.add_argument("--username", required=True, help="the official")
    issue.add_argument("--function", required=True, help="function title, e.g. 'Teamleider ICT'")
    issue.add_argument("--unit", default="", help="organisation unit (optional)")
    issue.add_argument("--valid-from", help="first valid day, YYYY-MM-DD (default: today)")
    issue.add_argument("--valid-until", help="last valid day, YYYY-MM-DD (default: no end)")
    issue.add_argument("--by", required=True, help=BY_HELP)
    change = badge.command("change", "change or renew an official's badge", cmd_badge_change)
    change.add_argument("--username", required=True, help="the official")
    change.add_argument("--function", help="new function title")
    change.add_argument("--unit", help="new organisation unit ('' for none)")
    change.add_argument("--valid-until", help="new last valid day, YYYY-MM-DD, or 'none' for no end")
    change.add_argument("--by", required=True, help=BY_HELP)
    revoke = badge.command("revoke", "revoke an official's badge, with a reason shown on its verification page",
                           cmd_badge_revoke)
    revoke.add_argument("--username", required=True, help="the official")
    revoke.add_argument("--reason", required=True)
    revoke.add_argument("--by", required=True, help=BY_HELP)
    approve = badge.command("approve", "approve a badge its holder issued or changed for themselves (four eyes)",
                            cmd_badge_approve)
    approve.add_argument("--username", required=True, help="the badge's holder")
    approve.add_argument("--by", required=True, help="another organisation admin, or an instance admin")
    listing = badge.command("list", "list an organisation's badges, revoked ones included", cmd_badge_list)
    listing.add_argument("--org", required=True, help="slug of the organisation")
    listing.add_argument("--json", action="store_true")
