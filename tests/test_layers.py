"""The package's layer rule and its absence of import circles, read from the source with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "ivr"

# What each layer may import, besides itself. Lower layers never import higher ones.
# ivr.settings (the environment, read once, and typed service handles) is the bottom layer.
# ivr.twilio_rest (the REST client, what its failures mean, whether it works) sits just
# above it: every channel may ask Twilio's REST API.
MAY_IMPORT: dict[str, set[str]] = {
    "ivr.settings": set(),
    "ivr.twilio_rest": {"ivr.settings"},
    "ivr.content": {"ivr.settings"},
    "ivr.storage": {"ivr.settings"},
    "ivr.security": {"ivr.settings", "ivr.content", "ivr.storage"},
    "ivr.voice": {"ivr.settings", "ivr.twilio_rest", "ivr.content", "ivr.storage",
                  "ivr.security"},
    "ivr.sms": {"ivr.settings", "ivr.twilio_rest", "ivr.content", "ivr.storage",
                "ivr.security"},
    "ivr.console": {"ivr.settings", "ivr.twilio_rest", "ivr.content", "ivr.storage",
                    "ivr.security", "ivr.voice", "ivr.sms"},
    "ivr.cli": {"ivr.settings", "ivr.twilio_rest", "ivr.content", "ivr.storage",
                "ivr.security", "ivr.voice", "ivr.sms", "ivr.console", "ivr"},
    "ivr": {"ivr.settings", "ivr.twilio_rest", "ivr.content", "ivr.storage", "ivr.security",
            "ivr.voice", "ivr.sms", "ivr.console", "ivr.cli"},
}
MAX_MODULE_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def imports_of(path: Path, name: str) -> set[str]:
    """Every ivr module a file imports, at the top or inside a function."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    known = modules()
    return {target for target in found if target in known and target != name}


def layer_of(name: str) -> str:
    for layer in sorted(MAY_IMPORT, key=len, reverse=True):
        if name == layer or name.startswith(layer + "."):
            return layer
    raise AssertionError(f"{name} is in no layer: add it to MAY_IMPORT")


def graph() -> dict[str, set[str]]:
    return {name: imports_of(path, name) for name, path in modules().items()}


def test_every_module_is_in_a_layer() -> None:
    for name in modules():
        layer_of(name)


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = sorted(f"{source} imports {target}" for source, targets in graph().items()
                   for target in targets
                   if layer_of(target) != layer_of(source)
                   and layer_of(target) not in MAY_IMPORT[layer_of(source)])
    assert wrong == []


def test_no_import_circles() -> None:
    edges = graph()
    # Importing a submodule runs its package's __init__ first: that is an edge too.
    for name in list(edges):
        if "." in name and name.rpartition(".")[0] in edges:
            edges[name] = edges[name] | {name.rpartition(".")[0]}
    circles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == 1:
                circles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name)
    # A package that imports its own submodules is how a package is built, not a circle.
    real = [" -> ".join(c) for c in circles
            if not all(m == min(c, key=len) or m.startswith(min(c, key=len) + ".") for m in c)]
    assert real == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines; split it by job"


@pytest.mark.parametrize(("source", "target", "allowed"), [
    ("ivr.content.audio", "ivr.voice.engine", False),
    ("ivr.voice.engine", "ivr.content.speech", True),
    ("ivr.storage.crypto", "ivr.content.profile", False),
    ("ivr.sms.channel", "ivr.voice.views", False),
    ("ivr.cli.main", "ivr", True),
])
def test_the_rule_itself(source: str, target: str, allowed: bool) -> None:
    same = layer_of(source) == layer_of(target)
    assert (same or layer_of(target) in MAY_IMPORT[layer_of(source)]) is allowed
