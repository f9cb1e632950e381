"""Nothing is lost: the faults of issue #10 against the Procfile's gunicorn on PostgreSQL,
through bench/fault_proxy.py (refuse, drop, stall), with the figures as a Markdown table.

    python3 bench/nothing_lost.py                 # the issue's sizes (about 3 minutes)
    python3 bench/nothing_lost.py --small         # a quick look (tests/test_nothing_lost.py)

A "sender" here behaves as Twilio does with a retry policy on the webhook URL (see README,
"Operations"): a refused connection, a reset or a 5xx is retried with the same MessageSid.
A message counts as lost when no answer ever carried a <Message to=helpline>.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fault_proxy import FaultProxy  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from webhooks import free_port, procfile_web_line, server_argv  # noqa: E402

from tests.services import (  # noqa: E402
    POSTGRES_URL,
    libpq_url,
    postgres_address,
    postgres_url,
    through_port,
)

REPO = Path(__file__).resolve().parent.parent
POSTGRES = postgres_address()  # TEST_DATABASE_URL's server
ADMIN_URL = libpq_url(POSTGRES_URL)
TOKEN = "fault-test-token-0123456789abcdef"
BASE = "https://hotline.faults.invalid"
HOTLINE = "+352200000001"
STAFF = ("+352621351884", "+352621316919")  # Luxembourg's [sms] helpline_numbers
NUMBER_KEY = "Vx0sRmZcEkKOVIBl5-hY0Hd0e_DIyxnuS9wBkiD2n4Q="  # made for these tests only


def create_database(migrated: bool = True) -> str:
    import psycopg

    name = f"faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    if migrated:
        env = {**os.environ, "DATABASE_URL": postgres_url(name),
               "PYTHONPATH": str(REPO)}
        subprocess.run([sys.executable, "-c", "from ivr.cli.main import main; main()", "db",
                        "upgrade"], env=env, check=True, capture_output=True, timeout=120,
                       cwd=REPO)
    return name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(name: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(libpq_url(postgres_url(name))) as connection:
        row = connection.execute(sql).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def post(self, path: str, form: Mapping[str, str], timeout: float = 20.0
             ) -> tuple[int, str, float]:
        """(status, body, seconds); status 0 when the connection failed."""
        signature = RequestValidator(TOKEN).compute_signature(BASE + path, dict(form))
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                         data=urlencode(form).encode(),
                                         headers={"X-Twilio-Signature": signature})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), time.monotonic() - started
        except OSError:
            return 0, "", time.monotonic() - started

    def health(self) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=10):
                return 200
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]


@contextmanager
def server(database_url: str, tmp: Path, workers: int = 3, threads: int | None = None,
           **extra: str) -> Iterator[Server]:
    """The Procfile's web line, bound to loopback, on `database_url`."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HOTLINE_"))}
    env.update(DATABASE_URL=database_url, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE,
               SECRET_KEY="fault-secret-of-the-bench", NUMBER_ENCRYPTION_KEY=NUMBER_KEY,
               TWILIO_ACCOUNT_SID="AC" + "0" * 32, RATELIMIT_STORAGE_URI="memory://",
               STAFF_REPLY_PINS="48291357",
               WEB_CONCURRENCY=str(workers), PYTHONPATH=str(REPO))
    env.update(extra)  # a scenario's own settings over the defaults
    if threads is not None:
        env["WEB_THREADS"] = str(threads)
    argv = server_argv(procfile_web_line((REPO / "Procfile").read_text()), port, None, env)
    log = tmp / f"gunicorn-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", *argv], env=env, cwd=REPO,
                                   stdout=out, stderr=subprocess.STDOUT)
    running = Server(port, process, log)
    try:
        deadline = time.monotonic() + 90
        while running.health() == 0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def relays(body: str) -> list[tuple[str, str]]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    return [(m.get("to") or "", m.text or "") for m in root.iter("Message") if m.get("to")]


