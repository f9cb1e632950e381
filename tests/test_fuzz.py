"""Property tests: whatever arrives at a webhook, voice or SMS, the answer is never a server
error nor the cover for a crashed step."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr import create_app
from ivr.content.profile import PROFILES_DIR
from ivr.storage.db import create_tables
from tests.conftest import TOKEN
from tests.twilio_world import World

ROUTES = ["/voice", "/voice/language", "/voice/menu", "/voice/dialed", "/voice/whisper",
          "/voice/whisper/answer", "/voice/recorded", "/voice/recording", "/voice/status",
          "/voice/fallback", "/voice/ring/wait", "/voice/ring/left", "/voice/ring/leg",
          "/voice/ring/accept", "/voice/ring/taken", "/voice/ring/status"]
SMS = "/sms"
ALL_ROUTES = [*ROUTES, SMS]
QUERY_KEYS = ["l", "n", "r", "w", "p", "s", "d", "t", "x", "m", "h", "c", "u", "o", "g"]
FORM_KEYS = ["Digits", "From", "To", "FromCountry", "CallSid", "DialCallStatus", "DialBridged",
             "RecordingDuration", "RecordingSid", "RecordingUrl", "RecordingStatus",
             "CallStatus", "CallDuration", "ErrorCode", "QueueTime", "QueueResult", "QueueSid",
             "DialCallDuration"]
SMS_FORM_KEYS = ["Body", "From", "To", "MessageSid", "SmsSid", "OptOutType", "AccountSid",
                 "NumMedia", "FromCountry"]
FUZZ = settings(max_examples=150, deadline=None,
                # No timing checks: on a loaded machine (CI, a mutation run) they fail at random.
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

values = st.one_of(st.text(max_size=40), st.text(max_size=5000),
                   st.sampled_from(["", "0", "1", "9", "*", "#", "-1", "99999999999999999999",
                                    "en", "uk", "main", "unanswered", "true", "completed"]))
# What an SMS form carries: real numbers (a person's, the helpline's), keywords, case codes.
sms_values = st.one_of(values, st.sampled_from([
    "+380501234567", "+352621351884", "+352621316919", "+352200000001", "STOP", "START",
    "HELP", "HILFE", "ARR\u00caT", "#ACDE hello", "ACDE", "#", "SM" + "0" * 32]))


@pytest.fixture(scope="module", params=["luxembourg", "kosovo"])
def local_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """Local mode (no token): unsigned loopback requests reach the handlers themselves."""
    tmp = tmp_path_factory.mktemp("fuzz")
    moment = datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Europe/Luxembourg"))
    url = f"sqlite:///{Path(tmp) / 'fuzz.sqlite3'}"
    create_tables(url)  # so that /sms reaches its handler, not only its storage error
    return create_app({"TESTING": True, "LOCAL_MODE": True,
                       "TWILIO_AUTH_TOKEN": "", "SECRET_KEY": "fuzz",
                       "HOTLINE_PROFILE": str(PROFILES_DIR / f"{request.param}.toml"),
                       "DATABASE_URL": url, "NUMBER_ENCRYPTION_KEY": "",
                       "CLOCK": lambda: moment,
                       # Ringing together on: the ring routes reach their store and REST API
                       # (a stand-in whose calls never play out).
                       "RING_API": World(), "TWILIO_REST_CHECK_SECONDS": 0})


@FUZZ
@given(route=st.sampled_from(ROUTES),
       query=st.dictionaries(st.sampled_from(QUERY_KEYS), values, max_size=6),
       form=st.dictionaries(st.sampled_from(FORM_KEYS), values, max_size=8))
def test_any_form_and_query_gets_an_answer(local_app: Flask, route: str, query: dict[str, str],
                                           form: dict[str, str]) -> None:
    response = local_app.test_client().post(f"{route}?{urlencode(query)}", data=form,
                                            environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert_answered(local_app, route, response.status_code, response.get_data(as_text=True))


@pytest.mark.slow  # 10-40 s: each text of a new language loads its model
@FUZZ
@given(query=st.dictionaries(st.sampled_from(QUERY_KEYS), values, max_size=3),
       form=st.dictionaries(st.sampled_from(SMS_FORM_KEYS), sms_values, max_size=9))
def test_any_sms_gets_an_answer(local_app: Flask, query: dict[str, str],
                                form: dict[str, str]) -> None:
    with sms_crashes() as crashed:
        response = local_app.test_client().post(f"{SMS}?{urlencode(query)}", data=form,
                                                environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert_answered(local_app, SMS, response.status_code, response.get_data(as_text=True))
    assert crashed == [], "the SMS handler crashed and answered with its cover"


@contextmanager
def sms_crashes() -> Iterator[list[str]]:
    """The errors /sms caught and covered with an apology (it never shows a 500)."""
    caught: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                caught.append(record.getMessage())

    handler = Catch()
    logger = logging.getLogger("ivr.sms.channel")
    logger.addHandler(handler)
    try:
        yield caught
    finally:
        logger.removeHandler(handler)


def assert_answered(app: Flask, route: str, status: int, body: str) -> None:
    """A real answer: not a 5xx, and not the fallback that covers for a crashed step."""
    assert status in (200, 204), status
    if status == 200:
        assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response')
        if route not in ("/voice/fallback", SMS):
            assert body != app.extensions["hotline"].fallback_twiml, "the step crashed"


@FUZZ
@given(route=st.sampled_from(ALL_ROUTES), body=st.binary(max_size=3000),
       query=st.binary(max_size=200))
def test_bytes_that_are_not_utf8_get_an_answer(local_app: Flask, route: str, body: bytes,
                                                query: bytes) -> None:
    with sms_crashes() as crashed:
        response = local_app.test_client().post(
            f"{route}?{quote(query, safe='=&')}", data=body,
            content_type="application/x-www-form-urlencoded",
            environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert_answered(local_app, route, response.status_code, response.get_data(as_text=True))
    assert crashed == []


# Header values: latin-1 without line breaks (anything else never reaches an app over HTTP).
header_text = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=60)


@FUZZ
@given(route=st.sampled_from(ALL_ROUTES), signature=header_text,
       form=st.dictionaries(st.sampled_from(FORM_KEYS), values, max_size=5))
def test_a_random_signature_is_refused_not_crashed(signed_app: Flask, route: str,
                                                   signature: str, form: dict[str, str]) -> None:
    response = signed_app.test_client().post(route, data=form,
                                             headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


@pytest.fixture(scope="module")
def signed_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    tmp = tmp_path_factory.mktemp("signed")
    return create_app({"TESTING": True, "LOCAL_MODE": True, "TWILIO_AUTH_TOKEN": TOKEN,
                       "SECRET_KEY": "fuzz",
                       "PUBLIC_BASE_URL": "https://hotline.example.org",
                       "DATABASE_URL": f"sqlite:///{Path(tmp) / 'signed.sqlite3'}"})
