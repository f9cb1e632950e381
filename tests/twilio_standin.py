"""A stand-in for Twilio's voice platform: it runs the app's TwiML the way Twilio does.

Small on purpose, and written from Twilio's documentation (shared/reference/twilio.md),
not from what the app expects:

- `<Dial>` with several `<Number>`s rings them at once; the first phone to pick up wins
  and the others are hung up ("The first call to pick up is connected to the current call
  and the rest are hung up"). A voicemail picks up too.
- `<Number url>` runs its TwiML (the whisper) on the answering phone before bridging; a
  `<Hangup>` there, or the end of that document, ends the leg without bridging.
- The dial action gets `DialCallStatus` and `DialBridged` as Twilio sends them: a leg that
  picked up reads "completed", bridged or not.
- `<Gather>` with no key falls through to the next verb unless `actionOnEmptyResult`.
- `<Record>` that hears only silence is dropped (warning 16102): the action is not called
  and Twilio goes on with the next verb.
- The end of a document hangs up.
- `<Dial><Conference>` holds the caller in a room while the app calls the phones through
  the REST API (tests/twilio_conference_standin.py): the caller hears the waitUrl's
  document, then talks to whoever joined, or goes where the app redirected the call
  (the `<Dial>` action is still requested then, and its answer ignored).

Each phone follows a script (`Phone`); the caller follows a list of inputs (keys, or
seconds of speech for a recording).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Post = Callable[[str, dict[str, str]], str]  # (url, form) -> the TwiML the app answered


@dataclass(frozen=True)
class Phone:
    """How one phone behaves when it rings."""

    picks_up_after: float | None  # seconds; None: never picks up (no answer)
    presses: str = ""  # what is pressed in the whisper ("" = nothing, as a voicemail)
    busy: bool = False
    hangs_up_first: bool = False  # after accepting, the person ends the conversation


PERSON_ACCEPTS = Phone(6, "1")
PERSON_ACCEPTS_THEN_HANGS_UP = Phone(6, "1", hangs_up_first=True)
PERSON_DECLINES = Phone(6, "2")
VOICEMAIL = Phone(3)  # picks up quickly and presses nothing
NO_ANSWER = Phone(None)
BUSY = Phone(None, busy=True)


@dataclass
class Call:
    """What happened in one call."""

    heard: list[str] = field(default_factory=list)  # spoken texts and audio URLs, in order
    rang: list[list[str]] = field(default_factory=list)  # the numbers of each <Dial>
    whispered: list[str] = field(default_factory=list)  # numbers that heard the whisper
    bridged_to: str | None = None
    caller_ids: list[str | None] = field(default_factory=list)
    menus: list[str] = field(default_factory=list)  # gather action URLs, in order
    recorded: list[int] = field(default_factory=list)  # seconds of each kept message
    held: list[str] = field(default_factory=list)  # what the hold (waitUrl) said, each time
    ended: str = ""


class TwilioStandIn:
    """Drives one call through the app's webhooks, as Twilio would."""

    MAX_DOCUMENTS = 80  # a call that goes on longer is a loop

    def __init__(self, post: Post, phones: dict[str, Phone], default: Phone = NO_ANSWER,
                 conference: Any = None) -> None:
        self.post = post
        self.phones = phones
        self.default = default
        self.conference = conference  # a StandInRinger, for rings through a conference

    def call(self, inputs: list[str], start: str = "/voice") -> Call:
        """Run a call; `inputs` are the caller's keys ("" = silence) and recording seconds."""
        return self.call_from(self.post(start, {}), inputs)

    def call_from(self, document: str, inputs: list[str]) -> Call:
        """Run a call from a TwiML document; with no input left, the caller hangs up."""
        call = Call()
        pending = list(inputs)
        for _ in range(self.MAX_DOCUMENTS):
            document_or_end = self._run(document, call, pending)
            if document_or_end is None:
                return call
            document = document_or_end
        raise AssertionError(f"the call never ended: {call.menus[-6:]}")

    def _run(self, document: str, call: Call, pending: list[str]) -> str | None:
        """Run one TwiML document; the next document, or None when the call is over."""
        for verb in ET.fromstring(document):
            if verb.tag in ("Say", "Play"):
                call.heard.append(verb.text or "")
            elif verb.tag == "Gather":
                call.heard.extend(child.text or "" for child in verb)
                call.menus.append(verb.get("action") or "")
                if not pending:
                    call.ended = "caller hung up"
                    return None
                key = pending.pop(0)
                if key or verb.get("actionOnEmptyResult") == "true":
                    return self.post(verb.get("action") or "", {"Digits": key})
            elif verb.tag == "Redirect":
                return self.post(verb.text or "", {})
            elif verb.tag == "Dial" and verb.find("Conference") is not None:
                return self._held(verb, call)
            elif verb.tag == "Dial":
                outcome = self._dial(verb, call)
                if outcome == "conversation over, caller hung up":
                    call.ended = outcome
                    return None
                action = verb.get("action")
                if action:
                    return self.post(action, outcome_form(outcome))
            elif verb.tag == "Record":
                seconds = int(pending.pop(0)) if pending else 0
                if seconds > 0:
                    call.recorded.append(seconds)
                    return self.post(verb.get("action") or "", {
                        "RecordingDuration": str(seconds), "RecordingSid": "RE0",
                        "RecordingUrl": "https://api.twilio.com/recording"})
                # Silence: the recording is dropped, the action not called; next verb.
            elif verb.tag == "Hangup":
                call.ended = "hung up"
                return None
        call.ended = "end of document"
        return None

    def _dial(self, dial: ET.Element, call: Call) -> str:
        """Ring the <Number>s at once; the first pick-up wins and the rest are hung up."""
        numbers = [(n.text or "").strip() for n in dial.iter("Number")]
        urls = {(n.text or "").strip(): n.get("url") for n in dial.iter("Number")}
        call.rang.append(numbers)
        call.caller_ids.append(dial.get("callerId"))
        timeout = float(dial.get("timeout") or 30)
        picked = [(phone.picks_up_after, number) for number in numbers
                  if (phone := self.phones.get(number, self.default)).picks_up_after is not None
                  and phone.picks_up_after <= timeout]
        if not picked:
            busy = all(self.phones.get(n, self.default).busy for n in numbers)
            return "busy" if busy else "no-answer"
        _, winner = min(picked)
        phone = self.phones.get(winner, self.default)
        url = urls[winner]
        if url and not self._whisper(url, phone, call, winner):
            return "declined"
        call.bridged_to = winner
        return "bridged, person hung up" if phone.hangs_up_first else (
            "conversation over, caller hung up")

    def _held(self, dial: ET.Element, call: Call) -> str | None:
        """The caller in a conference: the app's ringer has already run (virtual time)."""
        from tests.twilio_conference_standin import hold_verbs

        assert self.conference is not None, "a conference, but no REST stand-in"
        rest, plan = self.conference.rest, self.conference.plans[-1]
        room = (dial.findtext("Conference") or "").strip()
        assert room == plan.room
        call.rang.append(list(plan.phones))
        hold = self.post(dial.find("Conference").get("waitUrl") or "", {})  # type: ignore[union-attr]
        hold_verbs(hold)
        call.held.extend(verb.text or "" for verb in ET.fromstring(hold)
                         if verb.tag in ("Say", "Play"))
        call.whispered.extend(rest.whispered)
        rest.whispered.clear()
        moved_on = rest.redirects.pop("CAtest", None)
        if moved_on:
            # Twilio's changelog (2021-05-24): on a call modification the <Dial> action is
            # still requested, and what it answers is ignored; the new URL's TwiML runs.
            self.post(dial.get("action") or "", {"DialCallStatus": "completed"})
            return self.post(moved_on, {})
        members = rest.rooms.get(room, [])
        assert members, "the caller was left waiting in the conference"
        leg = rest.legs[members[0]]
        call.bridged_to = leg.phone
        if self.phones.get(leg.phone, self.default).hangs_up_first:
            return self.post(dial.get("action") or "", {})  # the conference ended
        call.ended = "conversation over, caller hung up"
        return None

    def _whisper(self, url: str, phone: Phone, call: Call, number: str) -> bool:
        """Run the whisper on the answering phone; True when the leg is bridged."""
        call.whispered.append(number)
        document = self.post(url, {"CallSid": "CAleg"})
        for _ in range(5):
            for verb in ET.fromstring(document):
                if verb.tag == "Gather":
                    if phone.presses:
                        document = self.post(verb.get("action") or "",
                                             {"Digits": phone.presses})
                        break
                elif verb.tag == "Redirect":
                    document = self.post(verb.text or "", {})
                    break
                elif verb.tag == "Hangup":
                    return False
            else:
                return True  # the whisper's TwiML ended without hanging up: bridged
        raise AssertionError("the whisper never ended")


def outcome_form(outcome: str) -> dict[str, str]:
    """The dial action's parameters for an outcome, as Twilio sends them."""
    if outcome in ("busy", "no-answer"):
        return {"DialCallStatus": outcome, "DialBridged": "false"}
    if outcome == "declined":  # the phone picked up, then the whisper hung up
        return {"DialCallStatus": "completed", "DialBridged": "false"}
    return {"DialCallStatus": "completed", "DialBridged": "true", "DialCallDuration": "95"}
