"""Every SMS reply, in every language of both profiles and both wordings, fits 2 segments
after filling (306 GSM-7 characters; 134 in UCS-2 for Cyrillic, Chinese, Arabic)."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from flask import Flask

from ivr.content.profile_loader import load_profile
from ivr.sms.channel import SmsChannel
from ivr.sms.text import count_segments
from tests.conftest import PROFILES
from tests.test_sms_support import shared_app

USER_REPLIES = ["sms.help", "sms.signs", "sms.police", "sms.languages", "sms.ack",
                "sms.relay_failed", "sms.stopped", "sms.started"]
STAFF_NOTICES = ["sms.staff.closed", "sms.staff.unknown", "sms.staff.no_code",
                 "sms.staff.opted_out", "sms.staff.failed", "sms.staff.wrong_pin",
                 "sms.staff.limited", "sms.staff.flood"]
@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Flask]:
    directory = tmp_path_factory.mktemp("sms_lengths")
    return {name: shared_app(name, directory) for name in PROFILES}


CASES = [(name, code) for name, path in sorted(PROFILES.items())
         for code in load_profile(path).languages]


@pytest.mark.parametrize(("profile_name", "lang"), CASES)
@pytest.mark.parametrize("discreet", [True, False])
def test_every_reply_fits_two_segments(apps: dict[str, Flask], profile_name: str,
                                       lang: str, discreet: bool) -> None:
    shared: SmsChannel = apps[profile_name].extensions["sms"]
    channel = copy.copy(shared)  # the wording is changed on a copy only
    channel.profile = replace(channel.profile, sms=replace(channel.profile.sms,
                                                           discreet=discreet))
    too_long = {}
    for prompt_id in USER_REPLIES:
        text = channel.reply_text(lang, prompt_id, keywords=channel.keyword_list())
        segments = count_segments(text)
        if segments.count > 2:
            too_long[prompt_id] = (segments.encoding, segments.units, text)
    for prompt_id in STAFF_NOTICES:
        text = channel.staff_text(prompt_id, case="K7QM2XPA", time="14:05")
        if count_segments(text).count > 2:
            too_long[prompt_id] = (count_segments(text).encoding, len(text), text)
    assert too_long == {}
