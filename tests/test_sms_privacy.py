"""No phone number of a person and no message text reaches the database or the logs.

A whole SMS conversation (keywords, relay, the helpline's reply, a duplicate, STOP, START,
a closed case, a Twilio error, a database that is down) runs on SQLite and on PostgreSQL;
then the database files, every stored row and everything logged are searched for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, text

from ivr.storage.db import make_engine
from tests.conftest import TOKEN
from tests.test_sms_reliability import DOWN, FakeTwilioApi
from tests.test_sms_support import (
    NUMBER_KEY,
    OTHER_PERSON,
    PERSON,
    STAFF,
    case_code,
    close_databases,
    database_on,
    messages,
    send_sms,
    sms_app,
)

TEXTS = ["Zebrawort my employer keeps my passport", "Допоможіть квітникар я не можу піти",
         "Flamingo we will call you at noon", "Marmelade still there", "أنا خائفة جدا تفاحة"]


def needles() -> list[str]:
    numbers = [PERSON, PERSON[1:], "0501234567", "50 123 4567", OTHER_PERSON, OTHER_PERSON[1:],
               "0721234567"]
    return numbers + TEXTS + [word for t in TEXTS for word in t.split() if len(word) > 7]


def conversation(app: Flask, make_app: Callable[..., Flask]) -> None:
    client = app.test_client()
    send_sms(client, "ДОПОМОГА")
    relayed = messages(send_sms(client, TEXTS[1], sid="SMprivacy1"))
    send_sms(client, TEXTS[1], sid="SMprivacy1")  # the duplicate
    code = case_code(relayed[0][1])
    assert messages(send_sms(client, f"#{code} {TEXTS[2]}", from_=STAFF)) == [
        (PERSON, TEXTS[2])]
    send_sms(client, TEXTS[0], from_=OTHER_PERSON)
    send_sms(client, "STOP")
    send_sms(client, f"#{code} {TEXTS[3]}", from_=STAFF)
    send_sms(client, "START")
    app.extensions["sms_store"].close_case(code)
    send_sms(client, f"#{code} {TEXTS[3]}", from_=STAFF)
    send_sms(client, TEXTS[4])
    send_sms(client, "", from_=PERSON)
    assert app.test_cli_runner().invoke(args=["purge"]).exit_code == 0
    # Failure paths log too: a database that is down, Twilio refusing a message.
    down = make_app(DATABASE_URL=DOWN, NUMBER_ENCRYPTION_KEY=NUMBER_KEY)
    send_sms(down.test_client(), TEXTS[0])
    from twilio.rest import Client

    from ivr.sms.outbound import TwilioSender

    api = FakeTwilioApi(refuse=frozenset({PERSON, STAFF}))
    rest = make_app(DATABASE_URL=app.config["DATABASE_URL"], SMS_USE_REST_API=True,
                    NUMBER_ENCRYPTION_KEY=NUMBER_KEY,
                    SMS_SENDER=TwilioSender(Client("AC" + "0" * 32, TOKEN, http_client=api)))
    send_sms(rest.test_client(), TEXTS[0])
    close_databases(app, down, rest)


def stored_rows(url: str) -> str:
    """Every row of every table, as text."""
    engine = make_engine(url)
    try:
        lines = []
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    lines.append(f"{table}: {tuple(row)}")
        return "\n".join(lines)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_on(request.param, tmp_path, "sms_privacy") as url:
        yield url


def test_no_number_or_text_in_the_database_or_logs(
        make_app: Callable[..., Flask], database_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    app = sms_app(make_app, DATABASE_URL=database_url)
    with caplog.at_level(logging.DEBUG):
        conversation(app, make_app)
    rows = stored_rows(database_url)
    assert "sms_cases" in rows and "events" in rows  # the search below has data to search
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    assert "storage failed" in logged and "Twilio refused" in logged
    files = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    for needle in needles():
        assert needle not in rows, needle
        assert needle not in logged, needle
        assert needle.encode() not in files, needle
        assert needle.encode("utf-16-le") not in files, needle
