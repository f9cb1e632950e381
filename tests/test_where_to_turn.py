"""Everything that tells a person where to turn names a line open at that moment (issue #23,
part 3): every hour of a week and of a public holiday, both profiles, every language.

A line is open when the call engine would ring it then (`Engine.ring_plan`, the office
hours and holidays of the profile); an emergency number is always open. A message fails
when it names a closed line without that line's hours, or names no open line at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import cache

import phonenumbers
import pytest

from ivr.voice.engine import Engine
from ivr.voice.hotline import Hotline, build_hotline
from ivr.voice.state import CallState
from tests.conftest import PROFILES

# Texts sent or said when something failed or a line is closed, and the replies that
# give a number to call.
WRITTEN = ["sms.relay_failed", "sms.relayed_unanswerable", "sms.help", "sms.signs",
           "sms.police", "sms.ack"]
SPOKEN = ["sms.failed", "police.closed", "unanswered.intro", "emergency.reminder",
          "record.thanks"]
MONDAY = datetime(2026, 11, 23)  # an ordinary week: Monday 23 to Sunday 29 November 2026
HOLIDAY = datetime(2026, 12, 25)  # Christmas Day, a Friday: a public holiday in LU and XK


class Moment:
    """A clock the hotline reads, set by the test."""

    def __init__(self) -> None:
        self.now = MONDAY

    def __call__(self) -> datetime:
        return self.now


@cache
def hotline(name: str) -> tuple[Hotline, Moment]:
    moment = Moment()
    return build_hotline(PROFILES[name], base="/voice", clock=moment), moment


def hours_walked(profile_zone: Callable[[datetime], datetime]) -> Iterator[datetime]:
    """Half past every hour of the week, then of the holiday, in the hotline's zone."""
    for start, hours in ((MONDAY, 7 * 24), (HOLIDAY, 24)):
        for hour in range(hours):
            yield profile_zone(start + timedelta(hours=hour, minutes=30))


def e164(text: str, country: str) -> str:
    number = phonenumbers.parse(text, country)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def rung_now(engine: Engine) -> set[str]:
    """Every number (E.164) some destination rings now, as the call engine decides."""
    return {n for d in engine.profile.destinations.values()
            for step in engine.ring_plan(d) for n in step}


def sent_id(hot: Hotline, prompt_id: str) -> str | None:
    """The prompt a profile sends for a reply (its discreet variant where it has one)."""
    ids = hot.profile.all_prompt_ids()
    if hot.profile.sms.discreet and f"{prompt_id}.discreet" in ids:
        return f"{prompt_id}.discreet"
    return prompt_id if prompt_id in ids else None


def problems_at(hot: Hotline, lang: str) -> list[str]:
    """What is wrong, now, with each where-to-turn text in one language."""
    p, prompter, engine = hot.profile, hot.prompter, hot.engine
    rung = rung_now(engine)
    found = []
    for written, ids in ((True, WRITTEN), (False, SPOKEN)):
        params = prompter.params(lang, written)
        lines = {name: params[f"number_{name}"] for name in p.spoken_numbers}
        hours = {d.name: params[f"hours_{d.schedule}"] for d in p.destinations.values()
                 if d.schedule}
        for prompt_id in filter(None, (sent_id(hot, i) for i in ids)):
            text, _ = prompter.text(lang, prompt_id, written=written)
            named = [name for name, value in lines.items() if value in text]
            open_named = [n for n in named if e164(p.spoken_numbers[n], p.country) in rung]
            for name in set(named) - set(open_named):
                # A closed line may be named with its hours ("… 08:00–16:00. Otherwise 113").
                number = e164(p.spoken_numbers[name], p.country)
                with_hours = [dest for dest in p.destinations.values() if dest.schedule
                              and any(number in step for step in dest.open_steps)
                              and hours[dest.name] in text]
                if not with_hours:
                    found.append(f"{prompt_id} names {name}, closed now: {text}")
            if named and not open_named and params["emergency"] not in text:
                found.append(f"{prompt_id} names only closed lines: {text}")
    return found


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_hour_of_a_week_and_a_holiday_names_an_open_line(name: str) -> None:
    hot, moment = hotline(name)
    checked = 0
    for when in hours_walked(lambda t: t.replace(tzinfo=hot.profile.timezone)):
        moment.now = when
        for lang in hot.profile.languages:
            problems = problems_at(hot, lang)
            assert not problems, (when.isoformat(), lang, problems)
            checked += 1
    assert checked == 8 * 24 * len(hot.profile.languages)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_caller_nobody_answered_is_offered_no_closed_line(name: str) -> None:
    hot, moment = hotline(name)
    node = hot.profile.nodes["unanswered"]
    for when in hours_walked(lambda t: t.replace(tzinfo=hot.profile.timezone)):
        moment.now = when
        offered = [o for o in node.options if hot.engine.offered(node, o)]
        for option in offered:
            if option.action == "connect" and option.target:
                destination = hot.profile.destinations[option.target]
                assert hot.engine.ring_plan(destination), (when, option)
        said = hot.engine.menu(CallState(lang="en", node="unanswered")).twiml
        for option in set(node.options) - set(offered):
            assert hot.prompter.text("en", option.prompt, {"key": option.key})[0] not in said
        assert "1 1 3" in said or "1 9 2 or 1 1 2" in said  # the emergency outro, always