@dataclass
class Delivery:
    """One inbound SMS as Twilio delivers it, with retries on a failed webhook."""

    sid: str
    body: str
    attempts: list[int] = field(default_factory=list)
    relayed: list[str] = field(default_factory=list)  # the helpline texts, one per answer

    @property
    def lost(self) -> bool:
        return not self.relayed


def deliver(hotline: Server, delivery: Delivery, give_up: float = 60.0) -> Delivery:
    form = {"MessageSid": delivery.sid, "From": "+380501234567", "To": HOTLINE,
            "Body": delivery.body}
    end = time.monotonic() + give_up
    while time.monotonic() < end:
        status, text, _ = hotline.post("/sms", form)
        delivery.attempts.append(status)
        if status == 200:
            sent = [t for to, t in relays(text) if to == STAFF[0]]
            delivery.relayed += sent
            return delivery
        time.sleep(0.5)  # refused, reset or 5xx: Twilio's retry
    return delivery


def burst(hotline: Server, count: int, fault: Callable[[int], None] | None = None,
          concurrency: int = 8, prefix: str = "SM", spacing: float = 0.01) -> list[Delivery]:
    """`count` free texts, `concurrency` at a time, one every `spacing` s; fault(i) runs
    before the i-th is sent."""
    deliveries = [Delivery(f"{prefix}{uuid.uuid4().hex}", f"Help me please, message {i}")
                  for i in range(count)]
    with ThreadPoolExecutor(concurrency) as pool:
        futures = []
        for i, delivery in enumerate(deliveries):
            if fault:
                fault(i)
            futures.append(pool.submit(deliver, hotline, delivery))
            time.sleep(spacing)
        for future in futures:
            future.result()
    return deliveries


@dataclass
class Row:
    fault: str
    outcome: str
    lost: int

    def markdown(self) -> str:
        return f"| {self.fault} | {self.outcome} | **{self.lost}** |"


def summary(deliveries: list[Delivery]) -> tuple[int, int, int]:
    """(lost, relayed masked, relayed more than once)."""
    lost = sum(d.lost for d in deliveries)
    masked = sum(1 for d in deliveries if d.relayed and d.relayed[0].startswith("#----"))
    twice = sum(1 for d in deliveries if len(d.relayed) > 1)
    return lost, masked, twice


def outage_mid_burst(hotline: Server, proxy: FaultProxy, count: int, seconds: float
                     ) -> tuple[Row, Row]:
    def fault(i: int) -> None:
        if i == count // 3:
            proxy.refuse()
            threading.Timer(seconds, proxy.heal).start()

    # Arrivals spread over three times the outage: before, during and after it.
    deliveries = burst(hotline, count, fault, spacing=seconds * 3 / count)
    lost, masked, twice = summary(deliveries)
    first = Row(f"PostgreSQL refused for {seconds:.0f} s while {count} free-text SMS arrive",
                f"{count - lost} reached the helpline ({masked} masked, sender told to call)",
                lost)
    time.sleep(max(0.0, seconds - 1))
    again = [Delivery(d.sid, d.body) for d in deliveries
             if d.relayed and d.relayed[0].startswith("#----")]
    for delivery in again:
        deliver(hotline, delivery)
    relayed = sum(1 for d in again if d.relayed and not d.relayed[0].startswith("#----"))
    second = Row(f"the {len(again)} masked ones re-sent with the same MessageSid",
                 f"{relayed} relayed with a case code, "
                 f"{sum(1 for d in again if not d.relayed)} taken for a duplicate",
                 sum(d.lost for d in again))
    return first, second


def kill_mid_burst(hotline: Server, count: int, kills: int) -> Row:
    every = max(1, count // (kills + 1))
    killed: list[int] = []

    def fault(i: int) -> None:
        if i and i % every == 0 and len(killed) < kills:
            workers = hotline.workers()
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])

    deliveries = burst(hotline, count, fault)
    lost, masked, twice = summary(deliveries)
    retried = sum(1 for d in deliveries if len(d.attempts) > 1)
    return Row(f"`kill -9` of a worker {len(killed)} times during {count} SMS",
               f"{count - lost} relayed ({retried} after a retry, {twice} twice)", lost)


