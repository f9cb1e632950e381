"""Reading a hotline profile from TOML: each value checked, each problem named by its line."""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from ivr.content.holiday_dates import UnknownCalendar, cached_calendar
from ivr.content.profile import (
    ACTIONS,
    DEFAULT_PROFILE,
    MAX_LANGUAGE_KEYS,
    MAX_OPTIONS,
    RESERVED_KEYS,
    SILENCE_ACTIONS,
    WEEKDAYS,
    Destination,
    Language,
    Node,
    Option,
    Profile,
    ProfileError,
    Schedule,
    number_text_problem,
    prompt_parameter_names,
)
from ivr.content.profile_checks import (
    check_texts_reach_a_phone,
    profile_warnings,
    read_sms,
    read_verification,
)
from ivr.content.safe_text import describe_problems
from ivr.content.texts import BUILTIN_PROMPTS, placeholders
from ivr.content.toml_reader import TomlReader


def load_profile(path: str | Path | None = None) -> Profile:
    """Read and check a hotline profile; any problem raises ProfileError naming the line."""
    path = Path(path) if path else DEFAULT_PROFILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{path}: the profile is not UTF-8 text") from exc
    return _parsed(str(path), text)


@functools.lru_cache(maxsize=8)
def _parsed(path: str, text: str) -> Profile:
    """The profile this text makes, parsed once per process (profiles are immutable)."""
    reader, data = TomlReader.parse(Path(path), text)
    profile = _build(reader, data)
    reader.unknown_fields()
    return profile


def _build(r: TomlReader, data: dict[str, Any]) -> Profile:
    hotline = r.get(data, "", "hotline", dict)
    country = r.get(hotline, "hotline", "country", str).upper()
    tz_name = r.get(hotline, "hotline", "timezone", str)
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise r.fail("hotline.timezone", f"unknown time zone {tz_name!r}") from exc

    emergency = frozenset(r.get(hotline, "hotline", "emergency_numbers", list, []))
    languages = _languages(r, data, country)
    schedules = _schedules(r, data)
    destinations = _destinations(r, data, country, emergency, schedules)
    spoken = _spoken_numbers(r, data, country)
    prompts = {str(k): v for k, v in r.get(data, "", "prompts", dict, {}).items()}
    for prompt_id, prompt in prompts.items():
        if not isinstance(prompt, str) or not prompt.strip():
            raise r.fail(f'prompts."{prompt_id}"', "must be a non-empty text")
        # English source text: bidirectional controls have no place in it either.
        why = describe_problems(prompt)
        if why:
            raise r.fail(f'prompts."{prompt_id}"', why)

    def language_setting(name: str, default: str | None = None) -> str:
        code = r.get(hotline, "hotline", name, str, default)
        if code not in languages:
            raise r.fail(f"hotline.{name}", f"{code!r} is not one of the profile's languages")
        return str(code)

    default_language = language_setting("default_language")
    nodes = _nodes(r, data, destinations, prompts)
    start_node = r.get(hotline, "hotline", "start_node", str, "main")
    if start_node not in nodes:
        raise r.fail("hotline.start_node", f"unknown node {start_node!r}")
    nodes = _with_parents(nodes, start_node)
    for dest in destinations.values():
        if dest.closed_node and dest.closed_node not in nodes:
            raise r.fail(f"destinations.{dest.name}.closed_node",
                         f"unknown node {dest.closed_node!r}")
    person = r.get(hotline, "hotline", "person", str)
    if person not in destinations:
        raise r.fail("hotline.person", f"unknown destination {person!r}")
    emergency_number = r.get(hotline, "hotline", "emergency_number", str)
    emergency_also = tuple(r.get(hotline, "hotline", "emergency_also", list, []))
    for key, number in [("emergency_number", emergency_number)] + [
            ("emergency_also", n) for n in emergency_also]:
        if number not in emergency:
            raise r.fail(f"hotline.{key}", f"{number!r} must be one of "
                                           "hotline.emergency_numbers")

    profile = Profile(
        path=r.path,
        name=r.get(hotline, "hotline", "name", str),
        country=country,
        timezone=timezone,
        default_language=default_language,
        staff_language=language_setting("staff_language", default_language),
        greeting_language=language_setting("greeting_language", default_language),
        emergency_numbers=emergency,
        emergency_number=emergency_number,
        emergency_also=emergency_also,
        show_caller_number=r.get(hotline, "hotline", "show_caller_number", bool, False),
        # Bounds: a retention of 0 or less would purge open cases; ISO/IEC 13714 asks for
        # a menu timeout of 3 to 10 s; a caller must reach a person after a few silences or
        # wrong keys; Twilio's <Dial> rings for 5 to 600 s.
        retention_days=r.get(hotline, "hotline", "retention_days", int, 30, minimum=1,
                             maximum=3650),
        menu_timeout=r.get(hotline, "hotline", "menu_timeout_seconds", int, 8, minimum=3,
                           maximum=10),
        silent_waits=r.get(hotline, "hotline", "silent_waits_before_person", int, 2,
                           minimum=1, maximum=3),
        wrong_keys=r.get(hotline, "hotline", "wrong_keys_before_person", int, 3, minimum=1,
                         maximum=5),
        ring_seconds=r.get(hotline, "hotline", "ring_seconds", int, 20, minimum=5,
                           maximum=600),
        person=person,
        start_node=start_node,
        languages=languages,
        schedules=schedules,
        destinations=destinations,
        nodes=nodes,
        spoken_numbers=spoken,
        prompts=prompts,
        sms=read_sms(r, data, country, set(languages), parse_number),
        single_sign_off=r.get(r.get(data, "", "console", dict, {}), "console", "single_sign_off",
                              bool, False),
        # Twilio waits 3 s at the least after a menu; one to three silences before a person.
        language_timeout=r.get(hotline, "hotline", "language_menu_timeout_seconds", int,
                               r.get(hotline, "hotline", "menu_timeout_seconds", int, 8),
                               minimum=3, maximum=10),
        language_silent_waits=r.get(hotline, "hotline", "language_menu_silent_waits", int, 1,
                                    minimum=1, maximum=3),
    )
    _check_prompts(r, profile)
    check_texts_reach_a_phone(r, profile)
    profile = replace(profile, verification=read_verification(r, data))
    return replace(profile, warnings=tuple(profile_warnings(r, profile)))


