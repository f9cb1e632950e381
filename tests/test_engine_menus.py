"""The language menu's counts and pages, and a menu's way back to the languages, with the
fixture profile tests/fixtures/profiles/pages.toml: three pages of languages, two silences
in the language menu before a person, and an option whose action is "languages"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.conftest import twilio_post
from tests.test_engine_dial import PROFILES_DIR, Post, query, ring_out, twiml

PAGES = str(PROFILES_DIR / "pages.toml")
LINE = "+442079460031"
# The first page after a silence, a wrong key or a step back: no greeting, but the way to a
# person said outright.
PAGE_1 = ["For English, press 1.", "For more languages, press 9.",
          "To talk to a person now, press 0."]


@pytest.fixture
def pages_post(make_app: Callable[..., Flask]) -> Post:
    client = make_app(PAGES).test_client()
    return lambda path, form=None: twilio_post(client, path, form)


def test_the_first_silence_of_two_repeats_the_language_menu(pages_post: Post) -> None:
    step = twiml(pages_post("/voice/language?p=1", {"Digits": ""}))
    assert step.dial_numbers == []
    assert query(step.gather_action) == {"p": "1", "r": "1", "w": "0"}
    assert [h.text for h in step.heard] == PAGE_1  # no "wrong key" notice


def test_the_second_silence_rings_the_person_line(pages_post: Post) -> None:
    rings, _ = ring_out(pages_post, "/voice/language?p=1&r=1", {"Digits": ""})
    assert rings == [(0, (LINE,))]


@pytest.mark.parametrize(("path", "expected"), [
    ("/voice/language?p=3&r=1&w=1", {"p": "2", "r": "0", "w": "0"}),
    ("/voice/language?p=2&r=1&w=1", {"p": "1", "r": "0", "w": "0"}),
    ("/voice/language?p=1&r=1&w=1", {"p": "1", "r": "0", "w": "0"}),
])
def test_star_goes_one_page_back_and_starts_the_counts_again(
        pages_post: Post, path: str, expected: dict[str, str]) -> None:
    step = twiml(pages_post(path, {"Digits": "*"}))
    assert step.dial_numbers == []
    assert query(step.gather_action) == expected


def test_star_on_the_last_page_reads_the_previous_one(pages_post: Post) -> None:
    step = twiml(pages_post("/voice/language?p=3", {"Digits": "*"}))
    assert [h.text for h in step.heard] == [
        "Français : appuyez sur 1.", "For more languages, press 9.",
        "To talk to a person now, press 0."]


@pytest.mark.parametrize(("path", "expected"), [
    ("/voice/menu?l=fr&n=main", {"p": "1", "r": "0", "w": "0"}),
    # A line already rung unanswered stays remembered across the language menu.
    ("/voice/menu?l=de&n=main&x=line&r=1&w=1", {"p": "1", "r": "0", "w": "0", "x": "line"}),
])
def test_the_languages_option_opens_the_first_page(pages_post: Post, path: str,
                                                   expected: dict[str, str]) -> None:
    step = twiml(pages_post(path, {"Digits": "2"}))
    assert step.dial_numbers == []
    assert query(step.gather_action) == expected
    assert [h.text for h in step.heard] == PAGE_1
