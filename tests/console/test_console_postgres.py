"""The console on PostgreSQL: migrations, accounts, reviews and figures on a real server.

Skipped only when no server answers at TEST_DATABASE_URL (the reason is printed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from ivr.console.accounts import add_operator
from ivr.console.models import Review
from ivr.console.store import session_scope
from ivr.storage.db import Event, upgrade
from tests.console.conftest import OPERATOR, PASSWORD, console_post, record_live, sign_in
from tests.services import postgres_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new database of our own on the test server, dropped afterwards."""
    with postgres_database("console") as url:
        yield url


def test_console_works_on_postgresql(make_app: Callable[..., Flask], postgres_url: str) -> None:
    app = make_app(DATABASE_URL=postgres_url)
    try:
        upgrade(postgres_url)  # the migrations, 0002_console included
        with app.app_context(), session_scope() as db:
            add_operator(db, OPERATOR, PASSWORD)
        engine = app.extensions["events"].engine
        with Session(engine) as db, db.begin():
            db.add(Event(at=datetime.now(UTC), channel="voice", kind="arrived",
                         conversation="pg-call"))
        client = app.test_client()
        assert sign_in(client).status_code == 302
        page = "/console/menu?lang=uk"
        response = console_post(client, page, "/console/review", {
            "lang": "uk", "prompt": "main.talk", "verdict": "comment", "comment": "ok",
            "back": page})
        assert response.status_code == 302
        with app.app_context(), session_scope() as db:
            stored = db.scalar(select(Review))
            assert stored is not None and stored.operator.name == OPERATOR
        activity = client.get("/console/activity").get_data(as_text=True)
        assert "Calls</dt><dd>1</dd>" in activity
        assert "SMS cases open</dt><dd>0</dd>" in activity
        assert console_post(client, page, "/console/logout", {}).status_code == 302
        assert client.get(page).status_code == 302
    finally:
        app.extensions["events"].flush()
        app.extensions["events"].engine.dispose()
        store = app.extensions.get("sms_store")
        if store is not None:
            store.engine.dispose()


CONSOLE_TABLES = {"console_operators", "console_reviews", "console_prompt_texts",
                  "console_phone_positions"}


def _console_differences(url: str) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import ivr.console.models  # noqa: F401  (the console's tables on Base.metadata)
    from ivr.storage.db import Base, make_engine

    upgrade(url)
    engine = make_engine(url)
    try:
        assert CONSOLE_TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection),
                                           Base.metadata)
    finally:
        engine.dispose()
    return [d for d in differences if CONSOLE_TABLES & set(re.findall(r"console_\w+", str(d)))]


def test_migration_makes_the_console_tables_as_the_models_say(tmp_path: Path,
                                                              postgres_url: str) -> None:
    assert _console_differences(f"sqlite:///{tmp_path / 'empty.sqlite3'}") == []
    assert _console_differences(postgres_url) == []


def test_texts_and_recordings_on_postgresql(make_app: Callable[..., Flask],
                                            postgres_url: str) -> None:
    from ivr.console.editing import approve, save_draft
    from ivr.console.recording import telephone_audio
    from tests.console.test_console_recordings import speech_like

    app = make_app(DATABASE_URL=postgres_url)
    try:
        upgrade(postgres_url)  # 0003_console_prompt_content included
        h = app.extensions["hotline"]
        audio = telephone_audio(speech_like(), "take.wav")
        corrected = "Щоб поговорити з %(hotline)s просто зараз, натисніть %(key)s."
        with app.app_context(), session_scope() as db:
            approve(db, h, "ben", save_draft(db, h, OPERATOR, "uk", "main.talk", corrected).id)
            record_live(db, h, "lb", "main.talk", audio, "upload")
        published = app.extensions["published"]
        assert published.refresh(app.extensions["events"].engine)
        assert h.prompter.text("uk", "main.talk", {"key": "1"})[0] == (
            "Щоб поговорити з INFOTRAITE просто зараз, натисніть 1.")
        assert published.wav("lb", "main.talk") == audio.wav  # bytea round trip
    finally:
        app.extensions["events"].flush()
        app.extensions["events"].engine.dispose()
        store = app.extensions.get("sms_store")
        if store is not None:
            store.engine.dispose()
