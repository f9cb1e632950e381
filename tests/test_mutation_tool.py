"""bench/mutation.py's own logic: which mutants it makes, how it applies them, its log.

The mutation run itself is not a test (it takes an hour here): `python3 bench/mutation.py`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_mutation", REPO / "bench" / "mutation.py")
assert spec and spec.loader
mutation = importlib.util.module_from_spec(spec)
sys.modules["bench_mutation"] = mutation
spec.loader.exec_module(mutation)

HOURS = next(t for t in mutation.TARGETS if t.name == "hours")
ENGINE = next(t for t in mutation.TARGETS if t.name == "engine")
RINGING = next(t for t in mutation.TARGETS if t.name == "ringing")


def by_key(target: object) -> dict[str, object]:
    return {m.key: m for m in mutation.mutants_of(target)}


def test_the_mutants_of_is_open() -> None:
    keys = [k for k in by_key(HOURS) if k.startswith("hours:is_open:")]
    assert keys == [
        "hours:is_open: `if when.weekday() not in schedule.days or is_holiday(schedu…` deleted",
        "hours:is_open: `when.weekday() not in schedule.days or is_holiday(schedule,…`: "
        "or → and",
        "hours:is_open: `return False` deleted",
        "hours:is_open: `when.weekday() not in schedule.days`: not in → in (#0)",
        "hours:is_open: `False` → `True`",
        "hours:is_open: `return any((start <= now < end for start, end in schedule.p…` deleted",
        "hours:is_open: `start <= now < end`: <= → < (#0)",
        "hours:is_open: `start <= now < end`: < → <= (#1)",
    ]


def test_a_mutant_changes_only_its_node() -> None:
    original = mutation.mutated_source(HOURS, None)
    mutant = by_key(HOURS)["hours:is_open: `start <= now < end`: < → <= (#1)"]
    changed = mutation.mutated_source(HOURS, mutant)
    assert "start <= now < end" in original and "start <= now <= end" not in original
    assert changed == original.replace("start <= now < end", "start <= now <= end")


def test_ringing_the_wrong_next_phone_is_a_mutant() -> None:
    mutant = by_key(RINGING)["ringing:dialed: `state.step + 1`: + → -"]
    changed = mutation.mutated_source(RINGING, mutant)
    assert changed.count('caller, step=state.step - 1)') == 1


def test_a_plain_local_assignment_is_not_deleted_a_statement_that_acts_is() -> None:
    assert not any("`p = self.profile` deleted" in k for k in by_key(ENGINE))
    assert ("ringing:_ring_one: `dial.number(phone, url=self.link('whisper', CallState(lang=…` "
            "deleted") in by_key(RINGING)


def test_the_table_is_rebuilt_from_a_log(tmp_path: Path) -> None:
    log = tmp_path / "run.txt"
    log.write_text("baseline hours: survived in 3.0s (1 test files)\n"
                   "  killed      6.7s hours:is_open: `return False` deleted (L31)\n"
                   "  survived   27.2s hours:is_holiday: `False` → `True` (L23)\n"
                   "  timeout   150.0s hours:describe: `1` → `2` (L43)\n"
                   "  survived    0.0s hours:describe: `0` → `1` (L47, no test calls it)\n",
                   encoding="utf-8")
    assert mutation._outcomes_in(log) == {
        "hours:is_open: `return False` deleted": "killed",
        "hours:is_holiday: `False` → `True`": "survived",
        "hours:describe: `1` → `2`": "timeout",
        "hours:describe: `0` → `1`": "survived"}


def test_every_equivalent_entry_names_a_mutant_of_the_code_as_it_is() -> None:
    # A renamed function or a rewritten line leaves an entry that matches nothing: the
    # mutant it excused may now be a real survivor under another name.
    current = {m.key for target in mutation.TARGETS for m in mutation.mutants_of(target)}
    stale = [key for key in mutation.load_equivalent() if key not in current]
    assert stale == []
