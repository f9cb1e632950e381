"""A phone recording followed live: each step of the staff recording line says where the
call is, and the console shows the text being read now, in step with the call.

The positions are a convenience for the operator beside the phone: writing one is bounded
by a deadline and skipped (logged) when the database fails, so the recording call never
waits for it or breaks because of it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.console.i18n import N_
from ivr.console.models import PhonePosition
from ivr.storage.crypto import keyed_hash
from ivr.storage.engines import within

log = logging.getLogger(__name__)

READING, CHECKING, FINISHED = "reading", "checking", "finished"
# In English; the console shows them in the operator's language (ivr.console.i18n).
STEP_LABELS = {READING: N_("Reading it after the beep"),
               CHECKING: N_("Listening back: 1 keeps it, 2 records it again"),
               FINISHED: N_("Finished: every prompt of the call is recorded")}
WRITE_DEADLINE_S = 1.5  # the longest a staff line step waits for its position to be saved
SHOWN_FOR = timedelta(minutes=10)  # a call with no step for this long is no longer shown
FINISHED_SHOWN_FOR = timedelta(minutes=2)
KEPT_FOR = timedelta(days=1)  # older positions are deleted when a new call starts
LANE = "staff_line"  # deadline threads of their own: never the callers' or the SMS lanes


def call_key(secret: str, call_sid: str) -> str:
    """The key of a call's row: a keyed hash of its CallSid."""
    return keyed_hash(secret, "staff-line:" + call_sid, length=32)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes: they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Position:
    """Where one call is: the prompt `index` (0-based) of its `queue`, and what it does."""

    hotline: str
    call: str
    lang: str
    queue: tuple[str, ...]
    index: int
    step: str

    @property
    def prompt_id(self) -> str | None:
        return prompt_at(self.queue, self.index)


def prompt_at(queue: tuple[str, ...], index: int) -> str | None:
    """The prompt at `index` of a call's list; None once past its end (finished)."""
    return queue[index] if 0 <= index < len(queue) else None


def save_position(engine: Engine, position: Position, now: datetime | None = None) -> None:
    """Write a call's position (one row per call); a call's first one clears day-old rows."""
    now = now or datetime.now(UTC)
    with Session(engine) as db, db.begin():
        row = db.scalar(select(PhonePosition).where(PhonePosition.hotline == position.hotline,
                                                    PhonePosition.call == position.call))
        if row is None:
            db.execute(delete(PhonePosition).where(PhonePosition.updated_at < now - KEPT_FOR))
            row = PhonePosition(hotline=position.hotline, call=position.call, started_at=now)
            db.add(row)
        row.lang, row.queue = position.lang, json.dumps(list(position.queue))
        row.prompt_index, row.total = position.index, len(position.queue)
        row.prompt_id, row.step, row.updated_at = position.prompt_id, position.step, now


def note_position(engine: Engine, position: Position) -> bool:
    """Save a position within WRITE_DEADLINE_S; on any database trouble log it and go on."""
    try:
        within(WRITE_DEADLINE_S, save_position, engine, position, lane=LANE)
    except (SQLAlchemyError, TimeoutError) as exc:
        log.warning("staff recording line: the live position was not saved (%s); the call "
                    "goes on", type(exc).__name__)
        return False
    return True


@dataclass(frozen=True, slots=True)
class LiveCall:
    """A call the console shows: its position and how long ago its last step was."""

    key: str  # a short id for the page (a prefix of the call's hash)
    lang: str
    queue: tuple[str, ...]
    index: int
    step: str
    started_at: datetime
    updated_at: datetime

    @property
    def total(self) -> int:
        return len(self.queue)

    @property
    def prompt_id(self) -> str | None:
        return prompt_at(self.queue, self.index)

    @property
    def step_label(self) -> str:
        return STEP_LABELS.get(self.step, self.step)


def live_calls(db: Session, hotline: str, now: datetime | None = None) -> list[LiveCall]:
    """The calls to show now, the most recent first: a step within SHOWN_FOR (a finished
    call for FINISHED_SHOWN_FOR)."""
    now = now or datetime.now(UTC)
    rows = db.scalars(select(PhonePosition).where(
        PhonePosition.hotline == hotline, PhonePosition.updated_at >= now - SHOWN_FOR)
        .order_by(PhonePosition.updated_at.desc(), PhonePosition.id.desc()))
    found = []
    for row in rows:
        updated = _aware(row.updated_at)
        if row.step == FINISHED and updated < now - FINISHED_SHOWN_FOR:
            continue
        try:
            queue = tuple(str(pid) for pid in json.loads(row.queue))
        except (ValueError, TypeError):
            queue = ()
        found.append(LiveCall(row.call[:12], row.lang, queue, row.prompt_index, row.step,
                              _aware(row.started_at), updated))
    return found
