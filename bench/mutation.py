"""Mutation testing of the safety paths: would the tests notice a change that hurts a caller?

    python3 bench/mutation.py                      # every module below, 2 workers
    python3 bench/mutation.py --module engine      # one module (repeatable)
    python3 bench/mutation.py --list               # the mutants, without running them
    python3 bench/mutation.py --json out.json      # also write every mutant's outcome

A small AST mutator (no third-party tool): in the functions that decide who is reached, it
flips comparisons (== !=, < <=, > >=, in / not in, is / is not), swaps and/or, drops a `not`,
flips True/False, adds 1 to a number, swaps + and -, and deletes statements (each becomes
`pass`; not assignments to a plain local, whose deletion only raises NameError). Each mutant
runs, in a forked child with the heavy libraries already imported,
`pytest -x` with a timeout over the tests of that module's test files that call the mutated
function (recorded in a baseline run of the unmutated code); the mutated module is served by
an import hook, so the tree on disk is never changed. A mutant is killed when a test fails (or
the run times out), survived when every test passes.

Survivors judged equivalent (no behaviour a caller or the helpline could see changes) are
listed, one line each with the reason, in bench/mutation_equivalent.txt beside this script;
the table counts them apart. The tool reports; it is not a gate (exit 0 unless it breaks).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.abc
import importlib.util
import json
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = Path(__file__).resolve().parent / "mutation_equivalent.txt"


@dataclass(frozen=True)
class Target:
    """One module under mutation: which functions, and which tests judge it."""

    name: str
    module: str
    functions: frozenset[str] | None  # None: every function in the module
    tests: tuple[str, ...]  # globs under the repository root


# tests/test_fuzz.py is left out: its examples are drawn at random and slow under tracing, and
# what it checks (no 500, no crash) is not what a mutant of these paths changes.
TARGETS = [
    Target("hours", "ivr.content.hours", None,
           ("tests/test_hours.py", "tests/test_engine_*.py", "tests/test_voice.py",
            "tests/test_golden.py", "tests/test_profile.py")),
    Target("security", "ivr.security", None, ("tests/test_security.py",)),
    Target("engine", "ivr.voice.engine",
           frozenset({"choose_language", "press", "can_receive_sms"}),
           ("tests/test_engine_*.py", "tests/test_voice.py", "tests/test_golden.py")),
    Target("ringing", "ivr.voice.ringing",
           frozenset({"was_bridged", "unanswered_node", "hours_now", "ring_plan", "connect",
                      "dialed", "rings_together", "_ring_one"}),
           ("tests/test_engine_*.py", "tests/test_ringing.py", "tests/test_ring_together.py",
            "tests/test_voice.py", "tests/test_golden.py")),
    Target("queue_ring", "ivr.voice.queue_ring",
           frozenset({"hold_seconds", "_ring_together", "ring_wait", "ring_left", "ring_leg",
                      "ring_accept", "ring_taken", "ring_status", "_both"}),
           ("tests/test_ring_together.py", "tests/test_golden.py")),
    Target("together", "ivr.voice.together",
           frozenset({"ready", "start", "_create", "accept", "end", "stop", "forget_queue",
                      "read", "seen"}),
           ("tests/test_ring_together.py",)),
    Target("ring_store", "ivr.voice.ring_store",
           frozenset({"ended", "never_rang", "nobody_left", "unrung", "live", "taken_by_another",
                      "from_fields", "usable", "_do", "begin", "seen", "accept", "end"}),
           ("tests/test_ring_together.py", "tests/test_ring_store.py")),
    Target("sms_store", "ivr.storage.sms_store",
           frozenset({"claim_delivery", "finish_delivery", "release_delivery", "opted_out",
                      "opt_out", "opt_in", "case_for"}),
           ("tests/test_sms_store.py", "tests/test_sms_safety.py", "tests/test_storage.py",
            "tests/test_sms.py", "tests/test_sms_reliability.py")),
    Target("sms_channel", "ivr.sms.channel",
           frozenset({"handle", "_from_person", "_keyword", "_relay",
                      "_from_helpline", "_closed"}),
           ("tests/test_sms_safety.py", "tests/test_sms.py", "tests/test_sms_reliability.py",
            "tests/test_sms_privacy.py", "tests/test_sms_languages.py",
            "tests/test_staff_replies.py", "tests/test_storage.py")),
]

# Imported once in the parent so that each forked child starts warm. Not `ivr` (the child
# imports it afresh, with the mutant), nor pytest plugins such as hypothesis (pytest would
# warn it cannot rewrite them, an error under filterwarnings = error).
WARM_IMPORTS = ("pytest", "flask", "flask.testing", "werkzeug", "twilio.twiml.voice_response",
                "twilio.twiml.messaging_response", "twilio.request_validator", "twilio.rest",
                "sqlalchemy", "sqlalchemy.orm", "alembic", "babel", "babel.dates",
                "babel.messages.pofile", "phonenumbers", "holidays", "argon2",
                "flask_login", "flask_wtf", "langid", "cryptography")

COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
    ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
    ast.IsNot: ast.Is}
SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
          ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
          ast.And: "and", ast.Or: "or", ast.Add: "+", ast.Sub: "-"}
DELETABLE = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return, ast.If,
             ast.Raise, ast.With, ast.For, ast.Try)


@dataclass
class Mutant:
    target: str
    function: str
    line: int
    what: str  # e.g. "`step == 0`: == → !="
    index: int  # position of the node in the module's walk
    variant: int  # which change of that node
    outcome: str = ""
    seconds: float = 0.0

    @property
    def key(self) -> str:
        """How bench/mutation_equivalent.txt names a mutant (no line numbers: they move)."""
        return f"{self.target}:{self.function}: {self.what}"


def _short(node: ast.AST, limit: int = 60) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str))


def _changes(node: ast.AST) -> list[str]:
    """The mutations one node allows, described; applied in the same order by _apply."""
    found: list[str] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap:
                found.append(f"`{_short(node)}`: {SYMBOL[type(op)]} → {SYMBOL[swap]} (#{i})")
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        found.append(f"`{_short(node)}`: {SYMBOL[type(node.op)]} → {SYMBOL[other]}")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        found.append(f"`{_short(node)}`: `not` dropped")
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        found.append(f"`{node.value}` → `{not node.value}`")
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        found.append(f"`{node.value}` → `{node.value + 1}`")
    elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub)
          and not _is_text(node.left) and not _is_text(node.right)):
        sign = ast.Sub if isinstance(node.op, ast.Add) else ast.Add
        found.append(f"`{_short(node)}`: {SYMBOL[type(node.op)]} → {SYMBOL[sign]}")
    if _deletable(node):
        found.append(f"`{_short(node)}` deleted")
    return found


def _deletable(node: ast.AST) -> bool:
    """Statements whose deletion is a real change. Not docstrings, and not an assignment to a
    plain local name: deleting one only raises NameError where it is read, which any test
    reaching it shows (it costs a run and tells nothing)."""
    if not isinstance(node, DELETABLE) or _is_docstring(node):
        return False
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Attribute | ast.Subscript) for t in targets)
    return True


def _is_docstring(node: ast.AST) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _apply(node: ast.AST, variant: int) -> ast.AST:
    """Change `node` in place by its `variant`-th mutation; returns what replaces it."""
    count = 0
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap:
                if count == variant:
                    node.ops[i] = swap()
                    return node
                count += 1
    elif isinstance(node, ast.BoolOp):
        if count == variant:
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            return node
        count += 1
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        if count == variant:
            return node.operand
        count += 1
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        if count == variant:
            node.value = not node.value
            return node
        count += 1
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        if count == variant:
            node.value = node.value + 1
            return node
        count += 1
    elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub)
          and not _is_text(node.left) and not _is_text(node.right)):
        if count == variant:
            node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            return node
        count += 1
    if _deletable(node) and count == variant:
        return ast.Pass()
    raise ValueError("no such variant")


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node  # type: ignore[misc]


def _walk_body(function: ast.FunctionDef) -> Iterator[ast.AST]:
    """Every node inside a function's body, statement by statement (each breadth first),
    without entering a nested function or lambda (mutated under its own name)."""
    for statement in function.body:
        queue: list[ast.AST] = [statement]
        while queue:
            node = queue.pop(0)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            yield node
            queue.extend(ast.iter_child_nodes(node))


def _indexed(tree: ast.Module, target: Target) -> Iterator[tuple[int, str, ast.AST]]:
    """(index, function name, node) for every node that may be mutated, in a fixed order."""
    index = 0
    for function in _functions(tree):
        if target.functions is not None and function.name not in target.functions:
            continue
        for node in _walk_body(function):
            # Annotations never run; nor do the strings of log calls.
            if isinstance(node, ast.AnnAssign) and node.value is None:
                index += 1
                continue
            yield index, function.name, node
            index += 1


def module_path(target: Target) -> Path:
    return ROOT / (target.module.replace(".", "/") + ".py")


def mutants_of(target: Target) -> list[Mutant]:
    source = module_path(target).read_text(encoding="utf-8")
    tree = ast.parse(source)
    found: list[Mutant] = []
    seen: dict[str, int] = {}
    for index, function, node in _indexed(tree, target):
        for variant, what in enumerate(_changes(node)):
            key = f"{function}: {what}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                what = f"{what} [{seen[key]}]"
            found.append(Mutant(target.name, function, getattr(node, "lineno", 0), what,
                                index, variant))
    return found


class _Replace(ast.NodeTransformer):
    def __init__(self, victim: ast.AST, replacement: ast.AST) -> None:
        self.victim, self.replacement = victim, replacement

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.victim:
            return self.replacement
        return super().visit(node)


def mutated_source(target: Target, mutant: Mutant | None) -> str:
    tree = ast.parse(module_path(target).read_text(encoding="utf-8"))
    if mutant is not None:
        for index, _function, node in _indexed(tree, target):
            if index == mutant.index:
                replacement = _apply(node, mutant.variant)
                if replacement is not node:
                    _Replace(node, replacement).visit(tree)  # the module node itself stays
                break
        else:
            raise LookupError(f"mutant {mutant.key} not found")
    return ast.unparse(ast.fix_missing_locations(tree))


class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module's mutated source in place of the file on disk."""

    def __init__(self, name: str, path: Path, source: str) -> None:
        self.name, self.path, self.source = name, path, source

    def find_spec(self, fullname: str, path: object, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=str(self.path))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__file__ = str(self.path)
        exec(compile(self.source, str(self.path), "exec"), module.__dict__)  # noqa: S102


