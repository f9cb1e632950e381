"""Ringing together against the Procfile's gunicorn, as Twilio would drive it (issue #21).

Two instances of the web process (production settings, PostgreSQL, Redis) behind a
round-robin proxy; Twilio's calls, queues and phones are tests/twilio_world.py's, in real
time, posting signed webhooks; its REST API is tests/twilio_rest_standin.py's, reached by the
app's unmodified `twilio` client through HTTPS_PROXY and a test CA. Both mobiles of the
Luxembourg profile ring together in one step.

    python3 bench/ringing.py               # ring_seconds 20, as INFOTRAITE's profile says
    python3 bench/ringing.py --ring 5      # shorter rings (tests/test_ring_faults.py)
    python3 bench/ringing.py --only "REST 401"

Each row: what the caller got, the longest hold, the phones still ringing 5 s after the
caller was connected or left, the REST requests the app made, and whether the bound held:
the caller reaches the person who accepts, or moves on within ring_seconds + 20 s; nobody
joins an empty room; at most one person is connected.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from twilio.request_validator import RequestValidator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from fault_proxy import RoundRobinProxy  # noqa: E402
from webhooks import free_port, procfile_web_line, server_argv  # noqa: E402

from tests.services import (  # noqa: E402
    POSTGRES_URL,
    REDIS_URL,
    RedisKeys,
    libpq_url,
    postgres_url,
)
from tests.twilio_rest_standin import RestStandIn  # noqa: E402
from tests.twilio_world import (  # noqa: E402
    BUSY,
    NO_ANSWER,
    VOICEMAIL,
    Call,
    Phone,
    RealTime,
    World,
)

TOKEN = "ring-fault-token-0123456789abcdef"
ACCOUNT = "AC" + "ab" * 16
PUBLIC = "https://hotline.ringing.invalid"
HOTLINE = "+352200000001"
MOBILES = ("+352621351884", "+352621316919")
NUMBER_KEY = "Vx0sRmZcEkKOVIBl5-hY0Hd0e_DIyxnuS9wBkiD2n4Q="  # made for these tests only
# The servers of TEST_REDIS_URL and TEST_DATABASE_URL; this run's keys under its own prefix.
SHARED = RedisKeys(REDIS_URL, f"ivrbench-ringing-{uuid.uuid4().hex[:12]}")
ADMIN_URL = libpq_url(POSTGRES_URL)
LANDLINE_STEP = '[["+352 27 36 56 46"], ["+352 621 351 884", "+352 621 316 919"]]'
MOBILES_STEP = '[["+352 621 351 884", "+352 621 316 919"]]'


def profile_file(folder: Path, ring_seconds: int) -> Path:
    """Luxembourg's profile, both mobiles in one step at every hour (the real clock runs)."""
    text = (REPO / "ivr" / "profiles" / "luxembourg.toml").read_text(encoding="utf-8")
    assert LANDLINE_STEP in text, "the profile's ring plan changed: update bench/ringing.py"
    text = text.replace(f"open = {LANDLINE_STEP}", f"open = {MOBILES_STEP}")
    text, count = re.subn(r"(?m)^ring_seconds = \d+", f"ring_seconds = {ring_seconds}", text)
    assert count == 1, "no ring_seconds line in the profile"
    path = folder / "luxembourg-together.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def database() -> Iterator[str]:
    """A migrated PostgreSQL database of its own, or SQLite where no server answers."""
    try:
        import psycopg

        name = f"ringing_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except Exception:  # noqa: BLE001 — no PostgreSQL here: the ring needs no database
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/ringing.sqlite3"
        return
    url = postgres_url(name)
    try:
        subprocess.run([sys.executable, "-c", "from ivr.cli.main import main; main()", "db",
                        "upgrade"], env={**os.environ, "DATABASE_URL": url,
                                         "PYTHONPATH": str(REPO)},
                       check=True, capture_output=True, timeout=120, cwd=REPO)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Instance:
    """One web process (gunicorn's master and its workers)."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = server_argv(procfile_web_line((REPO / "Procfile").read_text()), self.port, None,
                           self.env)
        with self.log.open("a") as out:
            self.process = subprocess.Popen([sys.executable, "-m", *argv], env=self.env,
                                            cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/livez", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def workers(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def signal(self, sig: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, sig)

    def stop(self) -> float:
        """SIGTERM, as a deploy does; the seconds until the process had exited."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return time.monotonic() - started


