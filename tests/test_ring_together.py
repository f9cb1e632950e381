"""Phones that ring at once without a voicemail taking the call, and without holding a caller.

Run by tests/twilio_world.py (Twilio's call flow, queues and REST API, in virtual time).
The Luxembourg profile rings INFOTRAITE's two mobiles `together`; ring_seconds is 20, so no
caller may wait in the queue more than 40 s (ring_seconds + 20), whatever the REST API does.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from ivr.content.profile import ProfileError
from ivr.content.profile_loader import load_profile
from ivr.voice.ring_store import MemoryBackend, RingStore
from ivr.voice.state import CallState
from tests.conftest import HOTLINE, PROFILES, PUBLIC_BASE_URL, Clock, twilio_post, twilio_world
from tests.test_ringing import LANDLINE, MOBILE_1, MOBILE_2, MOMENTS, node_of
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

RING_SECONDS = 20
BOUND = RING_SECONDS + 20  # the longest a caller may wait in the queue
MOBILES = [MOBILE_1, MOBILE_2]
TALK = ("/voice/menu?l=uk&n=main", "1")  # "talk to INFOTRAITE", in Ukrainian
REST_REQUESTS_AT_MOST = 10


@dataclass
class Rig:
    app: Flask
    world: World

    def call(self, phones: dict[str, Phone] | None = None, default: Phone = NO_ANSWER,
             start: tuple[str, str | None] = TALK, inputs: list[str] | None = None,
             **kwargs: Any) -> Call:
        self.world.phones.update(phones or {})
        self.world.default = default
        url, digits = start
        call = self.world.call(PUBLIC_BASE_URL + url, inputs or [], digits=digits, **kwargs)
        self.world.run()
        return call

    def staff_heard(self, prompt_id: str) -> str:
        prompter = self.app.extensions["hotline"].prompter
        return prompter.text(self.app.extensions["hotline"].profile.staff_language,
                             prompt_id)[0]


class FlakyBackend(MemoryBackend):
    """A ring store that can be switched off (Redis down)."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("store down")

    def write(self, key: str, fields: Any) -> None:
        self._check()
        super().write(key, fields)

    def write_once(self, key: str, field: str, value: str) -> str:
        self._check()
        return super().write_once(key, field, value)

    def read(self, key: str) -> dict[str, str]:
        self._check()
        return super().read(key)


@pytest.fixture
def rig(make_app: Callable[..., Flask], clock: Clock) -> Callable[..., Rig]:
    def build(moment: str = "evening", backend: MemoryBackend | None = None, **config: Any
              ) -> Rig:
        clock.set(MOMENTS[moment])
        world = World()
        store = RingStore(backend or MemoryBackend(), shared=True)
        app = make_app("luxembourg", RING_API=world, RING_STORE=store,
                       TWILIO_REST_CHECK_SECONDS=0, **config)
        twilio_world(app, clock=clock, world=world)
        world.runtime.clock = clock
        return Rig(app, world)

    return build


def accepted_at(world: World, number: str) -> float:
    """When the person on `number` pressed 1 (their accept webhook)."""
    leg = next(leg for leg in world.legs.values() if leg.to == number)
    times = [t for t, route in world.webhooks if route == "/ring/accept"]
    assert times, "nobody pressed 1"
    return max(t for t in times if t >= (leg.rang_until or 0))


def assert_within_bound(call: Call) -> None:
    assert call.longest_hold <= BOUND, f"held {call.longest_hold} s"
    assert call.failed_requests == []


# --- who takes the call ---------------------------------------------------------------


@pytest.mark.parametrize("moment", ["evening", "holiday"])
def test_a_voicemail_that_answers_first_never_takes_the_call(rig: Callable[..., Rig],
                                                             moment: str) -> None:
    here = rig(moment)
    call = here.call({MOBILE_1: VOICEMAIL, MOBILE_2: PERSON_ACCEPTS})
    assert call.bridged_to == MOBILE_2 and call.queue_results == ["bridged"]
    assert [leg.to for leg in here.world.legs.values()] == MOBILES  # both at once
    mailbox = next(leg for leg in here.world.legs.values() if leg.to == MOBILE_1)
    assert "ukrainien" in mailbox.heard[0]  # the whisper, in French, names the language
    assert here.world.people_connected() == [MOBILE_2]
    assert_within_bound(call)