def test_files(target: Target) -> list[str]:
    files: list[str] = []
    for pattern in target.tests:
        files += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
    return list(dict.fromkeys(files))


class _CoverageByTest:
    """A pytest plugin: which tests call each function of the module under mutation."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.current = ""
        self.calls: dict[str, list[str]] = {}

    def trace(self, frame: FrameType, event: str, arg: object) -> None:
        """A global trace function: sees each Python call, traces no line (cheap)."""
        if frame.f_code.co_filename == self.path and self.current:
            tests = self.calls.setdefault(frame.f_code.co_name, [])
            if not tests or tests[-1] != self.current:
                tests.append(self.current)

    def pytest_runtest_setup(self, item: object) -> None:
        self.current = getattr(item, "nodeid", "")

    def pytest_runtest_teardown(self, item: object) -> None:
        self.current = ""


def _child(target: Target, source: str, files: list[str], quiet: bool,
           coverage_out: Path | None) -> None:
    """In the forked child: import hook, then pytest; exit with pytest's code.

    With coverage_out (the baseline run), also record which tests call which function.
    """
    import threading

    import pytest

    os.chdir(ROOT)
    if quiet:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
    sys.meta_path.insert(0, _MutantFinder(target.module, module_path(target), source))
    plugins: list[object] = []
    recorder = _CoverageByTest(module_path(target)) if coverage_out else None
    if recorder:
        plugins.append(recorder)
        sys.settrace(recorder.trace)  # type: ignore[arg-type]
        threading.settrace(recorder.trace)  # type: ignore[arg-type]
    code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                        "--hypothesis-seed=0", *files],
                       plugins=plugins)
    if recorder and coverage_out:
        sys.settrace(None)
        coverage_out.write_text(json.dumps(recorder.calls), encoding="utf-8")
    os._exit(int(code))


@dataclass
class Running:
    mutant: Mutant | None
    pid: int
    started: float


@dataclass
class Runner:
    workers: int
    timeout: float
    quiet: bool = True
    running: list[Running] = field(default_factory=list)

    def start(self, target: Target, mutant: Mutant | None, tests: list[str],
              coverage_out: Path | None = None) -> None:
        source = mutated_source(target, mutant)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                _child(target, source, tests, self.quiet, coverage_out)
            finally:
                os._exit(70)
        self.running.append(Running(mutant, pid, time.monotonic()))

    def reap(self, block: bool) -> list[tuple[Mutant | None, str, float]]:
        return [result for _, result in self.reap_with_pid(block)]

    def reap_with_pid(self, block: bool) -> list[tuple[int, tuple[Mutant | None, str, float]]]:
        done: list[tuple[int, tuple[Mutant | None, str, float]]] = []
        while True:
            for run in list(self.running):
                pid, status = os.waitpid(run.pid, os.WNOHANG)
                elapsed = time.monotonic() - run.started
                if pid:
                    code = os.waitstatus_to_exitcode(status)
                    outcome = ("survived" if code == 0 else
                               "killed" if code == 1 else f"error({code})")
                    done.append((run.pid, (run.mutant, outcome, elapsed)))
                    self.running.remove(run)
                elif elapsed > self.timeout:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(run.pid, signal.SIGKILL)
                    os.waitpid(run.pid, 0)
                    done.append((run.pid, (run.mutant, "timeout", elapsed)))
                    self.running.remove(run)
            if done or not block or not self.running:
                return done
            time.sleep(0.05)


def load_equivalent() -> dict[str, str]:
    """Survivors judged equivalent: `key — reason` lines (# comments and blanks skipped)."""
    if not EQUIVALENT_FILE.exists():
        return {}
    equivalent = {}
    for line in EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, reason = line.partition(" — ")
            equivalent[key.strip()] = reason.strip()
    return equivalent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=[t.name for t in TARGETS],
                        help="mutate only this module (repeatable)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds per mutant before it counts as killed (timeout)")
    parser.add_argument("--baseline-timeout", type=float, default=1200.0,
                        help="seconds for the unmutated run (it also records coverage)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--json", type=Path, help="write every mutant's outcome here")
    parser.add_argument("--stop-after", type=float, default=0.0,
                        help="seconds after which no new mutant starts (0: run all); the "
                             "table then counts the rest as not run")
    parser.add_argument("--from-log", type=Path,
                        help="print the table from the output of an earlier (perhaps "
                             "stopped) run instead of running anything")
    parser.add_argument("--survivors-of", type=Path,
                        help="run only the mutants an earlier run's output shows survived")
    parser.add_argument("--match", default="", help="only mutants whose key contains this")
    args = parser.parse_args(argv)

    sys.dont_write_bytecode = True
    targets = [t for t in TARGETS if not args.module or t.name in args.module]
    plan = [(t, m) for t in targets for m in mutants_of(t) if args.match in m.key]
    if args.survivors_of:
        earlier = _outcomes_in(args.survivors_of)
        plan = [(t, m) for t, m in plan if earlier.get(m.key) == "survived"]
        targets = [t for t in targets if any(pt is t for pt, _ in plan)]
    if args.list:
        for target, mutant in plan:
            print(f"{target.name:12} L{mutant.line:<4} {mutant.key}")
        print(f"{len(plan)} mutants")
        return 0

    if args.from_log:
        outcomes = _outcomes_in(args.from_log)
        for _, mutant in plan:
            mutant.outcome = outcomes.get(mutant.key, "")
        return _report(targets, plan, args)

    for name in WARM_IMPORTS:
        with contextlib.suppress(ImportError):
            __import__(name)
    runner = Runner(args.workers, args.timeout)
    # The unmutated code first: a red baseline would make every mutant look killed. It also
    # records which tests call each function, so a mutant runs only the tests that reach it.
    callers: dict[str, dict[str, list[str]]] = {}
    runner.timeout = args.baseline_timeout
    waiting = list(targets)
    outputs = {t.name: Path(f"/tmp/mutation-coverage-{os.getpid()}-{t.name}.json")
               for t in targets}
    names = {}
    while waiting or runner.running:
        while waiting and len(runner.running) < runner.workers:
            target = waiting.pop(0)
            runner.start(target, None, test_files(target), outputs[target.name])
            names[runner.running[-1].pid] = target
        for run_pid, (_, outcome, seconds) in runner.reap_with_pid(block=True):
            target = names[run_pid]
            print(f"baseline {target.name}: {outcome} in {seconds:.1f}s "
                  f"({len(test_files(target))} test files)", flush=True)
            if outcome != "survived":
                print(f"the tests of {target.name} fail without any mutant: fix them first")
                return 2
            callers[target.name] = json.loads(outputs[target.name].read_text(encoding="utf-8"))
            outputs[target.name].unlink()
    runner.timeout = args.timeout

    pending = list(plan)
    started = time.monotonic()
    while pending or runner.running:
        if args.stop_after and time.monotonic() - started > args.stop_after and pending:
            print(f"stopping: {len(pending)} mutants not run", flush=True)
            pending = []
        while pending and len(runner.running) < runner.workers:
            target, mutant = pending.pop(0)
            tests = callers[target.name].get(mutant.function, [])
            if not tests:  # no test reaches this function: nothing can kill the mutant
                mutant.outcome = "survived"
                print(f"  survived   0.0s {mutant.key} (L{mutant.line}, no test calls it)",
                      flush=True)
                continue
            runner.start(target, mutant, tests)
        for done, outcome, seconds in runner.reap(block=True):
            assert done is not None
            done.outcome, done.seconds = outcome, seconds
            print(f"  {outcome:9} {seconds:5.1f}s {done.key} (L{done.line})", flush=True)

    return _report(targets, plan, args)


