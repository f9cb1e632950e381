"""Where to turn now: which lines ring at a moment, from the hours and holidays the ringing uses.

A text that tells a person where to turn after something failed (a text not passed on, a
text message not sent, nobody answered) names `%(number_now)s`: the person line's number
that rings at that moment, never a landline that is closed for the night.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers

from ivr.content.hours import is_open
from ivr.content.profile import Destination, Profile


def is_destination_open(profile: Profile, destination: Destination, when: datetime) -> bool:
    """Whether a destination rings its office-hours numbers at `when` (no schedule: always)."""
    if destination.schedule is None:
        return True
    return is_open(profile.schedules[destination.schedule], when.astimezone(profile.timezone))


def ring_plan_at(profile: Profile, destination: Destination, when: datetime
                 ) -> tuple[tuple[str, ...], ...]:
    """The numbers a destination rings at `when`, step by step (E.164)."""
    if is_destination_open(profile, destination, when):
        return destination.open_steps
    return destination.closed_steps


def spoken_number_e164(profile: Profile) -> dict[str, str]:
    """Each spoken number's name by its E.164 form (short codes left out)."""
    found: dict[str, str] = {}
    for name, text in profile.spoken_numbers.items():
        try:
            number = phonenumbers.parse(text, profile.country)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            found.setdefault(e164, name)
    return found


def spoken_names_in(profile: Profile, steps: tuple[tuple[str, ...], ...]) -> list[str]:
    """The spoken numbers (by name) among the numbers of a ring plan, in ringing order."""
    by_e164 = spoken_number_e164(profile)
    return list(dict.fromkeys(by_e164[n] for step in steps for n in step if n in by_e164))


def _given(profile: Profile, steps: tuple[tuple[str, ...], ...]
           ) -> tuple[str | None, str | None]:
    names = spoken_names_in(profile, steps)
    if names:
        return names[0], None
    return None, next((n for step in steps for n in step), None)


def number_now(profile: Profile, when: datetime) -> tuple[str | None, str | None]:
    """The number to give at `when`: the first number the person line (`hotline.person`)
    rings then, as (its name under [spoken_numbers] or None, its E.164 form); the first
    one [spoken_numbers] names wins. (None, None) when the line rings nothing then."""
    person = profile.destinations[profile.person]
    return _given(profile, ring_plan_at(profile, person, when))


def numbers_ever_given(profile: Profile) -> list[tuple[str | None, str | None]]:
    """Every answer number_now() can give, at any hour (for the audio made in advance)."""
    person = profile.destinations[profile.person]
    plans = [person.open_steps] + ([person.closed_steps] if person.schedule else [])
    return list(dict.fromkeys(_given(profile, steps) for steps in plans))


def open_numbers(profile: Profile, when: datetime) -> frozenset[str]:
    """The spoken numbers (by name) some destination rings at `when`."""
    names: set[str] = set()
    for destination in profile.destinations.values():
        names.update(spoken_names_in(profile, ring_plan_at(profile, destination, when)))
    return frozenset(names)
