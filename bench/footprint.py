"""What a server costs besides CPU: memory per worker, and how long the app takes to start.

Read from Linux's /proc: RSS counts every page a worker maps (pages shared with the master
after a --preload fork included); PSS splits each shared page between the processes that
share it, so the workers' PSS add up to what the server really holds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Run in a fresh interpreter, as a worker (or a --preload master) does: import, then build.
STARTUP_SNIPPET = """
import json, time
wall, cpu = time.perf_counter(), time.process_time()
from ivr import create_app
imported = time.perf_counter()
create_app()
print(json.dumps({"seconds": time.perf_counter() - wall,
                  "import_seconds": imported - wall,
                  "cpu_seconds": time.process_time() - cpu}))
"""


@dataclass(frozen=True)
class Memory:
    """One gunicorn server's processes after the load: MB per worker, and the master's."""

    workers: int
    rss_mb: float  # the largest worker's RSS
    pss_mb: float | None  # the largest worker's PSS (None where smaps_rollup is missing)
    master_rss_mb: float | None
    total_pss_mb: float | None = None  # the master's and every worker's PSS: the server's share


@dataclass(frozen=True)
class Startup:
    """Seconds from `from ivr import create_app` to create_app() returning (median of runs)."""

    seconds: float
    import_seconds: float
    cpu_seconds: float
    runs: int


def proc_kb(pid: int, name: str, field: str) -> int | None:
    """A `Field:  123 kB` line of /proc/<pid>/<name>, in kB."""
    try:
        text = Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def process_stats() -> Iterator[tuple[int, list[str]]]:
    """Each live process's pid and /proc/<pid>/stat fields after the command name:
    state ppid pgrp … utime (index 11) stime (12)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            yield int(entry.name), (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile


def children(pid: int) -> list[int]:
    """The direct children of a process (a gunicorn master's workers)."""
    found = []
    for child, stat in process_stats():
        if int(stat[1]) == pid:
            found.append(child)
    return found


def server_memory(master: int) -> Memory:
    workers = children(master)
    rss = [kb for pid in workers if (kb := proc_kb(pid, "status", "VmRSS")) is not None]
    pss = [kb for pid in workers if (kb := proc_kb(pid, "smaps_rollup", "Pss")) is not None]
    master_rss = proc_kb(master, "status", "VmRSS")
    master_pss = proc_kb(master, "smaps_rollup", "Pss")
    return Memory(len(workers), max(rss, default=0) / 1024,
                  max(pss) / 1024 if pss else None,
                  master_rss / 1024 if master_rss is not None else None,
                  (sum(pss) + master_pss) / 1024 if pss and master_pss is not None else None)


def parse_startup(outputs: Sequence[str]) -> Startup:
    """The median of several runs of STARTUP_SNIPPET (its last output line is JSON)."""
    runs = [json.loads(output.strip().splitlines()[-1]) for output in outputs]
    return Startup(statistics.median(r["seconds"] for r in runs),
                   statistics.median(r["import_seconds"] for r in runs),
                   statistics.median(r["cpu_seconds"] for r in runs), len(runs))


def measure_startup(env: Mapping[str, str], cwd: Path, runs: int = 3) -> Startup:
    """Start the hotline `runs` times in fresh interpreters, with the benchmark's settings."""
    outputs = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", STARTUP_SNIPPET], cwd=cwd, env=dict(env),
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"create_app() failed:\n{done.stderr[-2000:]}")
        outputs.append(done.stdout)
    return parse_startup(outputs)
