"""Two app processes (gunicorn, as the Procfile runs them) on one PostgreSQL database serve
one SMS conversation: the relay arrives on one, the helpline's reply on the other."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.storage.db import SmsCase, make_engine
from tests.conftest import HOTLINE, PROFILES, PUBLIC_BASE_URL, TOKEN, sign
from tests.services import create_database, drop_database
from tests.test_sms_support import PERSON, STAFF, STAFF_2

pytestmark = pytest.mark.slow  # starts gunicorn processes on PostgreSQL

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url = create_database("sms_two_processes")
    try:
        yield url
    finally:
        drop_database(url)


STAFF_PIN = "48291357"


@pytest.fixture(scope="module")
def environment(database: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HOTLINE_"))}
    env.update(DATABASE_URL=database, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=PUBLIC_BASE_URL,
               SECRET_KEY="two-processes-secret", HOTLINE_PROFILE=str(PROFILES["luxembourg"]),
               NUMBER_ENCRYPTION_KEY=Fernet.generate_key().decode(), PYTHONPATH=str(ROOT),
               STAFF_REPLY_PINS=STAFF_PIN,
               LOCAL_MODE="1")  # signed (the token is set), with the SMS outbox
    # `ivr db upgrade`, as the Procfile's release step runs it.
    done = subprocess.run([sys.executable, "-c", "from ivr.cli.main import main; main()", "db",
                           "upgrade"], env=env,
                          cwd=tmp_path_factory.mktemp("release"), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "database at revision head" in done.stdout, done.stderr
    return env


@pytest.fixture(scope="module")
def servers(environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[str, str, list[Path]]]:
    processes, urls, logs, files = [], [], [], []
    for name in ("a", "b"):
        port = free_port()
        log_path = tmp_path_factory.mktemp(f"server_{name}") / "server.log"
        log_file = log_path.open("w")
        files.append(log_file)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--access-logfile", "-", "ivr:create_app()"],
            env=environment, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
        logs.append(log_path)
    try:
        for url, process in zip(urls, processes, strict=True):
            _wait_until_up(url, process)
        yield urls[0], urls[1], logs
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        for log_file in files:
            log_file.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server at {url} stopped: {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=10):
                return
        except OSError:  # refused, reset or timed out while the worker boots
            time.sleep(0.2)
    raise AssertionError(f"the server at {url} did not start")


def post_sms(base: str, body: str, from_: str, sid: str) -> list[tuple[str | None, str]]:
    data = {"MessageSid": sid, "From": from_, "To": HOTLINE, "Body": body}
    request = urllib.request.Request(base + "/sms", data=urlencode(data).encode(),
                                     headers={"X-Twilio-Signature": sign("/sms", data)})
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200
        root = ET.fromstring(response.read())
    return [(m.get("to"), m.text or "") for m in root.iter("Message")]


def test_one_conversation_across_two_processes(servers: tuple[str, str, list[Path]],
                                               database: str) -> None:
    a, b, logs = servers
    relayed = post_sms(a, "Допоможіть, мені не платять уже три місяці", PERSON, "SMpg1")
    assert [to for to, _ in relayed] == [STAFF, STAFF_2, None]
    code = relayed[0][1].split()[0].lstrip("#")
    # The same delivery reaching the other process is not relayed again.
    assert post_sms(b, "Допоможіть, мені не платять уже три місяці", PERSON, "SMpg1") == []
    # The helpline's reply arrives on the other process and reaches the person.
    assert post_sms(b, f"#{code} {STAFF_PIN} Ми вам допоможемо. Де ви?", STAFF, "SMpg2") == [
        (PERSON, "Ми вам допоможемо. Де ви?")]
    # The person writes again through process B: same case.
    again = post_sms(b, "Я біля вокзалу", PERSON, "SMpg3")
    assert again[0][1].startswith(f"#{code} [uk] ")
    # STOP on A; the helpline's next reply on B is refused.
    post_sms(a, "STOP", PERSON, "SMpg4")
    [(to, notice)] = post_sms(b, f"#{code} {STAFF_PIN} Ви тут?", STAFF, "SMpg5")
    assert to is None and f"#{code}" in notice
    engine = make_engine(database)
    with Session(engine) as session:
        [case] = session.scalars(select(SmsCase))
    engine.dispose()
    assert case.code == code and PERSON not in case.number_encrypted
    for log in logs:
        text = log.read_text()
        assert "POST /sms" in text
        assert PERSON not in text and PERSON[1:] not in text and "вокзалу" not in text