def _languages(r: TomlReader, data: dict[str, Any], country: str) -> dict[str, Language]:
    entries = r.get(data, "", "languages", list)
    languages: dict[str, Language] = {}
    seen_keys: dict[tuple[int, str], str] = {}
    for i, entry in enumerate(entries):
        where = f"languages[{i}]"
        code = r.get(entry, where, "code", str)
        if code in languages:
            raise r.fail(f"{where}.code", f"language {code!r} is listed twice")
        page = r.get(entry, where, "page", int, 1)
        key = r.get(entry, where, "key", str)
        if key not in "123456789" or len(key) != 1:
            raise r.fail(f"{where}.key", f"must be one key from 1 to 9, not {key!r}")
        if (page, key) in seen_keys:
            raise r.fail(f"{where}.key", f"key {key} on page {page} is already used by "
                                         f"{seen_keys[(page, key)]!r}")
        seen_keys[(page, key)] = code
        say_language = r.get(entry, where, "say_language", str, None)
        say_voice = r.get(entry, where, "say_voice", str, None)
        if say_voice and not say_language:
            raise r.fail(f"{where}.say_voice", "needs say_language too")
        countries = tuple(c.upper() for c in r.get(entry, where, "countries", list, []))
        languages[code] = Language(code, page, key, say_language, say_voice, countries)
    if not languages:
        raise r.fail("languages", "the profile needs at least one language")
    pages = sorted({lang.page for lang in languages.values()})
    if pages != list(range(1, len(pages) + 1)):
        raise r.fail("languages", f"pages must be numbered 1, 2, … without gaps, not {pages}")
    if len(pages) > 1:
        more = MAX_LANGUAGE_KEYS
        for (page, key), code in seen_keys.items():
            if page < pages[-1] and key == str(more):
                raise r.fail(f"languages[{list(languages).index(code)}].key",
                             f"key {more} on page {page} leads to the next page")
    return languages


