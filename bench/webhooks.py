"""Benchmark of the voice webhooks under gunicorn, beside two baselines on the same settings.

    python3 bench/webhooks.py                # 3 s warm-up + 10 s per endpoint, 32 connections
    python3 bench/webhooks.py --no-fail --rounds 3 --json bench/results/   # one file per run

Starts gunicorn twice from the Procfile's `web:` line (same worker class and count), bound to
a free loopback port: once with the hotline ('ivr:create_app()', a real TWILIO_AUTH_TOKEN and
PUBLIC_BASE_URL, events written to a throwaway SQLite file) and once with bench/bare_app.py
(`/bare`: a fixed TwiML body; `/bare/signed`: the same after parsing the form and checking the
signature with twilio's RequestValidator, the least a correct webhook does). Loads each
endpoint with requests signed as Twilio signs them, using wrk (Debian's `wrk`, a Lua script
for the POST body and headers). Checks every endpoint answers 200 TwiML (and a forged
signature 403) before measuring. Also reports each worker's memory after the load, the time
create_app() takes in a fresh interpreter, and the caller's time (bench/caller_time.py).
Targets: each hotline endpoint at >= 0.8 of the signed baseline's requests/s and p99 under
25 ms; a hotline worker at <= 100 MB RSS after the load; create_app() within 1 s. Exits 1
when a target is missed, 2 when it cannot measure.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import json
import os
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python3 bench/webhooks.py`: its siblings as bench.*
    sys.path.insert(0, str(REPO))

from bench.caller_time import CallerTime, caller_table, caller_times  # noqa: E402
from bench.caller_time import as_json as caller_json  # noqa: E402
from bench.footprint import (  # noqa: E402
    Memory,
    Startup,
    measure_startup,
    process_stats,
    server_memory,
)

PROCFILE = REPO / "Procfile"
HOTLINE_APP = "ivr:create_app()"
BARE_APP = "bench.bare_app:create_app()"
BARE_PATH = "/bare"  # bench/bare_app.py's endpoints (not imported: Flask stays out of here)
SIGNED_PATH = "/bare/signed"
# The URL Twilio would use; never contacted (the .invalid TLD cannot resolve).
PUBLIC_BASE_URL = "https://hotline.bench.invalid"
LOOPBACK = "127.0.0.1"
# Invented for the benchmark: a caller and hotline number that reach nobody.
CALLER = "+380501234567"
HOTLINE = "+352200000001"
READY_TIMEOUT = 30.0
RESULT_MARK = "BENCH_RESULT"
OTHER_LOAD_WARNING = 0.25  # CPUs used by other processes beyond which the figures are doubtful


@dataclass(frozen=True, eq=False)  # compared by identity: a key of the results
class Endpoint:
    """One URL to load: what it is, and the form Twilio would post."""

    label: str
    role: str  # "bare" (fixed body) | "signed" (form + signature, fixed body) | "hotline"
    path: str  # path and query string, exactly as signed
    form: Mapping[str, str]

    @property
    def app(self) -> str:
        """Which server answers it: "hotline", or "bare" (bench/bare_app.py)."""
        return "hotline" if self.role == "hotline" else "bare"


@dataclass(frozen=True)
class Result:
    """What wrk measured for one endpoint."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors, timeouts and HTTP statuses > 399
    # CPUs' worth of work by processes other than the servers and wrk during the run
    # (other users of this machine); None where /proc cannot tell.
    other_cpus: float | None = None
    # The servers' CPU time per request: barely moved by other load, unlike req/s and latency.
    server_cpu_ms: float | None = None
    # A hotline endpoint's req/s over its signed baseline's in each round: the two measured
    # seconds apart, so a machine that speeds up or slows down between rounds moves both.
    round_ratios: tuple[float, ...] = ()

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def call_form(**extra: str) -> dict[str, str]:
    """The fields Twilio posts to a voice webhook (the usual set, so parsing costs as in life)."""
    form = {
        "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", "CallSid": "CA" + "1" * 32,
        "CallStatus": "in-progress", "CallToken": "", "Called": HOTLINE, "CalledCity": "",
        "CalledCountry": "LU", "CalledState": "", "CalledZip": "", "Caller": CALLER,
        "CallerCity": "", "CallerCountry": "UA", "CallerState": "", "CallerZip": "",
        "Direction": "inbound", "From": CALLER, "FromCity": "", "FromCountry": "UA",
        "FromState": "", "FromZip": "", "To": HOTLINE, "ToCity": "", "ToCountry": "LU",
        "ToState": "", "ToZip": "",
    }
    form.update(extra)
    return form


