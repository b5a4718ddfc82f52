"""`ambtenaar webcare ...`: an organisation's opening hours, promise and holidays, its inbox and its reports.

Owns: the webcare commands' arguments and output. Never: SQL, or a step of an action (server/webcare*.py
validate, write and audit; the operator at the command line acts without an account, as for `org update`).
"""

from __future__ import annotations

import argparse
import json

import asyncpg

from server import accounts, webcare, webcare_clock, webcare_hooks, webcare_reports, webcare_settings
from server.cli.base import CliError, Group, organisation, parse_date
from server.config import Settings
from server.deps import utc_now


def _hours_lines(hours: webcare_clock.OpeningHours) -> str:
    days = [f"{name} {hours.days[n][0]:%H:%M}-{hours.days[n][1]:%H:%M}" if n in hours.days else f"{name} closed"
            for n, name in enumerate(webcare_clock.WEEKDAYS, start=1)]
    minutes = int(hours.promise.total_seconds() // 60)
    return (f"{', '.join(days)}; promise {minutes // 60} h {minutes % 60:02d} min; time zone {hours.time_zone}; "
            f"holidays {', '.join(d.isoformat() for d in sorted(hours.holidays)) or 'none'}")


async def cmd_hours(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    now = utc_now()
    hours = await webcare_settings.get_hours(conn, org.id)
    if args.time_zone:
        hours = await webcare_settings.set_time_zone(conn, org.id, args.time_zone, actor_id=None, now=now)
    if args.holidays is not None:
        dates = [webcare_settings.parse_holiday(d) for d in args.holidays.split(",") if d.strip()]
        hours = await webcare_settings.set_holidays(conn, org.id, dates, actor_id=None, now=now)
    if args.day:
        if args.closed and (args.open or args.close):
            raise CliError("--closed cannot go with --open or --close")
        if not args.closed and not (args.open and args.close):
            raise CliError("--day needs --open and --close (or --closed)")
        day = webcare_settings.parse_day(args.day)
        opens = None if args.closed else webcare_settings.parse_time(args.open)
        closes = None if args.closed else webcare_settings.parse_time(args.close)
        hours = await webcare_settings.set_day(conn, org.id, day, opens, closes, actor_id=None, now=now)
    elif args.open or args.close or args.closed:
        raise CliError("--open, --close and --closed need --day")
    return f"{org.slug}: {_hours_lines(hours)}"


async def cmd_promise(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    if args.hours is None and args.minutes is None:
        raise CliError("give --hours or --minutes")
    minutes = round((args.hours or 0) * 60) + (args.minutes or 0)
    hours = await webcare_settings.set_promise(conn, org.id, minutes, actor_id=None, now=utc_now())
    return f"{org.slug}: {_hours_lines(hours)}"


async def cmd_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    now = utc_now()
    hours = await webcare_settings.get_hours(conn, org.id)
    conversations = await webcare.list_conversations(conn, org.id, status=args.status, limit=args.limit)
    people = {}
    for c in conversations:
        for account_id in (c.citizen_account_id, c.assignee_id):
            if account_id is not None and account_id not in people:
                people[account_id] = await accounts.get_account(conn, account_id)
    items = []
    for c in conversations:
        clock = webcare_clock.read_clock(c.waiting_since, now, hours) if c.waiting_since else None
        citizen, assignee = people.get(c.citizen_account_id), people.get(c.assignee_id) if c.assignee_id else None
        items.append({"id": str(c.id), "status": c.status, "citizen": citizen.acct if citizen else None,
                      "assignee": assignee.username if assignee else None, "labels": c.labels,
                      "visibility": c.visibility, "created_at": c.created_at.isoformat(),
                      "last_activity_at": c.last_activity_at.isoformat(),
                      "waiting_since": c.waiting_since.isoformat() if c.waiting_since else None,
                      "time_left_minutes": int(clock.left.total_seconds() // 60) if clock else None,
                      "clock": clock.colour if clock else None})
    if args.json:
        return json.dumps(items, ensure_ascii=False)
    if not items:
        return f"{org.slug}: no conversations" + (f" with status {args.status}" if args.status else "")
    return "\n".join(f"{i['id']}\t{i['status']}\t{i['citizen']}\t{i['assignee'] or '-'}\t"
                     f"{','.join(i['labels']) or '-'}\t{i['clock'] or '-'}" for i in items)


async def cmd_report(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    start, end = parse_date(args.date_from, "--from"), parse_date(args.date_to, "--to")
    assert start is not None and end is not None
    report = await webcare_reports.load_report(conn, org.id, start, end, utc_now())
    if args.csv:
        return webcare_reports.to_csv(report).rstrip("\r\n").replace("\r\n", "\n")
    lines = [f"{org.slug} {start.isoformat()} to {end.isoformat()}"]
    for item in report.all_figures:
        cells = item.row()
        label = "all" if item.scope == "all" else f"{item.scope} {item.name}"
        lines.append(f"{label}: opened {cells[2]}, answered {cells[3]}, p50 {cells[4] or '-'} h, "
                     f"p90 {cells[5] or '-'} h, within promise {cells[6] or '-'}")
    return "\n".join(lines)


async def cmd_webhook_add(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    hook, secret = await webcare_hooks.add_webhook(conn, org.id, args.url, actor_id=None, now=utc_now())
    return f"Added webhook {hook.id} for {org.slug}: {hook.url}\nSecret (shown once): {secret}"


async def cmd_webhook_remove(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    if not str(args.hook_id).isdigit():
        raise CliError("--id must be the number shown by 'ambtenaar webcare webhook list'")
    await webcare_hooks.remove_webhook(conn, org.id, int(args.hook_id), actor_id=None, now=utc_now())
    return f"Removed webhook {args.hook_id} of {org.slug}"


async def cmd_webhook_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    """The hooks, and with --deliveries the latest deliveries (state, attempts, last error)."""
    org = await organisation(conn, args.org)
    lines = [f"{h.id}\t{h.url}\t{h.created_at.isoformat()}" for h in await webcare_hooks.list_webhooks(conn, org.id)]
    if args.deliveries:
        lines += [f"delivery {d['id']}\t{d['event']}\t{d['state']}\tattempts {d['attempts']}\t"
                  f"{(d['last_error'] or '-').splitlines()[0][:120]}"
                  for d in await webcare_hooks.list_deliveries(conn, org.id)]
    return "\n".join(lines) or f"{org.slug}: no webhooks"


def add_commands(root: Group) -> None:
    area = root.area("webcare", "the organisation's webcare: opening hours, promise, inbox and reports")
    hours = area.command("hours", "show or set the opening hours (one weekday at a time), holidays and time zone",
                         cmd_hours)
    hours.add_argument("--org", required=True, help="the organisation's slug")
    hours.add_argument("--day", help="mon, tue, wed, thu, fri, sat or sun")
    hours.add_argument("--open", help="opening time, HH:MM")
    hours.add_argument("--close", help="closing time, HH:MM")
    hours.add_argument("--closed", action="store_true", help="the day is closed")
    hours.add_argument("--holidays", help="all holidays, comma-separated YYYY-MM-DD (empty: none)")
    hours.add_argument("--time-zone", dest="time_zone", help="e.g. Europe/Amsterdam")
    promise = area.command("promise", "the promised first-response time, in working hours", cmd_promise)
    promise.add_argument("--org", required=True, help="the organisation's slug")
    promise.add_argument("--hours", type=float, help="working hours, e.g. 4 or 1.5")
    promise.add_argument("--minutes", type=int, help="working minutes (added to --hours)")
    listing = area.command("list", "the organisation's conversations, oldest waiting first", cmd_list)
    listing.add_argument("--org", required=True, help="the organisation's slug")
    listing.add_argument("--status", choices=webcare.STATUSES)
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    report = area.command("report", "first-response times and counts for a period (dates inclusive)", cmd_report)
    report.add_argument("--org", required=True, help="the organisation's slug")
    report.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
    report.add_argument("--csv", action="store_true")
    hooks = area.area("webhook", "webhooks: a case system or webcare tool hears of new and changed conversations")
    hook_add = hooks.command("add", "add a webhook and print its signing secret once", cmd_webhook_add)
    hook_add.add_argument("--org", required=True, help="the organisation's slug")
    hook_add.add_argument("--url", required=True, help="the receiver's http(s) address")
    hook_remove = hooks.command("remove", "remove a webhook (see webhook list)", cmd_webhook_remove)
    hook_remove.add_argument("--org", required=True, help="the organisation's slug")
    hook_remove.add_argument("--id", required=True, dest="hook_id")
    hook_list = hooks.command("list", "the organisation's webhooks", cmd_webhook_list)
    hook_list.add_argument("--org", required=True, help="the organisation's slug")
    hook_list.add_argument("--deliveries", action="store_true", help="also the latest deliveries")
