"""Ringing a person, run by a stand-in that behaves like Twilio (tests/twilio_world.py).

Every ring plan of both profiles, in office hours, out of hours and on a holiday, with
voicemails, people who decline, nobody, busy lines and a person who hangs up first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask

from ivr.voice.state import CallState
from tests.conftest import HOTLINE, PUBLIC_BASE_URL, Clock, twilio_world
from tests.twilio_world import (
    BUSY,
    NO_ANSWER,
    PERSON_ACCEPTS,
    PERSON_ACCEPTS_THEN_HANGS_UP,
    PERSON_DECLINES,
    VOICEMAIL,
    Call,
    Phone,
    World,
)

LANDLINE, MOBILE_1, MOBILE_2 = "+35227365646", "+352621351884", "+352621316919"
KOSOVO_LINE = "+38380011112"
MOMENTS = {"office hours": "2026-11-23 10:00",  # a Monday
           "evening": "2026-11-23 20:00",
           "holiday": "2026-12-25 10:00"}  # Christmas, a Friday
# Each profile's phones for its person line, in the order they ring.
RING_ORDER = {
    ("luxembourg", "office hours"): [LANDLINE, MOBILE_1, MOBILE_2],
    ("luxembourg", "evening"): [MOBILE_1, MOBILE_2],
    ("luxembourg", "holiday"): [MOBILE_1, MOBILE_2],
    ("kosovo", "office hours"): [KOSOVO_LINE],
    ("kosovo", "evening"): [KOSOVO_LINE],
    ("kosovo", "holiday"): [KOSOVO_LINE],
}
# Two ways to ask for a person: "talk to the helpline" in the main menu, and silence
# after the greeting and the language menu.
ENTRIES = {"main menu, key 1": ("/voice/menu?l=en&n=main", "1", []),
           "silence after the languages": ("/voice", None, [""])}
PLANS = [(profile, moment, entry) for profile, moment in RING_ORDER for entry in ENTRIES]


def call(app: Flask, phones: dict[str, Phone], url: str, inputs: list[str],
         digits: str | None = None, default: Phone = NO_ANSWER) -> Call:
    """One call from `url` through tests/twilio_world.py's Twilio, played out."""
    world: World = twilio_world(app, phones, default, clock=app.config["CLOCK"])
    placed = world.call(PUBLIC_BASE_URL + url, inputs, digits=digits)
    world.run()
    assert placed.failed_requests == []
    return placed


@pytest.fixture
def start(make_app: Callable[..., Flask], clock: Clock) -> Callable[..., tuple[Flask, list[str]]]:
    def build(profile: str, moment: str) -> tuple[Flask, list[str]]:
        clock.set(MOMENTS[moment])
        return make_app(profile), RING_ORDER[(profile, moment)]

    return build


def node_of(url: str) -> str | None:
    return CallState.from_url(url).node


@pytest.mark.parametrize(("profile", "moment", "entry"), PLANS)
def test_a_voicemail_that_answers_first_never_stops_a_person(
        start: Callable[..., tuple[Flask, list[str]]], profile: str, moment: str,
        entry: str) -> None:
    app, order = start(profile, moment)
    phones = {order[0]: VOICEMAIL, **{n: PERSON_ACCEPTS for n in order[1:]}}
    url, digits, inputs = ENTRIES[entry]
    placed = call(app, phones, url, inputs, digits)
    assert placed.rang == [[n] for n in order[:2]]  # one phone per <Dial>
    assert placed.whispered == order[:2]  # the voicemail heard the whisper, pressed nothing
    if len(order) > 1:
        assert placed.bridged_to == order[1]
        assert "unanswered" not in [node_of(m) for m in placed.menus]
    else:  # one phone only: its voicemail never takes the call
        assert placed.bridged_to is None and node_of(placed.menus[-1]) == "unanswered"


@pytest.mark.parametrize(("profile", "moment", "entry"), PLANS)
@pytest.mark.parametrize("behaviour", [PERSON_DECLINES, NO_ANSWER, BUSY, VOICEMAIL],
                         ids=["everyone declines", "nobody answers", "busy", "voicemails"])
def test_when_nobody_accepts_each_phone_rings_once_then_the_caller_has_choices(
        start: Callable[..., tuple[Flask, list[str]]], profile: str, moment: str, entry: str,
        behaviour: Phone) -> None:
    app, order = start(profile, moment)
    url, digits, inputs = ENTRIES[entry]
    placed = call(app, {}, url, inputs, digits, default=behaviour)
    assert placed.rang == [[n] for n in order]
    assert placed.bridged_to is None
    assert node_of(placed.menus[-1]) == "unanswered"
    assert placed.caller_ids == [HOTLINE] * len(order)  # the helpline sees the hotline's


@pytest.mark.parametrize(("profile", "moment"), list(RING_ORDER))
def test_a_person_who_hangs_up_first_ends_the_call(
        start: Callable[..., tuple[Flask, list[str]]], profile: str, moment: str) -> None:
    app, order = start(profile, moment)
    placed = call(app, {}, "/voice/menu?l=en&n=main", [], "1",
                  default=PERSON_ACCEPTS_THEN_HANGS_UP)
    assert placed.bridged_to == order[0]
    assert placed.rang == [[order[0]]]  # nobody else is rung after the conversation
    assert placed.ended == "hung up"


