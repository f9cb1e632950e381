"""The caller's time: seconds of prompts on each path through the call flow, per language."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import click

from ivr.content.i18n import SOURCE_LANGUAGE
from ivr.content.profile import (
    MORE_LANGUAGES_KEY,
)
from ivr.content.prompt_set import ProfileSet, PromptSet
from ivr.content.script import SpeakingRates
from ivr.content.speech import SOURCE_VOICE, Utterance
from ivr.voice.engine import Answer, Caller, Engine
from ivr.voice.simulate import Heard, parse_twiml
from ivr.voice.state import CallState

MENU_TARGET = 25.0
LANGUAGE_MENU_TARGET = 30.0
# From the first word of the greeting to the first ring, for a caller who presses nothing.
SILENT_TO_RING_TARGET = 35.0
# Timing renders the engine's answers; the path its URLs would live under does not matter.
TIMING_BASE = "/voice"
# --- the caller's time ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    lang: str
    greeting_page1: float
    page2: float | None
    menus: dict[str, tuple[float, float]]  # node -> (until its last option, full)
    silent_to_ring: float
    silent_keys: int
    listening_to_ring: float
    listening_keys: str


class Clocker:
    """Seconds of what the engine says, from the files' durations or the speaking rate."""

    def __init__(self, prompts: PromptSet, profile_set: ProfileSet, rates: SpeakingRates) -> None:
        self.library = prompts.library
        self.profile = profile_set.profile
        self.rates = rates
        self.by_url = {self.library.url(a): a for a in self.library.files.values()}
        self.say_codes = {lang.say_language: lang.code for lang in self.profile.languages.values()
                          if lang.say_language}
        self.say_codes.setdefault(SOURCE_VOICE[0], SOURCE_LANGUAGE)

    def heard(self, heard: Heard) -> float:
        if heard.kind == "play":
            audio = self.by_url.get(heard.text)
            if audio:
                return audio.duration
            path = urlsplit(heard.text).path
            raise click.ClickException(f"no manifest entry for {path}")
        code = self.say_codes.get(heard.language or "", SOURCE_LANGUAGE)
        return self.rates.seconds(heard.text, code)

    def all(self, heard: list[Heard]) -> float:
        return sum(self.heard(h) for h in heard)

    def until(self, heard: list[Heard], said: Utterance) -> float:
        """Seconds until `said` has been heard in full (all of `heard` if it never is)."""
        wanted = said.audio_url or said.text
        total = 0.0
        for item in heard:
            total += self.heard(item)
            if item.text == wanted:
                break
        return total


def timing_rows(prompts: PromptSet, profile_set: ProfileSet,
                rates: SpeakingRates) -> list[Timing]:
    """Per language: the language menu, every menu, and the time to a ringing helpline.

    The engine itself renders each step, so the order and choice of prompts (notices
    included) is the one callers get.
    """
    p = profile_set.profile
    prompter = profile_set.prompter
    engine = Engine(p, prompter, TIMING_BASE)
    clock = Clocker(prompts, profile_set, rates)
    nobody = Caller()
    talk = next(o for o in p.nodes[p.start_node].options if o.action == "connect")

    def heard(answer: Answer) -> list[Heard]:
        return parse_twiml(answer.twiml).heard

    rows = []
    for lang in p.languages.values():
        suggested = lang.code if lang.countries else None
        at_page_1 = CallState(page=1, suggested=suggested)
        first = heard(engine.language_menu(at_page_1, greet=True))
        again = heard(engine.language_menu(at_page_1.but(silent=1)))
        page2 = (heard(engine.language_menu(CallState(page=2, suggested=suggested)))
                 if len(p.language_pages) > 1 else None)
        menus = {}
        for node in p.nodes.values():
            said = heard(engine.menu(CallState(lang=lang.code, node=node.name)))
            full = clock.all(said)
            menus[node.name] = (full - (clock.heard(said[-1]) if node.outro else 0.0), full)
        # The silent caller: the greeting and page 1, each wait, the repeats between waits,
        # then what the engine says before the first phone rings.
        hold = heard(engine.choose_language(
            at_page_1.but(silent=p.language_silent_waits - 1), "", nobody))
        silent = (clock.all(first) + p.language_timeout
                  + (p.language_silent_waits - 1) * (clock.all(again) + p.language_timeout)
                  + clock.all(hold))
        # A caller who listens to the end of their option before pressing its key.
        keys = [MORE_LANGUAGES_KEY] if lang.page > 1 else []
        if suggested and lang.page > 1:
            option = prompter.utterance(lang.code, "language.option_next_page",
                                        more=MORE_LANGUAGES_KEY, key=lang.key)
            until_option = clock.until(first, option)
        elif lang.page > 1:
            option = prompter.utterance(lang.code, "language.option", key=lang.key)
            until_option = clock.all(first) + clock.until(page2 or [], option)
        else:
            option = prompter.utterance(lang.code, "language.option", key=lang.key)
            until_option = clock.until(first, option)
        keys.append(lang.key)
        main = heard(engine.menu(CallState(lang=lang.code, node=p.start_node),
                                 notice="keys.explain"))
        until_talk = clock.until(main, prompter.utterance(lang.code, talk.prompt, key=talk.key))
        keys.append(talk.key)
        talk_hold = heard(engine.connect(CallState(lang=lang.code), talk.target or p.person,
                                         nobody))
        listening = until_option + until_talk + clock.all(talk_hold)
        rows.append(Timing(lang.code, clock.all(first),
                           clock.all(page2) if page2 is not None else None, menus,
                           silent, 0, listening, " ".join(keys)))
    return rows
