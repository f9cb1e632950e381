"""Nothing is lost (issue #10), in process: MessageSid claims, the masked relay, voice-message
upserts and `ivr recordings sync` against a stand-in REST API, events kept through an
outage, the schema check, a SQLite file locked by another connection, REST network errors."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from ivr.storage.db import Event, EventLog, VoiceMessage, create_tables, make_engine, upgrade
from ivr.storage.sms_store import BUSY, CLAIMED, DONE, SmsStore
from ivr.storage.voice_messages import Recording, store_voice_messages
from tests.conftest import TOKEN, twilio_post
from tests.test_sms_support import (
    NUMBER_KEY,
    PERSON,
    STAFF,
    STAFF_2,
    database_on,
    messages,
    send_sms,
    sms_app,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


# --- MessageSid claims ------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_claim_is_done_only_when_finished_and_a_dead_claim_is_taken_over(
        backend: str, tmp_path: Path) -> None:
    with database_on(backend, tmp_path, "claims") as url:
        create_tables(url)
        store = SmsStore(make_engine(url))
        assert store.claim_delivery("SM1", T0) == CLAIMED
        assert store.claim_delivery("SM1", T0 + timedelta(seconds=1)) == BUSY
        # The first worker died: after the lease its retry handles the message.
        assert store.claim_delivery("SM1", T0 + timedelta(seconds=11)) == CLAIMED
        store.finish_delivery("SM1")
        assert store.claim_delivery("SM1", T0 + timedelta(seconds=60)) == DONE
        store.release_delivery("SM1")  # a finished message is never released
        assert store.claim_delivery("SM1", T0 + timedelta(seconds=61)) == DONE
        assert store.claim_delivery("SM2", T0) == CLAIMED
        store.release_delivery("SM2")
        assert store.claim_delivery("SM2", T0) == CLAIMED
        store.engine.dispose()


def test_the_same_sid_twice_at_once_is_relayed_once(make_app: Callable[..., Flask]) -> None:
    app = sms_app(make_app)
    results: list[list[tuple[str | None, str]]] = []
    start = threading.Barrier(2)

    def post() -> None:
        start.wait()
        results.append(messages(send_sms(app.test_client(), "Two workers, one text",
                                         sid="SMtwice")))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    relayed = [to for answer in results for to, _ in answer if to in (STAFF, STAFF_2)]
    assert relayed == [STAFF, STAFF_2]  # once to each helpline phone, not twice


def test_a_failed_delivery_logs_its_sid_never_the_number(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = sms_app(make_app)
    monkeypatch.setattr("ivr.sms.channel.WORK_DEADLINE_S", 0.2)

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)  # a stalled database
        raise AssertionError("never waited for")

    monkeypatch.setattr(app.extensions["sms_store"], "case_for", slow)
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        replies = messages(send_sms(app.test_client(), "Nobody lets me leave", sid="SMslow"))
        took = time.monotonic() - started
    assert took < 1.0
    assert replies[:2] == [(STAFF, "#---- [en] Nobody lets me leave"),
                           (STAFF_2, "#---- [en] Nobody lets me leave")]
    assert "SMS SMslow not relayed normally, storage timed out" in caplog.text
    assert PERSON not in caplog.text and "leave" not in caplog.text


def test_a_locked_sqlite_file_gets_the_text_through_in_seconds(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    app = sms_app(make_app)
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        started = time.monotonic()
        replies = messages(send_sms(app.test_client(), "I am outside the station"))
        sms_took = time.monotonic() - started
        started = time.monotonic()
        recording = twilio_post(app.test_client(), "/voice/recording", {
            "RecordingSid": "RElocked", "RecordingStatus": "completed"})
        recording_took = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert [to for to, _ in replies] == [STAFF, STAFF_2, None]
    assert replies[0][1] == "#---- [en] I am outside the station"
    assert sms_took < 8.0
    assert recording.status_code == 503 and recording_took < 4.0
    # The lock gone, Twilio's retry of the callback stores it.
    assert twilio_post(app.test_client(), "/voice/recording", {
        "RecordingSid": "RElocked", "RecordingStatus": "completed"}).status_code == 204


# --- REST mode ------------------------------------------------------------------------

class UnreachableApi(HttpClient):
    """twilio's HTTP client with the network gone: every request raises ConnectionError."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("tests.unreachable"), is_async=False)
        self.up = False
        self.sent: list[dict[str, str]] = []

    def request(self, method: str, uri: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> TwilioResponse:
        if not self.up:
            raise ConnectionError("network unreachable")
        self.sent.append({k: str(v) for k, v in (data or {}).items()})
        return TwilioResponse(201, json.dumps({"sid": "SM" + "1" * 32, "status": "queued"}))


def test_a_network_error_in_rest_mode_is_retried_not_lost(
        make_app: Callable[..., Flask]) -> None:
    from ivr.sms.outbound import TwilioSender

    api = UnreachableApi()
    app = sms_app(make_app, SMS_USE_REST_API=True,
                  SMS_SENDER=TwilioSender(Client("AC" + "0" * 32, TOKEN, http_client=api)))
    first = send_sms(app.test_client(), "They took my phone", sid="SMnet")
    assert first.status_code == 503  # Twilio retries (or calls the fallback URL)
    assert first.headers["Retry-After"] == "10"
    api.up = True
    again = send_sms(app.test_client(), "They took my phone", sid="SMnet")
    assert again.status_code == 200
    assert [m["To"] for m in api.sent] == [STAFF, STAFF_2, PERSON]
    assert api.sent[0]["Body"].endswith("] They took my phone")


# --- voice messages -------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_repeated_recording_is_stored_once_with_what_was_known(backend: str,
                                                                 tmp_path: Path) -> None:
    with database_on(backend, tmp_path, "voice") as url:
        create_tables(url)
        engine = make_engine(url)
        store_voice_messages(engine, [Recording("RE1", T0, "uk", None),
                                      Recording("RE1", T0, None, 14),
                                      Recording("RE2", T0, "fr", 3)])
        store_voice_messages(engine, [Recording("RE1", T0, "ru", 99)])
        with Session(engine) as session:
            rows = [(m.recording_sid, m.language, m.duration, m.state) for m in
                    session.scalars(select(VoiceMessage).order_by(VoiceMessage.recording_sid))]
        engine.dispose()
    assert rows == [("RE1", "uk", 14, "new"), ("RE2", "fr", 3, "new")]


