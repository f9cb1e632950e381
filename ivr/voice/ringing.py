"""Ringing a person: a step's phones together, or one after another, each screened by a whisper.

A ring plan is a list of steps, each a list of phones. A step of several phones of a
destination marked `together` rings them at once (ivr/voice/together.py: the caller waits
in a queue of their own, each phone gets a call through the REST API, and the first person
to press 1 takes the caller). Every other step, and a step that cannot ring together now
(the REST API or the ring store does not work, or refused every phone), rings its phones
one after another, each for `ring_seconds`, each in a `<Dial>` of its own: Twilio hangs up
every other `<Number>` of a `<Dial>` as soon as one picks up, and a voicemail picks up too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from twilio.twiml.voice_response import VoiceResponse

from ivr.content.i18n import language_name
from ivr.content.profile import Destination, Profile
from ivr.content.speech import Prompter
from ivr.content.where_to_turn import is_destination_open
from ivr.voice.state import CallState, url
from ivr.voice.together import Together

ACCEPT_KEY = "1"
WHISPER_TIMEOUT = 6

Clock = Callable[[], datetime]
SmsSender = Callable[[str, str, str], bool]  # (to, from, body) -> sent
After = Callable[[], None]


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
    # REST requests to make once the answer is sent (stop calls nobody needs any more):
    # never before, so that the caller or the person never waits for them.
    after: After | None = None


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
        # Where Twilio's REST API and the ring store work: the steps of a destination marked
        # `together` ring at once (ivr/voice/together.py).
        self.together: Together | None = None

    def link(self, route: str, state: CallState | None = None) -> str:
        """A callback URL on this app (under the base the webhooks are mounted at)."""
        return url(self.base, route, state)

    def now(self) -> datetime:
        return self.clock().astimezone(self.profile.timezone)

    # Implemented by the Engine, and (ringing together) by QueueRinging.
    def menu(self, state: CallState, notice: str | None = None) -> Answer:
        raise NotImplementedError

    def _ring_together(self, ringing: CallState, phones: tuple[str, ...], caller: Caller
                       ) -> Answer | None:
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
        # The same answer every "where to turn" text is given (ivr/content/where_to_turn.py).
        return "open" if is_destination_open(self.profile, destination, self.now()) else "closed"

    def ring_plan(self, destination: Destination, hours: str | None = None
                  ) -> tuple[tuple[str, ...], ...]:
        """The numbers to ring, step by step: office hours (now, or as given) decide which."""
        hours = hours or self.hours_now(destination)
        return destination.open_steps if hours == "open" else destination.closed_steps

    def rings_together(self, destination: Destination, caller: Caller) -> bool:
        """Whether a step's phones may ring at once now (else one after another)."""
        return (destination.together and self.together is not None and self.together.ready()
                and bool(caller.call_sid))

    def connect(self, state: CallState, destination_name: str, caller: Caller,
                step: int = 0, automatic: bool = False, announce: bool = True,
                solo: tuple[int, ...] | None = None) -> Answer:
        """Ring a step of a destination's plan: its phones together, or one after another.

        `automatic`: the caller did not press 0 (silence, wrong keys, an option); then a
        destination whose phones already rang unanswered is not rung again, and the
        caller gets what is left instead (a voice message, the numbers by text).
        `announce`: say "connecting you" first (not after the greeting's "stay on the line",
        where the ring tone itself says it, sooner).
        `solo`: the phones of this step still to ring one after another (None: a new step).
        """
        p = self.profile
        destination = p.destinations.get(destination_name) or p.destinations[p.person]
        lang = self.language(state.lang)
        if automatic and destination.name in state.tried:
            return self.when_nobody_accepted(state)
        # The list chosen when ringing started stays for the rest of it.
        going_on = step > 0 or solo is not None
        hours = state.hours if going_on and state.hours else self.hours_now(destination)
        steps = self.ring_plan(destination, hours)
        if not steps and destination.closed_node:
            return self.menu(CallState(lang=lang or state.suggested or p.default_language,
                                       node=destination.closed_node, tried=state.tried))
        if step >= len(steps):
            return self.when_nobody_accepted(state.having_tried(destination.name))
        ringing = CallState(lang=lang, suggested=None if lang else state.suggested,
                            destination=destination.name, step=step, tried=state.tried,
                            hours=hours)
        phones = steps[step]
        if solo is None and len(phones) > 1 and self.rings_together(destination, caller):
            together = self._ring_together(ringing, phones, caller)
            if together is not None:
                return together
        order = tuple(i for i in (solo if solo is not None else range(len(phones)))
                      if i < len(phones))
        if not order:
            return self.connect(state.but(hours=hours), destination.name, caller, step + 1)
        response = VoiceResponse()
        speak_lang = lang or state.suggested or p.greeting_language
        if step == 0 and not going_on:
            if announce:
                self.prompter.speak(response, speak_lang, "connect.hold",
                                    destination=destination.label)
        else:
            self.prompter.speak(response, speak_lang, "connect.next")
        self._ring_one(response, ringing.but(solo=order[1:]), phones[order[0]], caller)
        return Answer(str(response))

    def _ring_one(self, response: VoiceResponse, ringing: CallState, phone: str,
                  caller: Caller) -> None:
        """One phone in a `<Dial>` of its own, screened by the whisper."""
        p = self.profile
        caller_id = caller.from_number if p.show_caller_number else caller.to_number
        dial_kwargs: dict[str, object] = {"caller_id": caller_id} if caller_id else {}
        dial = response.dial(action=self.link("dialed", ringing), method="POST",
                             timeout=p.ring_seconds, answer_on_bridge=True, **dial_kwargs)
        dial.number(phone, url=self.link("whisper", CallState(lang=ringing.lang)),
                    method="POST")

    def dialed(self, state: CallState, status: str | None, bridged: str | None,
               caller: Caller) -> Answer:
        """A phone rung on its own stopped ringing: done if a person took the call, else
        the next phone of the step, else the next step."""
        if was_bridged(status, bridged):
            response = VoiceResponse()
            response.hangup()
            return Answer(str(response))
        # connect() falls back to the person line for an unknown destination.
        if state.solo:
            return self.connect(state, state.destination or "", caller, step=state.step,
                                solo=state.solo)
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
        gather = response.gather(action=self.link(action, CallState(lang=lang, ring=state.ring,
                                                                   leg=state.leg)),
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

