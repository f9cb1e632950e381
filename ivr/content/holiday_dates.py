"""Public holidays as plain dates, worked out by the holidays package in a child process.

To give one country's calendar, the holidays package imports every country it knows (about
300 modules, 12 MB in each process). Office hours need only a set of dates, so a child
process works them out for a span of years around today and writes them to a file in this
user's private folder (ivr/content/machine_cache.py); every process reads that file. A date
outside the span (a test's clock, a server still running in ten years) is looked up with
the package in this process, as it always was: right, only heavier.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from ivr.content.machine_cache import private_folder, replace_atomically, run_in_child

log = logging.getLogger(__name__)

YEARS_BEFORE, YEARS_AFTER = 1, 10
UNKNOWN_EXIT_CODE = 3  # the child's answer for a country or subdivision the package lacks


class UnknownCalendar(ValueError):
    """The holidays package knows no such country, or no such subdivision of it."""


@dataclass(frozen=True)
class HolidayCalendar:
    """One country's (or subdivision's) public holidays: `day in calendar`."""

    country: str
    subdivision: str | None
    first_year: int
    last_year: int
    dates: frozenset[date]

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if self.first_year <= day.year <= self.last_year:
            return day in self.dates
        return day in _package_calendar(self.country, self.subdivision)


def calendar(country: str, subdivision: str | None = None,
             today: date | None = None, folder: Path | None = None) -> HolidayCalendar:
    """The calendar for the years around `today`, from the file (written first if missing).

    Raises UnknownCalendar for a country or subdivision the package does not know."""
    first = (today or date.today()).year - YEARS_BEFORE
    last = first + YEARS_BEFORE + YEARS_AFTER
    try:
        path = _file(country, subdivision, first, last, folder)
        if not path.exists():
            run_in_child(__name__, "write_dates", country, subdivision or "", str(first),
                         str(last), str(path))
        dates = frozenset(date.fromisoformat(d) for d in json.loads(path.read_text()))
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        if isinstance(exc, subprocess.CalledProcessError) \
                and exc.returncode == UNKNOWN_EXIT_CODE:
            raise UnknownCalendar(exc.stderr.strip()) from None
        dates = _dates_here(country, subdivision, first, last, type(exc).__name__)
    return HolidayCalendar(country, subdivision, first, last, dates)


@lru_cache(maxsize=32)
def cached_calendar(country: str, subdivision: str | None) -> HolidayCalendar:
    """The calendar, read once per process."""
    return calendar(country, subdivision)


def write_dates(country: str, subdivision: str, first: str, last: str, path: str) -> None:
    """The child process: the holidays of these years, as ISO dates in a JSON list."""
    try:
        found = _package_calendar(country, subdivision or None, range(int(first), int(last) + 1))
    except UnknownCalendar as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(UNKNOWN_EXIT_CODE) from None
    replace_atomically(Path(path), json.dumps(sorted(d.isoformat() for d in found)).encode())


def _file(country: str, subdivision: str | None, first: int, last: int,
          folder: Path | None) -> Path:
    version = importlib.metadata.version("holidays")
    key = hashlib.sha256(f"{version}:{country}:{subdivision or ''}:{first}:{last}".encode())
    return (folder or private_folder()) / f"ivr-holidays-{key.hexdigest()[:16]}.json"


def _dates_here(country: str, subdivision: str | None, first: int, last: int,
                reason: str) -> frozenset[date]:
    """Where no child or file can help: the package, loaded in this process."""
    log.warning("holidays of %s: worked out in this process (%s)", country, reason)
    return frozenset(_package_calendar(country, subdivision, range(first, last + 1)).keys())


@lru_cache(maxsize=32)
def _package_calendar(country: str, subdivision: str | None,
                      years: range | None = None) -> Any:
    import holidays

    try:
        if years is None:  # the years looked up are added as they are asked for
            return holidays.country_holidays(country, subdiv=subdivision)
        return holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError as exc:
        raise UnknownCalendar(str(exc)) from None