_PERIOD = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def _schedules(r: TomlReader, data: dict[str, Any]) -> dict[str, Schedule]:
    schedules: dict[str, Schedule] = {}
    for name, entry in r.get(data, "", "schedules", dict, {}).items():
        where = f"schedules.{name}"
        days = set()
        for day in r.get(entry, where, "days", list):
            if day not in WEEKDAYS:
                raise r.fail(f"{where}.days", f"unknown day {day!r} (use {', '.join(WEEKDAYS)})")
            days.add(WEEKDAYS.index(day))
        periods = []
        for text in r.get(entry, where, "periods", list):
            match = _PERIOD.match(str(text))
            if not match:
                raise r.fail(f"{where}.periods", f"{text!r} is not a period like 09:00-12:00")
            h1, m1, h2, m2 = map(int, match.groups())
            if not (0 <= h1 < 24 and 0 <= m1 < 60 and 0 <= h2 <= 24 and 0 <= m2 < 60):
                raise r.fail(f"{where}.periods", f"{text!r} is not a time of day")
            start, end = time(h1, m1), time(23, 59, 59) if h2 == 24 else time(h2, m2)
            if end <= start:
                raise r.fail(f"{where}.periods", f"{text!r} ends before it starts")
            periods.append((start, end))
        country = r.get(entry, where, "holidays", str, None)
        subdivision = r.get(entry, where, "holidays_subdivision", str, None)
        if country:
            try:
                cached_calendar(country, subdivision)  # read now, before the first call
            except UnknownCalendar as exc:
                raise r.fail(f"{where}.holidays", f"the holidays package: {exc}") from exc
        schedules[name] = Schedule(name, frozenset(days), tuple(periods), country, subdivision)
    return schedules


