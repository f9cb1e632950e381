"""Phones that ring at once without a voicemail taking the call: the conference ring.

Run by the stand-ins of Twilio's call flow (tests/twilio_standin.py) and REST side
(tests/twilio_conference_standin.py), with the app's real coordinator on virtual time.
The Luxembourg profile rings INFOTRAITE's two mobiles `together`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from ivr.content.profile import ProfileError
from ivr.content.profile_loader import load_profile
from ivr.storage.engines import lane_threads
from ivr.voice.conference import LANE, ConferenceRinger, RingPlan, coordinate
from ivr.voice.state import CallState
from tests.conftest import HOTLINE, PROFILES, Clock, twilio_post
from tests.test_ringing import LANDLINE, MOBILE_1, MOBILE_2, MOMENTS, node_of
from tests.twilio_conference_standin import StandInRest, StandInRinger, hold_verbs
from tests.twilio_standin import (
    BUSY,
    NO_ANSWER,
    PERSON_ACCEPTS,
    PERSON_ACCEPTS_THEN_HANGS_UP,
    PERSON_DECLINES,
    VOICEMAIL,
    Call,
    Phone,
    TwilioStandIn,
)

# The steps of INFOTRAITE's ring plan: the landline alone, then both mobiles at once.
STEPS = {"office hours": [[LANDLINE], [MOBILE_1, MOBILE_2]],
         "evening": [[MOBILE_1, MOBILE_2]],
         "holiday": [[MOBILE_1, MOBILE_2]]}
TALK_TO_INFOTRAITE = ("/voice/menu?l=uk&n=main", ["1"])


@dataclass
class Rig:
    app: Flask
    rest: StandInRest
    ringer: StandInRinger

    def call(self, phones: dict[str, Phone], default: Phone = NO_ANSWER,
             start: tuple[str, list[str]] = TALK_TO_INFOTRAITE) -> Call:
        self.rest.phones, self.rest.default = phones, default
        url, inputs = start
        return TwilioStandIn(self.rest.post, phones, default, self.ringer).call(inputs, url)


@pytest.fixture
def rig(make_app: Callable[..., Flask], clock: Clock) -> Callable[[str], Rig]:
    def build(moment: str) -> Rig:
        clock.set(MOMENTS[moment])
        rest = StandInRest(post=lambda url, form: "", phones={}, clock=clock)
        ringer = StandInRinger(rest)
        app = make_app("luxembourg", CONFERENCE_RINGER=ringer)
        client = app.test_client()

        def post(url: str, form: dict[str, str]) -> str:
            # The REST API is given absolute URLs; the test client takes the path.
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            response = twilio_post(client, path, form)
            assert response.status_code == 200, (url, response.status_code)
            return response.get_data(as_text=True)

        rest.post = post
        return Rig(app, rest, ringer)

    return build


@pytest.mark.parametrize("moment", list(STEPS))
def test_a_voicemail_that_answers_first_never_takes_the_call(rig: Callable[[str], Rig],
                                                             moment: str) -> None:
    here = rig(moment)
    call = here.call({LANDLINE: NO_ANSWER, MOBILE_1: VOICEMAIL, MOBILE_2: PERSON_ACCEPTS})
    assert call.rang == STEPS[moment]  # the mobiles in one step: they ring at once
    assert call.bridged_to == MOBILE_2
    assert MOBILE_1 in call.whispered  # the voicemail heard the whisper, pressed nothing
    assert "unanswered" not in [node_of(m) for m in call.menus]
    assert here.rest.caller_ids == [HOTLINE, HOTLINE]  # the phones see the hotline's number


def test_the_first_person_to_accept_wins_and_the_other_phone_stops_ringing(
        rig: Callable[[str], Rig]) -> None:
    here = rig("evening")
    call = here.call({MOBILE_1: Phone(9, "1"), MOBILE_2: Phone(4, "1")})
    assert call.bridged_to == MOBILE_2
    assert here.rest.cancelled == [MOBILE_1]  # cancelled while it rang
    assert call.whispered == [MOBILE_2]
    outcome = here.ringer.outcomes[-1]
    assert (outcome.accepted_by, outcome.moved_on, outcome.cancelled) == ("CAleg1", False, 1)


@pytest.mark.parametrize("moment", list(STEPS))
@pytest.mark.parametrize("behaviour", [PERSON_DECLINES, NO_ANSWER, BUSY, VOICEMAIL],
                         ids=["everyone declines", "nobody answers", "busy", "voicemails"])
def test_when_nobody_accepts_each_phone_rang_once_then_the_caller_has_choices(
        rig: Callable[[str], Rig], moment: str, behaviour: Phone) -> None:
    here = rig(moment)
    call = here.call({}, default=behaviour)
    assert call.rang == STEPS[moment]
    assert call.bridged_to is None
    assert node_of(call.menus[-1]) == "unanswered"
    assert here.ringer.outcomes[-1].moved_on


def test_the_person_who_accepts_hears_the_callers_language_first(
        rig: Callable[[str], Rig]) -> None:
    here = rig("evening")
    seen: list[str] = []
    post = here.rest.post

    def spy(url: str, form: dict[str, str]) -> str:
        answer = post(url, form)
        if "/voice/conference/leg" in url:
            seen.append(answer)
        return answer

    here.rest.post = spy
    here.call({MOBILE_1: PERSON_ACCEPTS, MOBILE_2: NO_ANSWER})
    assert seen and "ukrainien" in seen[0]  # the staff language is French


def test_a_person_who_hangs_up_first_ends_the_call(rig: Callable[[str], Rig]) -> None:
    here = rig("evening")
    call = here.call({MOBILE_1: PERSON_ACCEPTS_THEN_HANGS_UP})
    assert call.bridged_to == MOBILE_1
    assert call.ended == "hung up"
    assert call.rang == [[MOBILE_1, MOBILE_2]]


def test_the_held_caller_hears_their_language_never_more_than_ten_seconds_of_silence(
        rig: Callable[[str], Rig]) -> None:
    here = rig("evening")
    call = here.call({MOBILE_1: PERSON_ACCEPTS})
    assert call.held == ["Ще пробуємо. Будь ласка, залишайтеся на лінії."]
    hold = here.rest.post(f"/voice/conference/hold?{_query(here.ringer.plans[-1])}", {})
    assert hold_verbs(hold) == {"Pause", "Say", "Redirect"}
    assert 'length="5"' in hold  # the only silence, between two messages of about 3 s


def test_when_no_phone_can_be_called_the_caller_moves_on_at_once(
        rig: Callable[[str], Rig], caplog: pytest.LogCaptureFixture) -> None:
    here = rig("evening")
    here.rest.fails.add("start_call")
    call = here.call({MOBILE_1: PERSON_ACCEPTS})
    assert call.bridged_to is None and node_of(call.menus[-1]) == "unanswered"
    assert here.rest.elapsed == 0  # no waiting for phones that were never called
    assert here.ringer.outcomes[-1].started == 0
    assert [r.getMessage() for r in caplog.records if r.name == "ivr.voice.conference"] == [
        "conference ring ring-CAtest-0: phone 1 of 2 not called (ConnectionError)",
        "conference ring ring-CAtest-0: phone 2 of 2 not called (ConnectionError)"]


def test_a_caller_who_cannot_be_moved_on_is_said_so(rig: Callable[[str], Rig],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The REST API refuses the move: logged, and left to the hold loop's rescue."""
    here = rig("evening")
    here.rest.fails.add("redirect")
    with pytest.raises(AssertionError, match="left waiting"):
        here.call({}, default=BUSY)
    outcome = here.ringer.outcomes[-1]
    assert (outcome.started, outcome.moved_on) == (2, False)
    assert "conference ring: caller not moved on (ConnectionError)" in caplog.messages


