"""An organisation's webcare settings: opening hours, holidays, the promised first-response time, its time zone,
and its saved replies.

Owns: the webcare_settings and webcare_saved_replies tables (migration 0051) and their SQL; validating what an
organisation admin or a webcare member may store; `placeholders` of a saved reply. Every change is audited in the
caller's transaction. Who may change them is `webcare.check_team` (the one webcare rule).
Never: the clock arithmetic (server/webcare_clock.py), conversations (server/webcare.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from server import audit
from server.errors import Invalid, NotFound
from server.ids import new_id
from server.webcare_clock import WEEKDAYS, OpeningHours

# Until an organisation sets its own: Monday to Friday, 9:00 to 17:00, a promise of 4 working hours.
DEFAULT_HOURS = {day: (time(9, 0), time(17, 0)) for day in range(1, 6)}
DEFAULT_PROMISE_MINUTES = 240
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_SAVED_REPLIES = 200
PLACEHOLDER_NAMES = ("naam", "name", "handle")
# What changes here is audited as `webcare.<what>` about the organisation (web/pages/audit.py has the sentences).
AUDITED = ("hours_changed", "promise_changed", "time_zone_changed", "holidays_changed", "saved_reply_added",
           "saved_reply_removed")


def parse_day(text: str) -> int:
    key = text.strip().lower()[:3]
    if key not in WEEKDAYS:
        raise Invalid("The day must be one of mon, tue, wed, thu, fri, sat, sun.")
    return WEEKDAYS.index(key) + 1


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise Invalid("A time is written as HH:MM, for example 08:30.")
    return time(int(match.group(1)), int(match.group(2)))


def parse_time_zone(text: str) -> str:
    try:
        ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("Unknown time zone %(zone)s: use a name such as Europe/Amsterdam.", zone=text.strip()) from None
    return text.strip()


def parse_holiday(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("A holiday is a date written as YYYY-MM-DD.") from None


@dataclass(frozen=True)
class SavedReply:
    id: int
    organisation_id: int
    title: str
    body_nl: str
    body_en: str
    created_at: datetime


def _hours_from_json(raw: dict[str, list[str]] | None) -> dict[int, tuple[time, time]]:
    if not raw:
        return dict(DEFAULT_HOURS)
    return {int(day): (time.fromisoformat(span[0]), time.fromisoformat(span[1])) for day, span in raw.items() if span}


def _hours_to_json(days: dict[int, tuple[time, time]]) -> dict[str, list[str]]:
    return {str(day): [span[0].strftime("%H:%M"), span[1].strftime("%H:%M")] for day, span in sorted(days.items())}


async def get_hours(conn: asyncpg.Connection, organisation_id: int) -> OpeningHours:
    row = await conn.fetchrow("SELECT time_zone, promise_minutes, hours, holidays FROM webcare_settings "
                              "WHERE organisation_id = $1", organisation_id)
    if row is None:
        return OpeningHours(days=dict(DEFAULT_HOURS), promise=timedelta(minutes=DEFAULT_PROMISE_MINUTES))
    return OpeningHours(time_zone=row["time_zone"], days=_hours_from_json(row["hours"]),
                        holidays=frozenset(row["holidays"]), promise=timedelta(minutes=row["promise_minutes"]))


async def _save(conn: asyncpg.Connection, organisation_id: int, hours: OpeningHours) -> None:
    await conn.execute(
        "INSERT INTO webcare_settings (organisation_id, time_zone, promise_minutes, hours, holidays) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organisation_id) DO UPDATE SET time_zone = $2, "
        "promise_minutes = $3, hours = $4, holidays = $5",
        organisation_id, hours.time_zone, int(hours.promise.total_seconds() // 60), _hours_to_json(dict(hours.days)),
        sorted(hours.holidays))


async def _audit(conn: asyncpg.Connection, actor_id: int | None, organisation_id: int, what: str,
                 detail: dict[str, object], now: datetime) -> None:
    await audit.record(conn, actor_id=actor_id, action=f"webcare.{what}", subject_type="organisation",
                       subject_id=organisation_id, detail=detail, now=now)


async def set_day(conn: asyncpg.Connection, organisation_id: int, day: int, opens: time | None, closes: time | None,
                  *, actor_id: int | None, now: datetime) -> OpeningHours:
    """Open a weekday from `opens` to `closes`, or close it all day (both None)."""
    if (opens is None) != (closes is None):
        raise Invalid("Give both the opening and the closing time, or close the day.")
    if opens is not None and closes is not None and closes <= opens:
        raise Invalid("The closing time must be after the opening time.")
    current = await get_hours(conn, organisation_id)
    days = dict(current.days)
    if opens is None or closes is None:
        days.pop(day, None)
    else:
        days[day] = (opens, closes)
    updated = OpeningHours(time_zone=current.time_zone, days=days, holidays=current.holidays, promise=current.promise)
    await _save(conn, organisation_id, updated)
    await _audit(conn, actor_id, organisation_id, "hours_changed",
                 {"day": WEEKDAYS[day - 1], "open": opens.strftime("%H:%M") if opens else None,
                  "close": closes.strftime("%H:%M") if closes else None}, now)
    return updated


async def set_promise(conn: asyncpg.Connection, organisation_id: int, minutes: int, *, actor_id: int | None,
                      now: datetime) -> OpeningHours:
    if not 1 <= minutes <= 100_000:
        raise Invalid("The promised response time must be between 1 minute and 1,666 working hours.")
    current = await get_hours(conn, organisation_id)
    updated = OpeningHours(time_zone=current.time_zone, days=current.days, holidays=current.holidays,
                           promise=timedelta(minutes=minutes))
    await _save(conn, organisation_id, updated)
    await _audit(conn, actor_id, organisation_id, "promise_changed", {"minutes": minutes}, now)
    return updated


async def set_time_zone(conn: asyncpg.Connection, organisation_id: int, zone: str, *, actor_id: int | None,
                        now: datetime) -> OpeningHours:
    current = await get_hours(conn, organisation_id)
    updated = OpeningHours(time_zone=parse_time_zone(zone), days=current.days, holidays=current.holidays,
                           promise=current.promise)
    await _save(conn, organisation_id, updated)
    await _audit(conn, actor_id, organisation_id, "time_zone_changed", {"time_zone": updated.time_zone}, now)
    return updated


async def set_holidays(conn: asyncpg.Connection, organisation_id: int, holidays: list[date], *,
                       actor_id: int | None, now: datetime) -> OpeningHours:
    if len(holidays) > 366:
        raise Invalid("At most 366 holidays can be listed.")
    current = await get_hours(conn, organisation_id)
    updated = OpeningHours(time_zone=current.time_zone, days=current.days, holidays=frozenset(holidays),
                           promise=current.promise)
    await _save(conn, organisation_id, updated)
    await _audit(conn, actor_id, organisation_id, "holidays_changed",
                 {"holidays": [d.isoformat() for d in sorted(holidays)]}, now)
    return updated


# ------------------------------------------------------------------ saved replies

_REPLY_COLUMNS = "id, organisation_id, title, body_nl, body_en, created_at"


def fill_placeholders(body: str, *, name: str, handle: str) -> str:
    """A saved reply for one citizen: {naam} or {name} becomes their display name, {handle} their @handle."""
    return body.replace("{naam}", name).replace("{name}", name).replace("{handle}", handle)


async def list_saved_replies(conn: asyncpg.Connection, organisation_id: int) -> list[SavedReply]:
    rows = await conn.fetch(f"SELECT {_REPLY_COLUMNS} FROM webcare_saved_replies WHERE organisation_id = $1 "
                            f"ORDER BY lower(title), id", organisation_id)
    return [SavedReply(**dict(r)) for r in rows]


async def get_saved_reply(conn: asyncpg.Connection, organisation_id: int, reply_id: int) -> SavedReply:
    row = await conn.fetchrow(f"SELECT {_REPLY_COLUMNS} FROM webcare_saved_replies WHERE id = $1 "
                              f"AND organisation_id = $2", reply_id, organisation_id)
    if row is None:
        raise NotFound("There is no saved reply with that id.")
    return SavedReply(**dict(row))


async def add_saved_reply(conn: asyncpg.Connection, organisation_id: int, *, title: str, body_nl: str, body_en: str,
                          actor_id: int | None, now: datetime) -> SavedReply:
    title, body_nl, body_en = title.strip(), body_nl.strip(), body_en.strip()
    if not 1 <= len(title) <= 100:
        raise Invalid("A saved reply needs a title of at most 100 characters.")
    if not body_nl and not body_en:
        raise Invalid("A saved reply needs a text in Dutch or English.")
    if len(body_nl) > 5000 or len(body_en) > 5000:
        raise Invalid("A saved reply is at most 5,000 characters in each language.")
    count = await conn.fetchval("SELECT count(*) FROM webcare_saved_replies WHERE organisation_id = $1",
                                organisation_id)
    if count >= MAX_SAVED_REPLIES:
        raise Invalid("An organisation keeps at most 200 saved replies: remove one first.")
    row = await conn.fetchrow(
        f"INSERT INTO webcare_saved_replies (id, organisation_id, title, body_nl, body_en, created_at) "
        f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_REPLY_COLUMNS}",
        new_id(now), organisation_id, title, body_nl, body_en, now)
    await _audit(conn, actor_id, organisation_id, "saved_reply_added", {"title": title}, now)
    return SavedReply(**dict(row))


async def remove_saved_reply(conn: asyncpg.Connection, organisation_id: int, reply_id: int, *,
                             actor_id: int | None, now: datetime) -> None:
    reply = await get_saved_reply(conn, organisation_id, reply_id)
    await conn.execute("DELETE FROM webcare_saved_replies WHERE id = $1", reply.id)
    await _audit(conn, actor_id, organisation_id, "saved_reply_removed", {"title": reply.title}, now)
