"""Who is rung, at which step, in which order: the exact dial plan of every escalation path.

Driven through the webhooks (Flask's test client, signed requests) with the fixture profiles
in tests/fixtures/profiles/, not the shipped ones. Each call is rung out to the end (every
phone unanswered) and the rings are compared with one table per profile below: when ringing
changes on purpose, update the table, and the diff shows what a caller now gets.

Phones ring one after another (one <Number> per <Dial>, each screened by a whisper) in the
order of the destination's ring plan (these destinations do not ring `together`); `t` in the
dial action is the plan's step, `o` the phones of that step still to ring after this one.
A destination whose phones all rang unanswered (`x` in the call state) is not rung again by
silence, wrong keys or an option, only by 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from ivr.voice.simulate import Step, parse_twiml
from tests.conftest import HOTLINE, Clock, twilio_post

PROFILES_DIR = Path(__file__).parent / "fixtures" / "profiles"
STEPS = str(PROFILES_DIR / "steps.toml")  # multi-step desk with office hours
ONE_STEP = str(PROFILES_DIR / "one_step.toml")  # one number, one silence to a person

Post = Callable[..., TestResponse]
Ring = tuple[int, tuple[str, ...]]  # (step, the numbers of one <Dial>: always one)

# --- the dial plans: steps.toml ---------------------------------------------------------

# The desk in office hours: the landline, then 0002, then 0003 (the second step), each alone.
DESK_OPEN_RINGS: list[Ring] = [(0, ("+442079460001",)), (1, ("+442079460002",)),
                               (1, ("+442079460003",))]
# The desk out of hours: 0003, then 0004.
DESK_CLOSED_RINGS: list[Ring] = [(0, ("+442079460003",)), (1, ("+442079460004",))]
LINE_RINGS: list[Ring] = [(0, ("+442079460011",))]
CLINIC_RINGS: list[Ring] = [(0, ("+442079460021",))]

# (path into the call, the request that starts ringing) → the rings, in order.
STEPS_PLANS: dict[str, tuple[str, dict[str, str], list[Ring]]] = {
    # One silent wait in the language menu (the default): the first silence rings.
    "language menu, first silence": ("/voice/language?p=1", {"Digits": ""}, DESK_OPEN_RINGS),
    "language menu, a silence already counted": ("/voice/language?p=1&r=1", {"Digits": ""},
                                                 DESK_OPEN_RINGS),
    "language menu, 0": ("/voice/language?p=1", {"Digits": "0"}, DESK_OPEN_RINGS),
    "language menu, second wrong key": ("/voice/language?p=1&w=1", {"Digits": "7"},
                                        DESK_OPEN_RINGS),
    "menu, second silence": ("/voice/menu?l=en&n=main&r=1", {"Digits": ""}, DESK_OPEN_RINGS),
    "menu, 0": ("/voice/menu?l=en&n=main", {"Digits": "0"}, DESK_OPEN_RINGS),
    "menu, second wrong key": ("/voice/menu?l=en&n=main&w=1", {"Digits": "8"},
                               DESK_OPEN_RINGS),
    "sub-menu, 0": ("/voice/menu?l=en&n=info", {"Digits": "0"}, DESK_OPEN_RINGS),
    "option: the desk": ("/voice/menu?l=en&n=main", {"Digits": "1"}, DESK_OPEN_RINGS),
    "option: the one-step line": ("/voice/menu?l=en&n=main", {"Digits": "2"}, LINE_RINGS),
    "option: the clinic, open": ("/voice/menu?l=en&n=main", {"Digits": "3"}, CLINIC_RINGS),
    "closed clinic, its option to the line": ("/voice/menu?l=en&n=clinic_closed",
                                              {"Digits": "1"}, LINE_RINGS),
    # An unknown destination in a (forged) dial result falls back to the person line.
    "a dial result naming an unknown destination": ("/voice/dialed?l=en&d=nowhere&t=0",
                                                    {"DialCallStatus": "no-answer"},
                                                    [(1, ("+442079460002",)),
                                                     (1, ("+442079460003",))]),
    # After the desk rang unanswered (x=desk): only 0 rings it again; silence, wrong keys
    # and its option lead to the voice-message menu; another destination still rings.
    "desk tried, unanswered menu, 0": ("/voice/menu?l=en&n=unanswered&x=desk",
                                       {"Digits": "0"}, DESK_OPEN_RINGS),
    "desk tried, unanswered menu, second wrong key": (
        "/voice/menu?l=en&n=unanswered&x=desk&w=1", {"Digits": "7"}, []),
    "desk tried, menu, 0": ("/voice/menu?l=en&n=main&x=desk", {"Digits": "0"},
                            DESK_OPEN_RINGS),
    "desk tried, menu, second silence": ("/voice/menu?l=en&n=main&x=desk&r=1",
                                         {"Digits": ""}, []),
    "desk tried, menu, second wrong key": ("/voice/menu?l=en&n=main&x=desk&w=1",
                                           {"Digits": "8"}, []),
    "desk tried, sub-menu, second silence": ("/voice/menu?l=en&n=info&x=desk&r=1",
                                             {"Digits": ""}, []),
    "desk tried, option: the desk": ("/voice/menu?l=en&n=main&x=desk", {"Digits": "1"}, []),
    "desk tried, option: the one-step line": ("/voice/menu?l=en&n=main&x=desk",
                                              {"Digits": "2"}, LINE_RINGS),
    "desk tried, language menu, silence": ("/voice/language?p=1&x=desk", {"Digits": ""}, []),
    "desk tried, language menu, second wrong key": ("/voice/language?p=1&x=desk&w=1",
                                                    {"Digits": "7"}, []),
    "desk tried, language menu, 0": ("/voice/language?p=1&x=desk", {"Digits": "0"},
                                     DESK_OPEN_RINGS),
    "line tried, option: the line": ("/voice/menu?l=en&n=main&x=line", {"Digits": "2"}, []),
}

# --- the dial plans: one_step.toml --------------------------------------------------------

ONE_LINE: list[Ring] = [(0, ("+442079460011",))]
ONE_STEP_PLANS: dict[str, tuple[str, dict[str, str], list[Ring]]] = {
    "language menu, first silence": ("/voice/language?p=1", {"Digits": ""}, ONE_LINE),
    "language menu, 0": ("/voice/language?p=1", {"Digits": "0"}, ONE_LINE),
    "language menu, first wrong key": ("/voice/language?p=1", {"Digits": "7"}, ONE_LINE),
    "menu, first silence": ("/voice/menu?l=en&n=main", {"Digits": ""}, ONE_LINE),
    "menu, 0": ("/voice/menu?l=en&n=main", {"Digits": "0"}, ONE_LINE),
    "menu, first wrong key": ("/voice/menu?l=en&n=main", {"Digits": "5"}, ONE_LINE),
    "option: the line": ("/voice/menu?l=en&n=main", {"Digits": "1"}, ONE_LINE),
}

# Wednesday 25 November 2026 10:30 in London: the office and the clinic both open.
WEDNESDAY_OPEN = "2026-11-25T10:30:00"


def query(url: str | None) -> dict[str, str]:
    assert url
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def twiml(response: TestResponse) -> Step:
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_twiml(response.get_data(as_text=True))


def menu_of(step: Step) -> tuple[str, str]:
    """The (language, node) of the menu a step waits in."""
    found = query(step.gather_action)
    return found.get("l", ""), found.get("n", "")


def ring_out(post: Post, path: str, form: dict[str, str]) -> tuple[list[Ring], Step]:
    """Start from one request and let every ring go unanswered; the rings and the last step."""
    rings: list[Ring] = []
    step = twiml(post(path, form))
    while step.dial_numbers:
        assert len(rings) < 10, "the call rings for ever"
        # Every phone is screened: whoever answers hears the whisper before any bridge.
        assert step.whisper_url and urlsplit(step.whisper_url).path == "/voice/whisper"
        rings.append((int(query(step.dial_action)["t"]), tuple(step.dial_numbers)))
        step = twiml(post(step.dial_action, {"DialCallStatus": "no-answer"}))
    return rings, step


@pytest.fixture
def steps_post(make_app: Callable[..., Flask], clock: Clock) -> Post:
    clock.set(WEDNESDAY_OPEN, "Europe/London")
    client = make_app(STEPS).test_client()
    return lambda path, form=None: twilio_post(client, path, form)


@pytest.fixture
def one_step_post(make_app: Callable[..., Flask]) -> Post:
    client = make_app(ONE_STEP).test_client()
    return lambda path, form=None: twilio_post(client, path, form)


@pytest.mark.parametrize("scenario", sorted(STEPS_PLANS))
def test_steps_profile_rings_exactly(steps_post: Post, scenario: str) -> None:
    path, form, expected = STEPS_PLANS[scenario]
    rings, last = ring_out(steps_post, path, form)
    assert rings == expected
    # Nobody answered: the caller is offered a message, never left in silence.
    assert menu_of(last) == ("en", "unanswered")


@pytest.mark.parametrize("scenario", sorted(ONE_STEP_PLANS))
def test_one_step_profile_rings_exactly(one_step_post: Post, scenario: str) -> None:
    path, form, expected = ONE_STEP_PLANS[scenario]
    rings, last = ring_out(one_step_post, path, form)
    assert rings == expected
    assert menu_of(last) == ("en", "main")  # no unanswered node: the start menu


@pytest.mark.parametrize(("path", "form"), [
    ("/voice/language?p=1", {"Digits": "7"}),      # first wrong key of two
    ("/voice/menu?l=en&n=main", {"Digits": ""}),   # first silence of two
    ("/voice/menu?l=en&n=main", {"Digits": "8"}),
    ("/voice/menu?l=en&n=main", {"Digits": "4"}),  # an information menu
    ("/voice/menu?l=en&n=unanswered&x=desk", {"Digits": ""}),
    ("/voice/menu?l=en&n=unanswered&x=desk", {"Digits": "7"}),
])
def test_before_the_limit_nobody_is_rung(steps_post: Post, path: str, form: dict[str, str]
                                         ) -> None:
    step = twiml(steps_post(path, form))
    assert step.dial_numbers == [] and step.gather_action is not None


def test_silence_in_the_language_menu_rings_at_once(steps_post: Post) -> None:
    # The greeting said "stay on the line": the ring tone follows, with no "connecting you".
    step = twiml(steps_post("/voice/language?p=1", {"Digits": ""}))
    assert step.dial_numbers == ["+442079460001"]
    assert step.heard == []
    assert query(step.dial_action) == {"d": "desk", "t": "0", "h": "open"}


def test_silence_where_nobody_answered_records_a_message(steps_post: Post) -> None:
    step = twiml(steps_post("/voice/menu?l=en&n=unanswered&r=1", {"Digits": ""}))
    assert step.dial_numbers == []
    assert query(step.record_action) == {"l": "en"}
    step = twiml(steps_post("/voice/menu?l=en&n=unanswered&r=1&x=desk", {"Digits": ""}))
    assert step.dial_numbers == []
    assert query(step.record_action) == {"l": "en", "x": "desk"}


def test_first_ring_and_later_rings_say_different_things(steps_post: Post) -> None:
    first = twiml(steps_post("/voice/menu?l=en&n=main", {"Digits": "1"}))
    assert [h.text for h in first.heard] == [
        "Connecting you to the desk. Please stay on the line."]
    assert first.caller_id == HOTLINE  # the helpline sees the hotline, not the caller
    assert query(first.dial_action) == {"l": "en", "d": "desk", "t": "0", "h": "open"}
    second = twiml(steps_post(first.dial_action, {"DialCallStatus": "no-answer"}))
    assert [h.text for h in second.heard] == ["Still trying. Please stay on the line."]
    assert second.dial_numbers == ["+442079460002"]
    # The second step's first phone; its other phone (the step's second) rings next.
    assert query(second.dial_action) == {"l": "en", "d": "desk", "t": "1", "h": "open",
                                         "o": "1"}


# --- the end of a ring step: DialBridged, and its absence -------------------------------


@pytest.mark.parametrize(("form", "rings_next"), [
    ({"DialCallStatus": "completed", "DialBridged": "true"}, False),
    ({"DialCallStatus": "answered", "DialBridged": "true"}, False),
    ({"DialCallStatus": "completed", "DialBridged": "TRUE"}, False),
    # A whisper answered by voicemail ends "completed" but never bridged: ring on.
    ({"DialCallStatus": "completed", "DialBridged": "false"}, True),
    ({"DialCallStatus": "no-answer", "DialBridged": "false"}, True),
    ({"DialCallStatus": "busy"}, True),
    ({"DialCallStatus": "failed"}, True),
    ({"DialCallStatus": "canceled"}, True),
    ({"DialCallStatus": "no-answer"}, True),
    # No DialBridged field: "completed" is no proof (a declined whisper ends completed too).
    ({"DialCallStatus": "completed"}, True),
    ({"DialCallStatus": "answered"}, True),
    ({}, True),
])
def test_a_ring_step_ends(steps_post: Post, form: dict[str, str], rings_next: bool) -> None:
    step = twiml(steps_post("/voice/dialed?l=en&d=desk&t=0", form))
    if rings_next:
        assert step.dial_numbers == ["+442079460002"]  # the next phone, alone
        assert query(step.dial_action) == {"l": "en", "d": "desk", "t": "1", "h": "open",
                                           "o": "1"}
        assert not step.hangup
    else:
        assert step.dial_numbers == [] and step.hangup
        assert step.heard == [] and step.gather_action is None


def test_after_the_last_step_the_caller_is_offered_the_unanswered_menu(steps_post: Post
                                                                       ) -> None:
    step = twiml(steps_post("/voice/dialed?l=en&d=desk&t=1", {"DialCallStatus": "busy"}))
    assert step.dial_numbers == []
    # The desk is remembered as tried: nothing but 0 rings it again.
    assert query(step.gather_action) == {"l": "en", "n": "unanswered", "r": "0", "w": "0",
                                         "x": "desk"}
    assert [h.text for h in step.heard] == [
        "Nobody could answer right now.", "To leave a voice message, press 1.",
        "In an emergency, hang up and call 9 9 9."]


# --- every hour state -------------------------------------------------------------------

HOURS: dict[str, tuple[str, list[Ring]]] = {
    # London local time → the desk's rings (office: Mon–Fri 09:00–12:00, 13:00–17:00, GB-ENG)
    "Monday 08:59": ("2026-11-23T08:59:00", DESK_CLOSED_RINGS),
    "Monday 09:00, opening": ("2026-11-23T09:00:00", DESK_OPEN_RINGS),
    "Monday 11:59": ("2026-11-23T11:59:59", DESK_OPEN_RINGS),
    "Monday 12:00, lunch": ("2026-11-23T12:00:00", DESK_CLOSED_RINGS),
    "Monday 13:00, after lunch": ("2026-11-23T13:00:00", DESK_OPEN_RINGS),
    "Friday 16:59": ("2026-11-27T16:59:00", DESK_OPEN_RINGS),
    "Friday 17:00, closing": ("2026-11-27T17:00:00", DESK_CLOSED_RINGS),
    "Saturday 10:00": ("2026-11-28T10:00:00", DESK_CLOSED_RINGS),
    "Sunday 10:00": ("2026-11-29T10:00:00", DESK_CLOSED_RINGS),
    "Christmas Day, a Friday, 10:00": ("2026-12-25T10:00:00", DESK_CLOSED_RINGS),
    "Monday 28 December, Boxing Day moved, 10:00": ("2026-12-28T10:00:00", DESK_CLOSED_RINGS),
    "Tuesday 29 December 10:00": ("2026-12-29T10:00:00", DESK_OPEN_RINGS),
}


@pytest.mark.parametrize("moment", sorted(HOURS))
def test_the_desk_rings_by_the_hours(steps_post: Post, clock: Clock, moment: str) -> None:
    when, expected = HOURS[moment]
    clock.set(when, "Europe/London")
    rings, _ = ring_out(steps_post, "/voice/menu?l=en&n=main", {"Digits": "0"})
    assert rings == expected


def test_the_hours_are_the_hotlines_zone_not_the_servers(steps_post: Post, clock: Clock
                                                         ) -> None:
    # 09:30 in Luxembourg on Monday 23 November is 08:30 in London: the desk is closed.
    clock.set("2026-11-23T09:30:00", "Europe/Luxembourg")
    rings, _ = ring_out(steps_post, "/voice/menu?l=en&n=main", {"Digits": "0"})
    assert rings == DESK_CLOSED_RINGS


CLINIC: dict[str, tuple[str, bool]] = {
    # London local time → whether the clinic (Wednesday 10:00–11:00, no holidays) rings
    "Wednesday 10:00": ("2026-11-25T10:00:00", True),
    "Wednesday 10:59": ("2026-11-25T10:59:59", True),
    "Wednesday 11:00": ("2026-11-25T11:00:00", False),
    "Wednesday 09:59": ("2026-11-25T09:59:00", False),
    "Tuesday 10:30": ("2026-11-24T10:30:00", False),
    "Thursday 10:30": ("2026-11-26T10:30:00", False),
    # New Year's Day 2025 was a Wednesday; this schedule keeps no holiday calendar.
    "Wednesday 1 January 2025 10:30": ("2025-01-01T10:30:00", True),
}


@pytest.mark.parametrize("moment", sorted(CLINIC))
def test_the_one_hour_clinic(steps_post: Post, clock: Clock, moment: str) -> None:
    when, open_now = CLINIC[moment]
    clock.set(when, "Europe/London")
    rings, last = ring_out(steps_post, "/voice/menu?l=en&n=main", {"Digits": "3"})
    if open_now:
        assert rings == CLINIC_RINGS
        assert menu_of(last) == ("en", "unanswered")
    else:
        assert rings == []
        assert menu_of(last) == ("en", "clinic_closed")
        assert [h.text for h in last.heard] == [
            "The clinic is open Wednesday 10:00\u2009\u2013\u200911:00.",
            "To talk to the line instead, press 1."]


# --- forged or stale callback parameters: the caller still gets the right menu ---------


def test_a_page_that_does_not_exist_reads_as_the_first(steps_post: Post) -> None:
    step = twiml(steps_post("/voice/language?p=7", {"Digits": "1"}))
    assert menu_of(step) == ("en", "main")


def test_a_language_that_does_not_exist_restarts_the_language_menu(steps_post: Post) -> None:
    step = twiml(steps_post("/voice/menu?l=xx&n=main", {"Digits": "1"}))
    assert step.dial_numbers == []
    assert query(step.gather_action) == {"p": "1", "r": "0", "w": "0"}


def test_star_on_the_first_page_stays_there(post: Post) -> None:
    # Luxembourg: two pages of languages.
    step = twiml(post("/voice/language?p=1", {"Digits": "*"}))
    assert query(step.gather_action)["p"] == "1"


def test_the_more_key_on_the_last_page_is_a_wrong_key(post: Post) -> None:
    step = twiml(post("/voice/language?p=2", {"Digits": "9"}))
    assert query(step.gather_action) == {"p": "2", "r": "0", "w": "1"}
    assert step.heard[0].text == "Cette touche n'est pas dans ce menu."


def test_hash_repeats_the_language_menu_without_counting_a_wrong_key(post: Post) -> None:
    step = twiml(post("/voice/language?p=1&r=1&w=1", {"Digits": "#"}))
    assert query(step.gather_action) == {"p": "1", "r": "1", "w": "1"}
    assert step.heard[0].text == "Français : appuyez sur 1."


def test_a_closed_line_answers_in_the_callers_language(steps_post: Post, clock: Clock) -> None:
    clock.set("2026-11-24T10:30:00", "Europe/London")  # Tuesday: the clinic is closed
    step = twiml(steps_post("/voice/menu?l=fr&n=main", {"Digits": "3"}))
    assert step.dial_numbers == [] and menu_of(step) == ("fr", "clinic_closed")


def test_an_unknown_language_restarts_on_the_first_of_two_pages(post: Post) -> None:
    step = twiml(post("/voice/menu?l=xx&n=main", {"Digits": "1"}))  # Luxembourg: two pages
    assert query(step.gather_action) == {"p": "1", "r": "0", "w": "0"}


# --- office hours that open or close while the phones ring ----------------------------------


@pytest.mark.parametrize(("start", "later", "expected"), [
    # Monday opening at 09:00: the out-of-hours list, kept to its end.
    ("2026-11-23 08:59:50", "2026-11-23 09:00:15",
     ["+442079460003", "+442079460004"]),
    # Friday closing at 17:00: the office-hours list, kept to its end.
    ("2026-11-27 16:59:30", "2026-11-27 17:00:00",
     ["+442079460001", "+442079460002", "+442079460003"]),
])
def test_the_phones_chosen_when_ringing_starts_ring_to_the_end(
        start: str, later: str, expected: list[str]) -> None:
    """A change of hours between two rings neither skips a phone nor rings one twice."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ivr.voice.hotline import build_hotline
    from ivr.voice.ringing import Caller
    from ivr.voice.state import CallState

    moment = [datetime.fromisoformat(start).replace(tzinfo=ZoneInfo("Europe/London"))]
    hotline = build_hotline(STEPS, clock=lambda: moment[0])
    answer = hotline.engine.connect(CallState(lang="en"), "desk", Caller(), step=0)
    rung = []
    moment[0] = datetime.fromisoformat(later).replace(tzinfo=ZoneInfo("Europe/London"))
    while True:
        step = parse_twiml(answer.twiml)
        if not step.dial_numbers:
            break
        rung += step.dial_numbers
        state = CallState.from_url(step.dial_action)
        answer = hotline.engine.dialed(state, "no-answer", None, Caller())
    assert rung == expected


def test_a_new_ringing_chooses_its_list_by_the_time_now() -> None:
    """Only a ringing under way keeps its list: a fresh one ignores an `h` in the URL."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ivr.voice.hotline import build_hotline
    from ivr.voice.ringing import Caller
    from ivr.voice.state import CallState

    monday = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    hotline = build_hotline(STEPS, clock=lambda: monday)
    answer = hotline.engine.connect(CallState(lang="en", hours="closed"), "desk", Caller())
    step = parse_twiml(answer.twiml)
    assert step.dial_numbers == ["+442079460001"]
    assert CallState.from_url(step.dial_action).hours == "open"
