"""The webcare clock: working time between two moments, counted over an organisation's opening hours only.

Owns: the arithmetic of opening hours (per ISO weekday, in the organisation's time zone, skipping holidays), the
deadline a promise gives, the traffic-light colour webcare teams use (green until 80 % of the promise, orange in the
last 20 %, red when over) and the percentiles of the reports. Pure: no clock of its own, no database, so it is tested
with fixed moments (tests/unit/test_webcare_clock.py).
Never: reads settings from the database (server/webcare_settings.py hands it an `OpeningHours`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO weekday n is WEEKDAYS[n - 1]
ORANGE_FROM = 0.8  # the share of the promise after which the clock turns orange
_MAX_DAYS = 800  # a deadline further off than this (no opening hours at all, in effect) is no deadline


@dataclass(frozen=True)
class OpeningHours:
    """When the team works: per ISO weekday (1 = Monday) one span of local time; holidays are closed all day."""

    time_zone: str = "Europe/Amsterdam"
    days: Mapping[int, tuple[time, time]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    promise: timedelta = timedelta(hours=4)

    def span_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The open span of one local date as aware datetimes, or None when closed (a holiday or a day off)."""
        if day in self.holidays:
            return None
        hours = self.days.get(day.isoweekday())
        if hours is None or hours[1] <= hours[0]:
            return None
        zone = ZoneInfo(self.time_zone)
        return datetime.combine(day, hours[0], zone), datetime.combine(day, hours[1], zone)


def working_time(start: datetime, end: datetime, hours: OpeningHours) -> timedelta:
    """How much of [start, end) falls inside the opening hours (zero when end is not after start)."""
    if end <= start:
        return timedelta(0)
    zone = ZoneInfo(hours.time_zone)
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    total = timedelta(0)
    while day <= last:
        span = hours.span_on(day)
        if span is not None:
            overlap = min(end, span[1]) - max(start, span[0])
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def deadline(start: datetime, hours: OpeningHours) -> datetime | None:
    """The moment the promise runs out for a message that arrived at `start`; None without any opening hours."""
    zone = ZoneInfo(hours.time_zone)
    left = hours.promise
    day = start.astimezone(zone).date()
    for _ in range(_MAX_DAYS):
        span = hours.span_on(day)
        if span is not None and span[1] > start:
            begin = max(start, span[0])
            available = span[1] - begin
            if available >= left:
                return begin + left
            left -= available
        day += timedelta(days=1)
    return None


@dataclass(frozen=True)
class ClockReading:
    """A conversation's clock at one moment: working time used, left (negative when over) and its colour."""

    used: timedelta
    left: timedelta
    colour: str  # green, orange or red

    @property
    def share(self) -> float:
        total = self.used + self.left
        return self.used / total if total > timedelta(0) else 1.0


def read_clock(waiting_since: datetime, now: datetime, hours: OpeningHours) -> ClockReading:
    used = working_time(waiting_since, now, hours)
    left = hours.promise - used
    if used > hours.promise:
        colour = "red"
    elif used >= hours.promise * ORANGE_FROM:
        colour = "orange"
    else:
        colour = "green"
    return ClockReading(used=used, left=left, colour=colour)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by linear interpolation between the closest ranks (the common spreadsheet PERCENTILE,
    numpy's default): rank (n - 1) * p / 100 counted from 0. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def format_duration(value: timedelta, language: str = "nl") -> str:
    """Working time as a team reads it: `3 u 05 min` / `3 h 05 min`, with a minus sign when over."""
    minutes = int(abs(value).total_seconds() // 60)
    sign = "-" if value < timedelta(0) else ""
    hour_unit = "u" if language == "nl" else "h"
    return f"{sign}{minutes // 60} {hour_unit} {minutes % 60:02d} min"