def duplicates_at_once(hotline: Server, pairs: int) -> Row:
    deliveries = [Delivery(f"SMdup{uuid.uuid4().hex}", f"Same message twice {i}")
                  for i in range(pairs)]
    copies = [Delivery(d.sid, d.body) for d in deliveries]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda d: deliver(hotline, d), [*deliveries, *copies]))
    once = sum(1 for a, b in zip(deliveries, copies, strict=True)
               if len(a.relayed) + len(b.relayed) == 1)
    lost = sum(1 for a, b in zip(deliveries, copies, strict=True) if not a.relayed + b.relayed)
    return Row(f"{pairs} MessageSids delivered twice at once (two workers)",
               f"{once} of {pairs} relayed exactly once", lost)


def missing_migrations(tmp: Path) -> Row:
    name = create_database(migrated=False)
    try:
        with server(postgres_url(name), tmp, workers=1) as hotline:
            health = hotline.health()
            texts = [deliver(hotline, Delivery(f"SMmig{uuid.uuid4().hex}", body))
                     for body in ("They keep my passport", "Please call me back")]
            stop_status, _, _ = hotline.post("/sms", {"MessageSid": "SMmigstop",
                                                      "From": "+380501234567",
                                                      "To": HOTLINE, "Body": "STOP"})
            said = "ivr db upgrade" in hotline.log.read_text()
    finally:
        drop_database(name)
    lost = sum(d.lost for d in texts)
    return Row("web process started without `ivr db upgrade`",
               f"start log names `ivr db upgrade`: {said}; /healthz {health}; free texts "
               f"relayed masked {len(texts) - lost}/{len(texts)}; STOP answered {stop_status}",
               lost)


def recordings_in_outage(hotline: Server, proxy: FaultProxy, name: str, count: int,
                         seconds: float) -> Row:
    sids = [f"RE{uuid.uuid4().hex}" for _ in range(count)]
    first: list[int] = []
    proxy.refuse()
    threading.Timer(seconds, proxy.heal).start()
    for sid in sids:
        status, _, _ = hotline.post("/voice/recording?l=uk", {
            "CallSid": "CA1", "RecordingSid": sid, "RecordingStatus": "completed",
            "RecordingDuration": "12"})
        first.append(status)
    time.sleep(seconds + 1)
    for sid, status in zip(sids, first, strict=True):  # Twilio's retry of a 5xx callback
        while status != 204:
            status, _, _ = hotline.post("/voice/recording?l=uk", {
                "CallSid": "CA1", "RecordingSid": sid, "RecordingStatus": "completed"})
            time.sleep(0.2)
    stored = query(name, "SELECT count(*) FROM voice_messages WHERE recording_sid IN ("
                   + ",".join(f"'{s}'" for s in sids) + ")")
    return Row(f"{count} recording callbacks during a {seconds:.0f} s outage",
               f"{first.count(503)} answered 503 (not 204) during it; {stored}/{count} "
               "references stored after the retry", count - stored)


def duplicate_recordings(hotline: Server, name: str) -> Row:
    same, other = f"RE{uuid.uuid4().hex}", f"RE{uuid.uuid4().hex}"
    forms = [{"CallSid": "CA2", "RecordingSid": sid, "RecordingStatus": "completed"}
             for sid in (same, same, other)]
    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda f: hotline.post("/voice/recording", f)[0], forms))
    stored = query(name, f"SELECT count(*) FROM voice_messages WHERE recording_sid IN "
                         f"('{same}', '{other}')")
    return Row("the same recording callback twice at once, beside another caller's",
               f"answers {statuses}; {stored}/2 references stored, once each", 2 - stored)


