"""Turn prompt ids into what a caller hears: translated text, then a recording or a voice."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

import phonenumbers
from babel import Locale
from babel.lists import format_list
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.content.audio import AudioLibrary
from ivr.content.hours import describe
from ivr.content.i18n import CLDR_LOCALES, SOURCE_LANGUAGE, Catalogs, language_name
from ivr.content.profile import NUMBER_NOW, Profile
from ivr.content.safe_text import xml_safe
from ivr.content.texts import BUILTIN_PROMPTS, fill
from ivr.content.where_to_turn import number_now, numbers_ever_given


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


def both_forms(text: str, country: str) -> bool:
    """Whether a number is given in its national form as well as the international one.

    A toll-free number (0800 …) is often not connected when dialled in international form
    or from a foreign SIM, while the national form may be; any other number works in
    international form from every SIM, where the national form may reach nobody."""
    if is_short_code(text):
        return False
    number = phonenumbers.parse(text, country)
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.TOLL_FREE


def national_groups(text: str, country: str) -> list[str]:
    """A number's digit groups as dialled inside its country ("0800", "11112")."""
    national = phonenumbers.format_number(phonenumbers.parse(text, country),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    return [group for group in re.sub(r"[^\d ]", "", national).split() if group]


def written_number(text: str, country: str, right_to_left: bool = False) -> str:
    """A number as written in a text message: "+CC 11 22 33 44", short codes as they are;
    isolated as left-to-right inside right-to-left text."""
    if is_short_code(text):
        written = re.sub(r"\D", "", text)
    else:
        written = "+" + " ".join(number_groups(text, country))
    return f"{LTR_ISOLATE}{written}{POP_ISOLATE}" if right_to_left else written


def either_of(forms: list[str], locale: str) -> str:
    """"192 or 112", in the language (CLDR's "or" list)."""
    return format_list(forms, style="or", locale=locale) if len(forms) > 1 else forms[0]


def said_number(text: str, country: str, locale: str, written: bool) -> str:
    """A number as a caller hears it or a texter reads it in a language; a toll-free
    number in both forms, national first ("0800 11112 / +383 800 11112")."""
    right_to_left = written and is_right_to_left(locale)
    if not both_forms(text, country):
        return (written_number(text, country, right_to_left) if written
                else spoken_digits(text, country))
    groups = national_groups(text, country)
    if not written:  # "0 8 0 0, 1 1 1 1 2 or 0 0 3 8 3, 8 0 0, …"
        return either_of([", ".join(" ".join(g) for g in groups),
                          spoken_digits(text, country)], locale)
    # Written with a slash in every language: the shortest join (two SMS hold 134
    # Cyrillic characters).
    both = f"{' '.join(groups)} / {written_number(text, country)}"
    return f"{LTR_ISOLATE}{both}{POP_ISOLATE}" if right_to_left else both


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
        # The moment `%(number_now)s` is worked out for (the engine's clock, a test's).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def _compute_params(self, lang: str, written: bool) -> Mapping[str, str]:
        p = self.profile
        locale = CLDR_LOCALES.get(lang, lang)
        right_to_left = is_right_to_left(locale)

        def number(text: str, country: str) -> str:
            return said_number(text, country, locale, written)

        params = {"hotline": self.spoken_name(lang, HOTLINE_NAME, p.name),
                  "emergency": either_of([number(n, p.country) for n in p.emergency_said],
                                         locale)}
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
        if f"%({NUMBER_NOW})s" in template and NUMBER_NOW not in values:
            values[NUMBER_NOW] = self.number_now(used, written)
        label = values.get("destination")
        if label in self._destination_by_label:
            name = self._destination_by_label[label]
            values["destination"] = self.spoken_name(used, destination_prompt(name), label)
        # Whatever is stored, the text can never make a TwiML document unparseable.
        return xml_safe(fill(template, values), f"prompt {prompt_id} [{used}]"), used

    def number_now(self, lang: str, written: bool = False, at: datetime | None = None) -> str:
        """The person line's number that rings now (or `at`), as said or written in a
        language (as [spoken_numbers] writes it, where it does); the emergency number when
        it rings none."""
        return self._given(lang, written, number_now(self.profile, at or self.clock()))

    def numbers_now_ever(self, lang: str, written: bool = False) -> list[str]:
        """Every text `%(number_now)s` can become, whatever the hour."""
        return list(dict.fromkeys(self._given(lang, written, given)
                                  for given in numbers_ever_given(self.profile)))

    def _given(self, lang: str, written: bool, given: tuple[str | None, str | None]) -> str:
        name, e164 = given
        params = self.params(lang, written)
        if name:
            return params[f"number_{name}"]
        if e164:
            return said_number(e164, self.profile.country, CLDR_LOCALES.get(lang, lang), written)
        return params["emergency"]

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
