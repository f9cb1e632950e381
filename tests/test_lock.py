"""tools/lock.py: the committed locks agree with pyproject.toml, and disagreement is caught."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_tool", ROOT / "tools" / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["lock_tool"] = module
    spec.loader.exec_module(module)
    return module


lock_tool = _load_tool()

PYPROJECT = """\
[project]
name = "ivr"
dependencies = ["flask>=3.1", "babel>=2.16"]
[project.optional-dependencies]
test = ["pytest>=8"]
"""

LOCK = """\
babel==2.19.0 \\
    --hash=sha256:00
    # via ivr (pyproject.toml)
flask==3.1.3 \\
    --hash=sha256:00
    # via ivr (pyproject.toml)
jinja2==3.1.6 \\
    --hash=sha256:00
    # via flask
pytest==9.0.3 ; python_full_version >= '3.11' \\
    --hash=sha256:00
    # via
    #   ivr (pyproject.toml)
    #   other
"""


def _problems(tmp_path: Path, pyproject: str, lock: str, extras: tuple[str, ...] = ("test",)
              ) -> list[str]:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "test.txt").write_text(lock)
    return lock_tool.disagreements(lock_tool.Lock(tmp_path / "test.txt", extras),
                                   tmp_path / "pyproject.toml")


def test_committed_locks_agree_with_pyproject() -> None:
    assert [p for lock in lock_tool.LOCKS for p in lock_tool.disagreements(lock)] == []


def test_a_lock_that_matches_has_no_problem(tmp_path: Path) -> None:
    assert _problems(tmp_path, PYPROJECT, LOCK) == []


def test_reads_pins_markers_and_multiline_via(tmp_path: Path) -> None:
    (tmp_path / "lock.txt").write_text(LOCK)
    pins = lock_tool.read_lock(tmp_path / "lock.txt")
    assert {name: (pin.version, pin.direct) for name, pin in pins.items()} == {
        "babel": ("2.19.0", True), "flask": ("3.1.3", True), "jinja2": ("3.1.6", False),
        "pytest": ("9.0.3", True)}


@pytest.mark.parametrize(("pyproject", "expected"), [
    (PYPROJECT.replace('"babel>=2.16"', '"babel>=2.16", "holidays>=0.60"'),
     "test.txt: holidays>=0.60 is in pyproject.toml, not in the lock"),
    (PYPROJECT.replace('"babel>=2.16"', '"babel>=2.20"'),
     "test.txt: pins babel==2.19.0, outside pyproject.toml's 'babel>=2.20'"),
    (PYPROJECT.replace(', "babel>=2.16"', ""),
     "test.txt: babel==2.19.0 is locked as a direct dependency but pyproject.toml no longer "
     "asks for it"),
])
def test_each_disagreement_is_named(tmp_path: Path, pyproject: str, expected: str) -> None:
    assert _problems(tmp_path, pyproject, LOCK) == [expected]


def test_check_fails_with_the_mending_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.replace('"pytest>=8"', '"pytest>=10"'))
    (tmp_path / "test.txt").write_text(LOCK)
    monkeypatch.setattr(lock_tool, "PYPROJECT", tmp_path / "pyproject.toml")
    monkeypatch.setattr(lock_tool, "LOCKS", (lock_tool.Lock(tmp_path / "test.txt", ("test",)),))
    assert lock_tool.main(["check"]) == 1
    err = capsys.readouterr().err
    assert "pins pytest==9.0.3, outside pyproject.toml's 'pytest>=10'" in err
    assert "python3 tools/lock.py refresh" in err
