"""The staff door: a helpline phone calling the hotline's own number may enter the recording
PIN; every other caller hears exactly what they heard before, at once."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.console.progress import to_record
from ivr.storage.db import Event, make_engine
from ivr.voice.simulate import parse_twiml
from ivr.voice.staff_door import PIN_TIMEOUT, helpline_phones, is_helpline_phone
from tests.conftest import CALLER, PUBLIC_BASE_URL, twilio_post
from tests.console.test_console_phone_line import PIN, line
from tests.twilio_world import Call, World

HELPLINE_MOBILE = "+352621351884"  # a phone INFOTRAITE's destination rings (the profile's)
NOT_A_HELPLINE_PHONE = ["+352621351885", CALLER, "anonymous", "", "client:browser", "+1"]


def post(client: FlaskClient, path: str, caller: str, **form: str) -> str:
    response = twilio_post(client, path.removeprefix(PUBLIC_BASE_URL),
                           {"From": caller, **form})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def door_app(make_app: Callable[..., Flask]) -> Flask:
    return line(make_app, [])


def arrivals(app: Flask) -> int:
    app.extensions["events"].flush()
    with Session(make_engine(app.config["DATABASE_URL"])) as db:
        return len(db.scalars(select(Event).where(Event.kind == "arrived")).all())


def test_the_helpline_phones_are_the_numbers_its_person_line_rings(app: Flask) -> None:
    phones = helpline_phones(app.extensions["hotline"].profile)
    assert phones == {HELPLINE_MOBILE, "+352621316919", "+35227365646"}  # not the police
    # Compared after normalising: the national and international ways of writing it.
    for written in (HELPLINE_MOBILE, "00352621351884", "+352 621 351 884", "621 351 884"):
        assert is_helpline_phone(phones, written, "LU"), written
    for other in NOT_A_HELPLINE_PHONE:
        assert not is_helpline_phone(phones, other, "LU"), other


def test_a_helpline_phone_hears_the_door_in_the_staff_language(
        make_app: Callable[..., Flask]) -> None:
    app = door_app(make_app)
    text = post(app.test_client(), "/voice", HELPLINE_MOBILE)
    door = parse_twiml(text)
    assert door.gather_action == f"{PUBLIC_BASE_URL}/voice/staff-door"
    assert f'timeout="{PIN_TIMEOUT}"' in text and 'finishOnKey="#"' in text
    assert 'actionOnEmptyResult="true"' in text
    staff, used = app.extensions["hotline"].prompter.text("fr", "staff.recording_pin")
    assert used == "fr" and staff.startswith("Équipe : composez le code")
    assert [(h.kind, h.text, h.language) for h in door.heard] == [("say", staff, "fr-FR")]
    assert f"<Redirect method=\"POST\">{PUBLIC_BASE_URL}/voice/staff-door</Redirect>" \
        in text  # the end: on
    assert arrivals(app) == 0  # not yet a hotline call


def test_kosovo_staff_hear_the_door_in_albanian(make_app: Callable[..., Flask]) -> None:
    app = make_app("kosovo", STAFF_RECORDING_PIN=PIN)
    [phone] = sorted(helpline_phones(app.extensions["hotline"].profile))[:1]
    door = parse_twiml(post(app.test_client(), "/voice", phone))
    assert door.gather_action == f"{PUBLIC_BASE_URL}/voice/staff-door"
    [heard] = door.heard
    assert heard.kind == "play" and heard.text.startswith(
        f"{PUBLIC_BASE_URL}/prompts/sq/staff.recording_pin.wav")


def test_the_right_pin_at_the_door_walks_through_the_recording_line(
        make_app: Callable[..., Flask]) -> None:
    app = door_app(make_app)
    client = app.test_client()
    text = post(client, "/voice/staff-door", HELPLINE_MOBILE, Digits=PIN)
    assert "Enter the number of the language, then hash." in text and "Ukrainian, 5" in text
    menu = parse_twiml(text)
    assert menu.gather_action and menu.gather_action.startswith(
        f"{PUBLIC_BASE_URL}/voice/staff/language?t=")
    first = post(client, menu.gather_action, HELPLINE_MOBILE, Digits="5")
    assert re.search(r"Prompt 1 of \d+: greeting\.", first)
    assert arrivals(app) == 0  # a recording call, not a hotline call


def test_silence_or_a_wrong_pin_goes_on_into_the_hotline_as_any_caller_hears_it(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    app = door_app(make_app)
    client = app.test_client()
    app.config["STAFF_RECORDING_PIN"] = ""  # the door closed: what this phone hears anyway
    plain = post(client, "/voice", HELPLINE_MOBILE)
    assert "staff-door" not in plain and "greeting" not in plain
    app.config["STAFF_RECORDING_PIN"] = PIN
    with caplog.at_level(logging.DEBUG):
        for digits in ("", "1111", PIN + "0", "*"):
            assert post(client, "/voice/staff-door", HELPLINE_MOBILE, Digits=digits) == plain
        assert post(client, "/voice/staff-door", HELPLINE_MOBILE) == plain  # the Redirect
    assert HELPLINE_MOBILE not in caplog.text and HELPLINE_MOBILE[1:] not in caplog.text
    assert "wrong recording PIN" in caplog.text
    assert arrivals(app) == 1 + 5  # each went on into the hotline, noted as it did


@pytest.mark.parametrize("caller", NOT_A_HELPLINE_PHONE)
def test_a_caller_hears_exactly_what_they_heard_before(make_app: Callable[..., Flask],
                                                        caller: str) -> None:
    app = door_app(make_app)
    client = app.test_client()
    app.config["STAFF_RECORDING_PIN"] = ""
    before = post(client, "/voice", caller)
    app.config["STAFF_RECORDING_PIN"] = PIN
    assert post(client, "/voice", caller) == before
    assert "staff-door" not in before
    # And the door itself lets no one else in, even with the right PIN.
    assert post(client, "/voice/staff-door", caller, Digits=PIN) == before


def test_a_whole_call_from_a_helpline_phone_through_twilio(
        make_app: Callable[..., Flask]) -> None:
    takes: list[str] = []
    app = line(make_app, takes)
    client = app.test_client()

    def from_the_helpline(url: str, form: dict[str, str]) -> tuple[int, str]:
        return 200, post(client, url, HELPLINE_MOBILE, **form)

    twilio = World(from_the_helpline)

    def call(inputs: list[str]) -> Call:
        placed = twilio.call(PUBLIC_BASE_URL + "/voice", inputs, caller=HELPLINE_MOBILE)
        twilio.run()
        return placed

    recorded = call([PIN, "5", "4", "1"])
    heard = " ".join(recorded.heard)
    assert re.search(r"Prompt 1 of (\d+): greeting\..*Prompt 2 of \1: language option\.", heard)
    assert recorded.recorded == [4] and takes == ["RE0"]
    silent = call(["", ""])  # stays on the line: the hotline's greeting, in full
    greeting, _ = app.extensions["hotline"].prompter.text("fr", "greeting",
                                                          {"hotline": "INFOTRAITE"})
    assert silent.menus[0] == f"{PUBLIC_BASE_URL}/voice/staff-door"
    assert silent.menus[1].startswith(f"{PUBLIC_BASE_URL}/voice/language")
    assert any(said.startswith(greeting[:30]) for said in silent.heard)


def test_the_door_prompt_is_for_staff_never_in_a_recording_queue(app: Flask) -> None:
    hotline = app.extensions["hotline"]
    for lang in ("fr", "uk", "lb"):
        assert "staff.recording_pin" not in to_record(hotline, lang)