def test_luxembourg_names_the_landline_in_office_hours_and_a_mobile_otherwise() -> None:
    hot, moment = hotline("luxembourg")
    zone = hot.profile.timezone
    landline, mobile = "+352 27 36 56 46", "+352 621 351 884"
    for when, expected in [(datetime(2026, 11, 23, 10, 0, tzinfo=zone), landline),
                           (datetime(2026, 11, 23, 12, 30, tzinfo=zone), mobile),  # lunch
                           (datetime(2026, 11, 23, 17, 0, tzinfo=zone), mobile),
                           (datetime(2026, 11, 28, 10, 0, tzinfo=zone), mobile),  # Saturday
                           (HOLIDAY.replace(hour=10, tzinfo=zone), mobile)]:
        moment.now = when
        failed, _ = hot.prompter.text("uk", "sms.relay_failed", written=True)
        assert expected in failed and (landline == expected or landline not in failed), (
            when, failed)
        said, _ = hot.prompter.text("en", "sms.failed")
        spoken = "0 0 3 5 2, 2 7, 3 6, 5 6, 4 6" if expected == landline else \
            "0 0 3 5 2, 6 2 1, 3 5 1, 8 8 4"
        assert said.endswith(spoken + "."), said


def test_the_numbers_notice_follows_the_hour_although_menus_are_cached() -> None:
    hot, moment = hotline("luxembourg")
    zone = hot.profile.timezone
    state = CallState(lang="en", node=hot.profile.start_node)
    moment.now = datetime(2026, 11, 23, 10, 0, tzinfo=zone)
    day = hot.engine.menu(state, notice="sms.failed").twiml
    moment.now = datetime(2026, 11, 23, 22, 0, tzinfo=zone)
    night = hot.engine.menu(state, notice="sms.failed").twiml
    assert "2 7, 3 6, 5 6, 4 6" in day and "6 2 1, 3 5 1, 8 8 4" in night
    assert "2 7, 3 6" not in night


def test_kosovo_gives_its_toll_free_number_in_both_forms_and_112_beside_192() -> None:
    hot, _ = hotline("kosovo")
    written, _ = hot.prompter.text("sq", "sms.relay_failed", written=True)
    assert "0800 11112 / +383 800 11112" in written and "192 ose 112" in written
    said, _ = hot.prompter.text("en", "sms.failed")
    assert said.endswith("0 8 0 0, 1 1 1 1 2 or 0 0 3 8 3, 8 0 0, 1 1 1 1 2.")
    greeting, _ = hot.prompter.text("en", "greeting")
    assert greeting.endswith("call 1 9 2 or 1 1 2.")


def test_the_consoles_preview_fills_the_line_open_now() -> None:
    from ivr.console.editing import preview

    hot, moment = hotline("luxembourg")
    moment.now = datetime(2026, 11, 23, 22, 0, tzinfo=hot.profile.timezone)
    text = hot.profile.prompt_text("sms.failed")
    assert preview(hot, "en", "sms.failed", text).endswith("0 0 3 5 2, 6 2 1, 3 5 1, 8 8 4.")
