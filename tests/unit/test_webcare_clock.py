"""The webcare clock and reports (issue 15): pure functions, fixed moments, hand-computed answers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.webcare_clock import OpeningHours, deadline, percentile, read_clock, working_time
from server.webcare_reports import ReportRow, build_report, to_csv

AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS_8_30_TO_17 = {day: (time(8, 30), time(17, 0)) for day in range(1, 6)}
KINGS_DAY = date(2027, 4, 27)  # a Tuesday
HOURS = OpeningHours(days=WEEKDAYS_8_30_TO_17, holidays=frozenset({KINGS_DAY}), promise=timedelta(hours=4))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), AMS)


def test_within_one_day() -> None:
    monday = date(2027, 4, 19)
    assert working_time(at(monday, 9), at(monday, 11, 30), HOURS) == timedelta(hours=2, minutes=30)
    assert working_time(at(monday, 7), at(monday, 9), HOURS) == timedelta(minutes=30)  # opens at 8:30
    assert working_time(at(monday, 16), at(monday, 20), HOURS) == timedelta(hours=1)  # closes at 17:00
    assert working_time(at(monday, 11), at(monday, 9), HOURS) == timedelta(0)


def test_across_a_weekend_and_a_holiday() -> None:
    friday, monday, wednesday = date(2027, 4, 23), date(2027, 4, 26), date(2027, 4, 28)
    # Friday 15:00 to Monday 10:00: 2 h on Friday, nothing on Saturday and Sunday, 1.5 h on Monday.
    assert working_time(at(friday, 15), at(monday, 10), HOURS) == timedelta(hours=3, minutes=30)
    # Friday 15:00 to Wednesday 9:00: add all of Monday (8.5 h), nothing on King's Day, 0.5 h on Wednesday.
    assert working_time(at(friday, 15), at(wednesday, 9), HOURS) == timedelta(hours=11)
    # A question on Friday at 16:00 with a promise of 4 working hours: 1 h on Friday, 3 h on Monday.
    assert deadline(at(friday, 16), HOURS) == at(monday, 11, 30)
    # Monday at 15:00: 2 h on Monday, Tuesday is King's Day, so the promise runs out on Wednesday at 10:30.
    assert deadline(at(monday, 15), HOURS) == at(wednesday, 10, 30)


def test_across_the_change_to_summer_time() -> None:
    """The night of 27-28 March 2027 has one hour less; opening hours are local, so nothing changes for them."""
    friday, monday = date(2027, 3, 26), date(2027, 3, 29)
    assert working_time(at(friday, 16), at(monday, 9, 30), HOURS) == timedelta(hours=2)


def test_colours_green_orange_red() -> None:
    monday = date(2027, 4, 19)
    arrived = at(monday, 9)
    assert read_clock(arrived, at(monday, 12), HOURS).colour == "green"  # 3 h of 4: 75 %
    orange = read_clock(arrived, at(monday, 12, 12), HOURS)  # 3 h 12 min: 80 %
    assert orange.colour == "orange" and orange.left == timedelta(minutes=48)
    red = read_clock(arrived, at(monday, 13, 1), HOURS)
    assert red.colour == "red" and red.left == timedelta(minutes=-1)
    # Over a weekend the clock stands still: Friday 16:30, read on Monday at 8:30, has used half an hour.
    weekend = read_clock(at(date(2027, 4, 23), 16, 30), at(date(2027, 4, 26), 8, 30), HOURS)
    assert weekend.used == timedelta(minutes=30) and weekend.colour == "green"


def test_percentiles_by_linear_interpolation() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 90) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 10.0], 90) == pytest.approx(7.6)  # rank 3.6: 4 + 0.6 * 6


def test_report_matches_hand_computed_figures() -> None:
    monday = date(2027, 4, 19)
    rows = [
        # first-response times in working hours: 1, 2, 3, 5 (over the 4-hour promise), and one unanswered
        ReportRow(at(monday, 9), at(monday, 10), ["afval"], "kees"),
        ReportRow(at(monday, 9), at(monday, 11), ["afval", "parkeren"], "kees"),
        ReportRow(at(monday, 9), at(monday, 12), ["parkeren"], "wim"),
        ReportRow(at(monday, 16), at(date(2027, 4, 20), 12, 30), [], "wim"),  # 1 h + 4 h
        ReportRow(at(monday, 9), None, ["afval"], None),
    ]
    report = build_report(rows, HOURS, monday, monday, now=at(date(2027, 4, 21), 9))
    total = report.total
    assert (total.opened, total.answered) == (5, 4)
    assert total.p50_hours == pytest.approx(2.5)  # between 2 and 3
    assert total.p90_hours == pytest.approx(4.4)  # rank 2.7: 3 + 0.7 * 2
    # Within the promise: 1, 2 and 3 h of the 4 answered plus the 1 unanswered and overdue: 3 of 5.
    assert total.within_promise == pytest.approx(0.6)
    by_label = {f.name: f for f in report.by_label}
    assert (by_label["afval"].opened, by_label["afval"].answered, by_label["afval"].p50_hours) == (3, 2, 1.5)
    by_member = {f.name: f for f in report.by_member}
    assert by_member["wim"].p90_hours == pytest.approx(4.8) and by_member["wim"].within_promise == 0.5
    lines = to_csv(report).splitlines()
    assert lines[0].startswith("scope,name,opened,answered,first_response_p50_hours")
    assert lines[1] == "all,,5,4,2.50,4.40,0.600"


def test_an_unanswered_conversation_within_its_promise_is_not_counted_yet() -> None:
    monday = date(2027, 4, 19)
    report = build_report([ReportRow(at(monday, 9), None, [], None)], HOURS, monday, monday, now=at(monday, 10))
    assert report.total.within_promise is None and report.total.p50_hours is None


@given(st.integers(min_value=0, max_value=60 * 24 * 14), st.integers(min_value=0, max_value=60 * 24 * 14))
def test_working_time_adds_up_and_never_exceeds_the_wall_clock(first: int, second: int) -> None:
    start = at(date(2027, 4, 16), 0)
    middle, end = start + timedelta(minutes=first), start + timedelta(minutes=first + second)
    whole = working_time(start, end, HOURS)
    assert whole == working_time(start, middle, HOURS) + working_time(middle, end, HOURS)
    assert timedelta(0) <= whole <= end - start