def test_the_standin_hangs_up_the_others_when_one_picks_up() -> None:
    """What Twilio does with parallel <Number>s: why the app no longer uses them."""
    documents = {
        "/start": '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="/after">'
                  '<Number url="/whisper">+100</Number><Number url="/whisper">+200</Number>'
                  '</Dial></Response>',
        "/whisper": '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/ok" '
                    'numDigits="1"><Say>Press 1</Say></Gather><Hangup/></Response>',
        "/ok": '<?xml version="1.0" encoding="UTF-8"?><Response/>',
        "/after": '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Nobody</Say>'
                  '</Response>',
    }
    posted: list[tuple[str, dict[str, str]]] = []

    def post(url: str, form: dict[str, str]) -> tuple[int, str]:
        posted.append((url, form))
        return 200, documents[url]

    world = World(post, {"+100": VOICEMAIL, "+200": PERSON_ACCEPTS})
    world.absolute = False
    placed = world.call("/start", [])
    world.run()
    assert placed.whispered == ["+100"] and placed.bridged_to is None
    assert placed.heard[-1] == "Nobody"
    assert posted[-1][0] == "/after"
    assert {k: posted[-1][1][k] for k in ("DialCallStatus", "DialBridged")} == {
        "DialCallStatus": "completed", "DialBridged": "false"}


# --- voice messages ---------------------------------------------------------------------


def test_a_silent_message_that_twilio_drops_still_gets_an_answer(app: Flask) -> None:
    """Silence in <Record>: no action call; what follows <Record> takes over."""
    placed = call(app, {}, "/voice/menu?l=en&n=unanswered", ["0", "", "", "0"], "1")
    said = app.extensions["hotline"].prompter
    empty = said.utterance("en", "record.empty").text
    assert placed.heard.count(empty) == 2
    assert placed.recorded == []
    # The second empty message ends the call kindly instead of recording forever.
    assert placed.ended == "hung up"
    assert placed.heard[-1] == said.utterance("en", "emergency.reminder").text


def test_a_message_is_kept_and_thanked(app: Flask) -> None:
    placed = call(app, {}, "/voice/menu?l=uk&n=unanswered", ["14"], "1")
    assert placed.recorded == [14]
    assert placed.heard[-1] == app.extensions["hotline"].prompter.utterance(
        "uk", "record.thanks").text
    assert placed.ended == "hung up"


# --- no loops ---------------------------------------------------------------------------


def person_numbers(app: Flask) -> set[str]:
    profile = app.extensions["hotline"].profile
    destination = profile.destinations[profile.person]
    return {n for step in destination.open_steps + destination.closed_steps for n in step}


@pytest.mark.parametrize("profile", ["luxembourg", "kosovo"])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_nothing_after_nobody_answered_rings_the_same_phones_again(
        make_app: Callable[..., Flask], clock: Clock, profile: str, moment: str) -> None:
    """Every option, silence, a wrong key, back and repeat, in every menu reached from
    "nobody answered" (0, the caller asking for a person again, aside)."""
    clock.set(MOMENTS[moment])
    app = make_app(profile)
    hotline = app.extensions["hotline"].profile
    first = call(app, {}, "/voice/menu?l=en&n=main", [], "1").menus[-1]
    assert node_of(first) == "unanswered"
    forbidden = person_numbers(app)

    def where(url: str) -> CallState:
        # Who is rung depends on the state, not on the language it is said in: a state met
        # again in another language is not walked again (14 times fewer calls).
        return replace(CallState.from_url(url), lang=None)

    seen, queue, walked = {where(first)}, [first], 0
    world: World = twilio_world(app, clock=clock)
    while queue:
        url = queue.pop()
        here = CallState.from_url(url)
        node = hotline.nodes.get(here.node or "")
        keys = ([o.key for o in node.options] if node else
                [lang.key for lang in hotline.language_page(here.page or 1)])
        for key in [*keys, "", "7" if "7" not in keys else "8", "*", "#"]:
            walked += 1
            placed = world.call(url, [], digits=key)
            world.run()
            rang = [n for numbers in placed.rang for n in numbers]
            assert not forbidden & set(rang), f"{url} + {key!r} rang {rang} again"
            for menu in placed.menus[:1]:  # the next menu reached (a recording is silent)
                if where(menu) not in seen:
                    seen.add(where(menu))
                    queue.append(menu)
    assert walked > 20 and len({state.node for state in seen}) >= 4, (walked, seen)


# --- the caller's time ------------------------------------------------------------------


def test_the_shipped_profiles_meet_every_timing_target() -> None:
    """`ivr prompts timing --strict` in CI: silent caller to a ringing phone ≤ 35 s in every
    language of both profiles, and the menu targets, with the committed audio library."""
    from click.testing import CliRunner

    from ivr.cli.main import main

    result = CliRunner().invoke(main, ["prompts", "timing", "--strict"])
    assert result.exit_code == 0, result.output
    assert "Targets missed: 0" in result.output
    assert result.output.count("silent→ring") == 2  # both profiles' tables
