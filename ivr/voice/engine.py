"""The call flow: plain functions from (call state, key pressed, time) to what to answer.

Nothing here knows Flask. Everything a call needs travels in the callback URLs (see
`CallState`), so any instance answers any step, and nothing here touches the database.
Ringing a person lives in `ivr.voice.ringing` (one after another) and `ivr.voice.queue_ring`
(together); this module is the menus around it.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import phonenumbers
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.content.i18n import suggest_language
from ivr.content.profile import (
    KEY_BACK,
    KEY_PERSON,
    KEY_REPEAT,
    MORE_LANGUAGES_KEY,
    Node,
    Option,
    Profile,
)
from ivr.content.speech import Prompter
from ivr.voice.queue_ring import QueueRinging
from ivr.voice.ringing import Answer, Caller, Clock, SmsSender, utc_now
from ivr.voice.state import CallState, as_count

log = logging.getLogger(__name__)

RECORD_MAX_SECONDS = 180
RECORD_SILENCE_SECONDS = 10

__all__ = ["Answer", "CallState", "Caller", "Clock", "Engine", "SmsSender", "can_receive_sms",
           "pressed", "utc_now"]


def pressed(digits: str | None) -> str:
    """The key a caller pressed ("" for silence); several keys read as a wrong key."""
    return (digits or "").strip()


class Engine(QueueRinging):
    """One hotline's call flow; `base` is the path its webhooks are mounted under."""

    def __init__(self, profile: Profile, prompter: Prompter, base: str, clock: Clock = utc_now,
                 send_sms: SmsSender | None = None) -> None:
        super().__init__(profile, prompter, base, clock)
        self.send_sms = send_sms
        # A menu depends only on its arguments and on which lines ring now (the number a
        # notice gives, the options offered): render it once, then serve the answer.
        self._cached_menu = lru_cache(maxsize=4096)(self._render_menu)
        self._cached_language_menu = lru_cache(maxsize=1024)(self._render_language_menu)

    def forget_rendered(self) -> None:
        """Drop the rendered menus: the texts or recordings they speak have changed."""
        self._cached_menu.cache_clear()
        self._cached_language_menu.cache_clear()

    def language(self, code: str | None) -> str | None:
        """A language code from a URL, if the profile has it."""
        return code if code in self.profile.languages else None

    def _gather(self, response: VoiceResponse, action: str, timeout: int) -> Gather:
        # finishOnKey "" so that # reaches us as a key (repeat); actionOnEmptyResult so that
        # silence reaches us too and counts towards connecting a person.
        return response.gather(action=action, method="POST", num_digits=1, timeout=timeout,
                               finish_on_key="", action_on_empty_result=True)

    # --- arrival and the language menu ----------------------------------------------

    def incoming(self, caller: Caller) -> Answer:
        """A call arrives: greeting, then the first page of languages."""
        suggested = suggest_language(self.profile, caller.from_country, caller.from_number)
        return self.language_menu(CallState(page=1, suggested=suggested), greet=True)

    def language_menu(self, state: CallState, greet: bool = False,
                      notice: str | None = None) -> Answer:
        """One page of the language menu, each option in its own language."""
        pages = self.profile.language_pages
        page = state.page if state.page in pages else 1
        clean = CallState(page=page, suggested=state.suggested, silent=state.silent,
                          wrong=state.wrong, tried=state.tried)
        return self._cached_language_menu(clean, greet, notice)

    def _render_language_menu(self, state: CallState, greet: bool,
                              notice: str | None) -> Answer:
        p = self.profile
        page, suggested = state.page, state.suggested
        host = suggested or p.greeting_language
        response = VoiceResponse()
        here = self.link("language", state)
        gather = self._gather(response, here, p.language_timeout)
        if notice:
            self.prompter.speak(gather, host, notice)
        if greet:
            # The greeting says "stay on the line to talk to someone": silence connects.
            self.prompter.speak(gather, host, "greeting")
        if suggested and page == 1:
            first = p.languages[suggested]
            if first.page == 1:
                self.prompter.speak(gather, first.code, "language.option", key=first.key)
            else:
                self.prompter.speak(gather, first.code, "language.option_next_page",
                                    more=MORE_LANGUAGES_KEY, key=first.key)
        for lang in p.language_page(page):
            if not (suggested == lang.code and page == 1):
                self.prompter.speak(gather, lang.code, "language.option", key=lang.key)
        if page < p.language_pages[-1]:
            self.prompter.speak(gather, host, "language.more", key=MORE_LANGUAGES_KEY)
        if not greet:
            self.prompter.speak(gather, host, "language.person")
        response.redirect(here, method="POST")
        return Answer(str(response))

    def choose_language(self, state: CallState, digits: str | None, caller: Caller) -> Answer:
        """A key pressed (or not) in the language menu."""
        p = self.profile
        state = state.but(suggested=self.language(state.suggested),
                          page=state.page if state.page in p.language_pages else 1)
        key = pressed(digits)
        if key == "" and state.silent + 1 >= p.language_silent_waits:
            # The greeting said "stay on the line": the ring tone follows at once.
            return self.connect(state, p.person, caller, automatic=True, announce=False)
        if key == "":
            return self.language_menu(state.but(silent=state.silent + 1))
        if key == KEY_PERSON:
            return self.connect(state, p.person, caller)
        if key == KEY_REPEAT:
            return self.language_menu(state)
        if key == KEY_BACK:
            return self.language_menu(state.but(page=max(state.page - 1, 1), silent=0, wrong=0))
        if key == MORE_LANGUAGES_KEY and state.page < p.language_pages[-1]:
            return self.language_menu(state.but(page=state.page + 1, silent=0, wrong=0))
        chosen = next((lang for lang in p.language_page(state.page) if lang.key == key), None)
        if chosen:
            return self.menu(CallState(lang=chosen.code, node=p.start_node, tried=state.tried),
                             notice="keys.explain")
        if state.wrong + 1 >= p.wrong_keys:
            return self.connect(state, p.person, caller, automatic=True)
        return self.language_menu(state.but(wrong=state.wrong + 1), notice="keys.wrong")

    # --- menus -----------------------------------------------------------------------

    def menu(self, state: CallState, notice: str | None = None) -> Answer:
        """A menu node: its prompt and options inside one gather, so any key interrupts."""
        clean = CallState(lang=state.lang, node=state.node, silent=state.silent,
                          wrong=state.wrong, tried=state.tried, empty=state.empty)
        return self._cached_menu(clean, notice, self.lines_open())

    def lines_open(self) -> tuple[bool, ...]:
        """Which destinations ring their office-hours numbers now (a menu's cache key)."""
        return tuple(self.hours_now(d) == "open" for d in self.profile.destinations.values())

    def offered(self, node: Node, option: Option) -> bool:
        """Whether a menu offers an option now. Past the start menu (where keys never
        change), an option that would only reach a closed line's message is left out: the
        caller who was not answered is not sent to a line that is closed."""
        if option.action != "connect" or not option.target or node.name == \
                self.profile.start_node:
            return True
        destination = self.profile.destinations[option.target]
        return bool(destination.closed_steps) or self.hours_now(destination) == "open"

    def _render_menu(self, state: CallState, notice: str | None,
                     lines_open: tuple[bool, ...] = ()) -> Answer:
        del lines_open  # a cache key only: offered() and the prompter read the clock
        lang = state.lang or self.profile.default_language
        node = self.profile.nodes[state.node or self.profile.start_node]
        response = VoiceResponse()
        here = self.link("menu", state)
        gather = self._gather(response, here, self.profile.menu_timeout)
        if notice:
            self.prompter.speak(gather, lang, notice)
        self._speak_node(gather, lang, node)
        response.redirect(here, method="POST")
        return Answer(str(response), menu_heard=(lang, node.name))

    def _speak_node(self, gather: Gather, lang: str, node: Node) -> None:
        if node.prompt:
            self.prompter.speak(gather, lang, node.prompt)
        for option in node.options:
            if self.offered(node, option):
                self.prompter.speak(gather, lang, option.prompt, key=option.key)
        if node.outro:
            self.prompter.speak(gather, lang, node.outro)

    def press(self, state: CallState, digits: str | None, caller: Caller) -> Answer:
        """A key pressed (or silence) in a menu node."""
        p = self.profile
        lang = self.language(state.lang)
        if lang is None:
            return self.language_menu(CallState(page=1, tried=state.tried))
        node = p.nodes.get(state.node or "") or p.nodes[p.start_node]
        here = state.but(lang=lang, node=node.name)
        key = pressed(digits)
        if key == "":
            if state.silent + 1 >= p.silent_waits:
                if node.on_silence == "record":
                    return self.record(here)
                return self.connect(here, p.person, caller, automatic=True)
            return self.menu(here.but(silent=state.silent + 1))
        if key == KEY_PERSON:
            return self.connect(here, p.person, caller)
        if key == KEY_REPEAT:
            return self.menu(here.but(silent=0, wrong=0))
        if key == KEY_BACK:
            if node.parent is None:
                return self.language_menu(CallState(page=p.languages[lang].page,
                                                    tried=state.tried))
            return self.menu(here.but(node=node.parent, silent=0, wrong=0))
        option = node.option(key)
        if option is not None and not self.offered(node, option):
            option = None
        if option is None:
            if state.wrong + 1 >= p.wrong_keys:
                return self.connect(here, p.person, caller, automatic=True)
            return self.menu(here.but(wrong=state.wrong + 1), notice="keys.wrong")
        fresh = here.but(silent=0, wrong=0)
        if option.action == "goto" and option.target:
            return self.menu(fresh.but(node=option.target))
        if option.action == "connect" and option.target:
            return self.connect(fresh, option.target, caller, automatic=True)
        if option.action == "record":
            return self.record(fresh)
        if option.action == "send_sms":
            return self.sms_numbers(fresh, caller)
        return self.language_menu(CallState(page=1, tried=state.tried))

    def when_nobody_accepted(self, state: CallState) -> Answer:
        """Where a caller goes when nobody accepted: a message, a text, another line."""
        lang = self.language(state.lang) or state.suggested or self.profile.default_language
        return self.menu(CallState(lang=lang, node=self.unanswered_node, tried=state.tried))

    # --- voice messages --------------------------------------------------------------

    def record(self, state: CallState) -> Answer:
        """Record a voice message; what follows <Record> handles a recording Twilio dropped."""
        lang = self.language(state.lang) or self.profile.default_language
        here = CallState(lang=lang, tried=state.tried, empty=state.empty)
        response = VoiceResponse()
        self.prompter.speak(response, lang, "record.intro")
        response.record(action=self.link("recorded", here), method="POST",
                        max_length=RECORD_MAX_SECONDS, finish_on_key="#", play_beep=True,
                        timeout=RECORD_SILENCE_SECONDS,
                        recording_status_callback=self.link("recording", CallState(lang=lang)),
                        recording_status_callback_method="POST")
        # Twilio drops a recording it finds silent (warning 16102) and may then go on to the
        # next verb instead of calling the action: this redirect reaches the same handler
        # without a RecordingDuration, which reads as an empty message.
        response.redirect(self.link("recorded", here), method="POST")
        return Answer(str(response))

    def recorded(self, state: CallState, duration: str | None) -> Answer:
        lang = self.language(state.lang) or self.profile.default_language
        response = VoiceResponse()
        if as_count(duration, 10_000) == 0:
            # Offer the menu once more; a second empty message ends the call kindly
            # instead of looping between silence and the recorder.
            if state.empty == 0 and self.unanswered_node in self.profile.nodes:
                return self.menu(CallState(lang=lang, node=self.unanswered_node,
                                           tried=state.tried, empty=1), notice="record.empty")
            self.prompter.speak(response, lang, "record.empty")
            self.prompter.speak(response, lang, "emergency.reminder")
            response.hangup()
            return Answer(str(response))
        self.prompter.speak(response, lang, "record.thanks")
        response.hangup()
        return Answer(str(response))

    # --- numbers by text -------------------------------------------------------------

    def sms_body(self, lang: str) -> str:
        text, _ = self.prompter.text(lang, self.profile.sms.numbers_prompt, written=True)
        return text

    def sms_numbers(self, state: CallState, caller: Caller) -> Answer:
        """Send the numbers to the caller's phone (they confirmed it is safe), then the menu."""
        lang = state.lang or self.profile.default_language
        sent = False
        if self.send_sms and can_receive_sms(caller.from_number):
            try:
                sent = self.send_sms(caller.from_number, caller.to_number, self.sms_body(lang))
            except Exception:  # a failed SMS must never cost the caller the call
                log.exception("sending the numbers by SMS failed")
                sent = False
        notice = "sms.sent" if sent else "sms.failed"
        return self.menu(CallState(lang=lang, node=self.profile.start_node, tried=state.tried),
                         notice=notice)


def can_receive_sms(number: str) -> bool:
    """Whether a caller's number looks like a mobile that can get a text message."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(parsed)
    return phonenumbers.is_valid_number(parsed) and kind in (
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
