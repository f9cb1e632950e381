"""The benchmark script's own logic: Procfile reading, signing, wrk's summary, targets.

The benchmark itself is not run here (it is not a timed test): `python3 bench/webhooks.py`.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator

from ivr.content.profile import PROFILES_DIR

REPO = Path(__file__).resolve().parent.parent


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


bench = load("bench_webhooks", REPO / "bench" / "webhooks.py")
bare = load("bench_bare_app", REPO / "bench" / "bare_app.py")

WEB = ("gunicorn --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} "
       "--access-logfile - --access-logformat '%(h)s \"%(m)s %(U)s\" %(s)s' 'ivr:create_app()'")


def test_the_procfile_web_line_is_read_not_copied() -> None:
    text = (REPO / "Procfile").read_text()
    line = bench.procfile_web_line(text)
    assert line.startswith("gunicorn ") and line.endswith("'ivr:create_app()'")
    assert bench.procfile_web_line("release: x\nweb: gunicorn a\n") == "gunicorn a"
    with pytest.raises(ValueError, match="no web: line"):
        bench.procfile_web_line("worker: python x.py\n")


@pytest.mark.parametrize(("word", "env", "expanded"), [
    ("${PORT:-8000}", {}, "8000"),
    ("${PORT:-8000}", {"PORT": "5001"}, "5001"),
    ("${PORT:-8000}", {"PORT": ""}, "8000"),  # the shell's :- treats empty as unset
    ("0.0.0.0:${PORT}", {"PORT": "9"}, "0.0.0.0:9"),
    ("$WEB_CONCURRENCY", {"WEB_CONCURRENCY": "4"}, "4"),
    ("%(h)s", {}, "%(h)s"),
])
def test_expand_follows_the_shell(word: str, env: dict[str, str], expanded: str) -> None:
    assert bench.expand(word, env) == expanded


def test_server_argv_keeps_the_settings_and_binds_loopback() -> None:
    hotline = bench.server_argv(WEB, 5123, None, {"WEB_CONCURRENCY": "5"})
    plain = bench.server_argv(WEB, 5124, bench.BARE_APP, {"WEB_CONCURRENCY": "5"},
                              extra=["--no-control-socket"])
    assert hotline[:3] == ["gunicorn", "--bind", "127.0.0.1:5123"]
    assert "0.0.0.0:8000" not in " ".join(hotline + plain)
    assert hotline[-1] == "ivr:create_app()"
    assert plain[-2:] == ["--no-control-socket", "bench.bare_app:create_app()"]
    # Same settings for both apps: only the port, the app and the extra option differ.
    assert [w for w in plain if "5124" not in w][:-2] == [w for w in hotline
                                                          if "5123" not in w][:-1]
    assert bench.setting(hotline, ("--workers", "-w"), "1") == "5"
    assert bench.setting(hotline, ("--worker-class", "-k"), "sync") == "sync"
    assert "%(h)s \"%(m)s %(U)s\" %(s)s" in hotline  # the quoted format stays one word
    equals = bench.server_argv(WEB.replace("--bind 0.0.0.0", "--bind=0.0.0.0"), 7, None, {})
    assert "--bind=127.0.0.1:7" in equals


@pytest.mark.parametrize("line", ["python -m http.server",
                                  "gunicorn --workers 2 'ivr:create_app()'",  # no --bind
                                  "gunicorn --bind 0.0.0.0:1 'other:app'"])
def test_server_argv_refuses_what_it_cannot_bench_faithfully(line: str) -> None:
    with pytest.raises(ValueError):
        bench.server_argv(line, 1, bench.BARE_APP, {})


@pytest.mark.parametrize("endpoint", bench.ENDPOINTS, ids=lambda e: e.label)
def test_signature_is_what_the_hotline_accepts(endpoint: Any) -> None:
    token = "bench-token-0123456789"
    path, form = endpoint.path, endpoint.form
    signed = bench.signature(token, path, form)
    validator = RequestValidator(token)
    assert validator.validate(bench.PUBLIC_BASE_URL + path, form, signed)
    assert not validator.validate(bench.PUBLIC_BASE_URL + path, form,
                                  bench.signature("another-token", path, form))
    assert not validator.validate(bench.PUBLIC_BASE_URL + path, {**form, "Digits": "9"}, signed)


def test_the_menu_step_is_signed_with_its_query_string() -> None:
    menu = next(e for e in bench.ENDPOINTS if e.path.startswith("/voice/menu"))
    assert menu.path == "/voice/menu?l=fr&n=main&r=0&w=0" and menu.form["Digits"] == "2"
    assert bench.signature("t", menu.path, menu.form) != bench.signature(
        "t", "/voice/menu", menu.form)


def test_signed_requests_reach_the_real_views(make_app: Callable[..., Flask]) -> None:
    """The bench's form and signature get 200 TwiML from the app, not 403."""
    app = make_app(PUBLIC_BASE_URL=bench.PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN="bench-token")
    client = app.test_client()
    for endpoint in bench.ENDPOINTS[1:]:
        headers = {"X-Twilio-Signature": bench.signature("bench-token", endpoint.path,
                                                         endpoint.form),
                   "Content-Type": "application/x-www-form-urlencoded"}
        answer = client.post(endpoint.path, data=urlencode(endpoint.form), headers=headers)
        assert answer.status_code == 200, endpoint.label
        assert answer.mimetype == "text/xml" and b"<Gather" in answer.data
        headers["X-Twilio-Signature"] = bench.signature("wrong", endpoint.path, endpoint.form)
        forged = client.post(endpoint.path, data=urlencode(endpoint.form), headers=headers)
        assert forged.status_code == 403


