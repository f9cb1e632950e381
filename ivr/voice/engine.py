"""The call flow: plain functions from (call state, key pressed, time) to TwiML.

Nothing here knows Flask. Everything a call needs travels in the callback URLs, so any
instance answers any step, and nothing here touches the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlencode

import phonenumbers
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.content.hours import is_open
from ivr.content.i18n import language_name, suggest_language
from ivr.content.profile import (
    KEY_BACK,
    KEY_PERSON,
    KEY_REPEAT,
    MORE_LANGUAGES_KEY,
    Destination,
    Node,
    Profile,
)
from ivr.content.speech import Prompter

log = logging.getLogger(__name__)

BASE = "/voice"
ACCEPT_KEY = "1"
WHISPER_TIMEOUT = 6
RECORD_MAX_SECONDS = 180

Clock = Callable[[], datetime]
SmsSender = Callable[[str, str, str], bool]  # (to, from, body) -> sent


def utc_now() -> datetime:
    return datetime.now(UTC)


def link(route: str, **params: object) -> str:
    """A callback URL on this app: ASCII only, so Twilio's signature matches what we see."""
    query = urlencode({k: v for k, v in params.items() if v is not None and v != ""})
    return f"{BASE}/{route}?{query}" if query else f"{BASE}/{route}"


def as_count(value: str | None, limit: int = 9) -> int:
    """A retry counter from a URL, clamped: a forged or garbled one is never an error."""
    try:
        return min(max(int(value or 0), 0), limit)
    except ValueError:
        return 0


def pressed(digits: str | None) -> str:
    """The key a caller pressed ("" for silence); several keys read as a wrong key."""
    return (digits or "").strip()


@dataclass(frozen=True, slots=True)
class Caller:
    """What Twilio tells us about the call on every request."""

    from_number: str = ""
    to_number: str = ""
    from_country: str = ""