def test_office_hours_ring_the_landline_first_then_both_mobiles_together(
        rig: Callable[..., Rig]) -> None:
    here = rig("office hours")
    call = here.call({LANDLINE: NO_ANSWER, MOBILE_1: PERSON_ACCEPTS, MOBILE_2: NO_ANSWER})
    assert call.rang == [[LANDLINE]]  # the landline in a <Dial> of its own
    assert call.caller_ids == [HOTLINE]
    assert [leg.to for leg in here.world.legs.values()] == MOBILES
    assert call.bridged_to == MOBILE_1


def test_the_first_person_to_accept_wins_and_the_other_phone_stops_within_5_s(
        rig: Callable[..., Rig]) -> None:
    here = rig()
    call = here.call({MOBILE_1: Phone(9, "1"), MOBILE_2: Phone(4, "1")})
    assert call.bridged_to == MOBILE_2
    assert here.world.rang_after(accepted_at(here.world, MOBILE_2), grace=5) == []
    assert here.world.people_connected() == [MOBILE_2]
    assert here.world.rest_count("end_call") == 1
    winner = next(leg for leg in here.world.legs.values() if leg.to == MOBILE_2)
    assert here.staff_heard("whisper.gone") not in winner.heard  # nothing after the talk


def test_two_people_who_accept_at_once_only_one_is_connected(rig: Callable[..., Rig]) -> None:
    """Both pick up and press 1 a second apart (Twilio places one call a second): the first
    takes the caller; the other, still in the whisper, is told a colleague took the call."""
    here = rig()
    call = here.call({}, default=PERSON_ACCEPTS)
    assert call.bridged_to == MOBILE_1
    assert here.world.people_connected() == [MOBILE_1]
    loser = next(leg for leg in here.world.legs.values() if leg.to == MOBILE_2)
    assert loser.heard[-1] == here.staff_heard("whisper.gone")
    # Now both press 1 in the same instant.
    here = rig()
    here.world.faults["end_call"] = "slow"
    call = here.call({MOBILE_1: Phone(6, "1", press_after=3), MOBILE_2: Phone(6, "1",
                                                                          press_after=2)})
    assert len(here.world.people_connected()) == 1
    loser = next(leg for leg in here.world.legs.values() if leg.to != call.bridged_to)
    assert loser.bridged_with is None
    assert loser.heard[-1] == here.staff_heard("whisper.gone")
    taken = [t for t, route in here.world.webhooks if route == "/ring/taken"]
    assert len(taken) == 1  # only the winner dialled the queue (its conversation's end)


def test_a_phone_answered_after_someone_accepted_hears_it_is_taken(
        rig: Callable[..., Rig]) -> None:
    """The race between reading who accepted and stopping the others: a phone that picks
    up then is told, and never joins."""
    here = rig()
    here.world.faults["end_call"] = "500"  # the other phone cannot be stopped
    call = here.call({MOBILE_1: Phone(4, "1"), MOBILE_2: Phone(12, "1")})
    assert call.bridged_to == MOBILE_1
    late = next(leg for leg in here.world.legs.values() if leg.to == MOBILE_2)
    assert late.heard == [here.staff_heard("whisper.gone")]  # no whisper: told at once
    assert here.world.people_connected() == [MOBILE_1]


