"""Two runs of bench/webhooks.py side by side: `python3 bench/compare.py OLD.json NEW.json`.

Prints each figure of both runs and the change, so that a commit that slows a webhook, grows
a worker or lengthens a menu shows up. Throughput moves with the load other processes put on
the machine (see each run's load averages and `other_cpus`); CPU ms per request and the
ratios to the baselines measured in the same run move much less.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# (label, where in a result, format); where: a key of results[endpoint], or memory/startup.
ENDPOINT_FIGURES = (("req/s", "rate", ".0f"), ("p50 ms", "p50_ms", ".2f"),
                    ("p99 ms", "p99_ms", ".2f"), ("ratio to bare", "ratio_to_bare", ".2f"),
                    ("ratio to signed-bare", "ratio_to_signed", ".2f"),
                    ("CPU ms/request", "server_cpu_ms", ".3f"),
                    ("other CPUs", "other_cpus", ".2f"))


def change(old: Any, new: Any) -> str:
    if not isinstance(old, int | float) or not isinstance(new, int | float) or not old:
        return ""
    return f"{(new - old) / old * 100:+.0f}%"


def line(label: str, old: Any, new: Any, form: str) -> str:
    def shown(value: Any) -> str:
        return "-" if value is None else format(value, form)

    return f"  {label:<28} {shown(old):>10} {shown(new):>10} {change(old, new):>7}"


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """The two runs' figures, row by row (endpoints, memory, start-up, the caller's time)."""
    rows = [f"{'':<30} {'old':>10} {'new':>10} {'change':>7}",
            line("commit", old["settings"].get("commit"), new["settings"].get("commit"), "s"),
            line("load average before", old["settings"].get("load_before", [None])[0],
                 new["settings"].get("load_before", [None])[0], ".2f")]
    for label in dict.fromkeys([*old["results"], *new["results"]]):
        rows.append(label)
        was, now = old["results"].get(label, {}), new["results"].get(label, {})
        rows += [line(name, was.get(key), now.get(key), form)
                 for name, key, form in ENDPOINT_FIGURES]
    for app in ("bare", "hotline"):
        was, now = old.get("memory", {}).get(app, {}), new.get("memory", {}).get(app, {})
        rows.append(line(f"{app} RSS MB/worker", was.get("rss_mb"), now.get("rss_mb"), ".0f"))
        rows.append(line(f"{app} PSS MB/worker", was.get("pss_mb"), now.get("pss_mb"), ".0f"))
        rows.append(line(f"{app} PSS MB, whole server", was.get("total_pss_mb"),
                         now.get("total_pss_mb"), ".0f"))
    was, now = old.get("startup") or {}, new.get("startup") or {}
    rows.append(line("create_app() s", was.get("seconds"), now.get("seconds"), ".2f"))
    rows.append(line("create_app() CPU s", was.get("cpu_seconds"), now.get("cpu_seconds"),
                     ".2f"))
    before = {(t["profile"], t["lang"]): t for t in old.get("caller_time", [])}
    for after in new.get("caller_time", []):
        was = before.get((after["profile"], after["lang"]), {})
        for kind in ("silent", "press_0", "listening"):
            if was.get(kind) != after[kind]:
                rows.append(line(f"{after['profile']} {after['lang']} {kind} s", was.get(kind),
                                 after[kind], ".1f"))
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare two bench/webhooks.py JSON files.")
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    print(compare(json.loads(args.old.read_text()), json.loads(args.new.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
