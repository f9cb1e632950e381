"""Turn prompt ids into what a caller hears: translated text, then a recording or a voice."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

import phonenumbers
from babel import Locale
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.content.audio import AudioLibrary
from ivr.content.hours import describe
from ivr.content.i18n import CLDR_LOCALES, SOURCE_LANGUAGE, Catalogs, language_name
from ivr.content.profile import Profile
from ivr.content.safe_text import xml_safe
from ivr.content.texts import BUILTIN_PROMPTS, fill


@lru_cache(maxsize=64)
def is_right_to_left(locale: str) -> bool:
    """True for a language written right to left (CLDR's character order)."""
    try:
        return bool(Locale.parse(locale).character_order == "right-to-left")
    except (ValueError, LookupError):
        return False


# Profile texts a caller hears inside other prompts, translated like any prompt when the
# profile gives them under [prompts]: the hotline's name and each destination's name.
HOTLINE_NAME = "hotline.name"
HOURS_DAYS = "hours.days"  # "Monday to Friday": how a language names a range of days


def is_part_of_other_prompts(prompt_id: str) -> bool:
    """True for a text only ever said inside another prompt (a name, a range of days)."""
    return prompt_id in (HOTLINE_NAME, HOURS_DAYS) or prompt_id.startswith("destination.")


def destination_prompt(name: str) -> str:
    """The prompt id of a destination's spoken name (its `label` is for staff screens)."""
    return f"destination.{name}"


# The international prefix said before the country code. "0 0" is dialled the same way
# from every phone in Europe and Africa, needs no word for "plus" in 14 languages, and
# works from a foreign SIM, where a national number reaches nothing or someone else.
SPOKEN_INTERNATIONAL_PREFIX = "0 0"
# Isolates a written number from right-to-left text (Unicode's LRI ... PDI), so that
# "+CC 11 22 33" is not shown as "33 22 11 CC+" in an Arabic SMS.
LTR_ISOLATE, POP_ISOLATE = "\u2066", "\u2069"


def is_short_code(text: str) -> bool:
    """Emergency and service numbers (113, 112, 192) are dialled as they are, in-country."""
    return len(re.sub(r"\D", "", text)) <= 4


def number_groups(text: str, country: str) -> list[str]:
    """A number's digit groups in international form: country code first.

    A number written in international form in the profile keeps the profile's grouping
    (the police line is printed "24 460 3220" on the helpline's page; a caller compares
    it with a leaflet); any other number is grouped by phonenumbers.
    """
    number = phonenumbers.parse(text, country)
    if text.strip().startswith("+"):
        groups = [re.sub(r"\D", "", group) for group in text.split()]
    else:
        international = phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        groups = [re.sub(r"\D", "", group) for group in international.split()]
    return [group for group in groups if group]


def spoken_digits(text: str, country: str) -> str:
    """A number as a caller hears it: digit by digit, international prefix first, in the
    groups people write it in ("0 0 3 5 2, 2 7, 3 6, 5 6, 4 6"); short codes as they are."""
    if is_short_code(text):
        return " ".join(re.sub(r"\D", "", text))
    groups = number_groups(text, country)
    return ", ".join([SPOKEN_INTERNATIONAL_PREFIX + " " + " ".join(groups[0]),
                      *(" ".join(group) for group in groups[1:])])


def written_number(text: str, country: str, right_to_left: bool = False) -> str:
    """A number as written in a text message: "+CC 11 22 33 44", short codes as they are;
    isolated as left-to-right inside right-to-left text."""
    if is_short_code(text):
        written = re.sub(r"\D", "", text)
    else:
        written = "+" + " ".join(number_groups(text, country))
    return f"{LTR_ISOLATE}{written}{POP_ISOLATE}" if right_to_left else written


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

    def wav(self, lang: str, name: str, version: str = "") -> bytes | None:
        """A recording's audio: the live one, or (`version`, the start of its audio hash,
        as an audio URL names it) any approved take a worker may have named."""


class Prompter:
    """Renders prompts for one profile; every channel (voice, SMS, console, CLI) uses it."""

    def __init__(self, profile: Profile, catalogs: Catalogs, audio: AudioLibrary) -> None:
        self.profile = profile
        self.catalogs = catalogs
        self.audio = audio
        self.published: Published | None = None  # consulted before the catalogs and files
        # Where Twilio fetches the audio: the public https://host the app is reached at
        # (Twilio documents absolute <Play> URLs); empty in local mode, where paths do.
        self.media_base = ""
        self._params = lru_cache(maxsize=64)(self._compute_params)
        # The engine passes a destination's label; the caller hears its translated name.
        self._destination_by_label = {d.label: d.name for d in profile.destinations.values()}

    def _compute_params(self, lang: str, written: bool) -> Mapping[str, str]:
        p = self.profile
        locale = CLDR_LOCALES.get(lang, lang)
        right_to_left = is_right_to_left(locale)

        def number(text: str, country: str) -> str:
            if written:
                return written_number(text, country, right_to_left)
            return spoken_digits(text, country)

        params = {"hotline": self.spoken_name(lang, HOTLINE_NAME, p.name),
                  "emergency": number(p.emergency_number, p.country)}
        for name, text in p.spoken_numbers.items():
            params[f"number_{name}"] = number(text, p.country)
        days_source = BUILTIN_PROMPTS[HOURS_DAYS]
        found = self.catalogs.lookup(lang, HOURS_DAYS, days_source)
        days_pattern = found.text if found else days_source
        for name, schedule in p.schedules.items():
            params[f"hours_{name}"] = describe(schedule, locale, days_pattern,
                                               spoken=not written,
                                               right_to_left=written and right_to_left)
        return params

    def spoken_name(self, lang: str, prompt_id: str, fallback: str) -> str:
        """A name the profile lets translate (its prompt id in [prompts]), in a language;
        the English source where the catalog has none; `fallback` where the profile has no
        such prompt (a name said as is everywhere, such as INFOTRAITE)."""
        source = self.profile.prompts.get(prompt_id)
        if not source:
            return fallback
        found = self.catalogs.lookup(lang, prompt_id, source)
        return found.text if found else source

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
        label = values.get("destination")
        if label in self._destination_by_label:
            name = self._destination_by_label[label]
            values["destination"] = self.spoken_name(used, destination_prompt(name), label)
        # Whatever is stored, the text can never make a TwiML document unparseable.
        return xml_safe(fill(template, values), f"prompt {prompt_id} [{used}]"), used

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

    def _append(self, parent: Gather | VoiceResponse, said: Utterance) -> None:
        if said.audio_url:
            parent.play(self.media_base + said.audio_url)
        else:
            kwargs = {"voice": said.say_voice} if said.say_voice else {}
            parent.say(said.text, language=said.say_language, **kwargs)