@pytest.mark.parametrize("picks_up", [4, 12, 19])
def test_a_person_who_picks_up_late_in_the_ring_still_takes_the_caller(
        rig: Callable[..., Rig], picks_up: float) -> None:
    """The caller has heard several "still trying" by then: they are still in the queue."""
    here = rig()
    call = here.call({MOBILE_1: Phone(picks_up, "1")})
    assert call.bridged_to == MOBILE_1 and call.queue_results == ["bridged"]
    assert call.bridged_at == pytest.approx(picks_up + 0.2 + 2)  # placed at 0.2 s, 1 after 2
    assert len(call.held) >= 1 + int(picks_up // 9)


def test_a_person_who_hangs_up_first_ends_the_call(rig: Callable[..., Rig]) -> None:
    here = rig()
    call = here.call({MOBILE_1: PERSON_ACCEPTS_THEN_HANGS_UP})
    assert call.bridged_to == MOBILE_1
    assert call.ended == "hung up"  # the Enqueue action's answer after the conversation
    assert len(here.world.legs) == 2


# --- when nobody accepts ------------------------------------------------------------------


@pytest.mark.parametrize("moment", ["evening", "holiday"])
@pytest.mark.parametrize("behaviour", [PERSON_DECLINES, NO_ANSWER, BUSY, VOICEMAIL],
                         ids=["everyone declines", "nobody answers", "busy", "voicemails"])
def test_when_nobody_accepts_the_caller_has_choices_within_the_bound(
        rig: Callable[..., Rig], moment: str, behaviour: Phone) -> None:
    here = rig(moment)
    call = here.call({}, default=behaviour)
    assert call.bridged_to is None and call.queue_results == ["leave"]
    assert node_of(call.menus[-1]) == "unanswered"
    assert [leg.to for leg in here.world.legs.values()] == MOBILES  # each rang once
    assert call.rang == []  # and was not rung again one after another
    assert here.world.rang_after(call.left_queue_at or 0) == []
    assert_within_bound(call)


@pytest.mark.parametrize(("behaviour", "at_most"), [(BUSY, 10), (PERSON_DECLINES, 22),
                                                    (NO_ANSWER, 30)],
                         ids=["busy", "everyone declines", "nobody answers"])
def test_the_caller_moves_on_soon_after_every_phone_has_ended(
        rig: Callable[..., Rig], behaviour: Phone, at_most: float) -> None:
    """Not at the deadline (35 s): at the next wait document after the last phone ended."""
    here = rig()
    call = here.call({}, default=behaviour)
    assert call.longest_hold <= at_most


def test_a_caller_who_hangs_up_while_the_phones_ring_stops_them(
        rig: Callable[..., Rig]) -> None:
    here = rig()
    call = here.call({}, default=PERSON_ACCEPTS, hang_up_at=3)
    assert call.queue_results == ["hangup"] and call.bridged_to is None
    assert here.world.rang_after(3, grace=5) == []
    assert here.world.people_connected() == []


def test_pressing_1_after_the_caller_moved_on_joins_nobody(rig: Callable[..., Rig]) -> None:
    """A person picks up at 19 s and presses 1 at 39 s: the caller left the queue at 35 s."""
    here = rig()
    call = here.call({MOBILE_1: Phone(19, "1", press_after=20)})
    assert call.bridged_to is None and node_of(call.menus[-1]) == "unanswered"
    late = next(leg for leg in here.world.legs.values() if leg.to == MOBILE_1)
    assert late.heard[-1] == here.staff_heard("whisper.gone")
    assert here.world.people_connected() == []
    # Told at once: no <Dial><Queue> waiting 5 s for a caller who has gone.
    assert [route for _, route in here.world.webhooks if route == "/ring/taken"] == []
    assert_within_bound(call)


def test_pressing_1_just_before_the_deadline_connects_or_tells_never_both(
        rig: Callable[..., Rig]) -> None:
    """1 pressed in the last second of the hold: whichever Twilio does first, the caller is
    either connected to that person or moved on, and the person is told."""
    for press_after in (13.5, 14.0, 14.5, 15.0, 15.5, 16.0):
        here = rig()
        call = here.call({MOBILE_1: Phone(19, "1", press_after=press_after)})
        leg = next(leg for leg in here.world.legs.values() if leg.to == MOBILE_1)
        if call.bridged_to == MOBILE_1:
            assert call.queue_results == ["bridged"]
        else:
            assert node_of(call.menus[-1]) == "unanswered"
            assert leg.heard[-1] == here.staff_heard("whisper.gone")
            assert here.world.people_connected() == []
        assert_within_bound(call)


# --- when the REST API fails ------------------------------------------------------------


@pytest.mark.parametrize("fault", ["401", "403", "404", "429", "500", "503", "unreachable"])
def test_a_refused_create_rings_the_phones_one_after_another_at_once(
        rig: Callable[..., Rig], fault: str) -> None:
    here = rig()
    here.world.faults["create_call"] = fault
    call = here.call({MOBILE_1: VOICEMAIL, MOBILE_2: PERSON_ACCEPTS})
    assert call.queued_at is None  # never held
    assert call.rang == [[MOBILE_1], [MOBILE_2]] and call.bridged_to == MOBILE_2
    assert call.caller_ids == [HOTLINE, HOTLINE]
    # The next caller does not even try: the hotline rings one after another until the REST
    # API is seen to work again.
    before = here.world.rest_count()
    again = here.call({MOBILE_1: VOICEMAIL, MOBILE_2: PERSON_ACCEPTS})
    assert again.rang == [[MOBILE_1], [MOBILE_2]]
    assert here.world.rest_count() == before


def test_a_slow_rest_api_costs_seconds_and_its_calls_are_used(rig: Callable[..., Rig]) -> None:
    """Each create is answered after the client gave up (3 s), but Twilio placed both
    calls: their status callbacks name them, and the person who accepts takes the caller."""
    here = rig()
    here.world.faults["create_call"] = "slow"
    call = here.call({MOBILE_1: VOICEMAIL, MOBILE_2: PERSON_ACCEPTS})
    assert call.bridged_to == MOBILE_2 and call.queued_at == pytest.approx(3.0)
    assert here.world.people_connected() == [MOBILE_2]
    assert here.world.rang_after(accepted_at(here.world, MOBILE_2), grace=5) == []


def test_a_slow_rest_api_whose_calls_never_came_moves_the_caller_on_in_seconds(
        rig: Callable[..., Rig]) -> None:
    """The creates timed out and nothing was placed: no status callback ever names them, so
    after 6 s they count as never rung and the phones ring one after another."""
    here = rig()
    here.world.faults["create_call"] = "lost"
    call = here.call({MOBILE_2: PERSON_ACCEPTS})
    assert call.longest_hold <= 12
    assert call.rang == [[MOBILE_1], [MOBILE_2]] and call.bridged_to == MOBILE_2
    # The next caller does not wait on it: one after another until the REST API is seen
    # to work again.
    before = here.world.rest_count()
    again = here.call({MOBILE_2: PERSON_ACCEPTS})
    assert again.queued_at is None and here.world.rest_count() == before


def test_one_phone_refused_rings_after_the_others_had_their_chance(
        rig: Callable[..., Rig]) -> None:
    here = rig()
    here.world.faults[f"create_call:{MOBILE_2}"] = "429"
    call = here.call({MOBILE_2: PERSON_ACCEPTS})
    assert [leg.to for leg in here.world.legs.values()] == [MOBILE_1]
    assert call.queue_results == ["leave"]
    assert call.rang == [[MOBILE_2]] and call.bridged_to == MOBILE_2
    assert_within_bound(call)


@pytest.mark.parametrize("fault", ["500", "429", "unreachable", "slow"])
def test_stopping_calls_that_fails_leaves_nobody_in_an_empty_room(
        rig: Callable[..., Rig], fault: str) -> None:
    """The other phone cannot be stopped: it rings out (20 s); its person, picking up late,
    hears that a colleague took the call and is connected to nobody."""
    here = rig()
    here.world.faults["end_call"] = fault
    here.world.faults["delete_queue"] = fault
    call = here.call({MOBILE_1: Phone(4, "1"), MOBILE_2: Phone(15, "1")})
    assert call.bridged_to == MOBILE_1
    assert here.world.people_connected() == [MOBILE_1]


def test_every_rest_failure_still_ends_the_hold_within_the_bound(
        rig: Callable[..., Rig]) -> None:
    """Every REST operation refused after the calls were placed: the hold still ends (the
    wait document says Leave), and nobody is connected twice."""
    here = rig()
    for operation in ("end_call", "delete_queue", "fetch_account"):
        here.world.faults[operation] = "401"
    call = here.call({}, default=NO_ANSWER)
    assert call.queue_results == ["leave"] and node_of(call.menus[-1]) == "unanswered"
    assert_within_bound(call)


@pytest.mark.parametrize(("scenario", "phones", "default"), [
    ("voicemail then a person", {MOBILE_1: VOICEMAIL, MOBILE_2: PERSON_ACCEPTS}, NO_ANSWER),
    ("both accept", {}, PERSON_ACCEPTS),
    ("nobody answers", {}, NO_ANSWER),
    ("busy", {}, BUSY),
    ("the caller hangs up", {}, PERSON_ACCEPTS),
])
def test_a_ringing_caller_costs_at_most_ten_rest_requests(
        rig: Callable[..., Rig], scenario: str, phones: dict[str, Phone],
        default: Phone) -> None:
    here = rig()
    here.call(phones, default=default,
              **({"hang_up_at": 3} if scenario == "the caller hangs up" else {}))
    assert here.world.rest_count() <= REST_REQUESTS_AT_MOST
    assert here.world.rest_count("fetch_account") == 0  # nothing polled


# --- the ring store ---------------------------------------------------------------------


def test_with_the_store_down_the_phones_ring_one_after_another(
        rig: Callable[..., Rig]) -> None:
    backend = FlakyBackend()
    backend.down = True
    here = rig(backend=backend)
    call = here.call({MOBILE_2: PERSON_ACCEPTS})
    assert call.rang == [[MOBILE_1], [MOBILE_2]] and call.bridged_to == MOBILE_2
    assert here.world.rest_count() == 0


def test_a_store_that_fails_mid_ring_still_ends_the_hold(rig: Callable[..., Rig]) -> None:
    """The store goes down once the phones ring: the hold ends by the clock, and the phones
    (whose calls can no longer be known) each ring once more, one after another."""
    backend = FlakyBackend()
    here = rig(backend=backend)
    here.world.runtime.spawn(_switch_off(backend, at=2.0))
    call = here.call({MOBILE_2: Phone(25, "1")})
    assert call.queue_results == ["leave"]
    assert_within_bound(call)
    assert here.world.people_connected() in ([], [MOBILE_2])


def _switch_off(backend: FlakyBackend, at: float) -> Any:
    from tests.twilio_world import wait

    yield wait(at)
    backend.down = True


# --- the documents ----------------------------------------------------------------------


def test_the_held_callers_answer_word_for_word(rig: Callable[..., Rig], clock: Clock) -> None:
    here = rig()
    until = int(clock.now.timestamp()) + 7 + RING_SECONDS + 15
    answer = twilio_post(here.app.test_client(), "/voice/menu?l=en&n=main", {"Digits": "1"})
    held = f"l=en&amp;d=infotraite&amp;t=0&amp;h=closed&amp;c=ring-CAtest-0&amp;u={until}"
    base = f"{PUBLIC_BASE_URL}/voice/ring"
    assert answer.get_data(as_text=True) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Enqueue action="{base}/left?{held}" method="POST" waitUrl="{base}/wait?{held}" '
        'waitUrlMethod="POST">ring-CAtest-0</Enqueue></Response>')


