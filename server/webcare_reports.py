"""Webcare reports: how the team did over a period, on the web and as CSV.

Owns: what a report counts, in one place for the page, the CSV and the CLI. Over the conversations **opened** in
[from, to): how many were **answered** (have a first response), the first-response time of each in working hours
(server/webcare_clock.py: from the citizen's first message to the organisation's first answer, counted over the
opening hours only), its **p50** and **p90** (linear interpolation between the closest ranks), and the **share
within the promise**: answered within the promised working time, out of those answered plus those still
unanswered whose promise has run out at the time of the report (an unanswered conversation still within its
promise is not counted yet). The same figures per label (a conversation with two labels counts for both) and per
member (whoever wrote the first answer). `build_report` is pure; `load_report` reads the rows (through `webcare.report_rows`).
Never: decides who may see a report (the edges ask `webcare.check_team`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from server import webcare, webcare_settings
from server.errors import Invalid
from server.webcare_clock import OpeningHours, percentile, working_time


@dataclass(frozen=True)
class ReportRow:
    """One conversation as a report needs it."""

    created_at: datetime
    first_response_at: datetime | None
    labels: Sequence[str]
    first_responder: str | None


@dataclass(frozen=True)
class Figures:
    scope: str  # all, label or member
    name: str
    opened: int
    answered: int
    p50_hours: float | None
    p90_hours: float | None
    within_promise: float | None  # a share between 0 and 1; None when nothing counts yet

    def row(self) -> list[str]:
        def hours(value: float | None) -> str:
            return "" if value is None else f"{value:.2f}"
        return [self.scope, self.name, str(self.opened), str(self.answered), hours(self.p50_hours),
                hours(self.p90_hours), "" if self.within_promise is None else f"{self.within_promise:.3f}"]


@dataclass(frozen=True)
class Report:
    start: date
    end: date  # inclusive, as asked
    total: Figures
    by_label: list[Figures]
    by_member: list[Figures]

    @property
    def all_figures(self) -> list[Figures]:
        return [self.total, *self.by_label, *self.by_member]


CSV_HEADER = ["scope", "name", "opened", "answered", "first_response_p50_hours", "first_response_p90_hours",
              "within_promise_share"]


def figures(scope: str, name: str, rows: Iterable[ReportRow], hours: OpeningHours, now: datetime) -> Figures:
    rows = list(rows)
    times = [working_time(r.created_at, r.first_response_at, hours).total_seconds() / 3600
             for r in rows if r.first_response_at is not None]
    promise_hours = hours.promise.total_seconds() / 3600
    overdue = sum(1 for r in rows if r.first_response_at is None
                  and working_time(r.created_at, now, hours) > hours.promise)
    counted = len(times) + overdue
    within = sum(1 for t in times if t <= promise_hours + 1e-9)
    return Figures(scope=scope, name=name, opened=len(rows), answered=len(times),
                   p50_hours=percentile(times, 50), p90_hours=percentile(times, 90),
                   within_promise=within / counted if counted else None)


def build_report(rows: Sequence[ReportRow], hours: OpeningHours, start: date, end: date, now: datetime) -> Report:
    labels = sorted({label for r in rows for label in r.labels})
    members = sorted({r.first_responder for r in rows if r.first_responder})
    return Report(
        start=start, end=end, total=figures("all", "", rows, hours, now),
        by_label=[figures("label", label, (r for r in rows if label in r.labels), hours, now) for label in labels],
        by_member=[figures("member", member, (r for r in rows if r.first_responder == member), hours, now)
                   for member in members])


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for item in report.all_figures:
        writer.writerow(item.row())
    return out.getvalue()


def period_bounds(start: date, end: date, time_zone: str) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end` (inclusive), local time of the organisation."""
    zone = ZoneInfo(time_zone)
    return datetime.combine(start, time(0), zone), datetime.combine(end + timedelta(days=1), time(0), zone)


async def load_report(conn: asyncpg.Connection, organisation_id: int, start: date, end: date,
                      now: datetime) -> Report:
    if end < start:
        raise Invalid("The end of the period is before its start.")
    hours = await webcare_settings.get_hours(conn, organisation_id)
    since, until = period_bounds(start, end, hours.time_zone)
    rows = [ReportRow(created_at=r["created_at"], first_response_at=r["first_response_at"], labels=r["labels"],
                      first_responder=r["first_responder"])
            for r in await webcare.report_rows(conn, organisation_id, since, until)]
    return build_report(rows, hours, start, end, now)
