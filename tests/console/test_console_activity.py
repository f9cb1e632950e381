"""Activity: anonymous figures, charts, voice messages through the server, SMS cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ivr.console.activity import (
    LANGUAGE_MENU_LABEL,
    recording_media_url,
    summarize,
)
from ivr.content.profile_loader import load_profile
from ivr.storage.db import Event, VoiceMessage
from tests.conftest import PROFILES, TOKEN
from tests.console.conftest import console_post

PROFILE = load_profile(PROFILES["luxembourg"])
DAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def event(conversation: str, kind: str, minutes: int = 0, channel: str = "voice",
          **fields: object) -> Event:
    return Event(at=DAY + timedelta(minutes=minutes), channel=channel, kind=kind,
                 conversation=conversation, **fields)


def sample_events() -> list[Event]:
    return [
        # A: Ukrainian, hears the signs, hangs up in the signs menu.
        event("A", "arrived"), event("A", "menu", 1, language="uk", node="main"),
        event("A", "menu", 2, language="uk", node="signs"), event("A", "ended", 3),
        # B: French, talks to a person who accepts.
        event("B", "arrived", 5), event("B", "menu", 6, language="fr", node="main"),
        event("B", "whisper", 7, language="fr", outcome="accepted"),
        event("B", "dialed", 9, language="fr", node="infotraite", outcome="completed"),
        event("B", "ended", 10),
        # C: hangs up in the language menu; D: the next day, a declined transfer.
        event("C", "arrived", 12), event("C", "ended", 13),
        event("D", "arrived", 60 * 24), event("D", "whisper", 60 * 24 + 1, outcome="declined"),
        # An SMS conversation, and the console's own try-it call (not counted).
        event("S", "received", 30, channel="sms", language="uk"),
        event("TRY", "arrived", 40), event("TRY", "ended", 41),
    ]


def test_summary_counts_calls_languages_menus_hang_ups_and_transfers() -> None:
    report = summarize(sample_events(), PROFILE, date(2026, 11, 22), date(2026, 11, 24),
                       tried="TRY")
    assert report.days == ["2026-11-22", "2026-11-23", "2026-11-24"]
    assert report.calls_per_day == [0, 3, 1] and report.calls == 4
    assert report.sms_per_day == [0, 1, 0] and report.sms == 1
    assert dict(report.per_language) == {"Ukrainian": 2, "French": 1}
    assert dict(report.menu_visits) == {"main": 2, "signs": 1}
    assert dict(report.hang_ups) == {"signs": 1, LANGUAGE_MENU_LABEL: 1}
    assert (report.transfers_accepted, report.transfers_declined) == (1, 1)
    assert dict(report.dial_outcomes) == {"completed": 1}


def test_activity_page_draws_charts_from_the_database(console_app: Flask,
                                                      console: FlaskClient) -> None:
    engine = console_app.extensions["events"].engine
    now = datetime.now(UTC)
    with Session(engine) as db, db.begin():
        for row in sample_events():
            row.at = now - timedelta(hours=1) + (row.at - DAY) / 100  # same order, recent
            db.add(row)
        db.add(VoiceMessage(recording_sid="RE0123456789abcdef",
                            language="uk", duration=12, at=now, state="new"))
    page = console.get("/console/activity?days=7").get_data(as_text=True)
    assert page.count('<svg class="chart"') == 5
    assert "Calls and SMS conversations per day" in page
    assert "<th scope=\"row\">Ukrainian</th><td>2</td>" in page
    assert "Voice messages waiting</dt><dd>1</dd>" in page
    assert "SMS cases open</dt><dd>0</dd>" in page  # the SMS channel's table exists
    assert "/console/messages/1/audio" in page
    assert console.get("/console/activity?days=abc").status_code == 200


def test_voice_message_audio_comes_through_the_server(console_app: Flask,
                                                      console: FlaskClient) -> None:
    asked: list[str] = []

    def fake_twilio(app: Flask, sid: str) -> tuple[bytes, str]:
        asked.append(recording_media_url(app.config["TWILIO_ACCOUNT_SID"] or "AC0", sid))
        return b"ID3 audio", "audio/mpeg"

    console_app.config["CONSOLE_RECORDING_FETCH"] = fake_twilio
    with Session(console_app.extensions["events"].engine) as db, db.begin():
        db.add(VoiceMessage(recording_sid="RE0123456789abcdef",
                            language="fr", duration=5, at=datetime.now(UTC), state="new"))
    response = console.get("/console/messages/1/audio")
    assert response.status_code == 200 and response.data == b"ID3 audio"
    assert response.mimetype == "audio/mpeg"
    assert TOKEN.encode() not in response.data and TOKEN not in str(response.headers)
    assert asked == ["https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/"
                     "RE0123456789abcdef.mp3"]
    assert console.get("/console/messages/99/audio").status_code == 404
    done = console_post(console, "/console/activity", "/console/messages/1/heard", {})
    assert done.status_code == 302
    assert "Voice messages waiting</dt><dd>0</dd>" in console.get(
        "/console/activity").get_data(as_text=True)


def test_without_twilio_credentials_no_audio_is_fetched(console_app: Flask,
                                                        console: FlaskClient) -> None:
    console_app.config["TWILIO_ACCOUNT_SID"] = ""
    with Session(console_app.extensions["events"].engine) as db, db.begin():
        db.add(VoiceMessage(recording_sid="RE0123456789abcdef",
                            language="fr", duration=5, at=datetime.now(UTC), state="new"))
    assert console.get("/console/messages/1/audio").status_code == 404


def test_a_flood_of_wrong_pins_shows_on_the_activity_page(console_app: Flask,
                                                          console: FlaskClient) -> None:
    """Issue #23: faked staff replies show as refusals, with a warning, and are not counted
    as SMS conversations."""
    engine = console_app.extensions["events"].engine
    now = datetime.now(UTC)
    with Session(engine) as db, db.begin():
        db.add(Event(at=now, channel="sms", kind="relay", conversation="sms-case:K7QM2XPA",
                     language="uk", outcome="relayed"))
        for _ in range(50):
            db.add(Event(at=now, channel="sms", kind="staff_reply", outcome="wrong_pin"))
        db.add(Event(at=now, channel="sms", kind="staff_reply",
                     conversation="sms-case:K7QM2XPA", language="uk", outcome="relayed"))
    page = console.get("/console/activity?days=7").get_data(as_text=True)
    assert "50 staff replies came with a wrong or missing PIN" in page
    assert '<th scope="row">refused: wrong or missing PIN</th><td>50</td>' in page
    assert '<th scope="row">reached the person</th><td>1</td>' in page
    assert "SMS conversations</dt><dd>1</dd>" in page


def test_a_few_wrong_pins_are_counted_without_a_warning() -> None:
    events = [event("", "staff_reply", n, channel="sms", outcome="wrong_pin") for n in range(3)]
    for n, row in enumerate(events):
        row.conversation, row.id = None, n
    report = summarize(events, PROFILE, date(2026, 11, 23), date(2026, 11, 23))
    assert report.staff_replies == [("refused: wrong or missing PIN", 3)]
    assert not report.wrong_pin_alert and report.sms == 0
