"""Database sessions for the console, on the engine the hotline's event log already has."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ivr.storage.db import EVENTS


def engine() -> Engine:
    return EVENTS.get().engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on an error."""
    with Session(engine(), expire_on_commit=False) as session, session.begin():
        yield session

