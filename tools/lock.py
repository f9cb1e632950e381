"""The dependency locks: check that they agree with pyproject.toml, or refresh them.

`python3 tools/lock.py check` reads files only (CI runs it before the tests);
`python3 tools/lock.py refresh` asks uv to solve again, keeping every pin it can.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
REFRESH_COMMAND = "python3 tools/lock.py refresh"
# The project's own name as uv writes it in `# via` annotations.
VIA_PROJECT = re.compile(r"\bivr \(pyproject\.toml\)")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")


@dataclass(frozen=True)
class Lock:
    """One lock file and the pyproject extras it is solved for."""

    path: Path
    extras: tuple[str, ...]


LOCKS = (
    Lock(ROOT / "requirements" / "app.txt", ()),
    Lock(ROOT / "requirements" / "test.txt", ("test",)),
)


@dataclass(frozen=True)
class Pinned:
    name: str
    version: str
    direct: bool


def read_lock(path: Path) -> dict[str, Pinned]:
    """Pinned packages of a uv/pip-tools lock, by canonical name."""
    pins: dict[str, Pinned] = {}
    current: str | None = None
    via_lines: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            pins[current] = Pinned(current, match["version"], direct=False)
            via_lines[current] = []
        elif current and line.lstrip().startswith("#"):
            via_lines[current].append(line)
    return {
        name: Pinned(name, pin.version, direct=any(VIA_PROJECT.search(v) for v in via_lines[name]))
        for name, pin in pins.items()
    }


def declared(pyproject: Path, extras: tuple[str, ...]) -> list[Requirement]:
    """The project's requirements with the given extras, as pyproject.toml states them."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    texts = list(project.get("dependencies", []))
    for extra in extras:
        texts += project.get("optional-dependencies", {}).get(extra, [])
    return [Requirement(text) for text in texts]


def disagreements(lock: Lock, pyproject: Path = PYPROJECT) -> list[str]:
    """Every way the lock and pyproject.toml disagree, one sentence each."""
    if not lock.path.exists():
        return [f"{lock.path.name}: missing"]
    pins = read_lock(lock.path)
    wanted = declared(pyproject, lock.extras)
    problems = []
    names = set()
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        names.add(name)
        pin = pins.get(name)
        if pin is None:
            problems.append(
                f"{lock.path.name}: {requirement} is in pyproject.toml, not in the lock")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(
                f"{lock.path.name}: pins {name}=={pin.version}, outside pyproject.toml's "
                f"'{requirement}'"
            )
    for pin in pins.values():
        if pin.direct and pin.name not in names:
            problems.append(
                f"{lock.path.name}: {pin.name}=={pin.version} is locked as a direct dependency "
                "but pyproject.toml no longer asks for it"
            )
    return problems


def refresh_command(lock: Lock, upgrade: bool = False) -> list[str]:
    """The uv command that solves one lock again."""
    command = [sys.executable, "-m", "uv", "pip", "compile", "--quiet", "pyproject.toml",
               "--generate-hashes", "--universal", "--python-version", "3.11",
               "--output-file", str(lock.path.relative_to(ROOT))]
    for extra in lock.extras:
        command += ["--extra", extra]
    if upgrade:
        command.append("--upgrade")
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="fail when pyproject.toml and a lock disagree")
    refresh = commands.add_parser("refresh", help="solve the locks again with uv")
    refresh.add_argument("--upgrade", action="store_true",
                         help="move every pin to the newest allowed release")
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = [p for lock in LOCKS for p in disagreements(lock, PYPROJECT)]
        for problem in problems:
            print(f"lock out of date: {problem}", file=sys.stderr)
        if problems:
            print(f"Mend it with: {REFRESH_COMMAND}, then commit requirements/.", file=sys.stderr)
            return 1
        print(f"locks agree with pyproject.toml: {', '.join(lock.path.name for lock in LOCKS)}")
        return 0
    for lock in LOCKS:
        subprocess.run(refresh_command(lock, args.upgrade), cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