def events_in_outage(hotline: Server, proxy: FaultProxy, name: str, count: int,
                     seconds: float) -> Row:
    call = f"CA{uuid.uuid4().hex}"
    before = query(name, "SELECT count(*) FROM events WHERE kind = 'ended'")
    proxy.refuse()
    threading.Timer(seconds, proxy.heal).start()
    end = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < end or sent < count:
        if sent < count:
            hotline.post("/voice/status", {"CallSid": f"{call}{sent}",
                                           "CallStatus": "completed", "CallDuration": "30"})
            sent += 1
        else:
            time.sleep(0.1)
    deadline = time.monotonic() + 30
    stored = 0
    while time.monotonic() < deadline:
        stored = query(name, "SELECT count(*) FROM events WHERE kind = 'ended'") - before
        if stored >= count:
            break
        time.sleep(0.5)
    dropped = sum(int(m) for m in re.findall(r"(\d+) event\(s\) dropped in this outage",
                                             hotline.log.read_text()))
    return Row(f"{count} call-ended events during a {seconds:.0f} s outage",
               f"{stored} stored after it; the log's dropped totals add up to {dropped}",
               count - stored)


def voice_while_held(hotline: Server, hold: Callable[[], None], release: Callable[[], None],
                     label: str, seconds: float) -> Row:
    """SMS in flight while the database is held; /voice timed throughout."""
    hold()
    deliveries = [Delivery(f"SMheld{uuid.uuid4().hex}", f"Held message {i}") for i in range(3)]
    pool = ThreadPoolExecutor(3)
    futures = [pool.submit(deliver, hotline, d) for d in deliveries]
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, _, took = hotline.post("/voice", {"CallSid": "CAheld", "From": "+380501234567",
                                                  "To": HOTLINE})
        times.append(took if status == 200 else 99.0)
        time.sleep(0.05)
    release()
    for future in futures:
        future.result()
    pool.shutdown()
    p99 = statistics.quantiles(times, n=100)[98] if len(times) > 1 else times[0]
    lost = sum(d.lost for d in deliveries)
    return Row(f"{label} for {seconds:.0f} s, 3 SMS in flight",
               f"`/voice` p99 {p99:.3f} s, max {max(times):.3f} s over {len(times)} calls; "
               f"SMS relayed {3 - lost}/3", lost)


def run(small: bool, tmp: Path) -> list[Row]:
    import psycopg

    sizes = dict(sms=40, outage=4.0, kill_sms=60, kills=2, pairs=10, recordings=5,
                 events=40, held=6.0) if small else dict(
        sms=200, outage=12.0, kill_sms=600, kills=6, pairs=50, recordings=20, events=300,
        held=20.0)
    rows: list[Row] = []
    name = create_database()
    proxy = FaultProxy(POSTGRES)
    try:
        with server(through_port(proxy.port, name), tmp) as hotline:
            rows += outage_mid_burst(hotline, proxy, int(sizes["sms"]), sizes["outage"])
            rows.append(kill_mid_burst(hotline, int(sizes["kill_sms"]), int(sizes["kills"])))
            rows.append(duplicates_at_once(hotline, int(sizes["pairs"])))
            rows.append(recordings_in_outage(hotline, proxy, name, int(sizes["recordings"]),
                                             sizes["outage"] * 10 / 12))
            rows.append(duplicate_recordings(hotline, name))
            rows.append(events_in_outage(hotline, proxy, name, int(sizes["events"]),
                                         sizes["outage"] * 10 / 12))
            locker = psycopg.connect(libpq_url(postgres_url(name)))

            def lock() -> None:
                locker.execute("BEGIN")
                locker.execute("LOCK TABLE sms_deliveries, sms_cases IN ACCESS EXCLUSIVE MODE")

            rows.append(voice_while_held(hotline, lock, locker.rollback,
                                         "a lock held on the SMS tables", sizes["held"]))
            locker.close()
            rows.append(voice_while_held(hotline, proxy.stall, proxy.heal,
                                         "PostgreSQL stalled (open, no bytes move)",
                                         sizes["held"]))
        rows.append(missing_migrations(tmp))
    finally:
        proxy.close()
        drop_database(name)
    return rows


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(args.small, Path(tmp))
    print("| fault | what happened | messages lost |\n|---|---|---|")
    for row in rows:
        print(row.markdown())
    return 1 if any(row.lost for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
