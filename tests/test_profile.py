"""The hotline profile: both shipped profiles load, and a broken one names file, line and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr import create_app
from ivr.content.profile import MAX_OPTIONS, PROFILES_DIR, ProfileError
from ivr.content.profile_loader import load_profile

LUXEMBOURG = (PROFILES_DIR / "luxembourg.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["luxembourg", "kosovo"])
def test_shipped_profiles_load(name: str) -> None:
    profile = load_profile(PROFILES_DIR / f"{name}.toml")
    assert profile.start_node in profile.nodes
    assert profile.person in profile.destinations
    for node in profile.nodes.values():
        assert len(node.options) <= MAX_OPTIONS


def test_luxembourg_facts_come_from_the_source() -> None:
    """Numbers and hours of INFOTRAITE and the police line, as the source page gives them."""
    profile = load_profile()
    infotraite = profile.destinations["infotraite"]
    assert infotraite.open_steps == (("+35227365646",), ("+352621351884", "+352621316919"))
    assert infotraite.closed_steps == (("+352621351884", "+352621316919"),)
    assert profile.destinations["police"].open_steps == (("+352244603220",),)
    office = profile.schedules["infotraite"]
    assert [(str(a), str(b)) for a, b in office.periods] == [
        ("09:00:00", "12:00:00"), ("13:00:00", "17:00:00")]
    assert office.days == frozenset(range(5)) and office.holidays_country == "LU"
    assert [(str(a), str(b)) for a, b in profile.schedules["police"].periods] == [
        ("08:00:00", "16:00:00")]


def test_luxembourg_language_keys_are_stable() -> None:
    profile = load_profile()
    page1 = [(lang.key, lang.code) for lang in profile.language_page(1)]
    page2 = [(lang.key, lang.code) for lang in profile.language_page(2)]
    assert page1 == [("1", "fr"), ("2", "en"), ("3", "de"), ("4", "lb"), ("5", "pt"),
                     ("6", "uk"), ("7", "ru"), ("8", "ro")]
    assert page2 == [("1", "es"), ("2", "zh"), ("3", "ar"), ("4", "bg"), ("5", "sq"),
                     ("6", "sr")]


def test_kosovo_marks_every_unconfirmed_fact() -> None:
    text = (PROFILES_DIR / "kosovo.toml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if re.search(r'"[+0-9][0-9 ]{2,}"', line.split("#")[0]):
            assert "TODO: confirm" in line, line


def broken(tmp_path: Path, old: str, new: str, text: str = LUXEMBOURG) -> Path:
    assert old in text, old
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


# (what is changed, into what, key named in the message, problem, a fragment of the line)
BROKEN_PROFILES = [
    ('{ key = "2", prompt = "main.signs", action = "goto", node = "signs" }',
     '{ key = "2", prompt = "main.signs", action = "goto", node = "nowhere" }',
     "nodes.main.options[1].node", "unknown node 'nowhere'", 'node = "nowhere"'),
    ('{ key = "3", prompt = "main.kinds"', '{ key = "2", prompt = "main.kinds"',
     "nodes.main.options[2].key", "key 2 is used twice", 'key = "2", prompt = "main.kinds"'),
    ('{ key = "5", prompt = "main.sms", action = "goto", node = "sms_confirm" }',
     '{ key = "5", prompt = "main.sms" }',
     "nodes.main.options[4].action", "has no action", 'prompt = "main.sms" }'),
    ('open = [["+352 24 460 3220"]]', 'open = [["+352 12"]]',
     "destinations.police.open", "not a valid phone number", 'open = [["+352 12"]]'),
    # Issue #24: letters are keypad digits to phonenumbers; a placeholder must not pass.
    ('open = [["+352 24 460 3220"]]', 'open = [["+352 24 46X XXXX"]]',
     "destinations.police.open", "has 'X' in it", 'open = [["+352 24 46X XXXX"]]'),
    ('open = [["+352 24 460 3220"]]', 'open = [["113"]]',
     "destinations.police.open", "is an emergency number", 'open = [["113"]]'),
    ('{ key = "5", prompt = "main.sms", action = "goto", node = "sms_confirm" },',
     '{ key = "5", prompt = "main.sms", action = "goto", node = "sms_confirm" },\n'
     '  { key = "6", prompt = "main.sms", action = "goto", node = "sms_confirm" },',
     "nodes.main.options", "at most 5", "options = ["),
    ('{ key = "1", prompt = "main.talk", action = "connect", destination = "infotraite" }',
     '{ key = "1", prompt = "main.talk", action = "connect", destination = "nobody" }',
     "nodes.main.options[0].destination", "unknown destination 'nobody'", 'destination = "nobody"'),
    ('{ key = "1", prompt = "main.talk"', '{ key = "0", prompt = "main.talk"',
     "nodes.main.options[0].key", "kept for every menu", 'key = "0", prompt = "main.talk"'),
    ('timezone = "Europe/Luxembourg"', 'timezone = "Europe/Atlantis"',
     "hotline.timezone", "unknown time zone", 'timezone = "Europe/Atlantis"'),
    ('periods = ["08:00-16:00"]', 'periods = ["16:00-08:00"]',
     "schedules.police.periods", "ends before it starts", 'periods = ["16:00-08:00"]'),
    ('periods = ["08:00-16:00"]\nholidays = "LU"', 'periods = ["08:00-16:00"]\nholidays = "XX"',
     "schedules.police.holidays", "the holidays package: Country XX not available",
     'holidays = "XX"'),
    ('periods = ["08:00-16:00"]\nholidays = "LU"',
     'periods = ["08:00-16:00"]\nholidays = "LU"  # police\nholidays_subdivision = "Atlantis"',
     "schedules.police.holidays", "does not have subdivision Atlantis", '"LU"  # police'),
    ('"main.kinds" = "To hear about', '"main.kinds" = "%(nobody)s To hear about',
     'prompts."main.kinds"', "placeholder %(nobody)s cannot be filled", '"main.kinds" ='),
    ('prompt = "signs.fear"', 'prompt = "signs.unwritten"',
     "nodes.signs_fear.prompt", "no text for prompt 'signs.unwritten'",
     'prompt = "signs.unwritten"'),
]


# Settings that are unknown, out of range or written twice, in the same form.
STRICT_PROFILES = [
    ("ring_seconds = ", "ring_secnds = ", "hotline.ring_secnds",
     "unknown setting; did you mean ring_seconds?", "ring_secnds = "),
    ("retention_days = 30", "retention_days = -1", "hotline.retention_days",
     "must be from 1 to 3650, not -1", "retention_days = -1"),
    ("ring_seconds = 20", "ring_seconds = -5", "hotline.ring_seconds",
     "must be from 5 to 600, not -5", "ring_seconds = -5"),
    ("menu_timeout_seconds = 8", "menu_timeout_seconds = 0", "hotline.menu_timeout_seconds",
     "must be from 3 to 10, not 0", "menu_timeout_seconds = 0"),
    ("silent_waits_before_person = 2", "silent_waits_before_person = 0",
     "hotline.silent_waits_before_person", "must be from 1 to 3, not 0",
     "silent_waits_before_person = 0"),
    ("wrong_keys_before_person = 3", "wrong_keys_before_person = 1000",
     "hotline.wrong_keys_before_person", "must be from 1 to 5, not 1000",
     "wrong_keys_before_person = 1000"),
    ('timezone = "Europe/Luxembourg"', 'timezone = "Europe/Luxembourg"\ntimezone = "UTC"',
     "timezone", "written twice", 'timezone = "UTC"'),
]


@pytest.mark.parametrize(("old", "new", "key", "problem", "line_fragment"),
                         BROKEN_PROFILES + STRICT_PROFILES,
                         ids=[case[2] + ":" + case[3][:20]
                              for case in BROKEN_PROFILES + STRICT_PROFILES])
def test_a_broken_profile_names_file_line_key_and_problem(
        tmp_path: Path, old: str, new: str, key: str, problem: str, line_fragment: str) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{line_of(path, line_fragment)}: {key}: "), message
    assert problem in message


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = broken(tmp_path, 'name = "INFOTRAITE"', 'name = "INFOTRAITE')
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    line = line_of(path, 'name = "INFOTRAITE')
    assert str(raised.value).startswith(f"{path}:{line}: name: not valid TOML: ")


def test_missing_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read the profile"):
        load_profile(tmp_path / "absent.toml")


def test_a_broken_profile_stops_start_up(tmp_path: Path) -> None:
    path = broken(tmp_path, 'person = "infotraite"', 'person = "nobody"')
    with pytest.raises(ProfileError, match=r"hotline\.person: unknown destination"):
        create_app({"HOTLINE_PROFILE": str(path), "SECRET_KEY": "x",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})


def test_a_new_country_needs_no_code(tmp_path: Path) -> None:
    """A profile written from scratch (one language, one number) runs as it is."""
    path = tmp_path / "mini.toml"
    path.write_text("""
