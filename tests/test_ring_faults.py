"""Ringing together through the Procfile's gunicorn, two instances behind a round-robin
proxy, Twilio's REST API reached over the network by the unmodified client (issue #21).

bench/ringing.py's short run (ring_seconds 5, so a caller may be held 25 s at most): every
scenario at once while one instance gets SIGTERM, the other HUP and `kill -9` of a worker,
then the REST API refusing (401, 429, 500), slow and unreachable. `python3 bench/ringing.py`
runs the whole table at the profile's 20 s.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.services import redis_or_skip

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def load_bench() -> ModuleType:
    path = REPO / "bench" / "ringing.py"
    spec = importlib.util.spec_from_file_location("bench_ringing", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ringing"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    redis_or_skip()  # the instances share ring state there
    bench = load_bench()
    found = bench.run_quick(tmp_path_factory.mktemp("ringing"))
    yield {row.scenario: row for row in found}


def row_named(rows: dict[str, Any], start: str) -> Any:
    [found] = [row for name, row in rows.items() if name.startswith(start)]
    return found


def test_every_caller_reaches_a_person_or_moves_on_within_the_bound(
        rows: dict[str, Any]) -> None:
    missed = [row.markdown() for row in rows.values() if not row.ok]
    assert missed == []
    assert len(rows) == 9 + 5 + 1


@pytest.mark.parametrize(("scenario", "outcome"), [
    ("both accept", "connected to"),
    ("voicemail first, then a person", "connected to 919"),
    ("a person picks up at the last second", "connected to 884"),
    ("a phone answered as the other accepts", "connected to 884"),
    ("busy", "moved on (leave)"),
    ("no answer", "moved on (leave)"),
    ("both voicemail", "moved on (leave)"),
    ("caller hangs up after 3 s", "moved on (hangup)"),
])
def test_each_caller_got_what_twilio_and_the_phones_allow(rows: dict[str, Any], scenario: str,
                                                          outcome: str) -> None:
    row = row_named(rows, scenario + " (SIGTERM")
    assert outcome in row.outcome, row.markdown()
    assert row.rest <= 10 and row.still_ringing == []
    assert row.hold <= 25.0


def test_the_stopped_instance_exited_within_5_s(rows: dict[str, Any]) -> None:
    row = row_named(rows, "both accept (SIGTERM")
    seconds = float(row.outcome.rsplit("exited in ", 1)[1].split(" s")[0])
    assert seconds <= 5.0


@pytest.mark.parametrize("fault", ["REST 401", "REST 429", "REST 500", "REST unreachable"])
def test_a_rest_api_that_refuses_rings_one_after_another_without_a_hold(
        rows: dict[str, Any], fault: str) -> None:
    row = row_named(rows, fault)
    assert row.outcome.startswith("one after another, then connected to 884"), row.markdown()
    seconds = float(row.outcome.rsplit(" at ", 1)[1].split(" s")[0])
    # Never held: "connecting you" (about 4 s), then the first mobile rings; its person
    # picks up after 2 s and presses 1 2 s later.
    assert row.hold == 0.0 and seconds < 10.0


def test_a_slow_rest_api_costs_seconds_and_its_calls_ring(rows: dict[str, Any]) -> None:
    row = row_named(rows, "REST slow")
    assert row.outcome.startswith("held, then connected to 884"), row.markdown()
    assert row.hold < 10


def test_no_phone_number_reached_the_logs(rows: dict[str, Any]) -> None:
    assert row_named(rows, "the servers' logs").ok
