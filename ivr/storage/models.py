"""The tables: anonymous events, voice-message references, the SMS channel's cases,
opt-outs, language memories and MessageSids.

Phone numbers are stored only encrypted (SmsCase.number_encrypted) or as keyed hashes;
message bodies never. The schema is made by the Alembic migrations in migrations/.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    # The audio is fetched by this id (ivr/console/activity.py), never by a stored URL.
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
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
    """A MessageSid being handled (claimed) or handled (done): Twilio's repeated delivery is
    answered once, and a claim whose worker died can be taken over (ivr/storage/sms_store.py)."""

    __tablename__ = "sms_deliveries"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # claimed at
    state: Mapped[str] = mapped_column(String(16), default="done", server_default="done")


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


