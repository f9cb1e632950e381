"""The console follows a phone recording live: each step of the staff line saves where the
call is; the live page and its JSON show it to signed-in operators only; a database that
fails never breaks the recording call."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ivr.console import live, phone_line
from ivr.console.accounts import add_operator
from ivr.console.live import (
    CHECKING,
    FINISHED,
    READING,
    Position,
    live_calls,
    save_position,
)
from ivr.console.models import PhonePosition
from ivr.console.published import hotline_key
from ivr.console.recording import text_to_read
from ivr.console.store import engine, session_scope
from tests.conftest import CALLER
from tests.console.conftest import OPERATOR, PASSWORD, sign_in
from tests.console.test_console_phone_line import PIN, RECORDING_URL, line, step
from tests.console.test_console_recordings import speech_like
from tests.test_resilience import DOWN

SID = "CA0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def staff_line(make_app: Callable[..., Flask]) -> Flask:
    app = line(make_app, [])
    with app.app_context(), session_scope() as db:
        add_operator(db, OPERATOR, PASSWORD)
    return app


def call(client: FlaskClient, url: str, **form: str) -> tuple[object, str]:
    return step(client, url, CallSid=SID, **form)


def choose_ukrainian(client: FlaskClient) -> tuple[object, str]:
    asked, _ = call(client, "/voice/staff")
    menu, _ = call(client, asked.gather_action, Digits=PIN)  # type: ignore[attr-defined]
    return call(client, menu.gather_action, Digits="5")  # type: ignore[attr-defined]


def where(app: Flask) -> list[live.LiveCall]:
    with app.app_context(), session_scope() as db:
        return live_calls(db, hotline_key(app.extensions["hotline"].profile))


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client).status_code == 302
    return client


def test_each_step_of_the_staff_line_saves_where_the_call_is(
        make_app: Callable[..., Flask]) -> None:
    app = staff_line(make_app)
    client = app.test_client()
    assert where(app) == []
    first, text = choose_ukrainian(client)
    total = int(re.search(r"Prompt 1 of (\d+)", text).group(1))  # type: ignore[union-attr]
    [now] = where(app)
    assert (now.lang, now.index, now.total, now.prompt_id, now.step) == (
        "uk", 0, total, "greeting", READING)
    heard, _ = call(client, first.record_action, RecordingSid="RE0001",  # type: ignore
                    RecordingUrl=RECORDING_URL, RecordingDuration="4")
    assert [(c.index, c.step) for c in where(app)] == [(0, CHECKING)]
    redo, _ = call(client, heard.gather_action, Digits="2")  # type: ignore[attr-defined]
    assert [(c.index, c.step) for c in where(app)] == [(0, READING)]
    heard, _ = call(client, redo.record_action, RecordingSid="RE0002",  # type: ignore
                    RecordingUrl=RECORDING_URL, RecordingDuration="4")
    call(client, heard.gather_action, Digits="1")  # type: ignore[attr-defined]
    [now] = where(app)
    assert (now.index, now.prompt_id, now.step) == (1, "language.option", READING)
    assert now.queue[:2] == ("greeting", "language.option") and len(now.queue) == total
    # One row for the call, keyed by a hash: neither the CallSid nor a phone number in it.
    with app.app_context(), session_scope() as db:
        [row] = db.scalars(select(PhonePosition)).all()
        stored = " ".join(str(getattr(row, c.name)) for c in PhonePosition.__table__.columns)
    assert SID not in stored and SID[2:] not in stored and CALLER[1:] not in stored
    assert row.hotline == "luxembourg" and len(row.call) == 32


def test_the_last_step_says_the_call_finished(make_app: Callable[..., Flask]) -> None:
    app = staff_line(make_app)
    client = app.test_client()
    with app.test_request_context():  # the token a call carries after its last prompt
        last = phone_line._url("staff_line.again", lang="uk", queue=["greeting"], done=1)
    _, text = call(client, last)
    assert "Every Ukrainian prompt is recorded." in text
    [done] = where(app)
    assert (done.index, done.total, done.prompt_id, done.step) == (1, 1, None, FINISHED)


def test_the_live_json_and_page_show_the_prompt_read_now(make_app: Callable[..., Flask]) -> None:
    app = staff_line(make_app)
    first, _ = choose_ukrainian(app.test_client())
    hotline = app.extensions["hotline"]
    console = signed_in(app)
    data = console.get("/console/live.json").get_json()
    [shown] = data["calls"]
    assert data["poll_seconds"] == 2
    assert (shown["lang"], shown["language"], shown["number"], shown["prompt_id"]) == (
        "uk", "Ukrainian", 1, "greeting")
    assert shown["text"] == text_to_read(hotline, "uk", "greeting") and shown["text"]
    assert shown["step"] == READING and shown["step_label"] == "Reading it after the beep"
    assert shown["prompts"][0] == "greeting" and shown["total"] == len(shown["prompts"])
    assert SID not in json.dumps(data)
    page = console.get("/console/live").get_data(as_text=True)
    assert f'data-calls="{shown["id"]}"' in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page  # no script
    current = re.search(r'<li data-index="(\d+)" class="now" aria-current="step">', page)
    assert current and current.group(1) == "0"
    assert page.count('aria-current="step"') == 1
    assert re.search(r'<p class="read-now" lang="uk" dir="ltr" data-field="text">'
                     + re.escape(str(shown["text"])), page)
    # The next prompt, after the take is kept.
    heard, _ = call(app.test_client(), first.record_action, RecordingSid="RE0001",  # type: ignore
                    RecordingUrl=RECORDING_URL, RecordingDuration="4")
    call(app.test_client(), heard.gather_action, Digits="1")  # type: ignore[attr-defined]
    [shown] = console.get("/console/live.json").get_json()["calls"]
    assert (shown["number"], shown["prompt_id"]) == (2, "language.option")
    page = console.get("/console/live").get_data(as_text=True)
    assert re.search(r'<li data-index="1" class="now" aria-current="step">', page)
    assert re.search(r'<li data-index="0" class="done">\s*<span class="marker" '
                     r'data-field="marker">Kept</span>', page)


def test_with_no_call_the_page_says_so(console: FlaskClient) -> None:
    assert console.get("/console/live.json").get_json()["calls"] == []
    assert "No call to the recording line now." in console.get("/console/live").get_data(
        as_text=True)


def test_the_live_page_and_its_json_need_a_signed_in_operator(
        make_app: Callable[..., Flask]) -> None:
    app = staff_line(make_app)
    choose_ukrainian(app.test_client())
    greeting = text_to_read(app.extensions["hotline"], "uk", "greeting")
    stranger = app.test_client()
    for path in ("/console/live", "/console/live.json"):
        response = stranger.get(path)
        assert response.status_code == 302 and "/console/login" in response.location
        assert greeting and greeting not in response.get_data(as_text=True)


def test_old_and_finished_calls_leave_the_page_and_day_old_rows_go(
        make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with app.app_context():
        db_engine = engine()
        queue = ("greeting", "main.talk")
        save_position(db_engine, Position("luxembourg", "a" * 32, "uk", queue, 1, READING),
                      now=NOW)
        save_position(db_engine, Position("luxembourg", "b" * 32, "fr", queue, 2, FINISHED),
                      now=NOW)
        save_position(db_engine, Position("kosovo", "c" * 32, "sq", queue, 0, READING),
                      now=NOW)
        with session_scope() as db:
            assert [c.lang for c in live_calls(db, "luxembourg", NOW)] == ["fr", "uk"]
            later = NOW + live.FINISHED_SHOWN_FOR + timedelta(seconds=1)
            assert [c.lang for c in live_calls(db, "luxembourg", later)] == ["uk"]
            later = NOW + live.SHOWN_FOR + timedelta(seconds=1)
            assert live_calls(db, "luxembourg", later) == []
        # A new call a day later clears what is older than a day, of every hotline.
        save_position(db_engine, Position("luxembourg", "d" * 32, "uk", queue, 0, READING),
                      now=NOW + live.KEPT_FOR + timedelta(seconds=1))
        with session_scope() as db:
            assert [row.call[0] for row in db.scalars(select(PhonePosition))] == ["d"]


def test_a_failing_database_never_breaks_the_recording_call(
        make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    app = staff_line(make_app)

    def refused(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE", {}, Exception("the server closed the connection"))

    monkeypatch.setattr(live, "save_position", refused)
    with caplog.at_level(logging.WARNING):
        first, text = choose_ukrainian(app.test_client())
    assert "Prompt 1 of" in text and first.record_action  # type: ignore[attr-defined]
    assert "the live position was not saved (OperationalError)" in caplog.text
    assert where(app) == []


def test_a_stalled_database_holds_a_step_no_longer_than_its_deadline(
        make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    app = staff_line(make_app)
    released = threading.Event()

    def stalled(*args: object, **kwargs: object) -> None:
        released.wait(30)  # a server that keeps the connection open and answers nothing

    monkeypatch.setattr(live, "save_position", stalled)
    monkeypatch.setattr(live, "WRITE_DEADLINE_S", 0.05)
    try:
        with caplog.at_level(logging.WARNING):
            _, text = choose_ukrainian(app.test_client())
        assert not released.is_set()  # answered while the write was still stuck
        assert "Prompt 1 of" in text
        assert "the live position was not saved (TimeoutError)" in caplog.text
    finally:
        released.set()


def test_a_database_that_is_down_still_lets_the_staff_record(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(STAFF_RECORDING_PIN=PIN, STAFF_RECORDING_FETCH=lambda app, sid: speech_like(),
                   DATABASE_URL=DOWN)
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        first, text = choose_ukrainian(client)
        assert "Prompt 1 of" in text
        heard, _ = call(client, first.record_action, RecordingSid="RE0001",  # type: ignore
                        RecordingUrl=RECORDING_URL, RecordingDuration="4")
        _, text = call(client, heard.gather_action, Digits="1")  # type: ignore[attr-defined]
    assert "Not kept: it could not be saved just now. Once more." in text
    assert "the live position was not saved (OperationalError)" in caplog.text
    assert "a recording was not saved (OperationalError)" in caplog.text
