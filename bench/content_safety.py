"""Issue #22 measured through the Procfile's gunicorn: what an operator or a stranger sends
cannot break a call, a text or a worker.

    python3 bench/content_safety.py

Production settings, two workers, PostgreSQL (SQLite where no server answers), two
operators signed in. Prints a Markdown table: a control character in a translation, audio
right after publishing, bodies over the limits, a file that unpacks to 45 minutes, an
8-channel upload, short PINs, PINs and sign-in with the limit store down.
"""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import nothing_lost as fleet  # noqa: E402

from tests.services import REDIS_URL, RedisKeys, libpq_url, postgres_url  # noqa: E402

PASSWORDS = {"ana": "a long passphrase for ana", "ben": "another long passphrase, ben"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TAKE = re.compile(r'name="take" value="(\d+)"')
TEXT_ID = re.compile(r'name="version" value="(\d+)"')


@dataclass
class Row:
    point: str
    before: str
    after: str

    def markdown(self) -> str:
        return f"| {self.point} | {self.before} | {self.after} |"


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": database_url, "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    import os

    env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", "from ivr.cli.main import main; main()",
                           *args], env=env, capture_output=True, text=True, timeout=120,
                          cwd=REPO)


class Operator:
    """A signed-in console session, over plain HTTP: the session cookie is Secure in
    production (a browser sends it over HTTPS only), so it is carried by hand here."""

    def __init__(self, base: str, name: str) -> None:
        self.base, self.cookie = base, ""
        token = CSRF.search(self.get("/console/login").text)
        assert token
        answer = self.post("/console/login", {"name": name, "password": PASSWORDS[name],
                                              "csrf_token": token.group(1)})
        assert answer.status_code == 302, answer.status_code

    def _keep(self, answer: requests.Response) -> requests.Response:
        if answer.cookies.get("session"):
            self.cookie = str(answer.cookies.get("session"))
        return answer

    def get(self, path: str) -> requests.Response:
        return self._keep(requests.get(self.base + path, timeout=30,
                                       headers={"Cookie": f"session={self.cookie}"}))

    def post(self, path: str, data: dict[str, str],
             files: dict[str, tuple[str, bytes]] | None = None) -> requests.Response:
        return self._keep(requests.post(self.base + path, data=data, files=files, timeout=60,
                                        allow_redirects=False,
                                        headers={"Cookie": f"session={self.cookie}"}))

    def form(self, page: str, path: str, data: dict[str, str],
             files: dict[str, tuple[str, bytes]] | None = None) -> requests.Response:
        token = CSRF.search(self.get(page).text)
        assert token
        return self.post(path, {**data, "csrf_token": token.group(1)}, files)


def control_character(hotline: fleet.Server, database: str, ana: Operator,
                      ben: Operator) -> list[Row]:
    page = "/console/prompts/fr/greeting"
    refused = ana.form(page, page, {"text": "%(hotline)s\x0b : aide gratuite. Urgence : "
                                             "%(emergency)s", "action": "save"})
    said = "U+000B (LINE TABULATION" in refused.text
    rows = [Row("U+000B in a French `greeting` draft", "saved, approved, published",
                f"refused at save ({refused.status_code}, the character and its place named: "
                f"{said})")]
    # A text stored with it before this release (written into the database directly).
    import psycopg

    source = "%(hotline)s: free, confidential help. To talk to someone, stay on the line. " \
             "In danger? Hang up and call %(emergency)s."
    with psycopg.connect(libpq_url(postgres_url(database)),
                         autocommit=True) as connection:
        for prompt, text, src in (
                ("greeting", "%(hotline)s\x0b : aide gratuite. Urgence : %(emergency)s.", source),
                ("sms.ack.discreet", "Merci\x0c, message reçu. Urgence : %(emergency)s.",
                 "Thank you, your message was received. We will answer here. Urgent: "
                 "%(emergency)s.")):
            connection.execute(
                "INSERT INTO console_prompt_texts (hotline, lang, prompt_id, source_hash, text,"
                " state, author, created_at, approved_by, approved_at) VALUES ('luxembourg', "
                "'fr', %s, %s, %s, 'approved', 'old', now(), 'older', now())",
                (prompt, hashlib.sha256(src.encode()).hexdigest(), text))
    time.sleep(31)  # every worker refreshes what callers hear within 30 s
    parsed, relayed = 0, 0
    for i in range(4):
        status, body, _ = hotline.post("/voice", {"CallSid": f"CAcc{i}", "From": "+352621123456",
                                                  "To": fleet.HOTLINE, "FromCountry": "LU"})
        try:
            ET.fromstring(body)
            parsed += status == 200
        except ET.ParseError:
            pass
        status, body, _ = hotline.post("/sms", {"MessageSid": f"SMcc{uuid.uuid4().hex}",
                                                "From": "+33612345678", "To": fleet.HOTLINE,
                                                "Body": "Bonjour, on a pris mon passeport, "
                                                        "aidez-moi s'il vous plaît"})
        try:
            root = ET.fromstring(body)
            relayed += any(m.get("to") for m in root.iter("Message"))
        except ET.ParseError:
            pass
    said = "removed 1 character(s) XML forbids" in hotline.log.read_text()
    rows.append(Row("the same characters already stored: `/voice` to Luxembourg callers",
                    "4 of 4 not well-formed (Twilio error 12100)",
                    f"{parsed} of 4 well-formed; the log says what was removed: {said}"))
    rows.append(Row("… and French free texts (their relay is in that document)",
                    "4 of 4 unparseable: texts lost", f"{relayed} of 4 relayed"))
    return rows


