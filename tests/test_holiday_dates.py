"""Public holidays from a file a child process wrote: the same days as the holidays package."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from ivr.content import holiday_dates
from ivr.content.holiday_dates import UnknownCalendar, calendar

pytestmark = pytest.mark.slow  # child processes load the holidays package

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(("country", "subdivision"), [("LU", None), ("GB", "SCT"),
                                                      ("XK", None)])
def test_every_day_of_the_span_is_as_the_package_says(tmp_path: Path, country: str,
                                                       subdivision: str | None) -> None:
    found = calendar(country, subdivision, TODAY, tmp_path)
    assert (found.first_year, found.last_year) == (2025, 2036)
    package = holidays.country_holidays(country, subdiv=subdivision, years=range(2025, 2037))
    day = date(2025, 1, 1)
    while day.year <= 2036:
        assert (day in found) is (day in package), day
        day += timedelta(days=1)
    assert date(2026, 12, 25) in found and date(2026, 12, 24) not in found


def test_the_file_is_written_once_and_then_read(tmp_path: Path) -> None:
    first = calendar("LU", None, TODAY, tmp_path)
    [written] = list(tmp_path.iterdir())  # no partial file left behind
    assert json.loads(written.read_text())[0] == "2025-01-01"
    before = written.stat().st_mtime_ns
    assert calendar("LU", None, TODAY, tmp_path) == first
    assert written.stat().st_mtime_ns == before
    assert calendar("LU", None, date(2027, 1, 1), tmp_path).first_year == 2026  # a new span
    assert len(list(tmp_path.iterdir())) == 2


def test_days_outside_the_span_are_asked_of_the_package(tmp_path: Path) -> None:
    found = calendar("LU", None, TODAY, tmp_path)
    assert date(2040, 6, 23) in found  # Luxembourg's National Day, 14 years on
    assert date(2019, 5, 9) in found  # Europe Day, a holiday from 2019
    assert date(2018, 5, 9) not in found
    assert "2026-12-25" not in found  # not a date: never a holiday


def test_an_unknown_country_or_subdivision_is_said(tmp_path: Path) -> None:
    with pytest.raises(UnknownCalendar, match="Country XX not available"):
        calendar("XX", None, TODAY, tmp_path)
    with pytest.raises(UnknownCalendar, match="does not have subdivision Atlantis"):
        calendar("LU", "Atlantis", TODAY, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_where_no_child_can_run_the_dates_are_worked_out_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def fails(*args: str) -> None:
        raise subprocess.CalledProcessError(1, "python3", stderr="killed")

    monkeypatch.setattr(holiday_dates, "run_in_child", fails)
    found = calendar("LU", None, TODAY, tmp_path)
    assert date(2026, 12, 25) in found.dates and len(found.dates) > 100
    assert "worked out in this process (CalledProcessError)" in caplog.text
    missing = calendar("LU", None, TODAY, tmp_path / "no" / "such" / "folder")
    assert missing.dates == found.dates


def test_a_process_that_reads_the_calendar_never_loads_the_package(tmp_path: Path) -> None:
    code = ("import sys; from datetime import date; from pathlib import Path; "
            "from ivr.content.holiday_dates import calendar; "
            "c = calendar('LU', None, date(2026, 11, 30), Path(sys.argv[1])); "
            "print(date(2026, 12, 25) in c, date(2026, 12, 24) in c, "
            "any(m.split('.')[0] == 'holidays' for m in sys.modules))")
    for _ in range(2):  # the first writes the file through a child, the second reads it
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True,
                              capture_output=True, text=True, timeout=120)
        assert done.stdout.split() == ["True", "False", "False"]
