"""Right-to-left replies display right to left (issue #23 part 7), as the Unicode bidi
algorithm lays them out (python-bidi, a test dependency: an independent implementation of
UAX #9, not our own reading of it)."""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from bidi import get_base_level, get_display
from flask import Flask

from ivr.sms.channel import SmsChannel
from ivr.sms.text import RIGHT_TO_LEFT_MARK, count_segments, right_to_left
from tests.test_sms_lengths import STAFF_NOTICES, USER_REPLIES
from tests.test_sms_support import messages, send_sms, shared_app

URGENT, EMERGENCY = "عاجل", "الطوارئ"  # the Arabic help replies' word before 113


@pytest.fixture(scope="module")
def luxembourg(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return shared_app("luxembourg", Path(tmp_path_factory.mktemp("sms_bidi")))


def channel_of(app: Flask, discreet: bool) -> SmsChannel:
    shared: SmsChannel = app.extensions["sms"]
    channel = copy.copy(shared)  # the wording is changed on a copy only
    channel.profile = replace(channel.profile, sms=replace(channel.profile.sms,
                                                           discreet=discreet))
    return channel


def visible(text: str) -> str:
    """The text without its formatting characters (marks, isolates): what a reader sees."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


@pytest.mark.parametrize("discreet", [True, False])
def test_every_arabic_reply_is_laid_out_right_to_left(luxembourg: Flask,
                                                      discreet: bool) -> None:
    channel = channel_of(luxembourg, discreet)
    for prompt_id in USER_REPLIES:
        text = channel.reply_text("ar", prompt_id, keywords=channel.keyword_list())
        for line in text.split("\n"):
            assert get_base_level(line) == 1, (prompt_id, line)
        assert count_segments(text).count <= 2, (prompt_id, count_segments(text))


@pytest.mark.parametrize("discreet", [True, False])
def test_the_arabic_help_reply_keeps_urgent_beside_its_number(luxembourg: Flask,
                                                              discreet: bool) -> None:
    """ar-1: laid out left to right, "urgent" landed at the far left and 113 at the far
    right, after "or". Right to left, the number stands just left of its word."""
    text = channel_of(luxembourg, discreet).reply_text("ar", "sms.help")
    assert text.startswith(RIGHT_TO_LEFT_MARK + "INFOTRAITE")
    shown = visible(get_display(text))
    word = URGENT if URGENT in text else EMERGENCY
    assert re.search(r"113\s*:\s*" + re.escape(word[::-1]), shown), shown
    # Both helpline numbers stay whole and in their own order.
    assert "+352 27 36 56 46" in shown


def test_the_reply_to_the_arabic_help_word_starts_right_to_left(luxembourg: Flask) -> None:
    [(to, text)] = messages(send_sms(luxembourg.test_client(), "مساعدة",
                                     from_="+352621987101"))
    assert to is None and get_base_level(text) == 1


def test_a_left_to_right_reply_gets_no_mark(luxembourg: Flask) -> None:
    channel = channel_of(luxembourg, True)
    for lang in ("fr", "uk", "zh"):
        assert RIGHT_TO_LEFT_MARK not in channel.reply_text(lang, "sms.help")
    assert all(RIGHT_TO_LEFT_MARK not in channel.staff_text(prompt_id, case="K7M2")
               for prompt_id in STAFF_NOTICES)  # French staff


def test_each_line_is_marked_once() -> None:
    mark = RIGHT_TO_LEFT_MARK
    assert right_to_left("أ\nINFOTRAITE") == f"{mark}أ\n{mark}INFOTRAITE"
    assert right_to_left(right_to_left("x")) == right_to_left("x")
    assert get_base_level(right_to_left("INFOTRAITE: +352")) == 1