class Rig:
    """Two instances behind a round-robin proxy, Twilio's REST API on the network."""

    def __init__(self, stack: ExitStack, folder: Path, ring_seconds: int) -> None:
        self.ring_seconds = ring_seconds
        self.world = World(runtime=RealTime(), hotline=HOTLINE)
        self.rest = RestStandIn(self.world, folder / "tls", ACCOUNT, TOKEN)
        stack.callback(self.rest.close)
        database_url = stack.enter_context(database())
        stack.callback(SHARED.delete)
        profile = profile_file(folder, ring_seconds)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TWILIO_", "HOTLINE_", "LOCAL_MODE", "STAFF_",
                                    "RATELIMIT_", "REDIS_", "HTTP"))}
        env.update(self.rest.env(), DATABASE_URL=database_url, TWILIO_AUTH_TOKEN=TOKEN,
                   TWILIO_ACCOUNT_SID=ACCOUNT, PUBLIC_BASE_URL=PUBLIC,
                   SECRET_KEY="ringing-secret-of-the-bench", NUMBER_ENCRYPTION_KEY=NUMBER_KEY,
                   **SHARED.settings(), STAFF_REPLY_PINS="48291357",
                   HOTLINE_PROFILE=str(profile), WEB_CONCURRENCY="2", WEB_THREADS="8",
                   TWILIO_REST_CHECK_SECONDS="1", PYTHONPATH=str(REPO))
        self.instances = [Instance(dict(env), folder / f"gunicorn-{i}.log") for i in (0, 1)]
        for instance in self.instances:
            instance.start()
            stack.callback(instance.stop)
        self.proxy = RoundRobinProxy([("127.0.0.1", i.port) for i in self.instances])
        stack.callback(self.proxy.close)
        self.world.post_raw = self.post
        self.session = threading.local()

    def post(self, url: str, form: dict[str, str]) -> tuple[int, str]:
        """A signed webhook, as Twilio sends it (a new connection each: the proxy spreads
        them over both instances)."""
        assert url.startswith(PUBLIC), url
        signature = RequestValidator(TOKEN).compute_signature(url, form)
        local = f"http://127.0.0.1:{self.proxy.port}" + url.removeprefix(PUBLIC)
        try:
            answer = requests.post(local, data=form, timeout=15,
                                   headers={"X-Twilio-Signature": signature,
                                            "Connection": "close"})
        except requests.RequestException:
            return 0, ""
        return answer.status_code, answer.text

    def fresh_world(self) -> World:
        """A new Twilio for one scenario (the servers and the REST stand-in stay)."""
        world = World(self.post, runtime=RealTime(), hotline=HOTLINE)
        world.talk_seconds = 2.0
        self.rest.world = self.world = world
        return world

    def restart(self, index: int) -> None:
        instance = self.instances[index]
        if instance.process is None or instance.process.poll() is not None:
            instance.start()


@dataclass
class Row:
    scenario: str
    outcome: str
    hold: float
    still_ringing: list[str]
    rest: int
    ok: bool
    why: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def markdown(self) -> str:
        ringing = ", ".join(self.still_ringing) or "none"
        verdict = "yes" if self.ok else f"**NO**: {self.why}"
        return (f"| {self.scenario} | {self.outcome} | {self.hold:.1f} s | {ringing} | "
                f"{self.rest} | {verdict} |")


HEADER = ("| scenario | what the caller got | longest hold | phones ringing 5 s after | "
          "REST requests | within the bound |\n|---|---|---|---|---|---|")


def outcome_of(call: Call, world: World) -> str:
    if call.bridged_to:
        when = (call.bridged_at or 0) - (call.queued_at or 0)
        how = "held, then" if call.queued_at is not None else "one after another, then"
        return f"{how} connected to {call.bridged_to[-3:]} at {when:.1f} s"
    if call.queue_results:
        return f"moved on ({call.queue_results[-1]}) at {call.longest_hold:.1f} s"
    if call.ended == "caller hung up" and not call.menus:
        return "hung up while the phones rang"
    return f"no one accepted: {call.ended}"


