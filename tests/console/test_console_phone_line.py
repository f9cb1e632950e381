"""The staff recording line, driven through its webhooks as Twilio would (signed requests)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from ivr.console.models import PromptRecording
from ivr.console.phone_line import wrong_pins_of
from ivr.console.recording import approve_recording
from ivr.console.store import session_scope
from ivr.security import FailureLimit
from ivr.voice.simulate import Step, parse_twiml
from tests.conftest import PUBLIC_BASE_URL, twilio_post
from tests.console.conftest import OTHER
from tests.console.test_console_recordings import speech_like
from tests.services import RedisKeys

PIN = "246813"
RECORDING_URL = "https://api.twilio.com/2010-04-01/Accounts/ACtest/Recordings/RE0001"


def step(client: FlaskClient, url: str, **form: str) -> tuple[Step, str]:
    path = url.removeprefix(PUBLIC_BASE_URL)
    response = twilio_post(client, path, form)
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    return parse_twiml(text), text


def line(make_app: Callable[..., Flask], takes: list[str]) -> Flask:
    def fetch(app: Flask, sid: str) -> bytes:
        takes.append(sid)
        return speech_like()

    return make_app(STAFF_RECORDING_PIN=PIN, STAFF_RECORDING_FETCH=fetch)


def test_a_wrong_pin_hangs_up(make_app: Callable[..., Flask]) -> None:
    client = line(make_app, []).test_client()
    asked, text = step(client, "/voice/staff")
    assert "Enter your PIN, then press hash." in text
    assert asked.gather_action is not None
    refused, text = step(client, asked.gather_action, Digits="1111")
    assert "That PIN is not right. Goodbye." in text and refused.hangup


def test_the_line_is_off_without_a_pin_and_refuses_unsigned_requests(
        make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    _, text = step(client, "/voice/staff")
    assert "The recording line is not set up. Goodbye." in text
    assert client.post("/voice/staff", data={"CallSid": "CA1"}).status_code == 403


def test_record_keep_and_redo_by_phone(make_app: Callable[..., Flask]) -> None:
    takes: list[str] = []
    app = line(make_app, takes)
    client = app.test_client()
    asked, _ = step(client, "/voice/staff")
    assert asked.gather_action
    menu, text = step(client, asked.gather_action, Digits=PIN)
    assert "Ukrainian, 5" in text and "Luxembourgish, 3" in text
    assert menu.gather_action
    first, text = step(client, menu.gather_action, Digits="5")
    found = re.search(r"Prompt 1 of (\d+): greeting\.", text)
    assert found and int(found.group(1)) > 30, text
    total = found.group(1)
    assert 'voice="Google.uk-UA-Standard-A"' in text  # the text to read, in Ukrainian
    assert first.record_action
    heard, text = step(client, first.record_action, RecordingSid="RE0001",
                       RecordingUrl=RECORDING_URL, RecordingDuration="4")
    assert f"<Play>{RECORDING_URL}</Play>" in text and "Press 1 to keep it" in text
    assert heard.gather_action
    redo, text = step(client, heard.gather_action, Digits="2")
    assert f"Prompt 1 of {total}: greeting." in text and redo.record_action
    heard, _ = step(client, redo.record_action, RecordingSid="RE0002",
                    RecordingUrl=RECORDING_URL, RecordingDuration="4")
    assert heard.gather_action
    kept, text = step(client, heard.gather_action, Digits="1")
    assert "Kept. It waits for another operator's approval in the console." in text
    assert f"Prompt 2 of {total}: language option." in text
    assert takes == ["RE0002"]  # only the take that was kept is fetched
    with app.app_context(), session_scope() as db:
        [row] = db.query(PromptRecording).all()
        assert (row.lang, row.prompt_id, row.how, row.author, row.state, row.active) == (
            "uk", "greeting", "phone", "phone line", "draft", False)
    # Callers hear nothing new until a person approves the take in the console.
    app.extensions["published"].refresh(app.extensions["events"].engine)
    said = app.extensions["hotline"].prompter.utterance("uk", "greeting")
    assert said.audio_url is None
    with app.app_context(), session_scope() as db:
        approve_recording(db, app.extensions["hotline"], OTHER, row.id)
    app.extensions["published"].refresh(app.extensions["events"].engine)
    said = app.extensions["hotline"].prompter.utterance("uk", "greeting")
    assert said.audio_url and said.audio_url.startswith("/prompts/uk/greeting.wav?v=")


def test_twenty_wrong_pins_an_hour_close_both_ways_in(make_app: Callable[..., Flask]) -> None:
    """Counted for the hotline, not per number (a From number can be faked)."""
    client = line(make_app, []).test_client()
    asked, _ = step(client, "/voice/staff")
    assert asked.gather_action
    for attempt in range(20):
        _, text = step(client, asked.gather_action, Digits=f"{9000 + attempt}")
        assert "That PIN is not right. Goodbye." in text
    _, text = step(client, asked.gather_action, Digits=PIN)  # the right one, too late
    assert "That PIN is not right. Goodbye." in text
    door = twilio_post(client, "/voice/staff-door", {"Digits": PIN, "From": "+352621351884"})
    assert "Enter the number of the language" not in door.get_data(as_text=True)


def test_silence_and_the_right_pin_are_not_wrong_guesses(make_app: Callable[..., Flask]) -> None:
    client = line(make_app, []).test_client()
    asked, _ = step(client, "/voice/staff")
    assert asked.gather_action
    for _ in range(25):
        step(client, asked.gather_action, Digits="")
        step(client, asked.gather_action, Digits=PIN)
    _, text = step(client, asked.gather_action, Digits=PIN)
    assert "Enter the number of the language, then hash." in text


def test_hotlines_sharing_one_redis_count_apart(make_app: Callable[..., Flask],
                                                 shared_store: RedisKeys) -> None:
    """REDIS_KEY_PREFIX: each hotline's (or test run's) counts stay its own."""
    other = f"{shared_store.prefix}-other"
    lu_1, lu_2 = (wrong_pins_of(make_app(**shared_store.settings())) for _ in range(2))
    xk = wrong_pins_of(make_app(RATELIMIT_STORAGE_URI=shared_store.url, REDIS_KEY_PREFIX=other))
    for _ in range(20):
        lu_1.failed("staff")
    assert not lu_2.may_try("staff")  # the same hotline's other worker
    assert xk.may_try("staff")
    assert all(key.startswith(shared_store.prefix) for key in shared_store.keys())


def test_wrong_pins_are_counted_once_for_every_worker(shared_store: RedisKeys) -> None:
    first, second = (FailureLimit("recording-pin", "3 per hour", shared_store.url,
                                  key_prefix=shared_store.prefix) for _ in range(2))
    for _ in range(3):
        assert second.may_try("lu")
        first.failed("lu")
    assert not second.may_try("lu") and not first.may_try("lu")
    assert second.may_try("xk")  # another hotline's count