[hotline]
name = "Test line"
country = "BE"
timezone = "Europe/Brussels"
default_language = "en"
person = "desk"
emergency_numbers = ["112"]
emergency_number = "112"

[[languages]]
code = "en"
key = "1"
say_language = "en-GB"
say_voice = "Polly.Amy"

[destinations.desk]
open = [["+32 2 555 12 34"]]

[spoken_numbers]
helpline = "+32 2 555 12 34"

[nodes.main]
options = [{ key = "1", prompt = "talk", action = "connect", destination = "desk" }]

[sms]
helpline_numbers = ["+32 470 12 34 56"]   # the built-in help reply invites texts

[prompts]
talk = "To talk to us, press %(key)s."
""", encoding="utf-8")
    profile = load_profile(path)
    assert profile.destinations["desk"].open_steps == (("+3225551234",),)
    assert profile.nodes["main"].parent is None




def test_an_unknown_setting_in_a_menu_option_is_named(tmp_path: Path) -> None:
    path = broken(tmp_path, '{ key = "2", prompt = "main.signs", action = "goto", node = "signs" }',
                  '{ key = "2", prompt = "main.signs", action = "goto", node = "signs", '
                  'nod = "x" }')
    with pytest.raises(ProfileError, match=r"nodes\.main\.options\[1\]\.nod: unknown setting"):
        load_profile(path)
