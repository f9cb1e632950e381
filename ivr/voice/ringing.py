"""Ringing a person: each phone in turn, each answer screened by a whisper.

Twilio hangs up every other `<Number>` of a `<Dial>` as soon as one picks up, and a
voicemail picks up too; with several phones in one `<Dial>`, one voicemail would stop the
person on another phone from ever taking the call. So the phones of a ring plan ring one
after another, each for `ring_seconds`, and only a key press (1) in the whisper bridges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from twilio.twiml.voice_response import VoiceResponse

from ivr.content.hours import is_open
from ivr.content.i18n import language_name
from ivr.content.profile import Destination, Profile
from ivr.content.speech import Prompter
from ivr.voice.conference import CREATE_SECONDS, HOLD_PAUSE_SECONDS, WHISPER_SECONDS, RingPlan
from ivr.voice.state import CallState, url

ACCEPT_KEY = "1"
WHISPER_TIMEOUT = 6

Clock = Callable[[], datetime]
SmsSender = Callable[[str, str, str], bool]  # (to, from, body) -> sent


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Caller:
    """What Twilio tells us about the call on every request."""

    from_number: str = ""
    to_number: str = ""
    from_country: str = ""
    call_sid: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the engine decided: the TwiML to answer, and what it means for the call's log."""

    twiml: str
    menu_heard: tuple[str, str] | None = None  # (language, node) of the menu now playing
    event: str | None = None  # e.g. "accepted" or "declined" for a whisper
    ring: RingPlan | None = None  # phones to call through the REST API, right after answering
    rescue: str | None = None  # a held caller to move on (this URL): their ring's owner died


def was_bridged(status: str | None, bridged: str | None) -> bool:
    """Whether a ring step ended with a person talking to the caller.

    Twilio sends DialBridged with the dial action; without it a "completed" dial is no
    proof (a whisper that was declined ends "completed" too), so the caller is never
    taken for served and the next phone rings instead.
    """
    del status  # kept in the signature: the status alone never decides
    return (bridged or "").strip().lower() == "true"


