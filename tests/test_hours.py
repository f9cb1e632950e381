"""Office hours as plain functions: open or not at a moment, and the hours said in words."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from ivr.content.hours import describe, is_holiday, is_open
from ivr.content.profile import Schedule

LONDON = ZoneInfo("Europe/London")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

OFFICE = Schedule("office", frozenset({MON, TUE, WED, THU, FRI}),
                  ((time(9), time(12)), (time(13), time(17))), "GB", "ENG")
NO_HOLIDAYS = Schedule("no_holidays", frozenset({MON, TUE, WED, THU, FRI}),
                       ((time(9), time(17)),), None, None)
ONE_DAY = Schedule("one_day", frozenset({WED}), ((time(10), time(11)),), None, None)
TWO_RUNS = Schedule("two_runs", frozenset({MON, TUE, THU, FRI, SAT}),
                    ((time(8, 30), time(12, 15)),), None, None)
SPLIT = Schedule("split", frozenset({MON, WED, FRI}), ((time(9), time(12)),), None, None)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.mark.parametrize(("schedule", "when", "expected"), [
    (OFFICE, "2026-11-23T09:00:00", True),        # Monday, opening minute
    (OFFICE, "2026-11-23T08:59:59", False),
    (OFFICE, "2026-11-23T11:59:59", True),
    (OFFICE, "2026-11-23T12:00:00", False),       # lunch: the end is not inside
    (OFFICE, "2026-11-23T13:00:00", True),
    (OFFICE, "2026-11-27T16:59:00", True),        # Friday
    (OFFICE, "2026-11-27T17:00:00", False),
    (OFFICE, "2026-11-28T10:00:00", False),       # Saturday
    (OFFICE, "2026-11-29T10:00:00", False),       # Sunday
    (OFFICE, "2026-12-25T10:00:00", False),       # Christmas Day, a Friday
    (OFFICE, "2026-12-28T10:00:00", False),       # Boxing Day moved to Monday 28 December
    (OFFICE, "2026-12-29T10:00:00", True),
    (NO_HOLIDAYS, "2026-12-25T10:00:00", True),   # no calendar: a holiday is a weekday
    (NO_HOLIDAYS, "2026-11-23T10:00:00", True),
    (NO_HOLIDAYS, "2026-11-28T10:00:00", False),
    (ONE_DAY, "2026-11-25T10:00:00", True),
    (ONE_DAY, "2026-11-25T10:59:59", True),
    (ONE_DAY, "2026-11-25T11:00:00", False),
    (ONE_DAY, "2026-11-24T10:30:00", False),
    (ONE_DAY, "2026-11-26T10:30:00", False),
    (ONE_DAY, "2025-01-01T10:30:00", True),       # New Year's Day, a Wednesday
])
def test_is_open(schedule: Schedule, when: str, expected: bool) -> None:
    assert is_open(schedule, at(when)) is expected


@pytest.mark.parametrize(("schedule", "when", "expected"), [
    (OFFICE, "2026-12-25T10:00:00", True),
    (OFFICE, "2026-12-28T10:00:00", True),
    (OFFICE, "2026-12-24T10:00:00", False),
    (OFFICE, "2026-08-31T10:00:00", True),         # England's summer bank holiday
    (NO_HOLIDAYS, "2026-12-25T10:00:00", False),
])
def test_is_holiday(schedule: Schedule, when: str, expected: bool) -> None:
    assert is_holiday(schedule, at(when)) is expected


def test_the_holidays_of_the_subdivision_count() -> None:
    # 2 January is a bank holiday in Scotland, not in England.
    scotland = Schedule("scotland", OFFICE.days, OFFICE.periods, "GB", "SCT")
    assert is_holiday(scotland, at("2026-01-02T10:00:00")) is True
    assert is_holiday(OFFICE, at("2026-01-02T10:00:00")) is False


# The day range's pattern is a translated prompt (hours.days); English's is the default.
@pytest.mark.parametrize(("schedule", "locale", "days", "expected"), [
    (OFFICE, "en_GB", None, "Monday to Friday 09:00\u201312:00 and 13:00\u201317:00"),
    (OFFICE, "fr", "du %(first)s au %(last)s",
     "du lundi au vendredi 09:00\u201312:00 et 13:00\u201317:00"),
    (OFFICE, "de", "%(first)s bis %(last)s",
     "Montag bis Freitag 09:00\u201312:00 Uhr und 13:00\u201317:00 Uhr"),
    (ONE_DAY, "en_GB", None, "Wednesday 10:00\u201311:00"),
    (ONE_DAY, "en", None, "Wednesday 10:00\u201311:00"),  # 24-hour, even in US English
    (ONE_DAY, "fr", None, "mercredi 10:00\u201311:00"),
    (TWO_RUNS, "en_GB", None, "Monday to Tuesday and Thursday to Saturday 08:30\u201312:15"),
    (SPLIT, "en_GB", None, "Monday, Wednesday and Friday 09:00\u201312:00"),
])
def test_describe(schedule: Schedule, locale: str, days: str | None, expected: str) -> None:
    assert (describe(schedule, locale, days) if days else describe(schedule, locale)) == expected


# Luxembourgish CLDR joins with "a(n)" ("a" or "an" by the next word's sound): the hours
# a caller hears must never carry that choice, so several items are joined with commas.
@pytest.mark.parametrize(("schedule", "days", "expected"), [
    (OFFICE, "%(first)s bis %(last)s",
     "Méindeg bis Freideg 09:00\u201312:00, 13:00\u201317:00"),
    (SPLIT, None, "Méindeg, Mëttwoch, Freideg 09:00\u201312:00"),
    (ONE_DAY, None, "Mëttwoch 10:00\u201311:00"),
])
def test_luxembourgish_hours_carry_no_a_n_choice(schedule: Schedule, days: str | None,
                                                 expected: str) -> None:
    text = describe(schedule, "lb", days) if days else describe(schedule, "lb")
    assert text == expected


# Written in a right-to-left language, each time range sits in a left-to-right isolate
# (U+2066 … U+2069), so that "09:00–12:00" is not shown as "12:00–09:00".
def test_right_to_left_hours_isolate_each_time_range() -> None:
    assert describe(OFFICE, "ar", "%(first)s - %(last)s", right_to_left=True) == (
        "الاثنين - الجمعة \u206609:00\u201312:00\u2069 و\u206613:00\u201317:00\u2069")
    assert describe(ONE_DAY, "ar", right_to_left=True) == "الأربعاء \u206610:00\u201311:00\u2069"
    assert describe(ONE_DAY, "ar") == "الأربعاء 10:00\u201311:00"