def judge(rig: Rig, scenario: str, call: Call, sid: str, world: World,
          expect_person: str | None, **extra: Any) -> Row:
    bound = rig.ring_seconds + 20
    settled = call.bridged_at if call.bridged_to else call.left_queue_at
    ringing = sorted({p[-3:] for p in world.rang_after(settled, grace=5, caller=sid)}) \
        if settled is not None else []
    problems = []
    if call.longest_hold > bound:
        problems.append(f"held {call.longest_hold:.1f} s")
    if expect_person and call.bridged_to != expect_person:
        problems.append(f"connected to {call.bridged_to}")
    if len(world.people_connected(caller=sid)) > 1:
        problems.append("two people connected")
    if call.failed_requests:
        problems.append(f"failed webhooks {call.failed_requests}")
    if ringing:
        problems.append("a phone left ringing")
    spent = world.rest_count(caller=sid)  # this ring's (each process's health check aside)
    if spent > 10:
        problems.append(f"{spent} REST requests")
    return Row(scenario, outcome_of(call, world), call.longest_hold, ringing, spent,
               not problems, "; ".join(problems), extra)


@dataclass
class Scenario:
    """One caller's ring: how each phone behaves, and who should take the call."""

    name: str
    phones: dict[str, Phone]
    default: Phone = NO_ANSWER
    expect: str | None = None  # the phone whose person must take the call
    hang_up_at: float | None = None


def scenarios(ring_seconds: int) -> list[Scenario]:
    r = ring_seconds
    hold = r + 15
    person = min(6.0, r - 0.5)  # a person picks up after this long (before the ring ends)
    late = min(12.0, r - 0.5)
    return [
        Scenario("both accept", {}, Phone(person, "1")),
        Scenario("voicemail first, then a person",
                 {MOBILES[0]: VOICEMAIL, MOBILES[1]: Phone(person, "1")}, expect=MOBILES[1]),
        Scenario("both voicemail", {}, VOICEMAIL),
        Scenario("busy", {}, BUSY),
        Scenario("no answer", {}, NO_ANSWER),
        Scenario("caller hangs up after 3 s", {}, Phone(person, "1"), hang_up_at=3.0),
        Scenario("a person picks up at the last second", {MOBILES[0]: Phone(late, "1")},
                 expect=MOBILES[0]),
        Scenario("1 pressed at the deadline",
                 {MOBILES[0]: Phone(r - 1, "1", press_after=hold - r + 1)}),
        Scenario("a phone answered as the other accepts",
                 {MOBILES[0]: Phone(person - 2, "1"),
                  MOBILES[1]: Phone(person - 1, "1", press_after=3)}, expect=MOBILES[0]),
    ]


def ring_together(rig: Rig, group: list[Scenario], label: str = "",
                  act: Callable[[], dict[str, Any]] | None = None,
                  calls_per_second: float = 1.0) -> list[Row]:
    """The scenarios' callers, all at once; `act` (a fault to the servers) 4 s in. Twilio
    places an account's outbound calls at `calls_per_second` (1 unless raised)."""
    world = rig.fresh_world()
    world.calls_per_second = calls_per_second
    calls = []
    for scenario in group:
        sid = f"CA{uuid.uuid4().hex}"
        calls.append((scenario, sid, world.call(
            PUBLIC + "/voice/menu?l=uk&n=main", [], digits="1", call_sid=sid,
            phones=scenario.phones, hang_up_at=scenario.hang_up_at)))
        world.scripts[sid] = {m: scenario.phones.get(m, scenario.default) for m in MOBILES}
    extra = {}
    if act is not None:
        time.sleep(4.0)
        extra = act()
    world.run(until=rig.ring_seconds * 4 + 60)
    rows = []
    for scenario, sid, call in calls:
        row = judge(rig, scenario.name + label, call, sid, world, scenario.expect)
        if "exit_s" in extra:
            row.outcome += f"; the stopped process exited in {extra['exit_s']:.1f} s"
            if extra["exit_s"] > 5:
                row.ok, row.why = False, (row.why + "; " if row.why else "") + "slow exit"
        rows.append(row)
    return rows


def with_fault(rig: Rig, fault: str, label: str, person: int = 1) -> Row:
    """The REST API fails for creating calls; the person on one mobile (the second unless
    told) accepts after 2 s of ringing."""
    world = rig.fresh_world()
    world.faults["*" if fault == "unreachable" else "create_call"] = fault
    if fault == "unreachable":
        rig.rest.cut_tunnels()  # a partition ends kept-alive connections too
    sid = f"CA{uuid.uuid4().hex}"
    call = world.call(PUBLIC + "/voice/menu?l=uk&n=main", [], digits="1", call_sid=sid,
                      phones={MOBILES[person]: Phone(2, "1")})
    world.run(until=rig.ring_seconds * 4 + 60)
    world.faults.clear()
    time.sleep(2.5)  # each process's next check (every second) sees the REST API work again
    return judge(rig, label, call, sid, world, MOBILES[person])