def test_a_call_that_cannot_be_ended_is_said_so(rig: Callable[[str], Rig],
                                                caplog: pytest.LogCaptureFixture) -> None:
    here = rig("evening")
    here.rest.fails.add("end_call")
    call = here.call({MOBILE_1: Phone(9, "1"), MOBILE_2: Phone(4, "1")})
    assert call.bridged_to == MOBILE_2
    assert "conference ring: a call not ended (ConnectionError)" in caplog.messages


def test_a_caller_who_hangs_up_while_the_phones_ring_stops_them(
        rig: Callable[[str], Rig]) -> None:
    here = rig("evening")
    here.rest.gone.add("CAtest")
    with pytest.raises(AssertionError, match="left waiting"):  # the stand-in: no one joined
        here.call({MOBILE_1: PERSON_ACCEPTS, MOBILE_2: PERSON_ACCEPTS})
    outcome = here.ringer.outcomes[-1]
    assert outcome.caller_left and outcome.cancelled == 2
    assert here.rest.cancelled == [MOBILE_1, MOBILE_2]


def test_pressing_1_after_the_ring_is_over_does_not_join(rig: Callable[[str], Rig],
                                                         clock: Clock) -> None:
    here = rig("evening")
    until = int(clock.now.timestamp()) + 3
    state = CallState(lang="uk", room="ring-CAtest-0", until=until).to_query()
    query = "&".join(f"{k}={v}" for k, v in state.items())
    in_time = here.rest.post(f"/voice/conference/accept?{query}", {"Digits": "1"})
    assert "<Conference" in in_time and "ring-CAtest-0" in in_time
    clock.now += timedelta(seconds=4)
    late = here.rest.post(f"/voice/conference/accept?{query}", {"Digits": "1"})
    assert late == '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
    declined = here.rest.post(f"/voice/conference/accept?{query}", {"Digits": "2"})
    assert "<Conference" not in declined


