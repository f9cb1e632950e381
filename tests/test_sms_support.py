"""Helpers the SMS tests share (no tests here): an SMS-ready app and signed SMS posts."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ivr.storage import db
from ivr.voice.simulate import parse_twiml  # noqa: F401  (re-exported for the tests)
from tests.conftest import HOTLINE, sign
from tests.services import create_database, drop_database

PERSON = "+380501234567"  # the same test number as conftest.CALLER
OTHER_PERSON = "+40721234567"
STAFF = "+352621351884"  # the first of Luxembourg's [sms] helpline_numbers
STAFF_2 = "+352621316919"
NUMBER_KEY = Fernet.generate_key().decode()
_sids = itertools.count(1)


def sms_app(make_app: Callable[..., Flask], profile: str = "luxembourg",
            **config: Any) -> Flask:
    """An app with a number key and SMS tables ready (made by create_all; test_storage
    checks that the migrations make the same schema)."""
    config.setdefault("NUMBER_ENCRYPTION_KEY", NUMBER_KEY)
    app = make_app(profile, **config)
    if not app.config["DATABASE_URL"].startswith("sqlite"):  # make_app made SQLite's
        db.create_tables(app.config["DATABASE_URL"])
    return app


def send_sms(client: FlaskClient, body: str, from_: str = PERSON, sid: str | None = None,
             to: str = HOTLINE, **extra: str) -> TestResponse:
    """POST an inbound SMS as Twilio does: form-encoded and signed. The answer is read to
    its end and closed, as a server does (a message counts as handled only then)."""
    data = {"MessageSid": sid or f"SM{next(_sids):032d}", "AccountSid": "ACtest",
            "From": from_, "To": to, "Body": body, **extra}
    return client.post("/sms", data=data, headers={"X-Twilio-Signature": sign("/sms", data)},
                       buffered=True)


def messages(response: TestResponse) -> list[tuple[str | None, str]]:
    """(to, text) of each <Message> in a TwiML answer; to is None for a reply to the sender."""
    import xml.etree.ElementTree as ET

    assert response.status_code == 200, response.get_data(as_text=True)
    root = ET.fromstring(response.get_data())
    return [(m.get("to"), m.text or "") for m in root.iter("Message")]


def case_code(text: str) -> str:
    match = re.match(r"#(\w{8}) \[(\w+)\] ", text)  # CODE_LENGTH: 8
    assert match, text
    return match.group(1)


@contextmanager
def database_on(backend: str, tmp_path: Path, name_hint: str) -> Iterator[str]:
    """A new, empty database on SQLite or on the PostgreSQL test server, dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name_hint}.sqlite3'}"
        return
    url = create_database(name_hint)
    try:
        yield url
    finally:
        drop_database(url)


def close_databases(*apps: Flask) -> None:
    """Close the apps' pooled database connections (PostgreSQL warns of unclosed ones)."""
    for app in apps:
        app.extensions["events"].flush()
        app.extensions["sms_store"].engine.dispose()
        events_engine = getattr(app.extensions["events"], "_engine", None)
        if events_engine is not None:
            events_engine.dispose()


def shared_app(profile: str, directory: Path) -> Flask:
    """An SMS-ready app built once for a module (tests that only read it, or that each
    use their own sender number; see `numbers()`)."""
    from ivr import create_app
    from tests.conftest import PROFILES, PUBLIC_BASE_URL, TOKEN, Clock

    url = f"sqlite:///{directory / f'{profile}.sqlite3'}"
    app = create_app({"TESTING": True, "LOCAL_MODE": True, "TWILIO_AUTH_TOKEN": TOKEN,
                      "TWILIO_ACCOUNT_SID": "",
                      "HOTLINE_PROFILE": str(PROFILES[profile]), "DATABASE_URL": url,
                      "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "SECRET_KEY": "test-secret",
                      "CLOCK": Clock(), "NUMBER_ENCRYPTION_KEY": NUMBER_KEY})
    db.create_tables(url)
    return app


_senders = itertools.count(1000)


def new_sender() -> str:
    """A valid mobile number no other test uses (Ukrainian range, as PERSON)."""
    return f"+38067{next(_senders):07d}"