def speech(seconds: float = 1.5) -> bytes:
    """A WAV a take could be: half a second of silence, a sweeping tone, half a second."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "take.wav"
        subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(out), "synth",
                        f"{seconds}", "sine", "300-500", "vol", "0.25", "pad", "0.5", "0.5"],
                       check=True)
        return out.read_bytes()


def audio_after_publishing(hotline: fleet.Server, ana: Operator, ben: Operator) -> list[Row]:
    rows = []
    results = []
    for attempt in range(4):
        page = "/console/prompts/uk/main.talk"
        ana.form(page, page + "/recording", {"how": "upload"},
                 {"audio": ("take.wav", speech(1.2 + attempt * 0.1))})
        take = TAKE.search(ben.get(page).text)
        assert take, "no take waiting"
        wav = ben.get(f"/console/recordings/{take.group(1)}.wav").content
        ben.form(page, page + "/recording/approve", {"take": take.group(1)})
        # The URL the approving worker now puts in callers' TwiML (by the take's hash).
        url = f"/prompts/uk/main.talk.wav?v={hashlib.sha256(wav).hexdigest()[:12]}"
        fetched = [requests.get(hotline_url(hotline) + url, timeout=10,
                                headers={"Connection": "close"}) for _ in range(8)]
        statuses = [answer.status_code if answer.content == wav or answer.status_code != 200
                    else 200_000 for answer in fetched]  # 200_000: served, but another take
        results.append(f"{statuses.count(404)} 404, {statuses.count(200_000)} other take")
    rows.append(Row("audio fetched 8 times right after publishing (4 runs, 2 workers)",
                    "404 in 3 of 4 runs, up to 6 of 8 fetches", "; ".join(results)))
    return rows


def hotline_url(hotline: fleet.Server) -> str:
    return f"http://127.0.0.1:{hotline.port}"


def send_big(port: int, path: str, size: int) -> tuple[int, float, int]:
    """(status, seconds, bytes sent before the server answered) for a body of `size`."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    started = time.monotonic()
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode())
    sent, chunk, status = 0, b"x" * 65536, 0
    sock.settimeout(0.0)
    try:
        while sent < size:
            try:
                head = sock.recv(64)
                if head:
                    status = int(head.split()[1])
                    break
            except BlockingIOError:
                pass
            try:
                sock.settimeout(5)
                sent += sock.send(chunk[: min(len(chunk), size - sent)])
                sock.settimeout(0.0)
            except OSError:
                break
        if not status:
            sock.settimeout(10)
            head = sock.recv(64)
            status = int(head.split()[1]) if head else 0
    except (OSError, ValueError, IndexError):
        pass
    finally:
        sock.close()
    return status, time.monotonic() - started, sent


