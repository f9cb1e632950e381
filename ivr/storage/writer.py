"""The background writer of anonymous events: requests queue them and never wait.

When the database is away the writer keeps what it could not write (up to a bound) and
writes it when the database returns; what it finally drops is counted exactly and logged
once per outage, with the total.
"""

from __future__ import annotations

import atexit
import logging
import queue
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
    _queue: queue.Queue[QueuedRow] = field(init=False)
    _held: deque[QueuedRow] = field(init=False, default_factory=deque)
    _engine: Engine | None = field(init=False, default=None)
    _thread: threading.Thread | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    written: int = field(init=False, default=0)
    dropped: int = field(init=False, default=0)  # every event never written, since start
    _outage_since: float | None = field(init=False, default=None)
    _failed_at: float = field(init=False, default=float("-inf"))
    _outage_dropped: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._queue = queue.Queue(maxsize=self.capacity)

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
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._drop(1)
            return
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

    def _take(self, wait: float) -> None:
        """Move queued events to the held batch, for up to `wait` seconds."""
        deadline = time.monotonic() + wait
        while len(self._held) < WRITE_BATCH or self._outage_since is not None:
            try:
                row = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            if len(self._held) >= self.keep:
                self._drop(1)  # the outage outlasted what memory keeps
            else:
                self._held.append(row)
            self._queue.task_done()  # after holding it, so flush() never sees it nowhere
            if self._outage_since is None and len(self._held) >= WRITE_BATCH:
                return

    def _run(self) -> None:
        attempt = 0
        while True:
            if not self._held:
                self._held.append(self._queue.get())
                self._queue.task_done()  # after holding it, so flush() never sees it nowhere
            self._take(BATCH_WAIT if self._outage_since is None
                       else RETRY_WAITS[min(attempt, len(RETRY_WAITS) - 1)])
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
            if self._queue.unfinished_tasks == 0 and not self._held:
                return True
            if (self._outage_since is not None and self._queue.unfinished_tasks == 0
                    and self._failed_at > started):
                return False  # the database is still away: waiting would not write them
            time.sleep(0.02)
        return False
