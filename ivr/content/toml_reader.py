"""Typed reads from a parsed TOML document, each problem named as file:line: key."""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

from ivr.content.profile import ProfileError
from ivr.content.safe_text import describe_problems


class TomlReader:
    """Reads a parsed TOML document, raising ProfileError with file, line and key."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        # Tables read field by field (not as name -> entry maps): their dotted key, and the
        # fields asked for. A field nobody asked for is a typo or a setting that does nothing.
        self._tables: dict[int, tuple[dict[str, Any], str, set[str]]] = {}

    @classmethod
    def parse(cls, path: Path, text: str) -> tuple[TomlReader, dict[str, Any]]:
        """The reader and the document; invalid TOML fails as file:line: key: problem."""
        try:
            return cls(path, text), tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(toml_problem(path, text, exc)) from exc

    def unknown_fields(self) -> None:
        """Fail on the first field of a read table that no code asked for."""
        for table, key, asked in self._tables.values():
            for name in table:
                if name not in asked:
                    close = difflib.get_close_matches(name, sorted(asked), n=1)
                    hint = f"; did you mean {close[0]}?" if close else (
                        f"; known: {', '.join(sorted(asked))}")
                    raise self.fail(f"{key}.{name}" if key else name, "unknown setting" + hint)

    def fail(self, key: str, problem: str) -> ProfileError:
        line = self.locate(key)
        where = f"{self.path}:{line}" if line else str(self.path)
        return ProfileError(f"{where}: {key}: {problem}")

    def warn(self, key: str, problem: str) -> str:
        """A warning in the same form as an error: `file:line: key: problem`."""
        return str(self.fail(key, problem))

    def locate(self, key: str) -> int | None:
        """Best-effort line of a dotted key such as `nodes.main.options[2].key`."""
        parts = [p.strip('"') if p.startswith('"') else p
                 for p in re.findall(r'"[^"]*"|[^.\[\]"]+|\[\d+\]', key)]
        line_no = 0
        table: list[str] = []
        for part in parts:
            if part.startswith("["):
                line_no = self._element(table, int(part[1:-1]), line_no)
                continue
            table.append(part)
            if re.search(r"[{,]\s*" + re.escape(part) + r"\s*=", self.lines[line_no]):
                continue  # a key of the inline table on this line
            dotted = r"\s*\.\s*".join(
                re.escape(p) if re.fullmatch(r"[A-Za-z0-9_-]+", p) else f'"{re.escape(p)}"'
                for p in table)
            header = re.compile(r"^\s*\[+\s*" + dotted + r"\s*\]+")
            assignment = re.compile(r'^\s*"?' + re.escape(part) + r'"?\s*=')
            for i in range(line_no, len(self.lines)):
                if header.match(self.lines[i]) or assignment.match(self.lines[i]):
                    line_no = i
                    break
        return line_no + 1 if parts else None

    def _element(self, table: list[str], index: int, line_no: int) -> int:
        """The line of element `index` of an array: [[table]] headers, or an inline array."""
        header = re.compile(r"^\s*\[\[\s*" + r"\s*\.\s*".join(map(re.escape, table))
                            + r"\s*\]\]")
        hits = [i for i, text in enumerate(self.lines) if header.match(text)]
        if hits:
            return hits[index] if index < len(hits) else line_no
        # An inline array: the index-th line that opens an element ("{" or a value).
        starts = [i for i in range(line_no, len(self.lines))
                  if re.match(r"^\s*[{\[]", self.lines[i]) or (i == line_no and "{" in
                                                                  self.lines[i])]
        element = [i for i in starts if i != line_no or "{" in self.lines[i]]
        return element[index] if index < len(element) else line_no

    def get(self, data: dict[str, Any], key: str, name: str, kind: type | tuple[type, ...],
            default: Any = ..., minimum: int | None = None, maximum: int | None = None) -> Any:
        self._tables.setdefault(id(data), (data, key, set()))[2].add(name)
        if name not in data:
            if default is ...:
                raise self.fail(f"{key}.{name}" if key else name, "is required")
            return default
        value: Any = data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(
                k.__name__ for k in kind)
            raise self.fail(f"{key}.{name}" if key else name,
                            f"must be a {expected}, not {type(value).__name__}")
        # Any text a profile holds may end up in a document or a caller's ear.
        why = describe_problems(value) if isinstance(value, str) else None
        if why:
            raise self.fail(f"{key}.{name}" if key else name, why)
        if isinstance(value, int) and ((minimum is not None and value < minimum)
                                       or (maximum is not None and value > maximum)):
            bounds = (f"from {minimum} to {maximum}" if minimum is not None and maximum is not None
                      else f"at least {minimum}" if minimum is not None else f"at most {maximum}")
            raise self.fail(f"{key}.{name}" if key else name, f"must be {bounds}, not {value}")
        return value


_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)$")
_LINE_KEY = re.compile(r"""^\s*\[*\s*("[^"]*"|'[^']*'|[\w.-]+)""")


def toml_problem(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's error as `file:line: key: problem`, like every other profile error
    (a key written twice: "Cannot overwrite a value (at line 12, column 7)")."""
    message = str(exc)
    found = _AT_LINE.search(message)
    if not found:
        return f"{path}: not valid TOML: {message}"
    number = int(found.group(1))
    lines = text.splitlines()
    key = _LINE_KEY.match(lines[number - 1]) if 0 < number <= len(lines) else None
    problem = message[:found.start()]
    if problem.startswith(("Cannot overwrite a value", "Cannot declare")):
        problem = "written twice (TOML allows a key or table once)"
    else:
        problem = f"not valid TOML: {problem}"
    return f"{path}:{number}: {key.group(1).strip(chr(34)) if key else '?'}: {problem}"