def limits(hotline: fleet.Server, ana: Operator, spool: Path) -> list[Row]:
    rows = []
    before = sum(f.stat().st_size for f in spool.rglob("*") if f.is_file())
    for path, size, was in (("/console/login", 30 * 2**20, "read, answered 400"),
                            ("/console/login", 300 * 2**20, "written to disk, then refused"),
                            ("/voice", 300 * 2**20, "written to disk, then refused"),
                            ("/sms", 300 * 2**20, "written to disk, then refused")):
        status, seconds, sent = send_big(hotline.port, path, size)
        rows.append(Row(f"{size // 2**20} MB body to `{path}`", was,
                        f"{status} in {seconds:.2f} s, {sent // 1024} KB accepted by the "
                        "socket before the answer"))
    after = sum(f.stat().st_size for f in spool.rglob("*") if f.is_file())
    rows.append(Row("spooled to the server's temporary folder by those four", "up to 300 MB",
                    f"{(after - before) // 1024} KB"))
    with tempfile.TemporaryDirectory() as folder:
        bomb = Path(folder) / "long.flac"
        subprocess.run(["sox", "-D", "-n", "-r", "44100", "-c", "2", "-b", "16", str(bomb),
                        "synth", "2700", "sine", "440", "vol", "0"], check=True)
        eight = Path(folder) / "eight.wav"
        (Path(folder) / "speech.wav").write_bytes(speech())
        subprocess.run(["sox", str(Path(folder) / "speech.wav"), "-c", "8", str(eight)],
                       check=True)
        rss_before = max(rss(pid) for pid in hotline.workers())
        page = "/console/prompts/lb/main.talk"
        answers = []
        for _ in range(3):
            answers.append(ana.form(page, page + "/recording", {"how": "upload"},
                                    {"audio": ("long.flac", bomb.read_bytes())}))
        message = "lasts 45 minutes" in ana.get(page).text
        grew = max(rss(pid) for pid in hotline.workers()) - rss_before
        rows.append(Row(f"a {bomb.stat().st_size // 1024} KB FLAC that decodes to 45 minutes "
                        "of stereo, 3 times", "the web process grew 1,000 MB (2.6 GB for 3)",
                        f"refused from its header ({message}); workers grew {grew} MB"))
        eight_answer = ana.form(page, page + "/recording", {"how": "upload"},
                                {"audio": ("eight.wav", eight.read_bytes())})
        rows.append(Row("an 8-channel WAV (WAVE_FORMAT_EXTENSIBLE)", "500",
                        f"{eight_answer.status_code} (a take waiting for approval)"))
    return rows


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def pins(tmp: Path) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            with fleet.server(f"sqlite:///{folder}/x.sqlite3", tmp, workers=1, threads=2,
                              STAFF_RECORDING_PIN="7"):
                started = "started"
        except RuntimeError as exc:
            started = "refused to start: " + ("STAFF_RECORDING_PIN must be 6 digits"
                                              in str(exc)).__str__()
    rows.append(Row("`STAFF_RECORDING_PIN=7`", "accepted at start", started))
    return rows


def store_down(tmp: Path) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/x.sqlite3"
        cli(url, "db", "upgrade")
        cli(url, "operators", "add", "ana", "--password", PASSWORDS["ana"])
        with fleet.server(url, tmp, workers=2, threads=4, STAFF_RECORDING_PIN="246813",
                          RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0") as hotline:
            staff = "+352621351884"
            _, asked, _ = hotline.post("/voice/staff", {"From": staff, "CallSid": "CApin"})
            action = re.search(r'action="([^"]+)"', asked)
            assert action, asked
            pin_path = action.group(1).replace("&amp;", "&").removeprefix(fleet.BASE)
            for attempt in range(22):
                hotline.post(pin_path, {"Digits": f"{900000 + attempt}", "From": staff,
                                        "CallSid": "CApin"})
            _, body, _ = hotline.post(pin_path, {"Digits": "246813", "From": staff,
                                                 "CallSid": "CApin"})
            let_in = "language" in body.lower() and "not right" not in body
            page = requests.get(hotline_url(hotline) + "/console/login", timeout=30)
            token = CSRF.search(page.text)
            answer = requests.post(hotline_url(hotline) + "/console/login", timeout=30,
                                   headers={"Cookie": f"session={page.cookies.get('session')}"},
                                   data={"name": "ana", "password": PASSWORDS["ana"],
                                         "csrf_token": token.group(1) if token else ""})
    return [Row("Redis down: 22 wrong recording PINs, then the right one",
                "not counted: the right one got in", f"let in: {let_in}"),
            Row("Redis down: sign-in", "500", f"{answer.status_code} (try again shortly)")]


@contextmanager
def rig(tmp: Path, spool: Path) -> Iterator[tuple[fleet.Server, str]]:
    database = fleet.create_database()
    url = postgres_url(database)
    shared = RedisKeys(REDIS_URL, f"ivrbench-safety-{uuid.uuid4().hex[:12]}")
    for name, password in PASSWORDS.items():
        cli(url, "operators", "add", name, "--password", password)
    try:
        with fleet.server(url, tmp, workers=2, threads=8, TMPDIR=str(spool),
                          **shared.settings()) as hotline:
            yield hotline, database
    finally:
        shared.delete()
        fleet.drop_database(database)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp, spool = Path(folder), Path(folder) / "spool"
        spool.mkdir()
        rows: list[Row] = []
        with rig(tmp, spool) as (hotline, database):
            base = hotline_url(hotline)
            ana, ben = Operator(base, "ana"), Operator(base, "ben")
            rows += control_character(hotline, database, ana, ben)
            rows += audio_after_publishing(hotline, ana, ben)
            rows += limits(hotline, ana, spool)
        rows += pins(tmp)
        rows += store_down(tmp)
    print("| measured | before (issue #22) | now |\n|---|---|---|")
    for row in rows:
        print(row.markdown())


if __name__ == "__main__":
    main()
