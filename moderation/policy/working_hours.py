"""Check `working-hours`: a personal-voice post during working hours, which readers may take for official business.

Owns: the hours (start inclusive, end exclusive, "9" or "9:30"), ISO weekdays (1 = Monday) and the time zone
(Europe/Amsterdam unless set). Never: holds or blocks (warn only); never applies to official voice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moderation.policy.model import Check, Hit, Parameter, PostDraft, as_int, reject_unknown, str_list

CHECK_ID = "working-hours"
_DAYS_NL = ("ma", "di", "wo", "do", "vr", "za", "zo")
_DAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Hours:
    start: int  # minutes after midnight, inclusive
    end: int  # exclusive
    weekdays: frozenset[int]  # ISO: 1 = Monday
    zone: ZoneInfo


def _minutes(name: str, value: Any) -> int:
    if isinstance(value, str) and ":" in value:
        hours, _, minutes = value.strip().partition(":")
        return as_int(CHECK_ID, name, hours, 0, 24) * 60 + as_int(CHECK_ID, name, minutes, 0, 59)
    return as_int(CHECK_ID, name, value, 0, 24) * 60


def prepare(options: Mapping[str, Any]) -> Hours:
    reject_unknown(CHECK_ID, options, ("start", "end", "weekdays", "timezone"))
    start, end = _minutes("start", options.get("start", 9)), _minutes("end", options.get("end", 17))
    if not 0 <= start < end <= 24 * 60:
        raise ValueError(f"{CHECK_ID}: working hours must start before they end, within one day")
    raw_days = options.get("weekdays", (1, 2, 3, 4, 5))
    if isinstance(raw_days, str):
        raw_days = str_list(CHECK_ID, "weekdays", raw_days)
    if not isinstance(raw_days, (list, tuple)) or not raw_days:
        raise ValueError(f"{CHECK_ID}: weekdays must be a list of ISO day numbers, 1 = Monday .. 7 = Sunday")
    weekdays = frozenset(as_int(CHECK_ID, "weekdays", d, 1, 7) for d in raw_days)
    name = options.get("timezone", "Europe/Amsterdam")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{CHECK_ID}: unknown time zone {name!r}") from None
    return Hours(start, end, weekdays, zone)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def run(draft: PostDraft, hours: Hours) -> Iterator[Hit]:
    if draft.voice != "personal":
        return
    local = draft.now.astimezone(hours.zone)
    minute = local.hour * 60 + local.minute
    if local.isoweekday() in hours.weekdays and hours.start <= minute < hours.end:
        days = sorted(hours.weekdays)
        clock = _clock(hours.start) + "–" + _clock(hours.end)
        days_nl, days_en = ", ".join(_DAYS_NL[d - 1] for d in days), ", ".join(_DAYS_EN[d - 1] for d in days)
        yield Hit(f"Je plaatst dit bericht op persoonlijke titel tijdens werktijd ({days_nl} {clock}). Bevestig dat "
                  "dat de bedoeling is, of plaats het later.",
                  f"You are posting in a personal capacity during working hours ({days_en} {clock}). Confirm that "
                  "this is intended, or post it later.")


CHECK = Check(id=CHECK_ID, rule_id="working_hours", severity="low",
              actions=frozenset({"warn"}), prepare=prepare, run=run,
              name="Personal posts during working hours",
              description=("Reminds officials that a personal post during working hours may be read as the "
                           "organisation speaking."),
              parameters=(Parameter("start", "time", "Working day starts",
                                    "An hour, or hour and minutes; empty means 9:00.", "9:00"),
                          Parameter("end", "time", "Working day ends", "Empty means 17:00.", "17:00"),
                          Parameter("weekdays", "weekdays", "Working days", "None ticked means Monday to Friday."),
                          Parameter("timezone", "zone", "Time zone", "Empty means Europe/Amsterdam.",
                                    "Europe/Amsterdam")))
