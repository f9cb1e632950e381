"""Try the menu in the page: the same webhooks, engine and TwiML a call gets, driven by keys.

A sandbox copy of the app answers them (built once, from the same profile and catalogs)
so that trying never touches the real call records or sends a real text message, and so
that its clock can be set to any moment to try out-of-hours routing.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from ivr.console.i18n import _, menu_name
from ivr.console.published import DraftView
from ivr.content.speech import Prompter, Utterance
from ivr.settings import ServiceKey
from ivr.voice.simulate import (
    RingStory,
    SimulatedCall,
    SimulatedRest,
    Step,
    refuse_rest,
    state_of,
)

log = logging.getLogger(__name__)

# The sandbox's clock: the moment the operator chose, for this request only.
_moment: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("try_moment",
                                                                         default=None)
_texts: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("try_texts",
                                                                         default=None)
# What the sandbox played from files in this request: audio URL -> the utterance (its text).
_played: contextvars.ContextVar[dict[str, Utterance] | None] = contextvars.ContextVar(
    "try_played", default=None)
_lock = threading.Lock()
TRY_CALL_SID = "CAconsole-try"


def sandbox_clock() -> datetime:
    return _moment.get() or datetime.now(UTC)


class CapturedTexts:
    """The sandbox's SMS sender: a text goes back to the page that tried, and nowhere else."""

    def __call__(self, to: str, from_: str, body: str) -> bool:
        captured = _texts.get()
        if captured is not None:
            captured.append(body)
        return True


def note_what_files_say(prompter: Prompter) -> None:
    """Make the sandbox's Prompter note each utterance it plays from a file, so that the
    page can show the words beside the player: the Prompter's own utterance knows them."""
    append = prompter._append

    def noting(parent: Any, said: Utterance) -> None:
        played = _played.get()
        if played is not None and said.audio_url:
            played.setdefault(said.audio_url, said)
        append(parent, said)

    setattr(prompter, "_append", noting)  # noqa: B010 (an instance attribute, on purpose)


class NoEvents:
    """The sandbox's event log: trying the menu is not a call and is not counted."""

    def event(self, *args: Any, **kwargs: Any) -> None:
        return None

    def put(self, *args: Any, **kwargs: Any) -> None:
        return None

    def flush(self, timeout: float = 5.0) -> None:
        return None


# The app factory hands itself over (ivr.console sits below ivr/__init__, which sets it).
APP_FACTORY: ServiceKey[Callable[[Mapping[str, Any]], Flask]] = ServiceKey("console_app_factory")
SANDBOX: ServiceKey[Flask] = ServiceKey("console_sandbox")


def sandbox(app: Flask) -> Flask:
    """The app's sandbox twin, built on first use: local mode, own clock, outbox, no events."""
    found = SANDBOX.find(app)
    if found is not None:
        return found
    with _lock:
        found = SANDBOX.find(app)
        if found is None:
            create_app = APP_FACTORY.get(app)
            found = create_app({
                "TESTING": False, "LOCAL_MODE": True, "TWILIO_AUTH_TOKEN": "",
                "TWILIO_ACCOUNT_SID": "",
                "HOTLINE_PROFILE": app.config["HOTLINE_PROFILE"],
                "SECRET_KEY": app.config["SECRET_KEY"], "DATABASE_URL": "sqlite://",
                "CHECK_SCHEMA_AT_START": False,  # it keeps nothing (NoEvents): no false alarm
                "PUBLIC_BASE_URL": "", "CLOCK": sandbox_clock, "SMS_SENDER": CapturedTexts(),
                "CONSOLE_ENABLED": False,
                # Phones ring as in production: together where the profile says so, through
                # a REST API that places no call (it can be told to refuse).
                "RING_API": SimulatedRest(), "TWILIO_REST_CHECK_SECONDS": 0,
            })
            found.extensions["events"] = NoEvents()
            # The sandbox hears what callers hear (the app's snapshot), and drafts on request.
            found.extensions["hotline"].prompter.published = DraftView(
                app.extensions["published"])
            note_what_files_say(found.extensions["hotline"].prompter)
            SANDBOX.set(app, found)
    return found


@contextmanager
def at_moment(moment: datetime | None, texts: list[str],
              played: dict[str, Utterance] | None = None) -> Iterator[None]:
    """This request's clock, outbox and audio played, for the sandbox (context variables:
    per thread)."""
    moment_token, texts_token = _moment.set(moment), _texts.set(texts)
    played_token = _played.set(played)
    try:
        yield
    finally:
        _moment.reset(moment_token)
        _texts.reset(texts_token)
        _played.reset(played_token)


@dataclass
class TryState:
    """Where a tried call stands: the callback URLs of its last step (kept in the session)."""

    gather_action: str | None = None
    dial_action: str | None = None
    whisper_url: str | None = None
    record_action: str | None = None
    ended: bool = False
    history: list[str] = field(default_factory=list)
    # Phones ringing together: the menu URL and key that started the ring (played out again
    # when the operator says who accepts: any worker can answer that request), and the phones.
    ring_from: list[str] | None = None
    ring_phones: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TryState | None:
        if not data:
            return None
        history = data.get("history")
        ring_from = data.get("ring_from")
        phones = data.get("ring_phones")
        return cls(data.get("gather_action"), data.get("dial_action"), data.get("whisper_url"),
                   data.get("record_action"), bool(data.get("ended")),
                   [str(h) for h in history] if isinstance(history, list) else [],
                   [str(p) for p in ring_from][:2] if isinstance(ring_from, list)
                   and len(ring_from) == 2 else None,
                   [str(p) for p in phones][:10] if isinstance(phones, list) else [])


