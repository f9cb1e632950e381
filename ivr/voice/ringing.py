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


@dataclass(frozen=True, slots=True)
class Answer:
    """What the engine decided: the TwiML to answer, and what it means for the call's log."""

    twiml: str
    menu_heard: tuple[str, str] | None = None  # (language, node) of the menu now playing
    event: str | None = None  # e.g. "accepted" or "declined" for a whisper


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
        phones = self.ring_order(destination, hours)
        if not phones and destination.closed_node:
            return self.menu(CallState(lang=lang or state.suggested or p.default_language,
                                       node=destination.closed_node, tried=state.tried))
        if step >= len(phones):
            return self.when_nobody_accepted(state.having_tried(destination.name))
        response = VoiceResponse()
        if step == 0:
            if announce:
                self.prompter.speak(response, speak_lang, "connect.hold",
                                    destination=destination.label)
        else:
            self.prompter.speak(response, speak_lang, "connect.next")
        caller_id = caller.from_number if p.show_caller_number else caller.to_number
        dial_kwargs: dict[str, object] = {"caller_id": caller_id} if caller_id else {}
        ringing = CallState(lang=lang, suggested=None if lang else state.suggested,
                            destination=destination.name, step=step, tried=state.tried,
                            hours=hours)
        dial = response.dial(action=self.link("dialed", ringing), method="POST",
                             timeout=p.ring_seconds, answer_on_bridge=True, **dial_kwargs)
        dial.number(phones[step], url=self.link("whisper", CallState(lang=lang)),
                    method="POST")
        return Answer(str(response))

    def dialed(self, state: CallState, status: str | None, bridged: str | None,
               caller: Caller) -> Answer:
        """A ring step ended: done if a person took the call, else the next phone."""
        if was_bridged(status, bridged):
            response = VoiceResponse()
            response.hangup()
            return Answer(str(response))
        # connect() falls back to the person line for an unknown destination.
        return self.connect(state, state.destination or "", caller, step=state.step + 1)

    def whisper(self, state: CallState) -> Answer:
        """What the person who answers hears first; only a key press (1) accepts."""
        p = self.profile
        lang = self.language(state.lang)
        staff = p.staff_language
        if lang:
            chosen = language_name(lang, staff)
        else:
            chosen, _ = self.prompter.text(staff, "whisper.no_language")
        response = VoiceResponse()
        gather = response.gather(action=self.link("whisper/answer", CallState(lang=lang)),
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