# error(2): pytest could not even collect the tests (the mutant broke an import): killed too.
KILLED = ("killed", "timeout", "error(2)")
_LOG_LINE = re.compile(r"^  (killed|survived|timeout|error\(-?\d+\)) +[\d.]+s (.*) "
                       r"\(L\d+(?:, no test calls it)?\)$")


def _outcomes_in(log: Path) -> dict[str, str]:
    """Each mutant's outcome as an earlier run printed it."""
    found = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        match = _LOG_LINE.match(line)
        if match:
            found[match.group(2)] = match.group(1)
    return found


def _report(targets: list[Target], plan: list[tuple[Target, Mutant]],
            args: argparse.Namespace) -> int:
    equivalent = load_equivalent()
    print()
    print("| module | mutants | killed | survived | equivalent (listed) | not run |")
    print("|---|---|---|---|---|---|")
    for target in targets:
        mine = [m for _, m in plan if m.target == target.name]
        killed = sum(m.outcome in KILLED for m in mine)
        alive = [m for m in mine if m.outcome not in (*KILLED, "")]
        same = sum(m.key in equivalent for m in alive)
        not_run = sum(m.outcome == "" for m in mine)
        print(f"| {target.name} ({module_path(target).relative_to(ROOT)}) | {len(mine)} | "
              f"{killed} | {len(alive) - same} | {same} | {not_run} |")
    alive_keys = {m.key for _, m in plan if m.outcome not in (*KILLED, "")}
    stale = [k for k in equivalent if k not in alive_keys]
    if stale and not args.match and not args.module:
        print(f"\n{len(stale)} entries of {EQUIVALENT_FILE.name} match no survivor:")
        for key in stale:
            print(f"  {key}")
    if args.json:
        args.json.write_text(json.dumps(
            [{"key": m.key, "line": m.line, "outcome": m.outcome,
              "equivalent": equivalent.get(m.key), "seconds": round(m.seconds, 2)}
             for _, m in plan], indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