def test_two_identical_callbacks_lose_nothing(app: Flask) -> None:
    client = app.test_client()
    for sid in ("REsame", "REsame", "REother"):
        assert twilio_post(client, "/voice/recording?l=uk", {
            "RecordingSid": sid, "RecordingStatus": "completed",
            "RecordingDuration": "7"}).status_code == 204
    with Session(make_engine(app.config["DATABASE_URL"])) as session:
        assert sorted(session.scalars(select(VoiceMessage.recording_sid))) == ["REother",
                                                                                "REsame"]


class RecordingsApi(HttpClient):
    """A stand-in for Twilio's REST API: the account's recordings, one page."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("tests.recordings"), is_async=False)
        self.asked: list[dict[str, object]] = []

    def request(self, method: str, uri: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> TwilioResponse:
        assert method == "GET" and uri.endswith("/Recordings.json"), uri
        self.asked.append(dict(params or {}))
        recordings = [
            {"sid": "REmissed", "status": "completed", "duration": "21",
             "date_created": "Mon, 23 Nov 2026 08:10:00 +0000", "call_sid": "CA1"},
            {"sid": "REknown", "status": "completed", "duration": "9",
             "date_created": "Mon, 23 Nov 2026 08:20:00 +0000", "call_sid": "CA2"},
            {"sid": "REbusy", "status": "processing", "duration": "-1",
             "date_created": "Mon, 23 Nov 2026 08:30:00 +0000", "call_sid": "CA3"},
        ]
        return TwilioResponse(200, json.dumps({
            "recordings": recordings, "page": 0, "page_size": 100, "next_page_uri": None,
            "uri": "/2010-04-01/Accounts/AC0/Recordings.json"}))


def test_ivr_recordings_sync_recovers_what_the_app_missed(make_app: Callable[..., Flask]
                                                          ) -> None:
    api = RecordingsApi()
    app = make_app(TWILIO_REST_CLIENT=Client("AC" + "0" * 32, TOKEN, http_client=api))
    engine = make_engine(app.config["DATABASE_URL"])
    store_voice_messages(engine, [Recording("REknown", T0, "uk", 9)])
    result = app.test_cli_runner().invoke(args=["recordings", "sync", "--days", "3"])
    assert result.exit_code == 0, result.output
    assert "3 day(s): 2 recording(s) at Twilio, 1 reference(s) added" in result.output
    assert api.asked[0]["DateCreated>"] == "2026-11-20T09:00:00Z"
    with Session(engine) as session:
        rows = [(m.recording_sid, m.language, m.duration) for m in
                session.scalars(select(VoiceMessage).order_by(VoiceMessage.recording_sid))]
    engine.dispose()
    assert rows == [("REknown", "uk", 9), ("REmissed", None, 21)]


# --- events ---------------------------------------------------------------------------

def test_events_wait_out_an_outage_and_what_is_dropped_is_counted(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    log = EventLog(url, "secret", capacity=1000, keep=30)
    with caplog.at_level(logging.WARNING):
        for i in range(50):  # no table yet: the database "is away"
            log.event("voice", "ended", f"CA{i}")
        time.sleep(1.0)
        assert log.flush(0.5) is False
        create_tables(url)  # the database is back
        assert log.flush(10.0) is True
    with Session(log.engine) as session:
        stored = session.scalar(select(func.count()).select_from(Event))
    assert (stored, log.written, log.dropped) == (30, 30, 20)
    assert caplog.text.count("could not store events") == 1  # once per outage
    assert "20 event(s) dropped in this outage" in caplog.text
    log.engine.dispose()


def test_events_beyond_what_waits_for_the_writer_are_counted_not_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    create_tables(url)
    log = EventLog(url, "secret", capacity=3)
    monkeypatch.setattr(log, "_start", lambda: None)  # a writer that has not come round yet
    for i in range(5):
        log.event("voice", "ended", f"CA{i}")
    assert (log.dropped, len(log._arrived)) == (2, 3)
    monkeypatch.undo()
    log._start()
    assert log.flush(10.0) is True
    with Session(log.engine) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 3
    log.engine.dispose()


# --- the schema check -----------------------------------------------------------------

def test_a_database_behind_the_migrations_is_said_at_start_and_by_healthz(
        make_app: Callable[..., Flask], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from alembic import command

    from ivr import create_app
    from ivr.storage.db import alembic_config
    from ivr.storage.schema import expected_heads

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0001_initial")  # code newer than the database
    with caplog.at_level(logging.ERROR):
        app = create_app({"TESTING": True, "LOCAL_MODE": True, "TWILIO_AUTH_TOKEN": TOKEN,
                          "DATABASE_URL": url,
                          "SECRET_KEY": "s", "NUMBER_ENCRYPTION_KEY": NUMBER_KEY})
    assert "DATABASE NOT READY" in caplog.text and "run `ivr db upgrade`" in caplog.text
    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    [head] = expected_heads()  # the newest migration in migrations/
    assert health.json["reason"] == (
        f"the database is at migration 0001_initial, the code needs {head}: run "
        "`ivr db upgrade` (the Procfile's release step)")
    assert app.test_cli_runner().invoke(args=["db", "check"]).exit_code == 1
    upgrade(url)
    assert app.test_client().get("/healthz").status_code == 200
    assert app.test_cli_runner().invoke(args=["db", "check"]).exit_code == 0


def test_the_local_sqlite_default_is_upgraded_by_the_app(tmp_path: Path) -> None:
    from ivr import create_app

    app = create_app({"TESTING": True, "LOCAL_MODE": True, "TWILIO_AUTH_TOKEN": "",
                      "DATABASE_URL": "",
                      "SECRET_KEY": "s", "NUMBER_ENCRYPTION_KEY": NUMBER_KEY,
                      "CONSOLE_ENABLED": False})
    assert app.config["DATABASE_URL"].endswith("/instance/hotline.sqlite3")
    assert app.test_client().get("/healthz").status_code == 200


def test_stop_with_the_database_down_reaches_staff_and_sends_nothing_back(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:9/nothing",
                   NUMBER_ENCRYPTION_KEY=NUMBER_KEY)
    replies = messages(send_sms(app.test_client(), "STOP"))
    # STOP is French and English: the profile's order (fr first) names it.
    assert replies == [(STAFF, "#---- [fr] STOP"), (STAFF_2, "#---- [fr] STOP")]


def test_a_bug_in_handling_still_relays_the_text(make_app: Callable[..., Flask],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    app = sms_app(make_app)

    def bug(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(app.extensions["sms"], "handle", bug)
    with caplog.at_level(logging.WARNING):
        replies = messages(send_sms(app.test_client(), "Where can I sleep tonight",
                                    sid="SMbug"))
    assert [to for to, _ in replies] == [STAFF, STAFF_2, None]
    assert replies[0][1] == "#---- [en] Where can I sleep tonight"
    assert "SMS SMbug not relayed normally, handling failed: KeyError at" in caplog.text


def test_work_past_its_deadline_never_piles_up() -> None:
    from ivr.storage.engines import within

    release = threading.Event()
    ran: list[int] = []
    blockers = [threading.Thread(target=lambda: within(5.0, release.wait, lane="pile-test"))
                for _ in range(16)]  # every thread of the lane stuck, as on a stalled server
    for blocker in blockers:
        blocker.start()
    time.sleep(0.2)
    with pytest.raises(TimeoutError):
        within(0.1, ran.append, 1, lane="pile-test")
    release.set()
    for blocker in blockers:
        blocker.join()
    time.sleep(0.1)
    assert ran == []  # cancelled while it waited: it never ran after its caller gave up