FAULTS = {"REST 401 (a rotated token)": "401", "REST 429": "429", "REST 500": "500",
          "REST slow (answers in 5 s; the client gives up at 3 s)": "slow",
          "REST unreachable": "unreachable"}


def acts(rig: Rig) -> dict[str, Callable[[], dict[str, Any]]]:
    def sigterm() -> dict[str, Any]:
        exit_s = rig.instances[0].stop()
        return {"exit_s": exit_s}

    def hup() -> dict[str, Any]:
        rig.instances[1].signal(signal.SIGHUP)
        return {}

    def kill_worker() -> dict[str, Any]:
        os.kill(rig.instances[1].workers()[0], signal.SIGKILL)
        return {}

    return {", SIGTERM to an instance at 4 s": sigterm, ", HUP to an instance at 4 s": hup,
            ", kill -9 of a worker at 4 s": kill_worker}


def run_quick(folder: Path) -> list[Row]:
    """The short run of tests/test_ring_faults.py (ring_seconds 5, about 90 s): every
    scenario at once (the account's rate raised, so that they do not wait for each other)
    with SIGTERM to one instance, HUP to the other and kill -9 of one of its workers 4 s in;
    then each fault of the REST API alone."""
    rows = []
    with ExitStack() as stack:
        rig = Rig(stack, folder, 5)
        server_faults = acts(rig)

        def all_three() -> dict[str, Any]:
            extra = server_faults[", kill -9 of a worker at 4 s"]()
            extra.update(server_faults[", HUP to an instance at 4 s"]())
            extra.update(server_faults[", SIGTERM to an instance at 4 s"]())
            return extra

        rows += ring_together(rig, scenarios(5), " (SIGTERM, HUP, kill -9 at 4 s)", all_three,
                              calls_per_second=100.0)
        rig.restart(0)
        for label, fault in FAULTS.items():
            rows.append(with_fault(rig, fault, label, person=0))
        rows.append(log_check(rig))
    return rows


def log_check(rig: Rig) -> Row:
    """No phone number in either instance's log."""
    logs = "".join(i.log.read_text() for i in rig.instances)
    leaked = re.findall(r"\+3(?:52|80)\d{6,}", logs)
    return Row("the servers' logs", f"phone numbers written: {leaked[:3] or 'none'}", 0.0, [],
               0, not leaked, "numbers in the log" if leaked else "")


def run(ring_seconds: int, names: list[str] | None = None, faults: list[str] | None = None,
        signals: list[str] | None = None, crowd: int = 3) -> list[Row]:
    """Each scenario alone (Twilio places one call a second per account: callers at once
    wait for each other's phones, shown apart by the crowd row), then each REST fault, then
    each fault to the servers 4 s into a ring that a person takes at the last second."""
    rows = []
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        rig = Rig(stack, Path(folder), ring_seconds)
        group = scenarios(ring_seconds)
        for scenario in group:
            if names is None or any(n.lower() in scenario.name.lower() for n in names):
                rows += ring_together(rig, [scenario])
        for label, fault in FAULTS.items():
            if faults is None or fault in faults:
                rows.append(with_fault(rig, fault, label))
        last_second = next(s for s in group if s.name == "a person picks up at the last second")
        for label, act in acts(rig).items():
            if signals is None or any(name.lower() in label.lower() for name in signals):
                rows += ring_together(rig, [last_second], label, act)
                rig.restart(0)
        if crowd > 1:
            both = next(s for s in group if s.name == "both accept")
            crowded = ring_together(rig, [both] * crowd, f" ({crowd} callers at once)")
            rows += crowded
        rows.append(log_check(rig))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ring", type=int, default=20, help="ring_seconds (default 20)")
    parser.add_argument("--only", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument("--faults", nargs="*", help="REST faults to run (default: all)")
    parser.add_argument("--signals", nargs="*",
                        help="server faults to run: SIGTERM HUP kill (default: all)")
    args = parser.parse_args()
    print(f"ring_seconds {args.ring}: a caller may be held {args.ring + 20} s at most\n")
    print(HEADER, flush=True)
    rows = run(args.ring, args.only, args.faults, args.signals)
    for row in rows:
        print(row.markdown())
    missed = [row for row in rows if not row.ok]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} within the bound")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