MENU_QUERY = "?l=fr&n=main&r=0&w=0"
MENU_FORM = call_form(Digits="2", msg="Gather End", FinishedOnKey="")
# Each hotline endpoint is compared with the signed baseline that parses the same form and
# checks the same signature (a query string and a longer form cost the validator more).
ENDPOINTS = (
    Endpoint("bare POST /bare", "bare", BARE_PATH, call_form()),
    Endpoint("signed-bare POST /bare/signed", "signed", SIGNED_PATH, call_form()),
    Endpoint("signed-bare POST /bare/signed (menu's query, form)", "signed",
             SIGNED_PATH + MENU_QUERY, MENU_FORM),
    Endpoint("hotline POST /voice", "hotline", "/voice", call_form()),
    Endpoint("hotline POST /voice/menu (main, key 2)", "hotline", "/voice/menu" + MENU_QUERY,
             MENU_FORM),
)


def signature(token: str, path: str, form: Mapping[str, str],
              base_url: str = PUBLIC_BASE_URL) -> str:
    """The X-Twilio-Signature Twilio sends for a POST of `form` to base_url + path."""
    return RequestValidator(token).compute_signature(base_url.rstrip("/") + path, dict(form))


# --- the Procfile's web line --------------------------------------------------------------

def procfile_command(text: str, process: str) -> str | None:
    """The command of one process type (`web`, `release`) in a Procfile, if it has one."""
    for line in text.splitlines():
        if line.startswith(f"{process}:"):
            return line.removeprefix(f"{process}:").strip()
    return None


def procfile_web_line(text: str) -> str:
    """The command of the `web:` process in a Procfile."""
    line = procfile_command(text, "web")
    if line is None:
        raise ValueError("the Procfile has no web: line")
    return line


_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def expand(word: str, env: Mapping[str, str]) -> str:
    """${NAME:-default}, ${NAME} and $NAME as the shell expands them (no other shell syntax)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        found = env.get(name, "")
        return found if found or match.group(2) is None else match.group(2)

    return _VARIABLE.sub(value, word)


def server_argv(web_line: str, port: int, app_spec: str | None,
                env: Mapping[str, str], extra: Sequence[str] = ()) -> list[str]:
    """The web line as argv, bound to loopback:port, optionally serving another app.

    Everything else (worker class and count, keep-alive, logging) stays as the Procfile says,
    so the hotline and the bare app run on the same settings; `extra` options (nothing that
    changes speed) go just before the app.
    """
    words = [expand(word, env) for word in shlex.split(web_line)]
    if not words or Path(words[0]).name != "gunicorn":
        raise ValueError(f"the web line does not start gunicorn: {web_line!r}")
    argv: list[str] = []
    bound = False
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("--bind", "-b"):
            argv += [word, f"{LOOPBACK}:{port}"]
            bound, index = True, index + 2
            continue
        if word.startswith("--bind="):
            argv.append(f"--bind={LOOPBACK}:{port}")
            bound = True
        else:
            argv.append(word)
        index += 1
    if not bound:
        raise ValueError("the web line has no --bind; the benchmark binds loopback only")
    if argv[-1] != HOTLINE_APP:
        raise ValueError(f"the web line does not end with {HOTLINE_APP!r}")
    return argv[:-1] + list(extra) + [app_spec or HOTLINE_APP]


def quiet_options(gunicorn: str) -> list[str]:
    """No control socket where gunicorn has one: two servers would share its default path."""
    shown = subprocess.run([gunicorn, "--help"], capture_output=True, text=True, timeout=30,
                           check=False).stdout
    return ["--no-control-socket"] if "--no-control-socket" in shown else []


def setting(argv: Sequence[str], names: Sequence[str], default: str) -> str:
    """A gunicorn option's value in argv (last one wins), for the report."""
    found = default
    for index, word in enumerate(argv):
        for name in names:
            if word == name and index + 1 < len(argv):
                found = argv[index + 1]
            elif word.startswith(name + "="):
                found = word.split("=", 1)[1]
    return found


