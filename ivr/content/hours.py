"""Office hours: whether a schedule is open at a moment, and how to say when it is."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import holidays
from babel import Locale
from babel.dates import format_time, get_day_names

from ivr.content.profile import Schedule


@lru_cache(maxsize=32)
def _holiday_calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision)


def is_holiday(schedule: Schedule, when: datetime) -> bool:
    """True on a public holiday of the schedule's country (in the local date)."""
    if not schedule.holidays_country:
        return False
    calendar = _holiday_calendar(schedule.holidays_country, schedule.holidays_subdivision)
    return when.date() in calendar


def is_open(schedule: Schedule, when: datetime) -> bool:
    """True when `when` (an aware datetime, already in the hotline's zone) is in office hours."""
    if when.weekday() not in schedule.days or is_holiday(schedule, when):
        return False
    now = when.time().replace(tzinfo=None)
    return any(start <= now < end for start, end in schedule.periods)


def describe(schedule: Schedule, locale: str) -> str:
    """The schedule in words for a caller, e.g. 'Monday–Friday 09:00–12:00, 13:00–17:00'."""
    loc = Locale.parse(locale)
    names = get_day_names("wide", locale=loc)
    days = sorted(schedule.days)
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    day_text = ", ".join(names[run[0]] if len(run) == 1 else f"{names[run[0]]}–{names[run[-1]]}"
                         for run in runs)
    periods = ", ".join(
        f"{format_time(start, 'short', locale=loc)}–{format_time(end, 'short', locale=loc)}"
        for start, end in schedule.periods)
    return f"{day_text} {periods}"
