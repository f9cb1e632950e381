"""Shared fixtures: an app per profile, a fixed clock, and requests signed as Twilio signs them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from ivr import create_app
from ivr.content.i18n import LOCALES_DIR, Catalogs
from ivr.content.profile import PROFILES_DIR
from ivr.storage.db import create_tables
from tests.services import RedisKeys, redis_keys

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://hotline.example.org"
PROFILES = {"luxembourg": PROFILES_DIR / "luxembourg.toml",
            "kosovo": PROFILES_DIR / "kosovo.toml"}
# Monday 23 November 2026, 10:00 in Luxembourg: INFOTRAITE's office and the police line open.
OFFICE_HOURS = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Luxembourg"))
CALLER = "+380501234567"  # a Ukrainian mobile; must never reach a log or the database
HOTLINE = "+352200000001"


@dataclass
class Clock:
    """A clock the tests set; the engine reads it on every step."""

    now: datetime = OFFICE_HOURS

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str, zone: str = "Europe/Luxembourg") -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def catalogs() -> Catalogs:
    """Every catalog in locales/, read once for the whole session and shared by its apps."""
    return Catalogs(sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir()))


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every table, made once: each test's database is a copy of it
    (copying takes a millisecond, making the tables 50)."""
    path = tmp_path_factory.mktemp("template") / "empty.sqlite3"
    create_tables(f"sqlite:///{path}")
    return path


@pytest.fixture
def make_app(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, catalogs: Catalogs,
             template_database: Path) -> Callable[..., Flask]:
    """Build an app for a profile, with a signing token and a database in tmp_path.

    Local mode on purpose (keys made in instance/, the SMS outbox); signatures are still
    checked because the token is set. LOCAL_MODE=False tests production's refusals.
    """

    def build(profile: str = "luxembourg", **config: Any) -> Flask:
        settings: dict[str, Any] = {
            "TESTING": True,
            "LOCAL_MODE": True,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_ACCOUNT_SID": "",
            "HOTLINE_PROFILE": str(PROFILES.get(profile, profile)),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "SECRET_KEY": "test-secret",
            "CLOCK": clock,
            # argon2 at its cheapest (honoured only with TESTING): tests hash in 0.1 ms.
            "CONSOLE_PASSWORD_COST": "cheapest",
            "CATALOGS": catalogs,
            # The console's routes cost an app 40 ms to compile: only the console's tests
            # and those marked `console` get them (elsewhere /console is a loud 404).
            "CONSOLE_ENABLED": request.path.parent.name == "console"
            or request.node.get_closest_marker("console") is not None,
            # The console in English, whatever the profile's staff language (the tests of
            # the console's languages set it back to None).
            "CONSOLE_LANGUAGE": "en",
        }
        settings.update(config)
        database = tmp_path / "test.sqlite3"
        copied = settings["DATABASE_URL"] == f"sqlite:///{database}" and not database.exists()
        if copied:
            shutil.copyfile(template_database, database)
        app = create_app(settings)
        if app.config["DATABASE_URL"].startswith("sqlite") and not copied:
            create_tables(app.config["DATABASE_URL"])  # another file, or a second app
        return app

    return build


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture(params=sorted(PROFILES))
def any_app(request: pytest.FixtureRequest, make_app: Callable[..., Flask]) -> Flask:
    """The app once per shipped profile."""
    return make_app(request.param)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def sign(path: str, form: Mapping[str, str], token: str = TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for a POST to PUBLIC_BASE_URL + path."""
    return RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, dict(form))


def twilio_post(client: FlaskClient, path: str, form: Mapping[str, str] | None = None,
                **kwargs: Any) -> TestResponse:
    """POST a webhook as Twilio does: form-encoded and signed (`path` may be the absolute
    URL a TwiML document gave)."""
    path = path.removeprefix(PUBLIC_BASE_URL)
    data = {"CallSid": "CAtest", "From": CALLER, "To": HOTLINE, **(form or {})}
    headers = {"X-Twilio-Signature": sign(path, data)}
    return client.post(path, data=data, headers=headers, **kwargs)


@pytest.fixture
def post(client: FlaskClient) -> Callable[..., TestResponse]:
    def send(path: str, form: Mapping[str, str] | None = None, **kwargs: Any) -> TestResponse:
        return twilio_post(client, path, form, **kwargs)

    return send


def twilio_world(app: Flask, phones: Mapping[str, Any] | None = None, default: Any = None,
                 clock: Clock | None = None, world: Any = None) -> Any:
    """tests/twilio_world.py's Twilio, driving `app` through its test client in virtual time
    (the app's clock moves with it); each answer is closed as a server closes it. `world`:
    one made before the app (its REST API given to the app as RING_API)."""
    from tests.twilio_world import NO_ANSWER, VirtualTime, World

    client = app.test_client()

    def post(url: str, form: dict[str, str]) -> tuple[int, str]:
        response = twilio_post(client, url, form)
        body = response.get_data(as_text=True)
        response.close()  # runs what the app does after answering, as gunicorn would
        return response.status_code, body

    if world is None:
        return World(post, dict(phones or {}), default or NO_ANSWER, VirtualTime(clock))
    world.post_raw = post
    world.phones.update(phones or {})
    world.default = default or world.default
    return world


@pytest.fixture
def shared_store() -> Iterator[RedisKeys]:
    """A shared store for limits and rings, as production has: the test Redis, under a key
    prefix of this test's own (its keys deleted afterwards)."""
    with redis_keys() as keys:
        yield keys