class Ringing:
    """The ringing part of the call flow; the Engine adds the menus around it."""

    def __init__(self, profile: Profile, prompter: Prompter, base: str, clock: Clock) -> None:
        self.profile = profile
        self.prompter = prompter
        self.base = base
        self.clock = clock
        # Set where Twilio's REST API can be used: steps of a destination marked `together`
        # then ring at once through a conference (ivr/voice/conference.py).
        self.conference_ready = False

    def link(self, route: str, state: CallState | None = None) -> str:
        """A callback URL on this app (under the base the webhooks are mounted at)."""
        return url(self.base, route, state)

    def now(self) -> datetime:
        return self.clock().astimezone(self.profile.timezone)

    # Implemented by the Engine.
    def menu(self, state: CallState, notice: str | None = None) -> Answer:
        raise NotImplementedError

    def when_nobody_accepted(self, state: CallState) -> Answer:
        raise NotImplementedError

    def language(self, code: str | None) -> str | None:
        raise NotImplementedError

    @property
    def unanswered_node(self) -> str:
        nodes = self.profile.nodes
        return "unanswered" if "unanswered" in nodes else self.profile.start_node

    def hours_now(self, destination: Destination) -> str:
        """"open" or "closed": which of a destination's lists rings if ringing starts now."""
        if destination.schedule is None:
            return "open"
        schedule = self.profile.schedules[destination.schedule]
        return "open" if is_open(schedule, self.now()) else "closed"

    def ring_plan(self, destination: Destination, hours: str | None = None
                  ) -> tuple[tuple[str, ...], ...]:
        """The numbers to ring, step by step: office hours (now, or as given) decide which."""
        hours = hours or self.hours_now(destination)
        return destination.open_steps if hours == "open" else destination.closed_steps

    def ring_order(self, destination: Destination, hours: str | None = None) -> list[str]:
        """Every phone of the plan, one after another, in the plan's order, each once."""
        return list(dict.fromkeys(n for step in self.ring_plan(destination, hours)
                                  for n in step))

    def rings_together(self, destination: Destination, caller: Caller) -> bool:
        """Whether a step's phones ring at once (a conference) rather than one by one."""
        return destination.together and self.conference_ready and bool(caller.call_sid)

    def ring_steps(self, destination: Destination, hours: str, together: bool
                   ) -> tuple[tuple[str, ...], ...]:
        """The phones of each step: the plan's steps, or each phone a step of its own."""
        if together:
            return self.ring_plan(destination, hours)
        return tuple((phone,) for phone in self.ring_order(destination, hours))

    def connect(self, state: CallState, destination_name: str, caller: Caller,
                step: int = 0, automatic: bool = False, announce: bool = True) -> Answer:
        """Ring one phone of a destination, screened by a whisper.

        `automatic`: the caller did not press 0 (silence, wrong keys, an option); then a
        destination whose phones already rang unanswered is not rung again, and the
        caller gets what is left instead (a voice message, the numbers by text).
        `announce`: say "connecting you" first (not after the greeting's "stay on the line",
        where the ring tone itself says it, sooner).
        """
        p = self.profile
        destination = p.destinations.get(destination_name) or p.destinations[p.person]
        lang = self.language(state.lang)
        speak_lang = lang or state.suggested or p.greeting_language
        if automatic and destination.name in state.tried:
            return self.when_nobody_accepted(state)
        # The list chosen when ringing started stays for the rest of it.
        hours = state.hours if step > 0 and state.hours else self.hours_now(destination)
        steps = self.ring_steps(destination, hours, self.rings_together(destination, caller))
        if not steps and destination.closed_node:
            return self.menu(CallState(lang=lang or state.suggested or p.default_language,
                                       node=destination.closed_node, tried=state.tried))
        if step >= len(steps):
            return self.when_nobody_accepted(state.having_tried(destination.name))
        response = VoiceResponse()
        if step == 0:
            if announce:
                self.prompter.speak(response, speak_lang, "connect.hold",
                                    destination=destination.label)
        else:
            self.prompter.speak(response, speak_lang, "connect.next")
        ringing = CallState(lang=lang, suggested=None if lang else state.suggested,
                            destination=destination.name, step=step, tried=state.tried,
                            hours=hours)
        if len(steps[step]) > 1:
            return self._ring_together(response, ringing, steps[step], caller)
        caller_id = caller.from_number if p.show_caller_number else caller.to_number
        dial_kwargs: dict[str, object] = {"caller_id": caller_id} if caller_id else {}
        dial = response.dial(action=self.link("dialed", ringing), method="POST",
                             timeout=p.ring_seconds, answer_on_bridge=True, **dial_kwargs)
        dial.number(steps[step][0], url=self.link("whisper", CallState(lang=lang)),
                    method="POST")
        return Answer(str(response))

    def _ring_together(self, response: VoiceResponse, ringing: CallState,
                       phones: tuple[str, ...], caller: Caller) -> Answer:
        """Hold the caller in a conference of their own; the phones are called right after.

        The helpline's phones see the hotline's number (the REST calls come from it), so
        `show_caller_number` cannot apply here.
        """
        p = self.profile
        until = int(self.clock().timestamp()) + CREATE_SECONDS + p.ring_seconds \
            + WHISPER_SECONDS
        room = f"ring-{caller.call_sid}-{ringing.step}"  # a CallSid: no personal data
        held = ringing.but(room=room, until=until)
        dial = response.dial(action=self.link("conference/ended", held), method="POST")
        dial.conference(room, wait_url=self.link("conference/hold", held), wait_method="POST",
                        start_conference_on_enter=False, end_conference_on_exit=True,
                        beep=False)
        plan = RingPlan(room=room, caller_sid=caller.call_sid, phones=phones,
                        hotline_number=caller.to_number,
                        leg_url=self.link("conference/leg",
                                          CallState(lang=ringing.lang, room=room, until=until)),
                        moved_on_url=self.link("dialed", ringing), ring_seconds=p.ring_seconds,
                        until=until)
        return Answer(str(response), ring=plan)

    def hold(self, state: CallState, caller: Caller) -> Answer:
        """The held caller's loop: a pause, "still trying" in their language, again.

        Past the deadline (with a margin) the ring's coordinator should have moved the
        caller on; if it has not (its worker died), this asks for it again.
        """
        p = self.profile
        lang = self.language(state.lang) or state.suggested or p.greeting_language
        response = VoiceResponse()
        response.pause(length=HOLD_PAUSE_SECONDS)
        self.prompter.speak(response, lang, "connect.next")
        response.redirect(self.link("conference/hold", state), method="POST")
        late = state.until and self.clock().timestamp() > state.until + 2 * HOLD_PAUSE_SECONDS
        rescue = self.link("dialed", state.but(room=None, until=0)) \
            if late and caller.call_sid else None
        return Answer(str(response), rescue=rescue)

    def conference_ended(self) -> Answer:
        """The held caller's conference ended with them in it: a person took the call and
        the conversation is over."""
        response = VoiceResponse()
        response.hangup()
        return Answer(str(response))

    def leg(self, state: CallState) -> Answer:
        """The whisper on a phone called for a conference ring; 1 joins the caller."""
        return self.whisper(state, action="conference/accept")

    def leg_answer(self, state: CallState, digits: str | None) -> Answer:
        """Join the held caller on 1, unless the ring is over; anything else declines."""
        response = VoiceResponse()
        accepted = (digits or "").strip() == ACCEPT_KEY
        in_time = bool(state.room) and self.clock().timestamp() < state.until
        if accepted and in_time and state.room:
            dial = response.dial()
            dial.conference(state.room, start_conference_on_enter=True,
                            end_conference_on_exit=True, beep=False)
            return Answer(str(response), event="accepted")
        response.hangup()
        return Answer(str(response), event="too late" if accepted else "declined")

    def dialed(self, state: CallState, status: str | None, bridged: str | None,
               caller: Caller) -> Answer:
        """A ring step ended: done if a person took the call, else the next phone."""
        if was_bridged(status, bridged):
            response = VoiceResponse()
            response.hangup()
            return Answer(str(response))
        # connect() falls back to the person line for an unknown destination.
        return self.connect(state, state.destination or "", caller, step=state.step + 1)

    def whisper(self, state: CallState, action: str = "whisper/answer") -> Answer:
        """What the person who answers hears first; only a key press (1) accepts."""
        p = self.profile
        lang = self.language(state.lang)
        staff = p.staff_language
        if lang:
            chosen = language_name(lang, staff)
        else:
            chosen, _ = self.prompter.text(staff, "whisper.no_language")
        response = VoiceResponse()
        gather = response.gather(action=self.link(action, CallState(lang=lang, room=state.room,
                                                                   until=state.until)),
                                 method="POST", num_digits=1, timeout=WHISPER_TIMEOUT,
                                 finish_on_key="")
        for _ in range(2):
            self.prompter.speak(gather, staff, "whisper", language=chosen)
        response.hangup()
        return Answer(str(response))

    def whisper_answer(self, digits: str | None) -> Answer:
        """Accept on 1 (the call is bridged); anything else declines, as voicemail would."""
        response = VoiceResponse()
        accepted = (digits or "").strip() == ACCEPT_KEY
        if not accepted:
            response.hangup()
        return Answer(str(response), event="accepted" if accepted else "declined")
