"""The Procfile's web process, attacked as an outsider would, on loopback (issue #11's table)."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from tests.conftest import PROFILES, TOKEN
from tests.services import REDIS_URL, RedisKeys, redis_or_skip

pytestmark = pytest.mark.slow  # starts the Procfile's gunicorn

ROOT = Path(__file__).resolve().parent.parent
# The limits of every web process this module starts, under a prefix of its own.
SHARED = RedisKeys(REDIS_URL, f"ivrtest-deploy-{uuid.uuid4().hex[:12]}")
PUBLIC = "https://hotline.deploy.invalid"  # the address Twilio would call
FORM = {"CallSid": "CAdeploy", "From": "+380501234567", "To": "+352200000001"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def web_argv(bind: str) -> list[str]:
    """The Procfile's web: line, as argv, bound where the test says."""
    line = next(row.split(":", 1)[1] for row in (ROOT / "Procfile").read_text().splitlines()
                if row.startswith("web:"))
    words = shlex.split(line)
    at = words.index("--bind")
    return [sys.executable, "-m", *words[:at], "--bind", bind, *words[at + 2:]]


def production_env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "HOTLINE_", "LOCAL_MODE", "STAFF_", "RATELIMIT_",
                                     "REDIS_"))}
    env.update(PYTHONPATH=str(ROOT), TWILIO_AUTH_TOKEN=TOKEN,
               TWILIO_ACCOUNT_SID="AC" + "0" * 32, SECRET_KEY="deploy-test-secret-0123456789",
               NUMBER_ENCRYPTION_KEY=Fernet.generate_key().decode(),
               **SHARED.settings(), STAFF_REPLY_PINS="48291357",
               PUBLIC_BASE_URL=PUBLIC, HOTLINE_PROFILE=str(PROFILES["luxembourg"]))
    env.update(changes)
    return {k: v for k, v in env.items() if v != ""}


@pytest.mark.parametrize("variable", ["TWILIO_AUTH_TOKEN", "SECRET_KEY", "NUMBER_ENCRYPTION_KEY",
                                      "TWILIO_ACCOUNT_SID", "RATELIMIT_STORAGE_URI",
                                      "PUBLIC_BASE_URL"])
