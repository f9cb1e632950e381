"""Turn prompt ids into what a caller hears: translated text, then a recording or a voice."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

import phonenumbers
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.content.audio import AudioLibrary
from ivr.content.hours import describe
from ivr.content.i18n import CLDR_LOCALES, SOURCE_LANGUAGE, Catalogs, language_name
from ivr.content.profile import Profile
from ivr.content.texts import fill


def spoken_digits(text: str, country: str) -> str:
    """A number as a caller hears it: digit by digit, in the groups people write it in."""
    digits = re.sub(r"\D", "", text)
    if len(digits) <= 4:
        return " ".join(digits)
    number = phonenumbers.parse(text, country)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    groups = [re.sub(r"\D", "", group) for group in national.split()]
    return ", ".join(" ".join(group) for group in groups if group)


def written_number(text: str, country: str) -> str:
    """A number as written in a text message: international format for short codes aside."""
    if len(re.sub(r"\D", "", text)) <= 4:
        return text
    number = phonenumbers.parse(text, country)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@dataclass(frozen=True, slots=True)
class Utterance:
    """One prompt as a caller gets it."""

    prompt_id: str
    lang: str  # the language actually spoken
    text: str
    audio_url: str | None
    say_language: str | None
    say_voice: str | None
    instead_of: str | None = None  # the caller's language, when this is English in its place


# English for a profile that lists no English voice of its own.
SOURCE_VOICE = ("en-GB", "Polly.Amy")
ENGLISH_FOLLOWS = "language.english_follows"
# English stand-ins for the language-menu options of a language that cannot be heard.
NAMED_OPTIONS = {"language.option": "language.named_option",
                 "language.option_next_page": "language.named_option_next_page"}


class Published(Protocol):
    """Texts and recordings approved in the console, held in memory (ivr.console.published).

    Both lookups read an in-memory snapshot only: the call path never waits for a database.
    """

    def text(self, lang: str, prompt_id: str, source: str) -> str | None: ...

    def audio_url(self, lang: str, prompt_id: str, text: str) -> str | None: ...

    def wav(self, lang: str, name: str) -> bytes | None: ...


class Prompter:
    """Renders prompts for one profile; every channel (voice, SMS, console, CLI) uses it."""

    def __init__(self, profile: Profile, catalogs: Catalogs, audio: AudioLibrary) -> None:
        self.profile = profile
        self.catalogs = catalogs
        self.audio = audio
        self.published: Published | None = None  # consulted before the catalogs and files
        self._params = lru_cache(maxsize=64)(self._compute_params)

    def _compute_params(self, lang: str, written: bool) -> Mapping[str, str]:
        p = self.profile
        number = written_number if written else spoken_digits
        params = {"hotline": p.name, "emergency": number(p.emergency_number, p.country)}
        for name, text in p.spoken_numbers.items():
            params[f"number_{name}"] = number(text, p.country)
        locale = CLDR_LOCALES.get(lang, lang)
        for name, schedule in p.schedules.items():
            params[f"hours_{name}"] = describe(schedule, locale)
        return params

    def params(self, lang: str, written: bool = False) -> Mapping[str, str]:
        return self._params(lang, written)

    def text(self, lang: str, prompt_id: str, extra: Mapping[str, str] | None = None,
             written: bool = False) -> tuple[str, str]:
        """(text, language) of a prompt; the English source where a translation is missing."""
        source = self.profile.prompt_text(prompt_id)
        approved = self.published.text(lang, prompt_id, source) if self.published else None
        found = self.catalogs.lookup(lang, prompt_id, source)
        used = lang if approved or found else SOURCE_LANGUAGE
        template = approved or (found.text if found else source)
        values = {**self.params(used, written), **(extra or {})}
        return fill(template, values), used

    def voice(self, lang: str) -> tuple[str, str | None] | None:
        """Twilio's (language, voice) for <Say> in a language, or None where it has none."""
        language = self.profile.languages.get(lang)
        if language and language.say_language:
            return language.say_language, language.say_voice
        return SOURCE_VOICE if lang == SOURCE_LANGUAGE else None

    def utterance(self, lang: str, prompt_id: str, **extra: str) -> Utterance:
        """How a prompt reaches the caller, best first.

        A current recording; else Twilio's voice for the language; else a current
        synthesized placeholder; else English, marked `instead_of` so that speak() tells
        the caller first. A stale file (its text has changed) is never played.
        """
        text, used = self.text(lang, prompt_id, extra)
        if used != lang:  # no translation yet
            return self._in_english(lang, prompt_id, extra)
        recorded = self.published.audio_url(lang, prompt_id, text) if self.published else None
        if recorded:
            return Utterance(prompt_id, lang, text, recorded, None, None)
        audio = self.audio.current(lang, prompt_id, text)
        if audio and audio.source == "recorded":
            return Utterance(prompt_id, lang, text, self.audio.url(audio), None, None)
        voice = self.voice(lang)
        if voice:
            return Utterance(prompt_id, lang, text, None, *voice)
        if audio:
            return Utterance(prompt_id, lang, text, self.audio.url(audio), None, None)
        return self._in_english(lang, prompt_id, extra)

    def _in_english(self, lang: str, prompt_id: str, extra: Mapping[str, str]) -> Utterance:
        """The English text for a language with neither audio nor voice: never silence."""
        named = NAMED_OPTIONS.get(prompt_id)
        if named:
            # A language-menu option names its language in English ("For Luxembourgish,
            # press 4"): the menu is where a caller has not chosen yet, so no notice.
            return self.utterance(SOURCE_LANGUAGE, named, **extra,
                                  language=language_name(lang, SOURCE_LANGUAGE))
        english = self.utterance(SOURCE_LANGUAGE, prompt_id, **extra)
        return replace(english, instead_of=lang)

    def notice(self, lang: str) -> Utterance:
        """The notice that English follows, in the caller's language where it can be heard."""
        return replace(self.utterance(lang, ENGLISH_FOLLOWS), instead_of=None)

    def speak(self, parent: Gather | VoiceResponse, lang: str, prompt_id: str,
              **extra: str) -> Utterance:
        """Append a prompt to a response or gather as <Play> or <Say>; return what was said.

        Where the prompt comes in English instead of the caller's language, the caller is
        told so first, once per response or gather.
        """
        said = self.utterance(lang, prompt_id, **extra)
        if said.instead_of:
            notice = self.notice(said.instead_of)
            heard = notice.audio_url or notice.text
            if not any(verb.value == heard for verb in parent.verbs):  # once per gather
                self._append(parent, notice)
        self._append(parent, said)
        return said

    @staticmethod
    def _append(parent: Gather | VoiceResponse, said: Utterance) -> None:
        if said.audio_url:
            parent.play(said.audio_url)
        else:
            kwargs = {"voice": said.say_voice} if said.say_voice else {}
            parent.say(said.text, language=said.say_language, **kwargs)
