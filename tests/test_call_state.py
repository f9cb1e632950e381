"""The call state in the callback URLs, the engine's answers, and the fallback document."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from flask import Flask

from ivr.voice.engine import Caller, Engine
from ivr.voice.simulate import parse_twiml
from ivr.voice.state import CallState, url
from tests.conftest import HOTLINE, twilio_post


@pytest.mark.parametrize(("state", "query"), [
    (CallState(lang="uk", node="main"), {"l": "uk", "n": "main", "r": "0", "w": "0"}),
    (CallState(page=2, suggested="es", wrong=1), {"w": "1", "p": "2", "s": "es", "r": "0"}),
    (CallState(lang="en", destination="infotraite", step=2, tried=("police",)),
     {"l": "en", "d": "infotraite", "t": "2", "x": "police"}),
    (CallState(lang="fr"), {"l": "fr"}),
    (CallState(), {}),
])
def test_the_state_round_trips_through_a_url(state: CallState, query: dict[str, str]) -> None:
    assert state.to_query() == query
    assert CallState.from_query(query) == state


@pytest.mark.parametrize("query", [
    {"l": "<script>", "r": "-4", "w": "x", "t": "999", "x": "a b..c"},
    {"p": "１", "s": "../../etc", "n": "n" * 65},
])
def test_a_garbled_state_reads_as_defaults(query: dict[str, str]) -> None:
    state = CallState.from_query(query)
    assert state.lang is None and state.silent == 0 and state.wrong == 0
    assert state.step in (0, 20) and state.node is None and state.suggested is None


def test_urls_live_under_the_base_they_are_given() -> None:
    assert url("/hotline/voice", "menu", CallState(lang="de", node="signs")) == \
        "/hotline/voice/menu?l=de&n=signs&r=0&w=0"
    assert url("/voice", "whisper", CallState()) == "/voice/whisper"


def test_the_engine_mounted_under_a_prefix_calls_back_there(app: Flask) -> None:
    hotline = app.extensions["hotline"]
    engine = Engine(hotline.profile, hotline.prompter, "/lu/voice", clock=hotline.engine.clock)
    answer = engine.press(CallState(lang="en", node="main"), "2", Caller())
    assert parse_twiml(answer.twiml).gather_action == "/lu/voice/menu?l=en&n=signs&r=0&w=0"
    assert answer.menu_heard == ("en", "signs")
    ringing = engine.press(CallState(lang="en", node="main"), "1", Caller())
    step = parse_twiml(ringing.twiml)
    assert step.dial_action == "/lu/voice/dialed?l=en&d=infotraite&t=0&h=open"
    assert step.whisper_url == "/lu/voice/whisper?l=en"


def test_the_engine_says_what_a_whisper_decided(app: Flask) -> None:
    engine = app.extensions["hotline"].engine
    assert engine.whisper_answer("1").event == "accepted"
    assert engine.whisper_answer("").event == "declined"


# --- the fallback ----------------------------------------------------------------------


def test_the_fallback_shows_the_hotlines_number_and_rings_one_phone_at_a_time(
        app: Flask) -> None:
    response = twilio_post(app.test_client(), "/voice/fallback", {"ErrorCode": "11200"})
    root = ET.fromstring(response.get_data(as_text=True))
    dials = root.findall("Dial")
    assert [[n.text for n in d.findall("Number")] for d in dials] == [
        ["+35227365646"], ["+352621351884"], ["+352621316919"]]
    assert {d.get("callerId") for d in dials} == {HOTLINE}
    # Last words: the greeting's language (French), then English.
    last = [(s.get("language"), s.text) for s in root.findall("Say")][-2:]
    assert last == [("fr-FR", "En cas d'urgence, raccrochez et appelez le 1 1 3."),
                    ("en-GB", "In an emergency, hang up and call 1 1 3.")]


def test_the_exported_fallback_may_screen_with_a_whisper_hosted_elsewhere(
        make_app: Callable[..., Flask]) -> None:
    fallback = make_app("kosovo").extensions["hotline"].fallback
    document = fallback.twiml(caller_id="+38338000000",
                              whisper_url="https://bins.example.org/whisper")
    numbers = ET.fromstring(document).findall("Dial/Number")
    assert [(n.text, n.get("url")) for n in numbers] == [
        ("+38380011112", "https://bins.example.org/whisper")]