def test_a_hold_past_its_deadline_moves_the_caller_on(rig: Callable[[str], Rig],
                                                      clock: Clock) -> None:
    """The coordinator's worker died: the caller's own hold loop asks for the next step."""
    here = rig("evening")
    query = _query_of(CallState(lang="uk", destination="infotraite", hours="closed",
                                room="ring-CAtest-0", until=int(clock.now.timestamp()) + 30))
    here.rest.post(f"/voice/conference/hold?{query}", {})
    assert here.rest.redirects == {}  # in time: nothing to rescue
    clock.now += timedelta(seconds=30 + 11)
    here.rest.post(f"/voice/conference/hold?{query}", {})
    moved = here.rest.redirects["CAtest"]
    assert moved.startswith("https://hotline.example.org/voice/dialed?")
    assert CallState.from_url(moved) == CallState(lang="uk", destination="infotraite",
                                                  hours="closed")


def test_without_the_rest_api_the_mobiles_ring_one_after_another(
        make_app: Callable[..., Flask], clock: Clock) -> None:
    clock.set(MOMENTS["evening"])
    app = make_app("luxembourg")  # no TWILIO_ACCOUNT_SID: no conference ringer
    answer = twilio_post(app.test_client(), "/voice/menu?l=uk&n=main", {"Digits": "1"})
    document = answer.get_data(as_text=True)
    assert "<Conference" not in document
    assert document.count("<Number") == 1 and MOBILE_1 in document


class FlakyApi:
    """A REST API whose every read fails: the coordinator still ends the ring."""

    def __init__(self) -> None:
        self.redirected: list[str] = []
        self.ended: list[str] = []
        self.time = 0.0

    def start_call(self, to: str, from_: str, url: str, timeout: int) -> str:
        return f"CA{to}"

    def call_status(self, sid: str) -> str:
        raise TimeoutError

    def room_members(self, room: str) -> list[str]:
        raise TimeoutError

    def end_call(self, sid: str, status: str) -> None:
        self.ended.append(sid)

    def redirect(self, sid: str, url: str) -> None:
        self.redirected.append(url)


def test_a_rest_api_that_cannot_be_read_still_moves_the_caller_on_at_the_deadline(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "ivr.voice.conference")
    api = FlakyApi()
    plan = RingPlan(room="r", caller_sid="CAx", phones=("+1", "+2"), hotline_number="+3",
                    leg_url="https://h/leg", moved_on_url="https://h/next", ring_seconds=20,
                    until=40.0)

    def sleep(seconds: float) -> None:
        api.time += seconds

    outcome = coordinate(plan, api, sleep=sleep, now=lambda: api.time)
    assert outcome.moved_on and api.redirected == ["https://h/next"]
    assert 40.0 <= api.time < 42.0
    assert api.ended == ["CA+1", "CA+2"]  # status unknown: each is asked to end
    assert "conference ring: REST read failed (TimeoutError)" in caplog.messages


class EndedApi(FlakyApi):
    """Every call has ended already (busy, say): reads work."""

    def call_status(self, sid: str) -> str:
        return "in-progress" if sid == "CAx" else "busy"

    def room_members(self, room: str) -> list[str]:
        return []


def test_calls_that_have_ended_are_not_asked_to_end_and_the_deadline_is_exact() -> None:
    api = EndedApi()
    plan = RingPlan(room="r", caller_sid="CAx", phones=("+1", "+2"), hotline_number="+3",
                    leg_url="https://h/leg", moved_on_url="https://h/next", ring_seconds=20,
                    until=3.0)
    outcome = coordinate(plan, api, sleep=lambda s: None, now=lambda: 0.0)
    assert api.ended == [] and outcome.cancelled == 0 and outcome.moved_on
    # Nobody in the room, calls unreadable: it stops at the deadline itself, not a look later.
    flaky = FlakyApi()

    def sleep(seconds: float) -> None:
        flaky.time += seconds

    coordinate(replace(plan, until=3.0), flaky, sleep=sleep, now=lambda: flaky.time)
    assert flaky.time == 3.0


def _query_of(state: CallState) -> str:
    return "&".join(f"{k}={v}" for k, v in state.to_query().items())


def _query(plan: RingPlan) -> str:
    return plan.moved_on_url.split("?", 1)[1]


@pytest.mark.parametrize(("behaviour", "waited"), [(BUSY, 1.5), (PERSON_DECLINES, 6.0),
                                                    (NO_ANSWER, 21.0)],
                         ids=["busy", "everyone declines", "nobody answers"])
