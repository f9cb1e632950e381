"""The docs say what the code does: commands they name exist, the settings table is every
environment variable the app reads (and no other) with the defaults the code has, and CI
runs the README's test command."""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import fields
from pathlib import Path

import click
import pytest

from ivr.cli.main import main
from ivr.content.profile import PROFILES_DIR
from ivr.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
SETTING_ROW = re.compile(r"^\| ((?:`[A-Z][A-Z0-9_]+`(?:, )?)+) \| ([^|]*) \|", re.M)
# `ivr word word ...` inside a code span or at the start of a code line (an optional
# .venv/bin/ before it).
IVR_COMMAND = re.compile(r"(?:`|^|&& )(?:\.venv/bin/)?(ivr(?: [^`\n#|&]*)?)", re.M)


def readme_settings() -> dict[str, str]:
    """Each variable of the README's settings table and its Default cell."""
    found: dict[str, str] = {}
    for names, default in SETTING_ROW.findall(README.read_text(encoding="utf-8")):
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", names):
            found[name] = default.strip()
    return found


def _env_names(tree: ast.AST) -> set[str]:
    """Variables read with os.environ.get / os.getenv / gunicorn.conf.py's _number, by a
    literal name or a module constant holding one."""
    constants = {node.targets[0].id: node.value.value for node in ast.walk(tree)
                 if isinstance(node, ast.Assign) and len(node.targets) == 1
                 and isinstance(node.targets[0], ast.Name)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        called = (func.attr if isinstance(func, ast.Attribute) else
                  func.id if isinstance(func, ast.Name) else "")
        reads_env = called in {"getenv", "_number"} or (
            called == "get" and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Attribute) and func.value.attr == "environ")
        if not reads_env:
            continue
        arg = node.args[0]
        value = (arg.value if isinstance(arg, ast.Constant) else
                 constants.get(arg.id) if isinstance(arg, ast.Name) else None)
        if isinstance(value, str) and value.isupper():
            names.add(value)
    return names


def variables_the_code_reads() -> set[str]:
    names = {item.name.upper() for item in fields(Settings)}
    for path in [*sorted((ROOT / "ivr").rglob("*.py")), ROOT / "gunicorn.conf.py"]:
        names |= _env_names(ast.parse(path.read_text(encoding="utf-8")))
    names |= set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "Procfile").read_text()))
    return names


def test_the_settings_table_is_every_variable_the_code_reads() -> None:
    documented, read = set(readme_settings()), variables_the_code_reads()
    assert {"TWILIO_AUTH_TOKEN", "WEB_THREADS", "PORT", "HOTLINE_PROMPTS_DIR"} <= read
    assert read - documented == set(), "read by the code but not in the README's table"
    assert documented - read == set(), "in the README's table but read by no code"


def gunicorn_default(name: str) -> str:
    found = re.search(rf'_number\("{name}", (\d+)\)', (ROOT / "gunicorn.conf.py").read_text())
    assert found, name
    return found.group(1)


def test_the_defaults_quoted_are_the_codes() -> None:
    table = readme_settings()
    blank = Settings.load({})
    port = re.search(r"\$\{PORT:-(\d+)\}", (ROOT / "Procfile").read_text())
    assert port
    expected = {
        "TWILIO_REST_CHECK_SECONDS": f"`{blank.twilio_rest_check_seconds:g}`",
        "REDIS_KEY_PREFIX": f"`{blank.redis_key_prefix}`",
        "TRUST_PROXY_HOPS": f"`{blank.trust_proxy_hops}`",
        "SMS_USE_REST_API": f"`{str(blank.sms_use_rest_api).lower()}`",
        "HOTLINE_PROFILE": f"`{(PROFILES_DIR / 'luxembourg.toml').relative_to(ROOT)}`",
        "WEB_CONCURRENCY": f"`{gunicorn_default('WEB_CONCURRENCY')}`, "
                           f"`{gunicorn_default('WEB_THREADS')}`",
        "PORT": f"`{port.group(1)}`",
    }
    assert {name: table[name] for name in expected} == expected
    assert blank.local_mode is False and table["LOCAL_MODE"] == "off"
    assert blank.staff_recording_pin == "" and table["STAFF_RECORDING_PIN"] == "off"


def test_required_is_said_of_exactly_what_production_requires() -> None:
    text = README.read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([A-Z_]+)`[^\n]*", text, re.M)}
    said_required = {name for name, row in rows.items() if "**Required" in row}
    problems = Settings.load({}).problems(sends_sms=True, helpline_numbers=("+352621351884",))
    required = {re.match(r"[A-Z_]+", problem).group(0)  # type: ignore[union-attr]
                for problem in problems}
    assert said_required == required


def named_commands() -> list[tuple[Path, str]]:
    found = []
    for path in DOCS:
        for command in IVR_COMMAND.findall(path.read_text(encoding="utf-8")):
            found.append((path.relative_to(ROOT), command.strip().rstrip(".,:;)")))
    return found


def resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    """The command these words name and the words left for its options and arguments."""
    command: click.Command = main
    rest = words[1:]
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"no command {' '.join(words[: len(words) - len(rest) + 1])}"
        command, rest = sub, rest[1:]
    return command, rest


@pytest.mark.parametrize(("where", "command"), named_commands(),
                         ids=[f"{p}:{c}" for p, c in named_commands()])
def test_every_command_the_docs_name_exists(where: Path, command: str) -> None:
    try:
        words = shlex.split(command.replace("…", "x"))
    except ValueError:
        words = command.split()
    found, rest = resolve(words)
    if isinstance(found, click.Group) and not rest:
        return  # a family named as such ("the ivr prompts commands")
    options = {name for param in found.params for name in param.opts + param.secondary_opts}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"{where}: {command}: no option {word}"


def test_the_docs_name_the_commands_a_newcomer_needs() -> None:
    named = {c for _, c in named_commands()}
    for needed in ("ivr db upgrade", "ivr run --port 5000", "ivr operators add ana --password",
                   "ivr call"):
        assert any(c.startswith(needed) for c in named), needed


def readme_block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    at = text.index(heading)
    block = re.search(r"```sh\n(.+?)\n```", text[at:], re.S)
    assert block
    return block.group(1)


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    command = readme_block_after("**Run the tests**")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in ci
    assert ci[-1] == command  # the last thing CI does, so its exit status is CI's


def test_both_commands_install_into_a_virtualenv_from_the_locks() -> None:
    start = readme_block_after("**Start the hotline locally**")
    tests = readme_block_after("**Run the tests**")
    for command, lock in ((start, "requirements/app.txt"), (tests, "requirements/test.txt")):
        assert "python3 -m venv .venv" in command
        assert f".venv/bin/pip install -q -r {lock}" in command
        assert "pip install" not in command.replace(".venv/bin/pip install", "")


def test_the_readme_stays_short() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 300
