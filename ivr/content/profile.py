"""The hotline profile: everything a country's helpline configures, read from one TOML file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers

from ivr.content.texts import BUILTIN_PROMPTS

PROFILES_DIR = Path(__file__).resolve().parents[1] / "profiles"
DEFAULT_PROFILE = PROFILES_DIR / "luxembourg.toml"

# ITU-T E.161 / ISO/IEC 13714 conventions: the same three keys in every menu.
KEY_PERSON = "0"
KEY_BACK = "*"
KEY_REPEAT = "#"
# The language menu's "more languages" key, on every page but the last.
MORE_LANGUAGES_KEY = "9"
RESERVED_KEYS = frozenset({KEY_PERSON, KEY_BACK, KEY_REPEAT})
MAX_OPTIONS = 5
MAX_LANGUAGE_KEYS = 9
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACTIONS = frozenset({"goto", "connect", "record", "send_sms", "languages"})
SILENCE_ACTIONS = frozenset({"person", "record"})


def e164(number: str, region: str | None = None) -> str | None:
    """A number as Twilio sends it, in E.164 (national forms read in `region`); None for
    what is not a phone number ("anonymous", "client:…", short codes, garbage)."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# What people write numbers with. Anything else is refused, not guessed: phonenumbers reads
# letters as keypad digits, so a placeholder written with X for each digit would become 9s.
NUMBER_CHARACTERS = frozenset("0123456789+-()./ \u00a0")


def number_text_problem(text: str) -> str:
    """Why `text` cannot be a written phone number ('' when its characters can be)."""
    odd = sorted({char for char in text if char not in NUMBER_CHARACTERS})
    if not odd:
        return ""
    return (f"{text!r} has {', '.join(repr(char) for char in odd)} in it: a phone number is "
            "written in digits (spaces, +, -, brackets allowed)")


class ProfileError(ValueError):
    """A profile that cannot run; the message names the file, line, key and problem."""


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    page: int
    key: str
    say_language: str | None
    say_voice: str | None
    countries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    days: frozenset[int]  # Monday is 0
    periods: tuple[tuple[time, time], ...]
    holidays_country: str | None
    holidays_subdivision: str | None


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    label: str
    schedule: str | None
    open_steps: tuple[tuple[str, ...], ...]  # E.164 numbers, rung step after step
    closed_steps: tuple[tuple[str, ...], ...]
    closed_node: str | None
    # The phones of a step ring at once, the caller waiting in a queue each may take them
    # from (needs Twilio's REST API and Redis); else, and without them, one after another.
    together: bool = False


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    prompt: str
    action: str
    target: str | None  # node for goto, destination for connect


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    prompt: str | None
    options: tuple[Option, ...]
    outro: str | None
    on_silence: str
    parent: str | None = None

    def option(self, key: str) -> Option | None:
        """The option behind a key, if this menu has one."""
        return next((o for o in self.options if o.key == key), None)


@dataclass(frozen=True, slots=True)
class SmsSettings:
    numbers_prompt: str
    discreet: bool
    helpline_numbers: tuple[str, ...]
    keywords: dict[str, dict[str, tuple[str, ...]]]
    use_rest_api: bool
    case_expiry_days: int = 14  # a helpline reply to an older case is refused


@dataclass(frozen=True, slots=True)
class Verification:
    """[verification]: facts a person must confirm with the helpline before production.

    `unverified` is the reason the profile may not run in production yet (file:line: key:
    why), or None once `verified_by` and `verified_on` are filled in."""

    questions: tuple[str, ...]
    verified_by: str
    verified_on: date | None
    unverified: str | None


@dataclass(frozen=True)
class Profile:
    path: Path
    name: str
    country: str
    timezone: ZoneInfo
    default_language: str
    staff_language: str
    greeting_language: str
    emergency_numbers: frozenset[str]
    emergency_number: str
    show_caller_number: bool
    retention_days: int
    menu_timeout: int
    silent_waits: int
    wrong_keys: int
    ring_seconds: int  # per phone: the phones of a destination ring one after another
    person: str
    start_node: str
    languages: dict[str, Language]
    schedules: dict[str, Schedule]
    destinations: dict[str, Destination]
    nodes: dict[str, Node]
    spoken_numbers: dict[str, str]
    prompts: dict[str, str]
    sms: SmsSettings
    # [console] single_sign_off: one operator may approve their own correction.
    single_sign_off: bool = False
    # The language menu: one wait after it, then a silent caller is connected (the greeting
    # says "stay on the line"), so it can have its own, shorter, timeout.
    language_timeout: int = 8
    language_silent_waits: int = 1
    # Said after emergency_number ("192 or 112"): 112 reaches help from any SIM.
    emergency_also: tuple[str, ...] = ()
    verification: Verification | None = None
    # What may mislead a caller but lets the hotline run: `file:line: key: why`, shown by
    # `ivr check-profile` and logged at start.
    warnings: tuple[str, ...] = ()

    @property
    def emergency_said(self) -> tuple[str, ...]:
        """The emergency numbers callers are told, in the order they are said."""
        return (self.emergency_number, *self.emergency_also)

    def language_page(self, page: int) -> list[Language]:
        """The languages offered on one page of the language menu, by key."""
        return sorted((lang for lang in self.languages.values() if lang.page == page),
                      key=lambda lang: lang.key)

    @property
    def language_pages(self) -> list[int]:
        return sorted({lang.page for lang in self.languages.values()})

    def prompt_text(self, prompt_id: str) -> str:
        """The source (English) text of a prompt: the profile's wording, else the built-in one."""
        return self.prompts.get(prompt_id) or BUILTIN_PROMPTS[prompt_id]

    def all_prompt_ids(self) -> list[str]:
        """Every prompt id a caller can hear with this profile."""
        ids = set(BUILTIN_PROMPTS) | set(self.prompts)
        return sorted(ids)



# Placeholders filled per call rather than from the profile.
# "case" and "keywords": SMS case code and keyword list (ivr/sms/channel.py); "time": when
# a helpline phone's refused replies may be tried again (ivr/sms/staff_replies.py);
# "first" and "last": the days of a range in office hours (ivr/content/hours.py).
CALL_PARAMETERS = frozenset({"key", "more", "language", "destination", "case", "keywords",
                             "time", "first", "last"})  # first, last: hours.days


# A placeholder filled at the moment of sending: the number of the person line that rings
# now (ivr/content/where_to_turn.py), for every text that tells someone where to turn.
NUMBER_NOW = "number_now"


def prompt_parameter_names(profile: Profile) -> set[str]:
    """Names a prompt text may use as %(name)s placeholders."""
    names = set(CALL_PARAMETERS) | {"hotline", "emergency", NUMBER_NOW}
    names |= {f"number_{name}" for name in profile.spoken_numbers}
    names |= {f"hours_{name}" for name in profile.schedules}
    return names