def test_the_wait_document_says_connecting_then_still_trying_never_5_s_of_silence(
        rig: Callable[..., Rig]) -> None:
    here = rig()
    client = here.app.test_client()
    query = "l=uk&d=infotraite&t=0&h=closed&c=ring-CAtest-0"
    texts, pauses = [], []
    for waited in (0, 8, 16, 24, 28, 33, 35):
        document = twilio_post(client, f"/voice/ring/wait?{query}",
                               {"QueueTime": str(waited)}).get_data(as_text=True)
        verbs = list(ET.fromstring(document))
        assert {v.tag for v in verbs} <= {"Say", "Play", "Pause", "Redirect", "Leave"}
        texts.append([v.text for v in verbs if v.tag == "Say"])
        pauses.append([int(v.get("length") or 0) for v in verbs if v.tag == "Pause"])
        if waited >= 35:
            assert [v.tag for v in verbs] == ["Leave"]
    assert texts[0] == ["З’єднуємо вас із INFOTRAITE. Будь ласка, залишайтеся на лінії."]
    assert texts[1] == ["Ще пробуємо. Будь ласка, залишайтеся на лінії."]
    assert all(p <= 5 for ps in pauses for p in ps)
    assert pauses[4] == [4]  # 28 s: "still trying" (3 s), then what is left: the deadline
    assert texts[5] == [] and pauses[5] == [2]  # 33 s: only the pause left before it