# --- servers -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and its workers: TERM to its process group, then KILL if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def request(port: int, endpoint: Endpoint, token: str) -> tuple[int, str, str]:
    """One signed POST, as wrk will send it: (status, content type, body)."""
    body = urlencode(endpoint.form)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": signature(token, endpoint.path, endpoint.form)}
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
    try:
        connection.request("POST", endpoint.path, body=body, headers=headers)
        response = connection.getresponse()
        return (response.status, response.getheader("Content-Type") or "",
                response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


@contextmanager
def server(argv: list[str], env: Mapping[str, str], log_path: Path, port: int,
           probe: Endpoint, token: str) -> Iterator[subprocess.Popen[bytes]]:
    """A gunicorn in its own process group, ready (answering `probe`), always stopped after."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, cwd=REPO, env=dict(env), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited ({process.returncode}) at start:\n"
                                       + tail(log_path))
                try:
                    request(port, probe, token)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("gunicorn did not answer in time:\n"
                                           + tail(log_path)) from None
                    time.sleep(0.2)
            yield process
        finally:
            stop(process)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def check_twiml(port: int, endpoint: Endpoint, token: str) -> str | None:
    """Why an endpoint's answer is not 200 TwiML (None when it is): a 403 measures nothing."""
    status, content_type, body = request(port, endpoint, token)
    if status != 200:
        return f"{endpoint.label}: HTTP {status} (expected 200): {body[:200]!r}"
    if not content_type.startswith("text/xml"):
        return f"{endpoint.label}: Content-Type {content_type!r} (expected text/xml)"
    if "<Response>" not in body or "</Response>" not in body:
        return f"{endpoint.label}: not a TwiML <Response>: {body[:200]!r}"
    if endpoint.app == "hotline" and "<Gather" not in body:
        return f"{endpoint.label}: no <Gather> (did the fallback answer?): {body[:200]!r}"
    if endpoint.role != "bare":  # it must really check the signature, or it measures less
        forged, _, _ = request(port, endpoint, "not-" + token)
        if forged != 403:
            return f"{endpoint.label}: HTTP {forged} to a forged signature (expected 403)"
    return None


# --- wrk ---------------------------------------------------------------------------------

def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrk_script(endpoint: Endpoint, token: str) -> str:
    """A wrk Lua script: the signed POST, and a machine-readable summary at the end."""
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": signature(token, endpoint.path, endpoint.form)}
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_string(urlencode(endpoint.form))}"]
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()]
    lines += [
        "function done(summary, latency, requests)",
        "  local e = summary.errors",
        f'  io.write(string.format("{RESULT_MARK} %.0f %.0f %.0f %.0f %.0f %.0f\\n",',
        "    summary.requests, summary.duration, latency:percentile(50),",
        "    latency:percentile(99), latency.max,",
        "    e.connect + e.read + e.write + e.status + e.timeout))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def parse_wrk(output: str) -> Result:
    """The summary line the Lua script's done() printed (microseconds in, ms out)."""
    for line in output.splitlines():
        if line.startswith(RESULT_MARK + " "):
            requests, duration, p50, p99, worst, errors = (float(v) for v in line.split()[1:7])
            return Result(int(requests), duration / 1e6, p50 / 1e3, p99 / 1e3, worst / 1e3,
                          int(errors))
    raise ValueError(f"no {RESULT_MARK} line in wrk's output:\n{output[-2000:]}")


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes of this machine have used since boot (Linux /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    # user nice system idle iowait irq softirq steal: idle and iowait are not work.
    ticks = [int(value) for value in fields[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(groups: Sequence[int]) -> float:
    """CPU seconds used by the live processes of these process groups (the servers)."""
    total = 0
    for _, stat in process_stats():
        if int(stat[2]) in groups:
            total += int(stat[11]) + int(stat[12])
    return total / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(wrk: str, url: str, script: Path, seconds: float, connections: int,
            threads: int, groups: Sequence[int] = ()) -> Result:
    """Load one URL with wrk; also measure how busy the rest of the machine was meanwhile."""
    argv = [wrk, f"--threads={threads}", f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s", "--timeout=5s", f"--script={script}", url]
    busy, servers, load = machine_busy_seconds(), group_cpu_seconds(groups), children_cpu_seconds()
    began = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    elapsed = time.monotonic() - began
    servers = group_cpu_seconds(groups) - servers
    load = children_cpu_seconds() - load
    after = machine_busy_seconds()
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    if busy is None or after is None or not groups or not result.requests:
        return result
    return replace(result, other_cpus=max(0.0, (after - busy - servers - load) / elapsed),
                   server_cpu_ms=servers / result.requests * 1e3)


# --- targets -----------------------------------------------------------------------------

Found = TypeVar("Found")  # what a mapping keyed by endpoint holds: a Result, in the end


def baseline(results: Mapping[Endpoint, Found], role: str) -> Found | None:
    return next((r for e, r in results.items() if e.role == role), None)


def signed_baseline(results: Mapping[Endpoint, Found], endpoint: Endpoint) -> Found | None:
    """The signed baseline for an endpoint: the one with its query string and form, else
    the first one."""
    query = endpoint.path.partition("?")[2]
    return next((r for e, r in results.items() if e.role == "signed"
                 and e.path.partition("?")[2] == query and e.form == endpoint.form),
                baseline(results, "signed"))


def ratio(result: Result, base: Result | None) -> float | None:
    return result.rate / base.rate if base is not None and base.rate else None


def pass_order(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    """The order of one pass: each hotline endpoint right after its signed baseline, so that
    the two rounds of a pair are as close in time as they can be."""
    own = {endpoint: endpoint for endpoint in endpoints}
    order = [endpoint for endpoint in endpoints if endpoint.role == "bare"]
    for base in (endpoint for endpoint in endpoints if endpoint.role == "signed"):
        order += [base, *(e for e in endpoints
                          if e.app == "hotline" and signed_baseline(own, e) is base)]
    return order + [endpoint for endpoint in endpoints if endpoint not in order]


def signed_ratio(results: Mapping[Endpoint, Result], endpoint: Endpoint) -> float | None:
    """The throughput target's ratio: the median of the rounds' ratios where there are some,
    else the ratio of the two results."""
    found = results[endpoint]
    if found.round_ratios:
        return statistics.median(found.round_ratios)
    return ratio(found, signed_baseline(results, endpoint))


def summarize(rounds: Mapping[Endpoint, Sequence[Result]]) -> dict[Endpoint, Result]:
    """Each endpoint's median round; a hotline endpoint's carries its ratio to its signed
    baseline round by round (each round against the baseline's round of the same pass)."""
    results = {endpoint: median_round(found) for endpoint, found in rounds.items()}
    passes = [{endpoint: found[number] for endpoint, found in rounds.items()}
              for number in range(min(len(found) for found in rounds.values()))]
    for endpoint in results:
        if endpoint.app == "hotline":
            paired = (ratio(one[endpoint], signed_baseline(one, endpoint)) for one in passes)
            results[endpoint] = replace(results[endpoint], round_ratios=tuple(
                value for value in paired if value is not None))
    return results


def verdicts(results: Mapping[Endpoint, Result], min_ratio: float,
             max_p99_ms: float) -> list[tuple[str, bool]]:
    """Each target of each hotline endpoint, as (description, held).

    The throughput target is against the signed baseline (what any correct webhook must do).
    """
    found: list[tuple[str, bool]] = []
    for endpoint, result in results.items():
        if endpoint.app != "hotline":
            continue
        to_signed = signed_ratio(results, endpoint) or 0.0
        spread = (f" (rounds {min(result.round_ratios):.2f}-{max(result.round_ratios):.2f})"
                  if len(result.round_ratios) > 1 else "")
        found.append((f"{endpoint.label}: throughput ratio to signed-bare {to_signed:.2f}"
                      f"{spread} >= {min_ratio:g}", to_signed >= min_ratio))
        found.append((f"{endpoint.label}: p99 {result.p99_ms:.1f} ms < {max_p99_ms:g} ms"
                      f"{p99_context(results, endpoint)}", result.p99_ms < max_p99_ms))
        found.append((f"{endpoint.label}: {result.errors} errors (non-2xx, socket) == 0",
                      result.errors == 0))
    return found


def p99_context(results: Mapping[Endpoint, Result], endpoint: Endpoint) -> str:
    """The baselines' p99 in the same run: what this machine allows any webhook."""
    shown_p99 = [f"{label} {base.p99_ms:.1f} ms" for label, base in (
        ("bare", baseline(results, "bare")), ("signed-bare", signed_baseline(results, endpoint)))
        if base is not None]
    return f" (same run: {', '.join(shown_p99)})" if shown_p99 else ""


def footprint_verdicts(memory: Mapping[str, Memory], startup: Startup | None,
                       max_rss_mb: float, max_startup_s: float) -> list[tuple[str, bool]]:
    """The hotline's memory and start-up targets, as (description, held); a figure that
    could not be read is a missed target, not a held one."""
    used = memory.get("hotline")
    if used is not None and not used.rss_mb:  # no worker's /proc could be read
        used = None
    rss = f"{used.rss_mb:.0f} MB" if used is not None else "not read"
    start = f"{startup.seconds:.2f} s" if startup is not None else "not measured"
    return [(f"hotline: RSS per worker after the load {rss} <= {max_rss_mb:g} MB",
             used is not None and used.rss_mb <= max_rss_mb),
            (f"hotline: create_app() in a fresh interpreter {start} <= {max_startup_s:g} s",
             startup is not None and startup.seconds <= max_startup_s)]


def median_round(rounds: Sequence[Result]) -> Result:
    """The round with the median throughput (the lower middle one of an even count)."""
    ordered = sorted(rounds, key=lambda result: result.rate)
    return ordered[(len(ordered) - 1) // 2]


def shown(value: float | None, form: str) -> str:
    return "?" if value is None else format(value, form)


def table(results: Mapping[Endpoint, Result], memory: Mapping[str, Memory] | None = None,
          startup: Startup | None = None) -> str:
    """The report: one row per endpoint; memory per worker of the server that answers it."""
    bare = baseline(results, "bare")
    memory = memory or {}
    width = max(len(endpoint.label) for endpoint in results) if results else 8
    rows = [f"{'endpoint':<{width}} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'/bare':>6} "
            f"{'/signed':>7} {'CPU ms/req':>10} {'RSS MB':>7} {'PSS MB':>7} {'start s':>7} "
            f"{'errors':>6} {'other CPU':>9}"]
    for endpoint, r in results.items():
        used = memory.get(endpoint.app)
        start = startup.seconds if startup is not None and endpoint.app == "hotline" else None
        rows.append(f"{endpoint.label:<{width}} {r.rate:>7.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} "
                    f"{shown(ratio(r, bare), '.2f'):>6} "
                    f"{shown(signed_ratio(results, endpoint), '.2f'):>7} "
                    f"{shown(r.server_cpu_ms, '.3f'):>10} "
                    f"{shown(used.rss_mb if used else None, '.0f'):>7} "
                    f"{shown(used.pss_mb if used else None, '.0f'):>7} "
                    f"{shown(start, '.2f'):>7} {r.errors:>6} {shown(r.other_cpus, '.2f'):>9}")
    return "\n".join(rows)


def markdown_table(results: Mapping[Endpoint, Result], memory: Mapping[str, Memory],
                   startup: Startup | None) -> str:
    """The same figures as a Markdown table, for the README's Performance section."""
    bare = baseline(results, "bare")
    rows = ["| endpoint | req/s | p50 ms | p99 ms | ratio to bare | ratio to signed-bare "
            "| CPU ms/request | RSS MB/worker | start-up s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for endpoint, r in results.items():
        used = memory.get(endpoint.app)
        start = startup.seconds if startup is not None and endpoint.app == "hotline" else None
        rows.append(f"| {endpoint.label} | {r.rate:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
                    f"| {shown(ratio(r, bare), '.2f')} "
                    f"| {shown(signed_ratio(results, endpoint), '.2f')} "
                    f"| {shown(r.server_cpu_ms, '.2f')} "
                    f"| {shown(used.rss_mb if used else None, '.0f')} "
                    f"| {shown(start, '.2f') if start is not None else '-'} |")
    return "\n".join(rows)


def git_commit() -> str:
    """This checkout's commit, with "+dirty" when files differ from it ("?" without git)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                capture_output=True, text=True, timeout=10,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return commit + ("+dirty" if dirty else "")


def json_path(target: str, commit: str, now: datetime.datetime) -> Path:
    """A directory (existing, or written with a trailing /) gets one new file per run."""
    if Path(target).is_dir() or target.endswith(("/", os.sep)):
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        return Path(target) / f"{stamp}-{commit.replace('+', '-')}.json"
    return Path(target)


# --- the run -----------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load the voice webhooks under gunicorn (as the Procfile starts it) "
                    "beside a bare Flask endpoint, with signed requests, using wrk.")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds measured per endpoint (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of unmeasured load per endpoint first (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="default 32")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--min-ratio", type=float, default=0.8,
                        help="target: hotline req/s over signed-bare req/s (default 0.8)")
    parser.add_argument("--max-p99-ms", type=float, default=25.0,
                        help="target: p99 latency of a hotline endpoint (default 25)")
    parser.add_argument("--max-rss-mb", type=float, default=100.0,
                        help="target: RSS of a hotline worker after the load (default 100)")
    parser.add_argument("--max-startup-s", type=float, default=1.0,
                        help="target: create_app() in a fresh interpreter, import included "
                             "(default 1)")
    parser.add_argument("--procfile", type=Path, default=PROCFILE)
    parser.add_argument("--profile", help="HOTLINE_PROFILE for the hotline (default: its own)")
    parser.add_argument("--database-url",
                        help="DATABASE_URL for the hotline (default: a throwaway SQLite file)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each endpoint this many times, in turn, and keep the "
                             "median round (evens out other load on the machine; default 1)")
    parser.add_argument("--json",
                        help="also write the figures to this JSON file; to a directory "
                             "(existing, or ending in /): one new file per run, named by "
                             "time and commit")
    parser.add_argument("--startup-runs", type=int, default=3,
                        help="fresh interpreters timing create_app() (median; default 3)")
    parser.add_argument("--no-caller-time", action="store_true",
                        help="skip the caller's time (seconds of prompts per language)")
    parser.add_argument("--log-dir", type=Path,
                        help="keep the servers' logs here (default: deleted with the run)")
    parser.add_argument("--no-fail", action="store_true",
                        help="only report: exit 0 even when a target is missed")
    args = parser.parse_args(argv)
    if (args.duration <= 0 or args.warmup < 0 or args.connections < 1 or args.threads < 1
            or args.rounds < 1 or args.startup_runs < 1):
        parser.error("--duration, --connections, --threads, --rounds and --startup-runs "
                     "must be positive")
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections (wrk needs one connection each)")
    return args


def config_file_settings(argv: list[str]) -> dict[str, Any]:
    """The settings a gunicorn `--config` file in `argv` defines (empty without one)."""
    import runpy

    path = setting(argv, ("--config", "-c"), "")
    if not path or not (REPO / path).is_file():
        return {}
    return runpy.run_path(str(REPO / path))


def secret_settings() -> dict[str, str]:
    """Throwaway keys and what else production refuses to start without, so a run neither
    reads nor writes the keys kept in instance/ and starts as a deployment does."""
    return {"SECRET_KEY": secrets.token_hex(32),
            # A Fernet key: 32 random bytes, URL-safe base64.
            "NUMBER_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,  # never used: no caller asks for an SMS
            "RATELIMIT_STORAGE_URI": "memory://",
            "STAFF_REPLY_PINS": f"{secrets.randbelow(10**8):08d}"}


def prepare_database(procfile_text: str, env: Mapping[str, str]) -> str | None:
    """Make the schema as a deployment does (the Procfile's `release:` command), so events
    are really written under load; what went wrong, if anything."""
    release = procfile_command(procfile_text, "release")
    if release is None:
        return "the Procfile has no release: line; events go to a database without tables"
    argv = [expand(word, env) for word in shlex.split(release)]
    try:
        done = subprocess.run(argv, cwd=REPO, env=dict(env), capture_output=True, text=True,
                              timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"release command {release!r} failed ({type(exc).__name__})"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return f"release command {release!r} failed ({done.returncode}): " + " / ".join(lines)
    return None


def report(results: Mapping[Endpoint, Result], memory: Mapping[str, Memory],
           startup: Startup | None, times: Sequence[CallerTime],
           found: Sequence[tuple[str, bool]], settings: Mapping[str, object]) -> dict[str, object]:
    """One run's figures as JSON-ready data (what bench/compare.py reads)."""
    bare = baseline(results, "bare")
    return {
        "settings": dict(settings),
        "results": {e.label: {**asdict(r), "rate": r.rate, "app": e.app, "role": e.role,
                              "ratio_to_bare": ratio(r, bare),
                              "ratio_to_signed": signed_ratio(results, e)}
                    for e, r in results.items()},
        "memory": {app: asdict(m) for app, m in memory.items()},
        "startup": asdict(startup) if startup is not None else None,
        "caller_time": caller_json(times),
        "targets": [{"target": d, "held": h} for d, h in found],
    }


def on_terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM, SIGHUP and SIGINT stop the run as Ctrl-C does: the servers are stopped."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, on_terminate)
    signal.signal(signal.SIGHUP, on_terminate)
    signal.signal(signal.SIGINT, on_terminate)  # also where a background start ignores it
    sys.path.insert(0, str(REPO))

    token = secrets.token_hex(16)
    env = dict(os.environ)
    # gunicorn from this interpreter's environment, with this checkout importable.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    procfile_text = args.procfile.read_text()
    web_line = procfile_web_line(procfile_text)

    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as scratch, ExitStack() as stack:
        workdir = Path(scratch)
        log_dir = args.log_dir or workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        database_url = args.database_url or f"sqlite:///{workdir / 'events.sqlite3'}"
        hotline_env = {**env, "TWILIO_AUTH_TOKEN": token, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                       "TRUST_PROXY_HOPS": "0", "DATABASE_URL": database_url,
                       **secret_settings()}
        if args.profile:
            hotline_env["HOTLINE_PROFILE"] = args.profile
        note = prepare_database(procfile_text, hotline_env)

        ports: dict[str, int] = {}
        argvs: dict[str, list[str]] = {}
        groups: list[int] = []  # each server leads its own process group
        gunicorn = shutil.which("gunicorn", path=env["PATH"]) or "gunicorn"
        extra = quiet_options(gunicorn)
        # The signed baseline checks signatures with the same token and public URL.
        bare_env = {**env, "TWILIO_AUTH_TOKEN": token, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                    **secret_settings()}  # gunicorn.conf.py checks them for any app
        load_before = os.getloadavg()
        started = datetime.datetime.now(datetime.UTC)
        startup = measure_startup(hotline_env, REPO, args.startup_runs)
        for app, spec, app_env in (("bare", BARE_APP, bare_env),
                                   ("hotline", None, hotline_env)):
            ports[app] = free_port()
            argvs[app] = server_argv(web_line, ports[app], spec, app_env, extra)
            probe = next(e for e in ENDPOINTS if e.app == app)
            groups.append(stack.enter_context(server(argvs[app], app_env,
                                                     log_dir / f"{app}.log", ports[app], probe,
                                                     token)).pid)

        # What the Procfile's options leave to its --config file, read from that file.
        config = config_file_settings(argvs["hotline"])
        workers = setting(argvs["hotline"], ("--workers", "-w"), str(config.get("workers", 1)))
        default_class = config.get("worker_class", "sync")
        worker_class = setting(argvs["hotline"], ("--worker-class", "-k"),
                               getattr(default_class, "__name__", str(default_class)))
        threads = setting(argvs["hotline"], ("--threads",), str(config.get("threads", 1)))
        print(f"gunicorn as the Procfile and its config say: {workers} worker(s), class "
              f"{worker_class}, {threads} thread(s); loopback only")
        print(f"  {shlex.join(argvs['hotline'])}")
        print(f"wrk: {args.connections} connections, {args.threads} threads, "
              f"{args.warmup:g} s warm-up + {args.rounds} x {args.duration:g} s per endpoint; "
              f"{os.cpu_count()} CPUs; load average before: "
              f"{' '.join(f'{x:.2f}' for x in load_before)}")
        if note:
            print(f"note: {note}")

        problems = [p for e in ENDPOINTS if (p := check_twiml(ports[e.app], e, token))]
        if problems:
            print("not measured, an endpoint does not answer 200 TwiML:", *problems,
                  sep="\n  ", file=sys.stderr)
            return 2

        scripts: dict[Endpoint, Path] = {}
        for number, endpoint in enumerate(ENDPOINTS):
            scripts[endpoint] = workdir / f"{endpoint.app}-{number}.lua"
            scripts[endpoint].write_text(wrk_script(endpoint, token))
        rounds: dict[Endpoint, list[Result]] = {endpoint: [] for endpoint in ENDPOINTS}
        for round_number in range(args.rounds):
            for endpoint in pass_order(ENDPOINTS):
                url = f"http://{LOOPBACK}:{ports[endpoint.app]}{endpoint.path}"
                if round_number == 0 and args.warmup > 0:
                    run_wrk(wrk, url, scripts[endpoint], args.warmup, args.connections,
                            args.threads)
                rounds[endpoint].append(run_wrk(wrk, url, scripts[endpoint], args.duration,
                                                args.connections, args.threads, groups))
        results = summarize(rounds)
        # After warm-up and every round: what a worker holds once it has served for a while.
        memory = {app: server_memory(pid) for app, pid in zip(("bare", "hotline"), groups,
                                                               strict=True)}

        # Still answering correctly after the load (no worker fell over into the fallback).
        problems = [p for e in ENDPOINTS if (p := check_twiml(ports[e.app], e, token))]

    load_after = os.getloadavg()
    print()
    print(table(results, memory, startup))
    print("Each row is the endpoint's median round. /bare, /signed: req/s over the bare and "
          "the signed-bare endpoint's (a hotline endpoint's /signed: the median of its rounds' "
          "ratios,\neach against the signed baseline's round of the same pass). CPU ms/req: "
          "the server's CPU time per request.\nRSS, PSS: the largest worker's after the load "
          "(PSS shares pages shared with other processes). start s: create_app() in a fresh "
          "interpreter,\nimport included (median of "
          f"{startup.runs}; import {startup.import_seconds:.2f} s, "
          f"CPU {startup.cpu_seconds:.2f} s). other CPU: CPUs' worth of work by other "
          "processes on this machine meanwhile.")
    for app, used in memory.items():
        print(f"{app} server: {used.workers} workers; master RSS "
              f"{shown(used.master_rss_mb, '.0f')} MB; master and workers' PSS together "
              f"{shown(used.total_pss_mb, '.0f')} MB")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}")
    times: list[CallerTime] = [] if args.no_caller_time else caller_times(
        [Path(args.profile)] if args.profile else [])
    if times:
        print("\nThe caller's time: seconds of prompts from the first ring to a ringing phone "
              "(silent; 0 pressed at once;\nlistening to each menu in full, then the keys "
              "shown to talk to the helpline):")
        print(caller_table(times))
    busiest = max((r.other_cpus or 0.0 for r in results.values()), default=0.0)
    if busiest > OTHER_LOAD_WARNING:
        print(f"warning: other processes used up to {busiest:.2f} CPUs during the measurement; "
              "the figures are not this code's alone (run again on a quiet machine)")
    print()
    found = verdicts(results, args.min_ratio, args.max_p99_ms) + footprint_verdicts(
        memory, startup, args.max_rss_mb, args.max_startup_s)
    for description, held in found:
        print(f"  [{'ok' if held else 'MISSED'}] {description}")
    for problem in problems:
        print(f"  [MISSED] after the load: {problem}")
    missed = [d for d, held in found if not held] + problems
    print(f"targets: {'all held' if not missed else f'{len(missed)} missed'}")
    if args.json:
        commit = git_commit()
        path = json_path(args.json, commit, started)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report(
            results, memory, startup, times, found,
            {"commit": commit, "started": started.isoformat(timespec="seconds"),
             "argv": argvs["hotline"], "connections": args.connections,
             "duration": args.duration, "warmup": args.warmup, "rounds": args.rounds,
             "cpus": os.cpu_count(), "load_before": load_before, "load_after": load_after}),
            indent=2) + "\n")
        print(f"figures written to {path}")
    return 1 if missed and not args.no_fail else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
    except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"cannot measure: {exc}", file=sys.stderr)
        sys.exit(2)
