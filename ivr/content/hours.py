"""Office hours: whether a schedule is open at a moment, and how to say when it is."""

from __future__ import annotations

import re
from datetime import datetime

from babel import Locale
from babel.dates import format_interval, get_day_names
from babel.lists import format_list

from ivr.content.holiday_dates import cached_calendar
from ivr.content.profile import Schedule
from ivr.content.texts import fill


def is_holiday(schedule: Schedule, when: datetime) -> bool:
    """True on a public holiday of the schedule's country (in the local date)."""
    if not schedule.holidays_country:
        return False
    calendar = cached_calendar(schedule.holidays_country, schedule.holidays_subdivision)
    return when.date() in calendar


def is_open(schedule: Schedule, when: datetime) -> bool:
    """True when `when` (an aware datetime, already in the hotline's zone) is in office hours."""
    if when.weekday() not in schedule.days or is_holiday(schedule, when):
        return False
    now = when.time().replace(tzinfo=None)
    return any(start <= now < end for start, end in schedule.periods)


# A range of days, e.g. "%(first)s to %(last)s": its translation is the prompt
# "hours.days" (CLDR has interval patterns for dates and times, none for weekdays).
DEFAULT_DAYS_PATTERN = "%(first)s to %(last)s"
# An abbreviation a voice spells out letter by letter ("p.d.", "ч."): a short word ending
# in a full stop. Spoken hours are 24-hour times, clear without it.
_ABBREVIATION = re.compile(r"\s*(?<!\w)\w{1,3}\.(?=\s|$|[–—-])")
_SPACED_DASH = re.compile(r"\s*([–—-])\s*")
LTR_ISOLATE, POP_ISOLATE = "\u2066", "\u2069"


def _join(items: list[str], loc: Locale) -> str:
    """Items joined the CLDR way ("a, b and c"), unless the pattern holds a choice the
    speaker must make ("a(n)" in Luxembourgish, by the next word's sound): then commas."""
    joined = format_list(items, locale=loc)
    if "(" in joined and not any("(" in item for item in items):
        return ", ".join(items)
    return joined


def describe(schedule: Schedule, locale: str, days_pattern: str = DEFAULT_DAYS_PATTERN,
             spoken: bool = False, right_to_left: bool = False) -> str:
    """The schedule in words for a caller, e.g. 'Monday to Friday 09:00–12:00 and 13:00–17:00'.

    Times are CLDR's 24-hour interval for the skeleton "Hm" in the language (so no
    "p.d."/"m.d." a voice spells out, and "09:00–12:00 Uhr" where German says so);
    days come from CLDR's names through the translated `days_pattern`. Short abbreviations
    are left out ("ч."); written in right-to-left text, each time range is
    isolated so that its digits keep their order.
    """
    loc = Locale.parse(locale)
    names = get_day_names("wide", context="stand-alone", locale=loc)
    days = sorted(schedule.days)
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    day_text = _join([names[run[0]] if len(run) == 1 else
                      fill(days_pattern, {"first": names[run[0]], "last": names[run[-1]]})
                      for run in runs], loc)
    ranges = []
    for start, end in schedule.periods:
        # No abbreviation a voice spells out, nor, written, a double full stop before the
        # next sentence ("8:00 ч.–16:00 ч.. В друго време").
        text = _ABBREVIATION.sub("", format_interval(start, end, "Hm", locale=loc)).strip()
        if not spoken:  # "09:00–12:00": every character counts in a text message
            text = _SPACED_DASH.sub(lambda m: m.group(1), text)
        if right_to_left:
            text = f"{LTR_ISOLATE}{text}{POP_ISOLATE}"
        ranges.append(text)
    return f"{day_text} {_join(ranges, loc)}"
