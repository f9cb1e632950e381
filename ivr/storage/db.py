"""The storage layer's entry point: the app's database at start, and the names the rest of
the package imports (models, the event writer, engines, migrations, purge), re-exported so
that callers need one import path.

Never on the path that connects a caller: events go through the background writer
(ivr/storage/writer.py); a voice-message reference is one bounded upsert
(ivr/storage/voice_messages.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from ivr.settings import ServiceKey
from ivr.storage.engines import default_database_url, is_embedded_default, make_engine, within
from ivr.storage.models import (
    NAMING_CONVENTION,
    Base,
    Event,
    SmsCase,
    SmsDelivery,
    SmsOptOut,
    SmsSender,
    VoiceMessage,
    as_utc,
)
from ivr.storage.purge import Purged, purge
from ivr.storage.schema import (
    MIGRATIONS_DIR,
    SchemaWatch,
    alembic_config,
    schema_problem,
    stamp_heads,
    upgrade,
    upgrade_embedded,
)
from ivr.storage.writer import EventLog

log = logging.getLogger(__name__)

EVENTS: ServiceKey[EventLog] = ServiceKey("events")


def init_app(app: Flask) -> None:
    """The database URL, the event writer and the schema check, at start.

    The local default (SQLite in instance/, no DATABASE_URL) is upgraded here: nobody runs
    a release step for it, and only this machine's processes share it. A configured
    database is never migrated by the web process (several processes, a release step's
    job); one behind the code is reported at start and by /healthz (503).
    """
    url = app.config.get("DATABASE_URL") or default_database_url(app.instance_path)
    app.config["DATABASE_URL"] = url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    EVENTS.set(app, EventLog(url, app.config["SECRET_KEY"]))
    # The voice webhooks' own small pool: no SMS or console request can hold its connections.
    app.extensions["voice_messages_engine"] = make_engine(url, pool_size=2)
    if is_embedded_default(url, app.instance_path) and app.config.get("AUTO_UPGRADE", True):
        try:
            upgrade_embedded(url, Path(url.removeprefix("sqlite:///")))
        except Exception as exc:  # noqa: BLE001 — reported below and by /healthz
            log.error("could not upgrade the local SQLite database: %s", exc)
    watch = SchemaWatch(url)
    app.extensions["schema"] = watch
    if app.config.get("CHECK_SCHEMA_AT_START", True):
        problem = schema_problem(url)
        watch.set(problem)
        if problem:
            log.error("DATABASE NOT READY: %s. Text and voice messages still reach the "
                      "helpline (unanswerable by code until this is fixed); /healthz says 503",
                      problem)


def create_tables(url: str) -> None:
    """Every model's table, without migrations, stamped as migrated (tests; `ivr db
    upgrade` is the real way)."""
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
        stamp_heads(engine)
    finally:
        engine.dispose()


__all__ = ["EVENTS", "MIGRATIONS_DIR", "NAMING_CONVENTION", "Base", "Event", "EventLog", "Purged",
           "SchemaWatch", "SmsCase", "SmsDelivery", "SmsOptOut", "SmsSender", "VoiceMessage",
           "alembic_config", "as_utc", "create_tables", "default_database_url", "init_app",
           "make_engine", "purge", "schema_problem", "upgrade", "within"]
