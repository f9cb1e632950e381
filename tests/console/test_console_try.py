"""Try it: the keypad walks the real webhooks of a sandbox twin, at any hour."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.console.tryit import TRY_CALL_SID, TryState, run
from ivr.storage.db import Event
from tests.console.conftest import console_post

MONDAY_MORNING = "2026-11-23T10:00"
SUNDAY_NIGHT = "2026-11-22T22:00"


def act(client: FlaskClient, **data: str) -> str:
    response = console_post(client, "/console/try", "/console/try", data)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_keypad_walks_to_a_transfer_in_office_hours(console_app: Flask,
                                                    console: FlaskClient) -> None:
    page = act(console, command="start", at=MONDAY_MORNING)
    assert "Now: language menu, page 1" in page
    assert 'lang="fr-FR"' in page and "INFOTRAITE" in page
    page = act(console, command="press", key="2")  # English
    assert "Now: menu main" in page and "To talk to INFOTRAITE now, press 1." in page
    page = act(console, command="press", key="1")
    assert "Ringing +35227365646" in page  # office hours: the landline first
    assert "The person who answers hears first" in page  # the whisper, in French
    assert re.search(r'hears first:</p>\s*<ol class="heard"><li><span lang="fr-FR">\w+', page)
    assert "The person answers and presses 1" in page
    page = act(console, command="accept")
    assert "the caller is put through" in page and "The call has ended." in page
    assert "call starts → pressed 2 → pressed 1 → accepted" in page
    again = console_post(console, "/console/try", "/console/try",
                         {"command": "press", "key": "1"})
    assert again.status_code == 400 and "Start a call first" in again.get_data(as_text=True)


def test_clock_control_tries_out_of_hours_routing(console_app: Flask,
                                                  console: FlaskClient) -> None:
    act(console, command="start", at=SUNDAY_NIGHT)
    act(console, command="press", key="2")
    page = act(console, command="press", key="4")  # the police's trafficking unit
    assert "Now: menu police closed" in page and "It is closed now" in page
    page = act(console, command="press", key="0")  # a person, out of hours: both mobiles
    assert "Now: ringing together" in page
    assert "Ringing together: +352621351884, +352621316919" in page


def test_out_of_hours_the_mobiles_ring_together_and_the_first_to_accept_takes_the_call(
        console_app: Flask, console: FlaskClient) -> None:
    act(console, command="start", at=SUNDAY_NIGHT)
    act(console, command="press", key="2")
    page = act(console, command="press", key="1")
    assert "The caller waits in a queue of their own and hears:" in page
    assert "Connecting you to INFOTRAITE. Please stay on the line." in page
    assert "Whoever answers hears first:" in page and "anglais" in page  # French whisper
    assert page.count('name="command" value="together"') == 2
    page = act(console, command="together", key="2")
    assert "+352621316919 answered and pressed 1: the caller is put through." in page
    assert "The hotline stopped +352621351884 ringing." in page
    assert "The call has ended." in page


def test_a_voicemail_on_the_first_mobile_never_takes_the_call(console_app: Flask,
                                                              console: FlaskClient) -> None:
    act(console, command="start", at=SUNDAY_NIGHT)
    act(console, command="press", key="2")
    act(console, command="press", key="1")
    page = act(console, command="voicemail")
    assert "A voicemail answered +352621351884 and pressed nothing; then +352621316919 " \
           "pressed 1" in page


def test_nobody_accepting_together_offers_what_is_left(console_app: Flask,
                                                       console: FlaskClient) -> None:
    act(console, command="start", at=SUNDAY_NIGHT)
    act(console, command="press", key="2")
    act(console, command="press", key="1")
    page = act(console, command="nobody-together")
    assert "Nobody accepted: the caller leaves the queue." in page
    assert "Now: menu no answer" in page and "Nobody could answer right now." in page


def test_when_the_rest_api_refuses_the_mobiles_ring_one_after_another(
        console_app: Flask, console: FlaskClient) -> None:
    act(console, command="start", at=SUNDAY_NIGHT, rest_refuses="on")
    act(console, command="press", key="2")
    page = act(console, command="press", key="1")
    assert "Ringing together" not in page
    assert re.search(r"Ringing \+352621351884\.", page)
    page = act(console, command="nobody")
    assert re.search(r"Ringing \+352621316919\.", page)
    # Unticked again: together again.
    act(console, command="start", at=SUNDAY_NIGHT)
    act(console, command="press", key="2")
    assert "Ringing together" in act(console, command="press", key="1")


def test_trying_stores_nothing_and_sends_no_text(console_app: Flask,
                                                 console: FlaskClient) -> None:
    act(console, command="start", at=MONDAY_MORNING)
    act(console, command="press", key="2")
    act(console, command="press", key="5")
    page = act(console, command="press", key="1")
    assert "The caller would get this text message" in page and "Numbers you asked for" in page
    assert console_app.extensions["sms_sender"].sent == []  # the real sender saw nothing
    console_app.extensions["events"].flush()
    with Session(console_app.extensions["events"].engine) as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 0


def test_bad_input_gets_an_answer_not_an_error(console_app: Flask,
                                               console: FlaskClient) -> None:
    bad_time = console_post(console, "/console/try", "/console/try",
                            {"command": "start", "at": "yesterday"})
    assert bad_time.status_code == 400 and "not a date" in bad_time.get_data(as_text=True)
    act(console, command="start")
    for data in ({"command": "press", "key": "x"}, {"command": "accept"},
                 {"command": "message"}, {"command": "dance"}):
        response = console_post(console, "/console/try", "/console/try", data)
        assert response.status_code == 400, data


def test_run_is_usable_without_a_page(console_app: Flask) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Luxembourg"))
    with console_app.app_context():
        first = run(console_app, None, "start", moment=moment)
        state = TryState.from_dict(first.state.as_dict())
        assert state is not None and state.gather_action
        second = run(console_app, state, "press", "0", moment)
    assert second.step.dial_numbers and not second.state.ended
    assert TRY_CALL_SID.startswith("CA")


def test_a_forged_step_in_the_session_is_refused_cleanly(console_app: Flask) -> None:
    state = TryState(gather_action="/voice/nowhere?l=en")
    with console_app.app_context(), pytest.raises(ValueError, match="start a new call"):
        run(console_app, state, "press", "1")


LB_TALK = "Fir elo mat INFOTRAITE ze schwätzen, dréckt 1."  # prompts/manifest.toml's text


def test_a_prompt_played_from_a_file_shows_its_words_and_a_named_player(
        console_app: Flask, console: FlaskClient) -> None:
    act(console, command="start", at=MONDAY_MORNING)
    page = act(console, command="press", key="4")  # Luxembourgish: synthesized files
    assert "Now: menu main" in page
    player = re.search(r'<audio controls preload="auto" src="/prompts/lb/main\.talk\.wav\?v=\w+"'
                       r' aria-label="Prompt (\d+), Main menu: talk to someone, in Luxembourgish">'
                       r'</audio>\s*'
                       r'<span class="spoken" lang="lb" dir="ltr">([^<]+)</span>', page)
    assert player, page
    assert player.group(2) == LB_TALK
    assert "(audio file, Luxembourgish)" in page
    # Every player is named after its prompt and language, not "Prompt 1" alone.
    assert not re.search(r'aria-label="Prompt \d+"', page)
