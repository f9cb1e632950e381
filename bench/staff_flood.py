"""Issue #23 part 1 measured through the Procfile's gunicorn: a flood of faked staff
replies does not silence the helpline phone, and every refused reply tells it why.

    python3 bench/staff_flood.py

Production settings, two workers, PostgreSQL and Redis (tests/services.py's servers, a
database and key prefix of its own). A person texts; 50 replies with the first helpline
phone's From and a wrong PIN follow (as a faker sends them: no case code known); then the
phone's real reply. Then, from the second phone, one reply for each kind of mistake. Prints
a Markdown table, and what the log and the console's Activity page show.
"""

from __future__ import annotations

import re
import sys
import tempfile
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import content_safety as safety  # noqa: E402
import nothing_lost as fleet  # noqa: E402

from ivr.storage.sms_store import CODE_ALPHABET  # noqa: E402
from tests.services import REDIS_URL, RedisKeys, libpq_url, postgres_url  # noqa: E402

PIN = "48291357"  # nothing_lost.server's STAFF_REPLY_PINS
PERSON, PERSON_2, PERSON_3 = "+380501234567", "+380501234568", "+380501234569"
CODE = re.compile(r"#(\w{8}) \[")


def made_up_code(n: int) -> str:
    """A well-formed case code no case has (a faker knows none)."""
    size = len(CODE_ALPHABET)
    return "ZZZZZ" + "".join(CODE_ALPHABET[(n // size ** i) % size] for i in range(3))


def sms(hotline: fleet.Server, sender: str, body: str) -> list[tuple[str, str]]:
    """(to, text) of every <Message> answered; to is "" for the answer to the sender."""
    status, text, _ = hotline.post("/sms", {"MessageSid": f"SM{uuid.uuid4().hex}",
                                            "From": sender, "To": fleet.HOTLINE, "Body": body})
    assert status == 200, (status, text)
    return [(m.get("to") or "", m.text or "") for m in ET.fromstring(text).iter("Message")]


def open_case(hotline: fleet.Server, person: str) -> str:
    relayed = sms(hotline, person, "I need help, they took my passport")
    found = CODE.search(relayed[0][1])
    assert found, relayed
    return found.group(1)


def shown(answers: list[tuple[str, str]]) -> str:
    if not answers:
        return "no answer"
    return "; ".join(f"to the person: “{text}”" if to.endswith(("4567", "4568", "4569"))
                     else f"“{text}”" for to, text in answers)


def main() -> None:
    database = fleet.create_database()
    url = postgres_url(database)
    shared = RedisKeys(REDIS_URL, f"ivrbench-flood-{uuid.uuid4().hex[:12]}")
    safety.cli(url, "operators", "add", "ana", "--password", safety.PASSWORDS["ana"])
    rows: list[tuple[str, str]] = []
    try:
        with tempfile.TemporaryDirectory() as folder, \
                fleet.server(url, Path(folder), workers=2, threads=8,
                             **shared.settings()) as hotline:
            phone, other = fleet.STAFF
            code = open_case(hotline, PERSON)
            answers = [sms(hotline, phone, f"#{made_up_code(n)} 1234{n:04d} call me now")
                       for n in range(50)]
            told = sum(1 for a in answers if a and a[0][1].startswith("PIN faux"))
            notices = [a[0][1] for a in answers if a and a[0][1].startswith("Beaucoup")]
            silent = sum(1 for a in answers if not a)
            reached = sum(1 for a in answers for to, _ in a if to == PERSON)
            rows.append(("50 faked replies (From: phone 1, wrong PIN, made-up codes)",
                         f"{told} answered “wrong or missing PIN”, {len(notices)} notice "
                         f"({notices[0] if notices else '-'}), {silent} unanswered; "
                         f"{reached} reached the person"))
            real = sms(hotline, phone, f"#{code} {PIN} We can help you, call us when safe.")
            rows.append(("then phone 1's real reply", shown(real)))
            # Each kind of mistake, from phone 2.
            closed = open_case(hotline, PERSON_2)
            import psycopg

            with psycopg.connect(libpq_url(url), autocommit=True) as connection:
                connection.execute("UPDATE sms_cases SET state = 'closed' WHERE code = %s",
                                   (closed,))
            stopped = open_case(hotline, PERSON_3)
            sms(hotline, PERSON_3, "ARRÊT")
            for what, body in (
                    ("no case code", f"{PIN} hello"),
                    ("no PIN", f"#{code} hello"),
                    ("wrong PIN", f"#{code} 11111111 hello"),
                    ("no such case (right PIN)", f"#ZZZZZZZZ {PIN} hello"),
                    ("case closed", f"#{closed} {PIN} hello"),
                    ("person opted out", f"#{stopped} {PIN} hello")):
                rows.append((f"phone 2: {what}", shown(sms(hotline, other, body))))
            for n in range(8):  # with "no PIN" and "wrong PIN" above: 10 on this case
                sms(hotline, other, f"#{code} 2222{n:04d} hello")
            rows.append(("phone 2: the right PIN after 10 wrong ones on this case",
                         shown(sms(hotline, other, f"#{code} {PIN} hello"))))
            rows.append(("… and once more", shown(sms(hotline, other, f"#{code} {PIN} hello"))))
            log = hotline.log.read_text()
            flood_lines = [line for line in log.splitlines() if "wrong or missing PIN" in line]
            numbers = [n for n in (*fleet.STAFF, PERSON, PERSON_2, PERSON_3, PIN)
                       if n in log or n.lstrip("+") in log]
            rows.append(("the log", f"{len(flood_lines)} “wrong or missing PIN” warnings, e.g. "
                                    f"“{flood_lines[-1].split('] ')[-1] if flood_lines else ''}”;"
                                    f" numbers or PIN in clear: {numbers or 'none'}"))
            ana = safety.Operator(safety.hotline_url(hotline), "ana")
            page = ana.get("/console/activity?days=7").text
            alert = re.search(r'role="alert">([^<]+)<', page)
            table = re.findall(r'<th scope="row">(refused[^<]*|reached the person)</th>'
                               r"<td>(\d+)</td>", page)
            rows.append(("the console's Activity page",
                         f"“{alert.group(1) if alert else 'no warning'}”; "
                         + ", ".join(f"{label}: {count}" for label, count in table)))
    finally:
        shared.delete()
        fleet.drop_database(database)
    print("| measured | now |\n|---|---|")
    for point, result in rows:
        print(f"| {point} | {result} |")


if __name__ == "__main__":
    main()
