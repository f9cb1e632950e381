"""Twilio's REST side of a conference ring, in virtual time, for tests/twilio_standin.py.

Written from Twilio's documentation (shared/reference/twilio.md, the TwiML <Conference>
page), not from what the app expects:

- `calls.create(to, from_, url, timeout)` rings a phone for `timeout` seconds; a phone
  that picks up (a person or a voicemail) runs the TwiML at `url`: the whisper.
- A phone whose whisper answers `<Dial><Conference>` joins that room (a participant); a
  `<Hangup>`, or a whisper that ends, ends that call.
- `calls(sid).update(status="canceled")` ends a call that is queued or ringing and does
  not affect one in progress; `status="completed"` ends it either way. A live call can be
  sent to another URL
  (`calls(sid).update(url=...)`): the caller then leaves the conference for that URL.
- The hold (waitUrl) TwiML may hold only Say, Play, Pause and Redirect (error 13238).

Time is virtual: the coordinator's `sleep` moves this clock and the app's test clock.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import timedelta

from ivr.voice.conference import Outcome, RingPlan, coordinate
from tests.twilio_standin import NO_ANSWER, Phone, Post

HOLD_VERBS = {"Say", "Play", "Pause", "Redirect"}


@dataclass
class Leg:
    """One outbound call to a helpline phone."""

    phone: str
    url: str
    timeout: int
    started: float
    status: str = "ringing"
    room: str | None = None


@dataclass
class StandInRest:
    """The REST operations of ivr.voice.conference.RingApi, as Twilio behaves."""

    post: Post
    phones: dict[str, Phone]
    clock: object  # tests.conftest.Clock: moved forward with virtual time
    default: Phone = NO_ANSWER
    fails: set[str] = field(default_factory=set)  # operations that raise, e.g. {"start_call"}
    elapsed: float = 0.0
    legs: dict[str, Leg] = field(default_factory=dict)
    rooms: dict[str, list[str]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)  # callers who hung up
    redirects: dict[str, str] = field(default_factory=dict)
    caller_ids: list[str] = field(default_factory=list)
    whispered: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # phones whose call the app ended

    def _check(self, operation: str) -> None:
        if operation in self.fails:
            raise ConnectionError(f"stand-in: {operation} failed")

    def start_call(self, to: str, from_: str, url: str, timeout: int) -> str:
        self._check("start_call")
        sid = f"CAleg{len(self.legs)}"
        self.legs[sid] = Leg(to, url, timeout, self.elapsed)
        self.caller_ids.append(from_)
        return sid

    def call_status(self, sid: str) -> str:
        self._check("call_status")
        if sid in self.legs:
            return self.legs[sid].status
        return "completed" if sid in self.gone else "in-progress"

    def room_members(self, room: str) -> list[str]:
        self._check("room_members")
        return list(self.rooms.get(room, []))

    def end_call(self, sid: str, status: str) -> None:
        self._check("end_call")
        leg = self.legs[sid]
        if leg.status == "ringing" or (leg.status == "in-progress" and status == "completed"):
            leg.status = "canceled" if status == "canceled" else "completed"
            self.cancelled.append(leg.phone)

    def redirect(self, sid: str, url: str) -> None:
        self._check("redirect")
        self.redirects[sid] = url

    def now(self) -> float:
        return self.clock.now.timestamp()  # type: ignore[attr-defined]

    def sleep(self, seconds: float) -> None:
        """Let virtual time pass; phones pick up, whisper, accept or ring out meanwhile."""
        self.elapsed += seconds
        self.clock.now += timedelta(seconds=seconds)  # type: ignore[attr-defined]
        for sid, leg in self.legs.items():
            if leg.status != "ringing":
                continue
            phone = self.phones.get(leg.phone, self.default)
            ringing_for = self.elapsed - leg.started
            if phone.busy:
                leg.status = "busy"
            elif phone.picks_up_after is not None and phone.picks_up_after <= min(
                    ringing_for, leg.timeout):
                self._answer(sid, leg, phone)
            elif ringing_for >= leg.timeout:
                leg.status = "no-answer"

    def _answer(self, sid: str, leg: Leg, phone: Phone) -> None:
        """The phone picked up: its whisper runs; 1 in time joins the room."""
        leg.status = "in-progress"
        self.whispered.append(leg.phone)
        document = self.post(leg.url, {"CallSid": sid})
        gather = ET.fromstring(document).find("Gather")
        if gather is None or not phone.presses:
            leg.status = "completed"  # a voicemail: the whisper ends and hangs up
            return
        answer = ET.fromstring(self.post(gather.get("action") or "", {"Digits": phone.presses,
                                                                          "CallSid": sid}))
        conference = answer.find("Dial/Conference")
        if conference is None:
            leg.status = "completed"
            return
        leg.room = (conference.text or "").strip()
        self.rooms.setdefault(leg.room, []).append(sid)


class StandInRinger:
    """The app's ringer in tests: the real coordinator, run at once on virtual time."""

    def __init__(self, rest: StandInRest) -> None:
        self.rest = rest
        self.outcomes: list[Outcome] = []
        self.plans: list[RingPlan] = []

    def start(self, plan: RingPlan) -> None:
        self.plans.append(plan)
        self.outcomes.append(coordinate(plan, self.rest, sleep=self.rest.sleep,
                                        now=self.rest.now))

    def rescue(self, caller_sid: str, url: str) -> None:
        self.rest.redirect(caller_sid, url)


def hold_verbs(document: str) -> set[str]:
    """The verbs of a hold (waitUrl) document, checked against what Twilio allows there."""
    verbs = {verb.tag for verb in ET.fromstring(document)}
    assert verbs <= HOLD_VERBS, f"error 13238: {verbs - HOLD_VERBS} in a waitUrl document"
    return verbs