def test_a_callback_for_an_unknown_ring_is_answered_204_and_ignored(
        rig: Callable[..., Rig]) -> None:
    here = rig()
    client = here.app.test_client()
    answer = twilio_post(client, "/voice/ring/status?c=ring-CAnone-0&g=1",
                         {"CallSid": "CAx", "CallStatus": "ringing"})
    answer.close()
    assert answer.status_code == 204 and here.world.rest_count() == 0
    forged = client.post("/voice/ring/status?c=ring-CAnone-0&g=1",
                         data={"CallSid": "CAx", "CallStatus": "ringing"})
    assert forged.status_code == 403


def test_a_late_call_of_a_finished_ring_is_stopped(rig: Callable[..., Rig]) -> None:
    """A call placed after its caller moved on (a create that timed out) is stopped as soon
    as its first status callback arrives."""
    here = rig()
    call = here.call({}, default=BUSY)  # the ring ends at once
    assert call.queue_results == ["leave"]
    answer = twilio_post(here.app.test_client(), "/voice/ring/status?c=ring-CAtest-0&g=1",
                         {"CallSid": "CAlate", "CallStatus": "initiated"})
    answer.close()
    assert ("end_call", "CAlate") in [(op, s) for _, op, s, _ in here.world.rest_requests]


def test_the_state_in_urls_keeps_the_ring(rig: Callable[..., Rig]) -> None:
    state = CallState(lang="uk", destination="infotraite", step=1, hours="open", solo=(1, 0),
                      ring="ring-CAx-1", until=1_900_000_000, leg=2)
    assert CallState.from_query(state.to_query()) == state


def test_together_must_be_true_or_false(tmp_path: Any) -> None:
    text = PROFILES["luxembourg"].read_text().replace("together = true", 'together = "yes"')
    broken = tmp_path / "broken.toml"
    broken.write_text(text)
    with pytest.raises(ProfileError, match=r"broken\.toml:\d+: destinations\.infotraite\."
                                           r"together"):
        load_profile(broken)


def test_without_the_rest_api_the_mobiles_ring_one_after_another(
        make_app: Callable[..., Flask], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.set(MOMENTS["evening"])
    with caplog.at_level(logging.INFO, "ivr.voice.together"):
        app = make_app("luxembourg")  # no TWILIO_ACCOUNT_SID: no REST API
    assert "ringing infotraite: one phone after another (no TWILIO_ACCOUNT_SID" in caplog.text
    world = twilio_world(app, {MOBILE_2: PERSON_ACCEPTS}, clock=clock)
    call = world.call(PUBLIC_BASE_URL + TALK[0], [], digits="1")
    world.run()
    assert call.rang == [[MOBILE_1], [MOBILE_2]] and call.bridged_to == MOBILE_2
