"""Voice-message references: written before Twilio's callback is answered, once per
recording (an upsert on recording_sid), and recovered from Twilio's REST API when missed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ivr.storage.models import VoiceMessage


@dataclass(frozen=True, slots=True)
class Recording:
    """What the hotline keeps of one recording: its id, never the audio or a number."""

    sid: str
    at: datetime
    language: str | None = None
    duration: int | None = None


def store_voice_messages(engine: Engine, recordings: Iterable[Recording]) -> int:
    """Insert each reference once; a repeated one only fills what was unknown.

    Returns how many rows were new or changed. Raises SQLAlchemyError when not stored.
    """
    merged: dict[str, dict[str, Any]] = {}  # one row per recording: an upsert takes each once
    for r in recordings:
        row = merged.setdefault(r.sid[:64], {"recording_sid": r.sid[:64], "language": None,
                                             "duration": None, "at": r.at.astimezone(UTC),
                                             "state": "new"})
        row["language"] = row["language"] or ((r.language or None) and r.language[:8])
        row["duration"] = row["duration"] if row["duration"] is not None else r.duration
    rows = list(merged.values())
    if not rows:
        return 0
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    table = VoiceMessage.__table__
    statement: Any = dialect.insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.recording_sid],
        set_={"language": func.coalesce(table.c.language, statement.excluded.language),
              "duration": func.coalesce(table.c.duration, statement.excluded.duration)})
    with engine.begin() as connection:
        result = connection.execute(statement)
    return int(result.rowcount or 0)


class RecordingSource(Protocol):
    """The part of twilio's REST Client `sync_recordings` uses."""

    @property
    def recordings(self) -> Any: ...


def _count(value: object) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if number >= 0 else None


def sync_recordings(engine: Engine, client: RecordingSource, days: int,
                    now: datetime) -> tuple[int, int]:
    """Store every completed recording of the account from the last `days` days that the
    app missed; (recordings seen, references added)."""
    since = now.astimezone(UTC) - timedelta(days=days)
    found = [Recording(sid=str(r.sid)[:64], at=r.date_created or now,
                       duration=_count(r.duration))
             for r in client.recordings.list(date_created_after=since, page_size=100)
             if str(getattr(r, "status", "completed")) == "completed" and r.sid]
    with Session(engine) as session:
        known = set(session.scalars(select(VoiceMessage.recording_sid).where(
            VoiceMessage.recording_sid.in_([r.sid for r in found]))))
    store_voice_messages(engine, found)
    return len(found), len({r.sid for r in found} - known)