def parse_number(r: TomlReader, key: str, text: Any, country: str) -> phonenumbers.PhoneNumber:
    """Parse a number as the profile's country writes it; reject what phonenumbers rejects."""
    if not isinstance(text, str):
        raise r.fail(key, f"a phone number must be text, not {type(text).__name__}")
    if problem := number_text_problem(text):
        raise r.fail(key, problem)
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException as exc:
        raise r.fail(key, f"{text!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise r.fail(key, f"{text!r} is not a valid phone number")
    return number


def _destinations(r: TomlReader, data: dict[str, Any], country: str, emergency: frozenset[str],
                  schedules: dict[str, Schedule]) -> dict[str, Destination]:
    destinations: dict[str, Destination] = {}
    for name, entry in r.get(data, "", "destinations", dict).items():
        where = f"destinations.{name}"
        schedule = r.get(entry, where, "schedule", str, None)
        if schedule is not None and schedule not in schedules:
            raise r.fail(f"{where}.schedule", f"unknown schedule {schedule!r}")

        def steps(field_name: str, where: str = where,
                  entry: dict[str, Any] = entry) -> tuple[tuple[str, ...], ...]:
            result = []
            for step in r.get(entry, where, field_name, list, []):
                numbers = step if isinstance(step, list) else [step]
                if not 1 <= len(numbers) <= 10:
                    raise r.fail(f"{where}.{field_name}",
                                 "each step rings 1 to 10 numbers at once")
                e164 = []
                for text in numbers:
                    key = f"{where}.{field_name}"
                    if isinstance(text, str) and re.sub(r"[^\d]", "", text) in emergency:
                        raise r.fail(key, f"{text!r} is an emergency number: the hotline never "
                                          "dials it (Twilio cannot); say it in a prompt instead")
                    number = parse_number(r, key, text, country)
                    e164.append(phonenumbers.format_number(
                        number, phonenumbers.PhoneNumberFormat.E164))
                result.append(tuple(e164))
            return tuple(result)

        open_steps = steps("open")
        if not open_steps:
            raise r.fail(f"{where}.open", "a destination needs at least one number to ring")
        closed_steps = steps("closed") if schedule else ()
        closed_node = r.get(entry, where, "closed_node", str, None)
        if schedule and not closed_steps and not closed_node:
            raise r.fail(where, "out of hours it needs numbers (closed) or a closed_node")
        destinations[name] = Destination(
            name=name, label=r.get(entry, where, "label", str, name), schedule=schedule,
            open_steps=open_steps, closed_steps=closed_steps, closed_node=closed_node,
            together=r.get(entry, where, "together", bool, False))
    return destinations


def _spoken_numbers(r: TomlReader, data: dict[str, Any], country: str) -> dict[str, str]:
    """Numbers read out to callers (emergency numbers included), by name."""
    spoken: dict[str, str] = {}
    for name, text in r.get(data, "", "spoken_numbers", dict, {}).items():
        key = f"spoken_numbers.{name}"
        if not isinstance(text, str) or not re.fullmatch(r"[+\d][\d ()/-]*", text):
            raise r.fail(key, f"{text!r} is not a phone number")
        digits = re.sub(r"\D", "", text)
        if len(digits) > 4:  # short codes (113, 192) are read as they are
            parse_number(r, key, text, country)
        spoken[name] = text
    return spoken


def _nodes(r: TomlReader, data: dict[str, Any], destinations: dict[str, Destination],
           prompts: dict[str, str]) -> dict[str, Node]:
    raw_nodes = r.get(data, "", "nodes", dict)
    nodes: dict[str, Node] = {}
    for name, entry in raw_nodes.items():
        where = f"nodes.{name}"
        raw_options = r.get(entry, where, "options", list, [])
        if len(raw_options) > MAX_OPTIONS:
            raise r.fail(f"{where}.options", f"has {len(raw_options)} options; a menu may "
                                             f"offer at most {MAX_OPTIONS}")
        options = []
        used: set[str] = set()
        for i, opt in enumerate(raw_options):
            at = f"{where}.options[{i}]"
            key = r.get(opt, at, "key", str)
            if len(key) != 1 or key not in "123456789":
                reason = "is kept for every menu" if key in RESERVED_KEYS else "is not a key"
                raise r.fail(f"{at}.key", f"{key!r} {reason}; use 1 to 9")
            if key in used:
                raise r.fail(f"{at}.key", f"key {key} is used twice in this menu")
            used.add(key)
            action = r.get(opt, at, "action", str, None)
            if action is None:
                raise r.fail(f"{at}.action", "this option has no action")
            if action not in ACTIONS:
                raise r.fail(f"{at}.action", f"unknown action {action!r} "
                                             f"(one of {', '.join(sorted(ACTIONS))})")
            target = None
            if action == "goto":
                target = r.get(opt, at, "node", str)
                if target not in raw_nodes:
                    raise r.fail(f"{at}.node", f"unknown node {target!r}")
            elif action == "connect":
                target = r.get(opt, at, "destination", str)
                if target not in destinations:
                    raise r.fail(f"{at}.destination", f"unknown destination {target!r}")
            options.append(Option(key, r.get(opt, at, "prompt", str), action, target))
        on_silence = r.get(entry, where, "on_silence", str, "person")
        if on_silence not in SILENCE_ACTIONS:
            raise r.fail(f"{where}.on_silence", f"must be one of {sorted(SILENCE_ACTIONS)}")
        nodes[name] = Node(name, r.get(entry, where, "prompt", str, None), tuple(options),
                           r.get(entry, where, "outro", str, None), on_silence)
    return nodes


def _with_parents(nodes: dict[str, Node], start: str) -> dict[str, Node]:
    """Set each node's parent (the back key): the node that first leads to it from the start
    (the start has none: back leads to languages; event-only nodes go back to the start)."""
    parents: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        node = nodes[queue.pop(0)]
        for opt in node.options:
            if opt.action == "goto" and opt.target and opt.target not in parents:
                parents[opt.target] = node.name
                queue.append(opt.target)
    return {name: replace(node, parent=parents.get(name, start))
            for name, node in nodes.items()}


def _check_prompts(r: TomlReader, profile: Profile) -> None:
    """Every prompt a menu names exists, and every placeholder in it can be filled."""
    known = set(BUILTIN_PROMPTS) | set(profile.prompts)
    for node in profile.nodes.values():
        names = [("prompt", node.prompt), ("outro", node.outro)]
        names += [(f"options[{i}].prompt", o.prompt) for i, o in enumerate(node.options)]
        for field_name, prompt_id in names:
            if prompt_id and prompt_id not in known:
                raise r.fail(f"nodes.{node.name}.{field_name}",
                             f"no text for prompt {prompt_id!r} (add it under [prompts])")
    fillable = prompt_parameter_names(profile)
    for prompt_id in known:
        text = profile.prompt_text(prompt_id)
        for name in placeholders(text):
            if name not in fillable:
                key = (f'prompts."{prompt_id}"' if prompt_id in profile.prompts
                       else f"ivr/content/texts.py {prompt_id}")
                raise r.fail(key, f"placeholder %({name})s cannot be filled "
                                  f"(known: {', '.join(sorted(fillable))})")
