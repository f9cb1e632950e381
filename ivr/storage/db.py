"""Storage: anonymous events, voice messages, and the SMS channel's cases and opt-outs.

Never on the path that connects a caller: events go through a queue to a writer thread,
and any database failure is logged (without numbers or text) and dropped. Phone numbers
are stored only encrypted (SmsCase.number_encrypted) or as keyed hashes; message bodies
never. The schema is made by the Alembic migrations in migrations/ (`ivr db upgrade`).
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import DateTime, Integer, MetaData, String, Text, create_engine, delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ivr.settings import ServiceKey
from ivr.storage.crypto import keyed_hash

log = logging.getLogger(__name__)


# Named constraints, so that every migration names them the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Event(Base):
    """One anonymous step of a call or message: no number, no text."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # voice | sms
    kind: Mapped[str] = mapped_column(String(32))  # arrived, menu, connect, dialed, ended, …
    conversation: Mapped[str | None] = mapped_column(String(24), index=True)  # keyed hash
    language: Mapped[str | None] = mapped_column(String(8))
    node: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    duration: Mapped[int | None] = mapped_column(Integer)


class VoiceMessage(Base):
    """A message a caller left for the helpline: Twilio's reference to it, never the audio."""

    __tablename__ = "voice_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    recording_url: Mapped[str] = mapped_column(String(512))
    language: Mapped[str | None] = mapped_column(String(8))
    duration: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    state: Mapped[str] = mapped_column(String(16), default="new")  # new | heard | deleted


class SmsCase(Base):
    """One person's conversation with the helpline by SMS, known to staff only by its code."""

    __tablename__ = "sms_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    number_encrypted: Mapped[str] = mapped_column(Text)  # Fernet token (ivr.storage.crypto)
    number_hash: Mapped[str] = mapped_column(String(24), index=True)  # keyed hash
    language: Mapped[str | None] = mapped_column(String(8))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SmsOptOut(Base):
    """A number that sent STOP: nothing is sent to it until it sends START."""

    __tablename__ = "sms_opt_outs"

    number_hash: Mapped[str] = mapped_column(String(24), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SmsSender(Base):
    """The language a number last chose by keyword: its later messages are answered in it."""

    __tablename__ = "sms_senders"

    number_hash: Mapped[str] = mapped_column(String(24), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SmsDelivery(Base):
    """A MessageSid already handled: Twilio's repeated delivery is answered once."""

    __tablename__ = "sms_deliveries"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Purged:
    cases: int
    voice_messages: int
    senders: int
    deliveries: int


def purge(engine: Engine, now: datetime, retention_days: int) -> Purged:
    """Delete SMS cases, voice-message references, language memories and delivery ids
    older than the retention period. Opt-outs stay: forgetting one would break a promise."""
    cutoff = now.astimezone(UTC) - timedelta(days=retention_days)
    with Session(engine) as session, session.begin():
        cases = session.execute(delete(SmsCase).where(SmsCase.last_activity_at < cutoff))
        voice = session.execute(delete(VoiceMessage).where(VoiceMessage.at < cutoff))
        senders = session.execute(delete(SmsSender).where(SmsSender.seen_at < cutoff))
        deliveries = session.execute(delete(SmsDelivery).where(SmsDelivery.at < cutoff))
    return Purged(cases.rowcount, voice.rowcount, senders.rowcount,  # type: ignore[attr-defined]
                  deliveries.rowcount)  # type: ignore[attr-defined]


MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Any:
    """Alembic's configuration for this database, without needing alembic.ini's location."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations up to `revision` (creates every table on an empty database)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'hotline.sqlite3'}"


def make_engine(url: str) -> Engine:
    """An engine that fails fast when the server is down, instead of holding a request."""
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        connect_args["connect_timeout"] = 2
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


WRITE_BATCH = 200
BATCH_WAIT = 0.2  # seconds the writer gathers events before one insert
WARNING_INTERVAL = 60.0
EVENT_FIELDS = {"language": None, "node": None, "outcome": None, "duration": None}

# A queued event is a plain dict of the events table's columns (cheap to make on a
# request); other rows (voice messages) are ORM objects.
QueuedRow = dict[str, Any] | Base


@dataclass
class EventLog:
    """A bounded queue of anonymous events, written by one background thread."""

    url: str
    secret: str
    capacity: int = 10_000
    _queue: queue.Queue[QueuedRow] = field(init=False)
    _engine: Engine | None = field(init=False, default=None)
    _thread: threading.Thread | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    dropped: int = field(init=False, default=0)  # the queue was full
    lost: int = field(init=False, default=0)  # the database refused them
    _warned_at: float = field(init=False, default=float("-inf"))

    def __post_init__(self) -> None:
        self._queue = queue.Queue(maxsize=self.capacity)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    def conversation(self, sid: str | None) -> str | None:
        return keyed_hash(self.secret, sid) if sid else None

    def event(self, channel: str, kind: str, sid: str | None = None, **fields: Any) -> None:
        """Queue one anonymous event; never blocks, never raises."""
        self.put({**EVENT_FIELDS, **fields, "at": datetime.now(UTC), "channel": channel,
                  "kind": kind, "conversation": self.conversation(sid)})

    def put(self, row: QueuedRow) -> None:
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self.dropped += 1
            return
        self._start()

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="event-writer",
                                                daemon=True)
                self._thread.start()
                atexit.register(self.flush, 2.0)  # a stopping worker writes what it has

    def _run(self) -> None:
        while True:
            rows = [self._queue.get()]
            deadline = time.monotonic() + BATCH_WAIT
            while len(rows) < WRITE_BATCH:  # one transaction for a short while's events
                try:
                    rows.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            self._write(rows)
            for _ in rows:
                self._queue.task_done()

    def _write(self, rows: list[QueuedRow]) -> None:
        events = [row for row in rows if isinstance(row, dict)]
        others = [row for row in rows if not isinstance(row, dict)]
        try:
            if events:
                with self.engine.begin() as connection:
                    connection.execute(insert(Event), events)
            if others:
                with Session(self.engine) as session, session.begin():
                    for row in others:
                        session.merge(row) if isinstance(row, VoiceMessage) else session.add(row)
        except SQLAlchemyError as exc:
            # The database is down or not migrated: the call went on; the figures are lost.
            # One warning a minute at most, so an outage does not flood the log.
            self.lost += len(rows)
            now = time.monotonic()
            if now - self._warned_at >= WARNING_INTERVAL:
                log.warning("could not store %d event(s) (%d lost so far): %s", len(rows),
                            self.lost, type(exc).__name__)
                self._warned_at = now

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until queued events are written (for tests and shutdown)."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        done.wait(timeout)


EVENTS: ServiceKey[EventLog] = ServiceKey("events")


def init_app(app: Flask) -> None:
    url = app.config.get("DATABASE_URL") or default_database_url(app.instance_path)
    app.config["DATABASE_URL"] = url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    EVENTS.set(app, EventLog(url, app.config["SECRET_KEY"]))


def create_tables(url: str) -> None:
    """Every model's table, without migrations (tests; `ivr db upgrade` is the real way)."""
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()
