"""Profile rules that protect the people a hotline serves: where texts go, where to turn,
which emergency number works, and what a person must confirm before production.

Errors stop the profile (`ProfileError`, naming the line); warnings let it run and are
shown by `ivr check-profile` and logged at start.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import phonenumbers

from ivr.content.profile import Profile, SmsSettings, Verification
from ivr.content.toml_reader import TomlReader

# The number every GSM/3G/4G phone dials as an emergency call from any SIM, roaming or not
# (3GPP TS 22.101); a national short code (113, 192) may not connect from a foreign SIM.
ANY_SIM_EMERGENCY = "112"
# Replies a texter can get without having written anything but a keyword; their English
# source must not ask them to write back when no phone receives what they write.
UNSOLICITED_REPLIES = ("sms.help", "sms.signs", "sms.police", "sms.languages")
# "Or write here.", "text us here": an English source text asking for a reply.
_INVITES_TEXTS = re.compile(r"\b(write|text)\b[^.?!]*\bhere\b", re.IGNORECASE)


def read_sms(r: TomlReader, data: dict[str, Any], country: str, languages: set[str],
             parse_number: Any) -> SmsSettings:
    """[sms]: the helpline phones that receive texts, keywords, how replies are sent."""
    entry = r.get(data, "", "sms", dict, {})
    numbers = []
    for i, text in enumerate(r.get(entry, "sms", "helpline_numbers", list, [])):
        number = parse_number(r, f"sms.helpline_numbers[{i}]", text, country)
        numbers.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    keywords: dict[str, dict[str, tuple[str, ...]]] = {}
    for kind, by_language in r.get(entry, "sms", "keywords", dict, {}).items():
        keywords[kind] = {}
        for code, words in by_language.items():
            if code not in languages:
                raise r.fail(f"sms.keywords.{kind}.{code}", f"{code!r} is not a profile language")
            keywords[kind][code] = tuple(words if isinstance(words, list) else [words])
    return SmsSettings(
        numbers_prompt=r.get(entry, "sms", "numbers_prompt", str, "sms.numbers"),
        discreet=r.get(entry, "sms", "discreet", bool, True),
        helpline_numbers=tuple(numbers),
        keywords=keywords,
        use_rest_api=r.get(entry, "sms", "use_rest_api", bool, False),
        case_expiry_days=r.get(entry, "sms", "case_expiry_days", int, 14, minimum=1,
                               maximum=365),
    )


def read_verification(r: TomlReader, data: dict[str, Any]) -> Verification | None:
    """[verification]: open questions for the helpline, and who confirmed the answers when.

    Without the table the profile needs no sign-off. With it, production refuses to start
    until `verified_by` and `verified_on` are filled in (local mode starts, with a warning).
    """
    entry = r.get(data, "", "verification", dict, None)
    if entry is None:
        return None
    questions = tuple(str(q) for q in r.get(entry, "verification", "questions", list, []))
    verified_by = r.get(entry, "verification", "verified_by", str, "").strip()
    raw_on = r.get(entry, "verification", "verified_on", (str, date), "")
    verified_on: date | None = None
    if isinstance(raw_on, date):
        verified_on = raw_on
    elif raw_on.strip():
        try:
            verified_on = date.fromisoformat(raw_on.strip())
        except ValueError as exc:
            raise r.fail("verification.verified_on",
                         f"{raw_on!r} is not a date like 2026-12-31") from exc
    unverified = None
    if not (verified_by and verified_on):
        unverified = str(r.fail(
            "verification.verified_by",
            f"not verified: {len(questions)} question(s) for the helpline are open; a person "
            "who confirmed the answers fills in verified_by and verified_on"))
    return Verification(questions, verified_by, verified_on, unverified)


def check_texts_reach_a_phone(r: TomlReader, profile: Profile) -> None:
    """A profile that invites texts must have a phone that receives them."""
    if profile.sms.helpline_numbers:
        return
    for prompt_id in UNSOLICITED_REPLIES:
        sent = f"{prompt_id}.discreet"
        if not (profile.sms.discreet and sent in profile.all_prompt_ids()):
            sent = prompt_id
        if sent in profile.all_prompt_ids() and _INVITES_TEXTS.search(profile.prompt_text(sent)):
            key = "sms.helpline_numbers" if r.locate("sms.helpline_numbers") else "sms"
            raise r.fail(key, f"no phone receives texts, but the reply {sent!r} asks people "
                              f"to write (\"{profile.prompt_text(sent)}\"): give it under "
                              "[prompts] without the invitation, or list a phone here")


def profile_warnings(r: TomlReader, profile: Profile) -> list[str]:
    """What lets the hotline run but may send a person the wrong way."""
    found = []
    for name, destination in profile.destinations.items():
        if destination.schedule is None:
            found.append(r.warn(f"destinations.{name}", "has no hours (schedule): it is rung "
                                "at all hours and nobody is told when it answers; add a "
                                "schedule once its hours are confirmed"))
    if ANY_SIM_EMERGENCY not in profile.emergency_said:
        found.append(r.warn("hotline.emergency_number",
                            f"{' or '.join(profile.emergency_said)} may not connect from a "
                            f"foreign SIM; only {ANY_SIM_EMERGENCY} does from every phone: "
                            f"say it too (emergency_also = [\"{ANY_SIM_EMERGENCY}\"]) once "
                            "the helpline confirms it reaches the right service"))
    if profile.verification and profile.verification.unverified:
        found.append(profile.verification.unverified)
    return found
