"""The background writer of anonymous events: requests queue them and never wait.

A request only appends its event to a deque (no lock; the writer is woken once per batch,
not per event); the writer takes what has gathered every BATCH_WAIT seconds and writes it
in one insert. When the database is away the writer keeps what it could not write (up to a
bound) and writes it when the database returns; what it finally drops is counted exactly
and logged once per outage, with the total.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ivr.storage.crypto import keyed_hash
from ivr.storage.engines import make_engine
from ivr.storage.models import Event

log = logging.getLogger(__name__)

WRITE_BATCH = 200
BATCH_WAIT = 0.2  # seconds the writer gathers events before one insert
RETRY_WAITS = (0.25, 0.5, 1.0, 2.0)  # between attempts while the database is away
EVENT_FIELDS = {"language": None, "node": None, "outcome": None, "duration": None}

# A queued event is a plain dict of the events table's columns (cheap to make on a request).
QueuedRow = dict[str, Any]


@dataclass
class EventLog:
    """A bounded queue of anonymous events, written by one background thread."""

    url: str
    secret: str
    capacity: int = 10_000  # waiting to be written
    keep: int = 100_000  # kept through an outage, then dropped (counted)
    _arrived: deque[QueuedRow] = field(init=False, default_factory=deque)  # from requests
    _wake: threading.Event = field(init=False, default_factory=threading.Event)
    _held: deque[QueuedRow] = field(init=False, default_factory=deque)  # the writer's
    _engine: Engine | None = field(init=False, default=None)
    _thread: threading.Thread | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    written: int = field(init=False, default=0)
    dropped: int = field(init=False, default=0)  # every event never written, since start
    _outage_since: float | None = field(init=False, default=None)
    _failed_at: float = field(init=False, default=float("-inf"))
    _outage_dropped: int = field(init=False, default=0)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    @property
    def held(self) -> int:
        """Events kept in memory until the database takes them."""
        return len(self._held)

    def conversation(self, sid: str | None) -> str | None:
        return keyed_hash(self.secret, sid) if sid else None

    def event(self, channel: str, kind: str, sid: str | None = None, **fields: Any) -> None:
        """Queue one anonymous event; never blocks, never raises."""
        self.put({**EVENT_FIELDS, **fields, "at": datetime.now(UTC), "channel": channel,
                  "kind": kind, "conversation": self.conversation(sid)})

    def put(self, row: QueuedRow) -> None:
        if len(self._arrived) >= self.capacity:  # the writer is far behind
            self._drop(1)
            return
        self._arrived.append(row)  # atomic: requests on many threads append at once
        if not self._wake.is_set():
            self._wake.set()
        self._start()

    def _drop(self, count: int) -> None:
        with self._lock:
            self.dropped += count
            self._outage_dropped += count

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="event-writer",
                                                daemon=True)
                self._thread.start()
                atexit.register(self.flush, 2.0)  # a stopping worker writes what it has

    def _take(self) -> None:
        """Move the events that arrived to the held ones (under the lock flush() reads)."""
        lost = 0
        with self._lock:
            while self._arrived:
                row = self._arrived.popleft()
                if len(self._held) >= self.keep:
                    lost += 1  # the outage outlasted what memory keeps
                else:
                    self._held.append(row)
        if lost:
            self._drop(lost)

    def _run(self) -> None:
        attempt = 0
        while True:
            if not self._held:
                self._wake.wait()
            # Cleared before taking: an event that arrives after the take sets it again.
            self._wake.clear()
            time.sleep(BATCH_WAIT if self._outage_since is None
                       else RETRY_WAITS[min(attempt, len(RETRY_WAITS) - 1)])
            self._take()
            while self._held:
                batch = [self._held[i] for i in range(min(WRITE_BATCH, len(self._held)))]
                if not self._write(batch):
                    attempt += 1
                    break
                for _ in batch:
                    self._held.popleft()
                attempt = 0

    def _write(self, rows: list[QueuedRow]) -> bool:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(Event), rows)
        except SQLAlchemyError as exc:
            # The database is down, stalled or not migrated: the calls go on; events wait.
            self._failed_at = time.monotonic()
            if self._outage_since is None:
                self._outage_since = time.monotonic()
                log.warning("could not store events (%s): keeping up to %d in memory until "
                            "the database answers", type(exc).__name__, self.keep)
            return False
        self.written += len(rows)
        if self._outage_since is not None:
            with self._lock:
                dropped, self._outage_dropped = self._outage_dropped, 0
            log.warning("events stored again after %.0f s: %d event(s) dropped in this outage "
                        "(%d since start)", time.monotonic() - self._outage_since, dropped,
                        self.dropped)
            self._outage_since = None
        elif self._outage_dropped:
            with self._lock:
                dropped, self._outage_dropped = self._outage_dropped, 0
            log.warning("%d event(s) dropped: more arrived than the writer could take (%d "
                        "since start)", dropped, self.dropped)
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued and held event is written; False at the timeout."""
        started = time.monotonic()
        end = started + timeout
        while time.monotonic() < end:
            with self._lock:
                arrived, held = len(self._arrived), len(self._held)
            if arrived == 0 and held == 0:
                return True
            if self._outage_since is not None and arrived == 0 and self._failed_at > started:
                return False  # the database is still away: waiting would not write them
            time.sleep(0.02)
        return False