@dataclass
class TryResult:
    """One step of a tried call, for the page."""

    step: Step
    state: TryState
    action: str  # what the operator did, in words
    whisper: Step | None = None
    texts: list[str] = field(default_factory=list)  # SMS bodies the caller would get
    where: str = ""
    played: dict[str, Utterance] = field(default_factory=dict)  # audio URL -> its words
    ring: RingStory | None = None  # phones ringing together (and, once told, who accepted)


def _state_of(step: Step, history: list[str], ring_from: list[str] | None = None,
              story: RingStory | None = None) -> TryState:
    ended = step.hangup or not (step.gather_action or step.dial_action or step.record_action
                                or step.queue)
    return TryState(step.gather_action, step.dial_action, step.whisper_url, step.record_action,
                    ended, history[-20:], ring_from if step.queue else None,
                    story.phones if story and step.queue else [])


def _where(step: Step) -> str:
    where = state_of(step.gather_action)
    if where.node:
        return _("menu %(name)s", name=menu_name(where.node))
    if step.gather_action:
        return _("language menu, page %(num)s", num=where.page or 1)
    if step.dial_numbers:
        return _("ringing")
    if step.queue:
        return _("ringing together")
    if step.record_action:
        return _("recording")
    return _("call ended")


def run(app: Flask, state: TryState | None, command: str, key: str = "",
        moment: datetime | None = None, rest_refuses: bool = False) -> TryResult:
    """Do one thing in a tried call: start, press a key, answer a transfer, leave a message.

    Raises ValueError for something the call cannot do now (the page says so).
    """
    try:
        return _run(app, state, command, key, moment, rest_refuses)
    except RuntimeError as exc:  # a webhook answered with an error: say so, never a 500
        log.warning("try-it: a step failed: %s", exc)
        raise ValueError(_("The call could not go on from here; start a new call.")) from exc


def _run(app: Flask, state: TryState | None, command: str, key: str,
         moment: datetime | None, rest_refuses: bool) -> TryResult:
    twin = sandbox(app)
    refuse_rest(twin, rest_refuses)
    # Drafts are heard in one tried call and not the next: nothing rendered is kept.
    twin.extensions["hotline"].engine.forget_rendered()
    # It calls from an example mobile number: in the sandbox a text reaches only the outbox.
    call = SimulatedCall(twin, call_sid=TRY_CALL_SID)
    texts: list[str] = []
    played: dict[str, Utterance] = {}
    history = list(state.history) if state else []
    whisper = None
    story = None
    ring_from = None
    with at_moment(moment, texts, played):
        if command == "start" or state is None or state.ended and command != "start":
            if command != "start":
                raise ValueError(_("Start a call first."))
            step = call.start()
            history = [_("call starts")]
            action = _("The call starts.")
        else:
            call.step = Step(gather_action=state.gather_action, dial_action=state.dial_action,
                             whisper_url=state.whisper_url, record_action=state.record_action)
            if command == "press":
                if not state.gather_action:
                    raise ValueError(_("Nothing is waiting for a key now."))
                if key not in {"", *"0123456789*#"}:
                    raise ValueError(_("That is not a key of a phone."))
                ring_from = [state.gather_action, key]
                step = call.press(key)
                action = _("You pressed %(key)s.", key=key) if key else _(
                    "You waited without pressing a key.")
                history.append(_("pressed %(key)s", key=key or _("(silence)")))
            elif command in ("accept", "nobody"):
                if not state.dial_action:
                    raise ValueError(_("Nothing is ringing now."))
                step = call.ring_out(bridged=command == "accept")
                action = (_("The person who answered pressed 1: the caller is put through.")
                          if command == "accept" else _("Nobody answered."))
                history.append(_("accepted") if command == "accept" else _("nobody answered"))
            elif command in ("together", "voicemail", "nobody-together"):
                step, story, action = _ring_out(call, state, command, key)
                history.append(action.split(":")[0])
            elif command == "message":
                if not state.record_action:
                    raise ValueError(_("Nothing is recording now."))
                step = call.leave_message()
                action = _("You left a voice message (nothing is stored).")
                history.append(_("left a message"))
            else:
                raise ValueError(_("Unknown action."))
        if step.dial_numbers and step.whisper_url:
            whisper = call.whisper()
        if step.queue:
            story = call.ring_story()
    return TryResult(step, _state_of(step, history, ring_from, story), action, whisper, texts,
                     _where(step), played, story)


def _ring_out(call: SimulatedCall, state: TryState, command: str, key: str
              ) -> tuple[Step, RingStory, str]:
    """Phones ringing together, played out as the operator says: the ring is started again
    from the key that started it (on whichever worker answers), then who accepts."""
    if not state.ring_from:
        raise ValueError(_("Nothing rings together now."))
    call.step = Step(gather_action=state.ring_from[0])
    if not call.press(state.ring_from[1]).queue:
        raise ValueError(_("The phones no longer ring together (the REST API refuses?)."))
    if command == "together":
        place = int(key) - 1 if key.isdigit() else 0
        step, story = call.ring_out_together(place)
        said = _("%(phone)s answered and pressed 1: the caller is put through.",
                 phone=story.accepted)
    elif command == "voicemail":
        step, story = call.ring_out_together(1, voicemail_first=True)
        said = _("A voicemail answered %(first)s and pressed nothing; then %(second)s pressed "
                 "1: the caller is put through.", first=", ".join(story.declined),
                 second=story.accepted)
    else:
        step, story = call.ring_out_together(None)
        said = _("Nobody accepted: the caller leaves the queue.")
    return step, story, said