def test_the_caller_moves_on_as_soon_as_every_phone_has_ended(
        rig: Callable[[str], Rig], behaviour: Phone, waited: float) -> None:
    """Not at the deadline (ring 20 s + 20 s): when the last phone is busy, declined or
    rang out (20 s), seen at the next look (every 1.5 s)."""
    here = rig("evening")
    here.call({}, default=behaviour)
    assert here.rest.elapsed == waited


def test_together_must_be_true_or_false(tmp_path: Path) -> None:
    text = PROFILES["luxembourg"].read_text().replace("together = true", 'together = "yes"')
    broken = tmp_path / "broken.toml"
    broken.write_text(text)
    with pytest.raises(ProfileError, match=r"broken\.toml:\d+: destinations\.infotraite\."
                                           r"together"):
        load_profile(broken)


def test_two_people_who_accept_at_once_the_first_stays_the_second_is_hung_up(
        rig: Callable[[str], Rig]) -> None:
    here = rig("evening")
    call = here.call({MOBILE_1: PERSON_ACCEPTS, MOBILE_2: PERSON_ACCEPTS})  # both at 6 s
    assert call.bridged_to == MOBILE_1
    assert here.rest.cancelled == [MOBILE_2]
    assert here.rest.legs["CAleg1"].status == "completed"


def test_the_held_callers_answer_word_for_word(rig: Callable[[str], Rig], clock: Clock) -> None:
    """Connecting, then the conference: the caller waits (startConferenceOnEnter false) and
    leaves it to end when they hang up; no beep. Deadline: 5 + ring 20 + whisper 15 s."""
    here = rig("evening")
    until = int(clock.now.timestamp()) + 40
    here.rest.fails.add("start_call")  # the answer only; the phones are not the point here
    answer = here.rest.post("/voice/menu?l=en&n=main", {"Digits": "1"})
    held = f"l=en&amp;d=infotraite&amp;t=0&amp;h=closed&amp;c=ring-CAtest-0&amp;u={until}"
    assert answer == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="en-GB" voice="Polly.Amy">Connecting you to INFOTRAITE. Please stay on '
        'the line.</Say>'
        f'<Dial action="/voice/conference/ended?{held}" method="POST">'
        f'<Conference beep="false" endConferenceOnExit="true" startConferenceOnEnter="false" '
        f'waitMethod="POST" waitUrl="/voice/conference/hold?{held}">ring-CAtest-0</Conference>'
        '</Dial></Response>')
    assert here.ringer.plans[-1].until == until


def test_pressing_1_in_time_joins_the_caller_word_for_word(rig: Callable[[str], Rig],
                                                           clock: Clock) -> None:
    here = rig("evening")
    until = int(clock.now.timestamp()) + 3
    joined = here.rest.post(f"/voice/conference/accept?l=uk&c=ring-CAtest-0&u={until}",
                            {"Digits": "1"})
    assert joined == ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference '
                      'beep="false" endConferenceOnExit="true" startConferenceOnEnter="true">'
                      'ring-CAtest-0</Conference></Dial></Response>')


@pytest.mark.parametrize(("after_deadline", "rescued"), [(0, False), (10, False), (11, True)])
def test_the_hold_asks_for_a_rescue_only_ten_seconds_past_the_deadline(
        rig: Callable[[str], Rig], clock: Clock, after_deadline: int, rescued: bool) -> None:
    here = rig("evening")
    until = int(clock.now.timestamp())
    clock.now += timedelta(seconds=after_deadline)
    here.rest.post(f"/voice/conference/hold?l=uk&d=infotraite&t=0&c=ring-CAtest-0&u={until}",
                   {})
    assert ("CAtest" in here.rest.redirects) is rescued


def test_pressing_1_at_the_deadline_itself_is_too_late(rig: Callable[[str], Rig],
                                                       clock: Clock) -> None:
    """The coordinator moves the caller on at the deadline (now >= until): no join then."""
    here = rig("evening")
    until = int(clock.now.timestamp())
    late = here.rest.post(f"/voice/conference/accept?l=uk&c=ring-CAtest-0&u={until}",
                          {"Digits": "1"})
    assert late == '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'


def test_the_ringer_runs_the_coordinator_off_the_request() -> None:
    """ConferenceRinger, as production builds it: start() returns at once; a thread of the
    conference lane calls the phones and, the deadline past, moves the caller on."""
    api = EndedApi()
    plan = RingPlan(room="r", caller_sid="CAx", phones=("+1",), hotline_number="+3",
                    leg_url="https://h/leg", moved_on_url="https://h/next", ring_seconds=20,
                    until=0.0)
    ConferenceRinger(api).start(plan)
    lane_threads(LANE).submit(lambda: None).result(timeout=10)  # the lane has run it
    for _ in range(100):
        if api.redirected:
            break
        time.sleep(0.05)
    assert api.redirected == ["https://h/next"]
