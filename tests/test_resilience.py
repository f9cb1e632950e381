"""A caller is never dropped: the fallback, a failing step, a database that is down."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ivr.storage.db import Event, VoiceMessage
from ivr.voice.simulate import parse_twiml
from tests.conftest import CALLER, HOTLINE, twilio_post

DOWN = "postgresql://postgres@127.0.0.1:9/nothing"  # nothing listens on the discard port


def walk(client: FlaskClient, recording_status: int = 204) -> list[str]:
    """A whole call: arrival, Ukrainian, signs, a group, back, a person, nobody, a message.

    The recording callback gets `recording_status`: 503 when the reference was not stored.
    """
    answers = []
    steps = [("/voice", {}), ("/voice/language?p=1&s=uk&r=0&w=0", {"Digits": "6"}),
             ("/voice/menu?l=uk&n=main&r=0&w=0", {"Digits": "2"}),
             ("/voice/menu?l=uk&n=signs&r=0&w=0", {"Digits": "1"}),
             ("/voice/menu?l=uk&n=signs_groups&r=0&w=0", {"Digits": "4"}),
             ("/voice/menu?l=uk&n=signs_violence&r=0&w=0", {"Digits": "*"}),
             ("/voice/menu?l=uk&n=signs_groups&r=0&w=0", {"Digits": "9"}),  # a wrong key
             ("/voice/menu?l=uk&n=signs_groups&r=1&w=0", {"Digits": "0"}),
             ("/voice/dialed?l=uk&d=infotraite&t=0", {"DialCallStatus": "no-answer"}),
             ("/voice/dialed?l=uk&d=infotraite&t=1&o=1", {"DialCallStatus": "no-answer"}),
             ("/voice/dialed?l=uk&d=infotraite&t=1", {"DialCallStatus": "no-answer"}),
             ("/voice/menu?l=uk&n=unanswered&r=0&w=0", {"Digits": "1"}),
             ("/voice/recorded?l=uk", {"RecordingDuration": "9"}),
             ("/voice/whisper?l=uk", {}), ("/voice/whisper/answer?l=uk", {"Digits": "1"})]
    for path, form in steps:
        response = twilio_post(client, path, form)
        assert response.status_code == 200, path
        answers.append(response.get_data(as_text=True))
    for path, expected in [("/voice/status", 204), ("/voice/recording?l=uk", recording_status)]:
        assert twilio_post(client, path, {"CallStatus": "completed", "CallDuration": "80",
                                          "RecordingSid": "RE1", "RecordingUrl": "https://x",
                                          "RecordingStatus": "completed"}).status_code == expected
    return answers


def test_a_database_that_is_down_changes_nothing_for_a_caller(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    healthy = make_app()
    down = make_app(DATABASE_URL=DOWN)
    with caplog.at_level(logging.WARNING):
        assert walk(down.test_client(), 503) == walk(healthy.test_client())
        # The writer thread says it after its own connection attempt, which a busy machine
        # can make slower than one flush's wait.
        deadline = time.monotonic() + 30
        while "could not store" not in caplog.text and time.monotonic() < deadline:
            down.extensions["events"].flush(timeout=1.0)
    assert "could not store" in caplog.text


def test_events_are_anonymous_and_stored_off_the_call_path(app: Flask, client: FlaskClient
                                                           ) -> None:
    walk(client)
    app.extensions["events"].flush()
    engine = create_engine(app.config["DATABASE_URL"])
    with Session(engine) as session:
        events = session.scalars(select(Event)).all()
        messages = session.scalars(select(VoiceMessage)).all()
    kinds = [e.kind for e in events]
    assert kinds.count("arrived") == 1 and "ended" in kinds
    # Where the caller went: each menu they came to hear, once per arrival.
    heard = [e.node for e in sorted(events, key=lambda e: e.id) if e.kind == "menu"]
    assert heard == ["main", "signs", "signs_groups", "signs_violence", "signs_groups",
                     "unanswered"]
    assert {e.outcome for e in events if e.kind == "whisper"} == {"accepted"}
    assert {e.conversation for e in events} and None not in {e.conversation for e in events}
    assert all(e.conversation != "CAtest" for e in events)  # a keyed hash, not the CallSid
    [message] = messages
    assert (message.recording_sid, message.language, message.state) == ("RE1", "uk", "new")
    engine.dispose()


def test_no_number_reaches_the_database_file(app: Flask, client: FlaskClient) -> None:
    walk(client)
    app.extensions["events"].flush()
    data = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).read_bytes()
    for number in (CALLER, HOTLINE, CALLER.lstrip("+"), HOTLINE.lstrip("+")):
        assert number.encode() not in data


def test_the_fallback_dials_the_helpline_from_memory(make_app: Callable[..., Flask],
                                                     tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    from ivr.content.profile import DEFAULT_PROFILE

    profile.write_text(DEFAULT_PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    app = make_app(str(profile), DATABASE_URL=DOWN)
    profile.unlink()  # no profile to parse, no database: the answer is already in memory
    step = parse_twiml(twilio_post(app.test_client(), "/voice/fallback",
                                   {"ErrorCode": "11200"}).get_data(as_text=True))
    assert step.dial_numbers == ["+35227365646", "+352621351884", "+352621316919"]
    assert step.heard and all(h.language for h in step.heard if h.kind == "say")
    assert not step.whisper_url  # the whisper would need this failing app


def test_a_failing_step_answers_with_the_fallback(app: Flask, client: FlaskClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.extensions["hotline"].engine, "press", explode)
    response = twilio_post(client, "/voice/menu?l=en&n=main", {"Digits": "2"})
    assert response.status_code == 200
    # The fallback, showing the helpline the hotline's own number (the call's To).
    assert response.get_data(as_text=True) == app.extensions["hotline"].fallback.twiml(HOTLINE)


def test_any_instance_answers_any_step(make_app: Callable[..., Flask]) -> None:
    """Stateless: a call may move between processes at every step."""
    first, second = make_app().test_client(), make_app().test_client()
    step = parse_twiml(twilio_post(first, "/voice/menu?l=uk&n=main", {"Digits": "2"}).get_data(
        as_text=True))
    on_second = twilio_post(second, step.gather_action or "", {"Digits": "1"})
    on_first = twilio_post(first, step.gather_action or "", {"Digits": "1"})
    assert on_second.data == on_first.data


# The fixture profiles (tests/fixtures/profiles/) differ in name and number of languages:
# /healthz tells a deploy which profile it loaded, whatever the shipped ones hold.
@pytest.mark.parametrize(("profile", "name", "languages"), [
    ("one_step.toml", "One-step fixture", 1),
    ("steps.toml", "Fixture line", 2),
    ("pages.toml", "Pages fixture", 3),
])
def test_health_check_names_the_profile_loaded(make_app: Callable[..., Flask], profile: str,
                                               name: str, languages: int) -> None:
    client = make_app(str(Path(__file__).parent / "fixtures" / "profiles" / profile)
                      ).test_client()
    assert client.get("/healthz").json == {"status": "ok", "hotline": name,
                                           "languages": languages, "local_mode": False,
                                           "ringing": "one after another"}


def test_the_fallback_needs_nothing_from_this_app(any_app: Flask) -> None:
    """Only <Say> and <Dial>: a <Play> or a whisper would fetch from the app that failed."""
    step = parse_twiml(any_app.extensions["hotline"].fallback_twiml)
    assert step.heard and all(h.kind == "say" and h.language and h.voice for h in step.heard)
    assert step.dial_numbers and not step.whisper_url and not step.dial_action