def test_bare_app_answers_fixed_twiml() -> None:
    answer = bare.create_app().test_client().post(bare.BARE_PATH, data={"a": "b"})
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    assert answer.get_data(as_text=True) == bare.BARE_BODY
    assert bench.BARE_PATH == bare.BARE_PATH


def test_wrk_script_carries_the_signed_post() -> None:
    endpoint = bench.ENDPOINTS[2]
    script = bench.wrk_script(endpoint, "tok")
    assert 'wrk.method = "POST"' in script
    assert f'wrk.body = "{urlencode(endpoint.form)}"' in script
    assert f'"{bench.signature("tok", endpoint.path, endpoint.form)}"' in script
    assert "function done(summary, latency, requests)" in script
    assert bench.lua_string('a"b\\c') == '"a\\"b\\\\c"'


def test_parse_wrk_reads_the_summary_line() -> None:
    output = "Running 10s test\n  2 threads\nBENCH_RESULT 15000 10000000 1800 21500 40000 3\n"
    result = bench.parse_wrk(output)
    assert result.requests == 15000 and result.seconds == 10.0
    assert result.rate == 1500.0
    assert (result.p50_ms, result.p99_ms, result.max_ms, result.errors) == (1.8, 21.5, 40.0, 3)
    with pytest.raises(ValueError, match="no BENCH_RESULT"):
        bench.parse_wrk("wrk: connection refused\n")


def make_results(bare_rate: float, hotline_rate: float, p99: float,
                 errors: int = 0) -> dict[Any, Any]:
    result = bench.Result
    return {bench.ENDPOINTS[0]: result(int(bare_rate * 10), 10.0, 1.0, 5.0, 9.0, 0),
            bench.ENDPOINTS[1]: result(int(hotline_rate * 10), 10.0, 2.0, p99, 30.0, errors)}


@pytest.mark.parametrize(("hotline_rate", "p99", "errors", "held"), [
    (900.0, 20.0, 0, [True, True, True]),
    (800.0, 24.9, 0, [True, True, True]),  # the bounds: ratio 0.8 holds, p99 just under
    (799.0, 20.0, 0, [False, True, True]),
    (900.0, 25.0, 0, [True, False, True]),
    (900.0, 20.0, 2, [True, True, False]),
])
def test_verdicts_apply_the_targets(hotline_rate: float, p99: float, errors: int,
                                    held: list[bool]) -> None:
    found = bench.verdicts(make_results(1000.0, hotline_rate, p99, errors), 0.8, 25.0)
    assert [ok for _, ok in found] == held


def test_median_round_resists_one_disturbed_round() -> None:
    result = bench.Result
    rounds = [result(n, 1.0, 1.0, 1.0, 1.0, 0) for n in (1000, 300, 1100)]
    assert bench.median_round(rounds).requests == 1000
    assert bench.median_round(rounds[:2]).requests == 300  # the lower middle of two


def test_arguments() -> None:
    args = bench.parse_args([])
    assert (args.connections, args.duration, args.warmup, args.no_fail) == (32, 10.0, 3.0, False)
    assert (args.min_ratio, args.max_p99_ms, args.rounds) == (0.8, 25.0, 1)
    args = bench.parse_args(["--no-fail", "--duration", "2", "--connections", "8",
                             "--profile", str(PROFILES_DIR / "kosovo.toml")])
    assert args.no_fail and args.duration == 2.0 and args.connections == 8
    for wrong in (["--duration", "0"], ["--connections", "0"], ["--threads", "4",
                                                                 "--connections", "2"]):
        with pytest.raises(SystemExit):
            bench.parse_args(wrong)


def test_cpu_accounting_reads_proc() -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("no /proc on this system: the bench reports other load as '?'")
    busy = bench.machine_busy_seconds()
    assert busy is not None and busy > 0
    assert bench.group_cpu_seconds([-1]) == 0.0  # no process is in group -1


cpu = load("bench_cpu_per_request", REPO / "bench" / "cpu_per_request.py")


def test_cpu_per_request_counts_the_work_and_paces() -> None:
    def busy() -> None:
        sum(range(20_000))

    settled: list[bool] = []
    unpaced = cpu.cpu_per_request(busy, 20, 0.0, lambda: settled.append(True))
    assert settled == [True] and unpaced > 0
    began = time.monotonic()
    cpu.cpu_per_request(lambda: None, 10, 200.0, lambda: None)
    assert time.monotonic() - began >= 10 / 200 * 0.9  # paced: about 50 ms for 10 at 200/s


def test_cpu_requester_insists_on_200() -> None:
    app = bare.create_app()
    cpu.requester(app, bare.BARE_PATH, {"a": "b"}, {})()  # 200: no error
    with pytest.raises(RuntimeError, match="404"):
        cpu.requester(app, bare.BARE_PATH + "x", {"a": "b"}, {})()  # no such route


def test_cpu_arguments() -> None:
    args = cpu.parse_args([])
    assert (args.requests, args.rounds, args.rate) == (1000, 5, 400.0)
    with pytest.raises(SystemExit):
        cpu.parse_args(["--rate", "-1"])