class Engine:
    """One hotline's call flow."""

    def __init__(self, profile: Profile, prompter: Prompter, clock: Clock = utc_now,
                 send_sms: SmsSender | None = None) -> None:
        self.profile = profile
        self.prompter = prompter
        self.clock = clock
        self.send_sms = send_sms
        # A menu depends only on its arguments: render it once, then serve the text.
        self._cached_menu = lru_cache(maxsize=4096)(self._render_menu)
        self._cached_language_menu = lru_cache(maxsize=1024)(self._render_language_menu)

    def forget_rendered(self) -> None:
        """Drop the rendered menus: the texts or recordings they speak have changed."""
        self._cached_menu.cache_clear()
        self._cached_language_menu.cache_clear()

    # --- helpers ---------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(self.profile.timezone)

    def language(self, code: str | None) -> str | None:
        """A language code from a URL, if the profile has it."""
        return code if code in self.profile.languages else None

    def _gather(self, response: VoiceResponse, action: str) -> Gather:
        # finishOnKey "" so that # reaches us as a key (repeat); actionOnEmptyResult so that
        # silence reaches us too and counts towards connecting a person.
        gather = response.gather(action=action, method="POST", num_digits=1,
                                 timeout=self.profile.menu_timeout, finish_on_key="",
                                 action_on_empty_result=True)
        return gather

    # --- arrival and the language menu ----------------------------------------------

    def incoming(self, caller: Caller) -> str:
        """A call arrives: greeting, then the first page of languages."""
        suggested = suggest_language(self.profile, caller.from_country, caller.from_number)
        return self.language_menu(page=1, suggested=suggested, greet=True)

    def language_menu(self, page: int, suggested: str | None = None, silent: int = 0,
                      wrong: int = 0, greet: bool = False, notice: str | None = None) -> str:
        """One page of the language menu, each option in its own language."""
        return self._cached_language_menu(page, suggested, silent, wrong, greet, notice)

    def _render_language_menu(self, page: int, suggested: str | None, silent: int, wrong: int,
                              greet: bool, notice: str | None) -> str:
        p = self.profile
        pages = p.language_pages
        page = page if page in pages else 1
        host = suggested or p.greeting_language
        response = VoiceResponse()
        gather = self._gather(response, link("language", p=page, s=suggested, r=silent, w=wrong))
        if notice:
            self.prompter.speak(gather, host, notice)
        if greet:
            self.prompter.speak(gather, host, "greeting")
        offered = p.language_page(page)
        if suggested and page == 1:
            first = p.languages[suggested]
            if first.page == 1:
                self.prompter.speak(gather, first.code, "language.option", key=first.key)
            else:
                self.prompter.speak(gather, first.code, "language.option_next_page",
                                    more=MORE_LANGUAGES_KEY, key=first.key)
        for lang in offered:
            if not (suggested == lang.code and page == 1):
                self.prompter.speak(gather, lang.code, "language.option", key=lang.key)
        if page < pages[-1]:
            self.prompter.speak(gather, host, "language.more", key=MORE_LANGUAGES_KEY)
        self.prompter.speak(gather, host, "language.person")
        response.redirect(link("language", p=page, s=suggested, r=silent, w=wrong),
                          method="POST")
        return str(response)

    def choose_language(self, page: int, digits: str | None, suggested: str | None,
                        silent: int, wrong: int, caller: Caller) -> str:
        """A key pressed (or not) in the language menu."""
        p = self.profile
        suggested = self.language(suggested)
        page = page if page in p.language_pages else 1
        key = pressed(digits)
        if key == "":
            if silent + 1 >= p.silent_waits:
                return self.connect(None, p.person, 0, caller)
            return self.language_menu(page, suggested, silent + 1, wrong)
        if key == KEY_PERSON:
            return self.connect(None, p.person, 0, caller)
        if key == KEY_REPEAT:
            return self.language_menu(page, suggested, silent, wrong)
        if key == KEY_BACK:
            return self.language_menu(max(page - 1, 1), suggested)
        if key == MORE_LANGUAGES_KEY and page < p.language_pages[-1]:
            return self.language_menu(page + 1, suggested)
        chosen = next((lang for lang in p.language_page(page) if lang.key == key), None)
        if chosen:
            return self.menu(chosen.code, p.start_node, notice="keys.explain")
        if wrong + 1 >= p.wrong_keys:
            return self.connect(None, p.person, 0, caller)
        return self.language_menu(page, suggested, silent, wrong + 1, notice="keys.wrong")

    # --- menus -----------------------------------------------------------------------

    def menu(self, lang: str, node_name: str, silent: int = 0, wrong: int = 0,
             notice: str | None = None) -> str:
        """A menu node: its prompt and options inside one gather, so any key interrupts."""
        return self._cached_menu(lang, node_name, silent, wrong, notice)

    def _render_menu(self, lang: str, node_name: str, silent: int, wrong: int,
                     notice: str | None) -> str:
        node = self.profile.nodes[node_name]
        response = VoiceResponse()
        gather = self._gather(response, link("menu", l=lang, n=node.name, r=silent, w=wrong))
        if notice:
            self.prompter.speak(gather, lang, notice)
        self._speak_node(gather, lang, node)
        response.redirect(link("menu", l=lang, n=node.name, r=silent, w=wrong), method="POST")
        return str(response)

    def _speak_node(self, gather: Gather, lang: str, node: Node) -> None:
        if node.prompt:
            self.prompter.speak(gather, lang, node.prompt)
        for option in node.options:
            self.prompter.speak(gather, lang, option.prompt, key=option.key)
        if node.outro:
            self.prompter.speak(gather, lang, node.outro)

    def press(self, lang_code: str | None, node_name: str | None, digits: str | None,
              silent: int, wrong: int, caller: Caller) -> str:
        """A key pressed (or silence) in a menu node."""
        p = self.profile
        lang = self.language(lang_code)
        if lang is None:
            return self.language_menu(1)
        node = p.nodes.get(node_name or "") or p.nodes[p.start_node]
        key = pressed(digits)
        if key == "":
            if silent + 1 >= p.silent_waits:
                if node.on_silence == "record":
                    return self.record(lang)
                return self.connect(lang, p.person, 0, caller)
            return self.menu(lang, node.name, silent + 1, wrong)
        if key == KEY_PERSON:
            return self.connect(lang, p.person, 0, caller)
        if key == KEY_REPEAT:
            return self.menu(lang, node.name)
        if key == KEY_BACK:
            if node.parent is None:
                return self.language_menu(p.languages[lang].page)
            return self.menu(lang, node.parent)
        option = node.option(key)
        if option is None:
            if wrong + 1 >= p.wrong_keys:
                return self.connect(lang, p.person, 0, caller)
            return self.menu(lang, node.name, silent, wrong + 1, notice="keys.wrong")
        if option.action == "goto" and option.target:
            return self.menu(lang, option.target)
        if option.action == "connect" and option.target:
            return self.connect(lang, option.target, 0, caller)
        if option.action == "record":
            return self.record(lang)
        if option.action == "send_sms":
            return self.sms_numbers(lang, caller)
        return self.language_menu(1)

    # --- connecting to a person ------------------------------------------------------

    def ring_plan(self, destination: Destination) -> tuple[tuple[str, ...], ...]:
        """The numbers to ring now, step by step: office hours decide which list."""
        if destination.schedule is None:
            return destination.open_steps
        schedule = self.profile.schedules[destination.schedule]
        return destination.open_steps if is_open(schedule, self.now()) else destination.closed_steps

    def connect(self, lang: str | None, destination_name: str, step: int,
                caller: Caller) -> str:
        """Ring one step of a destination's numbers, each answer screened by a whisper."""
        p = self.profile
        destination = p.destinations.get(destination_name) or p.destinations[p.person]
        speak_lang = lang or p.greeting_language
        plan = self.ring_plan(destination)
        if not plan and destination.closed_node:
            return self.menu(lang or p.default_language, destination.closed_node)
        if step >= len(plan):
            return self.menu(speak_lang, self.unanswered_node)
        response = VoiceResponse()
        if step == 0:
            self.prompter.speak(response, speak_lang, "connect.hold",
                                destination=destination.label)
        else:
            self.prompter.speak(response, speak_lang, "connect.next")
        caller_id = caller.from_number if p.show_caller_number else caller.to_number
        dial_kwargs: dict[str, object] = {}
        if caller_id:
            dial_kwargs["caller_id"] = caller_id
        dial = response.dial(action=link("dialed", l=lang, d=destination.name, t=step),
                             method="POST", timeout=p.ring_seconds, answer_on_bridge=True,
                             **dial_kwargs)
        for number in plan[step]:
            dial.number(number, url=link("whisper", l=lang), method="POST")
        return str(response)

    def dialed(self, lang_code: str | None, destination_name: str | None, step: int,
               status: str | None, bridged: str | None, caller: Caller) -> str:
        """A ring step ended: done if a person took the call, else the next step."""
        # Twilio says whether a person took the call (DialBridged); without that field,
        # a completed dial is taken for a conversation.
        if bridged is not None:
            was_bridged = bridged.lower() == "true"
        else:
            was_bridged = status == "completed"
        if was_bridged:
            response = VoiceResponse()
            response.hangup()
            return str(response)
        # connect() falls back to the person line for an unknown destination.
        return self.connect(self.language(lang_code), destination_name or "", step + 1,
                            caller)

    @property
    def unanswered_node(self) -> str:
        """Where a caller goes when nobody accepted: a message, a text, the police."""
        nodes = self.profile.nodes
        return "unanswered" if "unanswered" in nodes else self.profile.start_node

    def whisper(self, lang_code: str | None) -> str:
        """What the person who answers hears first; only a key press (1) accepts."""
        p = self.profile
        lang = self.language(lang_code)
        staff = p.staff_language
        if lang:
            chosen = language_name(lang, staff)
        else:
            chosen, _ = self.prompter.text(staff, "whisper.no_language")
        response = VoiceResponse()
        gather = response.gather(action=link("whisper/answer", l=lang), method="POST",
                                 num_digits=1, timeout=WHISPER_TIMEOUT, finish_on_key="")
        for _ in range(2):
            self.prompter.speak(gather, staff, "whisper", language=chosen)
        response.hangup()
        return str(response)

    def whisper_answer(self, digits: str | None) -> str:
        """Accept on 1 (the call is bridged); anything else declines, as voicemail would."""
        response = VoiceResponse()
        if pressed(digits) != ACCEPT_KEY:
            response.hangup()
        return str(response)

    # --- voice messages --------------------------------------------------------------

    def record(self, lang: str) -> str:
        response = VoiceResponse()
        self.prompter.speak(response, lang, "record.intro")
        response.record(action=link("recorded", l=lang), method="POST",
                        max_length=RECORD_MAX_SECONDS, finish_on_key="#", play_beep=True,
                        timeout=10, recording_status_callback=link("recording", l=lang),
                        recording_status_callback_method="POST")
        # Record ends with no sound too; then the action is still called (RecordingUrl empty).
        return str(response)

    def recorded(self, lang_code: str | None, duration: str | None) -> str:
        lang = self.language(lang_code) or self.profile.default_language
        if as_count(duration, 10_000) == 0:
            return self.menu(lang, self.unanswered_node, notice="record.empty")
        response = VoiceResponse()
        self.prompter.speak(response, lang, "record.thanks")
        response.hangup()
        return str(response)

    # --- numbers by text -------------------------------------------------------------

    def sms_body(self, lang: str) -> str:
        text, _ = self.prompter.text(lang, self.profile.sms.numbers_prompt, written=True)
        return text

    def sms_numbers(self, lang: str, caller: Caller) -> str:
        """Send the numbers to the caller's phone (they confirmed it is safe), then the menu."""
        sent = False
        if self.send_sms and can_receive_sms(caller.from_number):
            try:
                sent = self.send_sms(caller.from_number, caller.to_number, self.sms_body(lang))
            except Exception:  # a failed SMS must never cost the caller the call
                log.exception("sending the numbers by SMS failed")
                sent = False
        notice = "sms.sent" if sent else "sms.failed"
        return self.menu(lang, self.profile.start_node, notice=notice)


def can_receive_sms(number: str) -> bool:
    """Whether a caller's number looks like a mobile that can get a text message."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(parsed)
    return phonenumbers.is_valid_number(parsed) and kind in (
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