def test_the_web_process_refuses_to_start_naming_the_variable(variable: str) -> None:
    done = subprocess.run(web_argv(f"127.0.0.1:{free_port()}"),
                          env=production_env(**{variable: ""}), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"- {variable} is not set" in done.stderr, done.stderr


def test_local_mode_refuses_to_listen_beyond_loopback() -> None:
    done = subprocess.run(web_argv(f"0.0.0.0:{free_port()}"),
                          env=production_env(LOCAL_MODE="1", TWILIO_AUTH_TOKEN=""), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "LOCAL_MODE is set, so the hotline binds loopback only, not 0.0.0.0" in done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Production settings, PUBLIC_BASE_URL an address this machine is not, Redis."""
    redis_or_skip()
    tmp = tmp_path_factory.mktemp("deploy")
    try:
        with web_process(tmp) as url:
            yield url
    finally:
        SHARED.delete()


@contextmanager
def web_process(tmp: Path, **changes: str) -> Iterator[str]:
    """The Procfile's web process in production settings (its log in tmp/server.log)."""
    env = production_env(DATABASE_URL=f"sqlite:///{tmp / 'deploy.sqlite3'}", **changes)
    subprocess.run([sys.executable, "-c", "from ivr.cli.main import main; main()", "db",
                    "upgrade"], env=env, cwd=tmp, check=True, capture_output=True, timeout=120)
    port = free_port()
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(web_argv(f"127.0.0.1:{port}"), env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp / "server.log").read_text()
            try:
                if requests.get(url + "/livez", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def signed_voice(url: str, signed_as: str = PUBLIC,
                 headers: dict[str, str] | None = None) -> requests.Response:
    signature = RequestValidator(TOKEN).compute_signature(signed_as + "/voice", FORM)
    return requests.post(url + "/voice", data=FORM, timeout=10,
                         headers={"X-Twilio-Signature": signature, "Connection": "close",
                                  **(headers or {})})


def test_only_the_public_address_is_signed_for_whatever_a_request_claims(server: str) -> None:
    """The signature covers PUBLIC_BASE_URL, never the host or scheme a request shows or a
    proxy header claims (TRUST_PROXY_HOPS unset: gunicorn trusts no forwarded header)."""
    https = server.replace("http://", "https://")
    assert signed_voice(server).status_code == 200
    assert signed_voice(server, server).status_code == 403
    assert signed_voice(server, https, {"X-Forwarded-Proto": "https"}).status_code == 403
    assert signed_voice(server, "https://evil.invalid",
                        {"X-Forwarded-Host": "evil.invalid"}).status_code == 403


def test_prompt_paths_outside_prompts_are_not_served(server: str) -> None:
    for path in ("/prompts/%2e%2e/x.wav", "/prompts/%2e%2e/prompts.wav",
                 "/prompts/lb/%2e%2e%2fmanifest.wav"):
        assert requests.get(server + path, timeout=10).status_code == 404


def test_slow_clients_do_not_delay_a_call(server: str) -> None:
    """10 slow-header and 10 slow-body connections held open; the call is still answered."""
    port = int(server.rsplit(":", 1)[1])
    held = []
    body_head = (f"POST /voice HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                 f"Content-Type: application/x-www-form-urlencoded\r\n"
                 f"X-Twilio-Signature: {'a' * 28}=\r\n\r\n{urlencode(FORM)}").encode()
    try:
        for _ in range(10):
            slow = socket.create_connection(("127.0.0.1", port))
            slow.sendall(b"POST /voice HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
            held.append(slow)
            trickle = socket.create_connection(("127.0.0.1", port))
            trickle.sendall(body_head)
            held.append(trickle)
        time.sleep(1.0)  # the server has given them threads by now
        for _ in range(5):
            start = time.monotonic()
            assert signed_voice(server).status_code == 200
            assert time.monotonic() - start < 2.0
    finally:
        for sock in held:
            sock.close()


def test_wrong_passwords_are_limited_across_workers(server: str) -> None:
    """10 a minute from one address, counted in Redis by every worker (each a new connection)."""
    statuses = []
    for attempt in range(12):
        page = requests.get(server + "/console/login", timeout=30,
                            headers={"Connection": "close"})
        token = _CSRF.search(page.text)
        assert token, page.text
        answer = requests.post(server + "/console/login", timeout=30, data={
            "name": "ana", "password": f"wrong password {attempt}", "csrf_token": token.group(1)},
            headers={"Connection": "close",
                     "Cookie": f"session={page.cookies.get('session')}"})
        statuses.append(answer.status_code)
    assert statuses == [401] * 10 + [429, 429]


def test_a_client_that_stops_sending_is_cut_off(server: str) -> None:
    """gunicorn.conf.py: each read waits READ_TIMEOUT_SECONDS (5), then the thread is free."""
    port = int(server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as stalled:
        stalled.sendall(b"POST /voice HTTP/1.1\r\nHost: x\r\n")
        stalled.settimeout(30)
        start = time.monotonic()
        assert stalled.recv(100) == b""  # closed without an answer
        assert time.monotonic() - start < 15


def test_a_rest_api_out_of_reach_rings_one_after_another_at_once(tmp_path: Path) -> None:
    """Two phones rung together need Twilio's REST API; here it cannot be reached (a fake
    account, no route to Twilio). The start log and /healthz say so, and a caller's answer
    comes at once: the phones one after another, never a hold."""
    text = (ROOT / "tests" / "fixtures" / "profiles" / "steps.toml").read_text()
    desk = ('schedule = "office"\nopen = [["020 7946 0001"], ["020 7946 0002", "020 7946 0003"]]'
            '\nclosed = [["020 7946 0003"], ["020 7946 0004"]]')
    assert desk in text
    profile = tmp_path / "together.toml"
    profile.write_text(text.replace(desk, 'open = [["020 7946 0002", "020 7946 0003"]]\n'
                                          "together = true"))
    form = {**FORM, "Digits": "0", "To": "+442079460000"}
    with web_process(tmp_path, HOTLINE_PROFILE=str(profile)) as url:
        health = requests.get(url + "/healthz", timeout=10)
        path = "/voice/menu?l=en&n=main"
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)
        start = time.monotonic()
        answer = requests.post(url + path, data=form, timeout=10,
                               headers={"X-Twilio-Signature": signature})
        waited = time.monotonic() - start
        written = (tmp_path / "server.log").read_text()
    assert health.status_code == 503 and "REST API does not work" in health.json()["reason"]
    assert health.json()["ringing"] == "one after another for now"
    assert "ringing together: Twilio's REST API does not work" in written
    assert answer.status_code == 200 and "<Enqueue" not in answer.text
    assert answer.text.count("<Number") == 1 and "+442079460002" in answer.text
    assert waited < 2.0
    assert "+4420794600" not in written  # no number in the log
