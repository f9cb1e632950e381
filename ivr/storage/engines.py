"""Database engines that never hold a request: short connect, statement and lock timeouts,
a bounded wait for a pooled connection, and a deadline for whatever still hangs."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

# Every session: a statement or a lock wait longer than this is cancelled by the server.
STATEMENT_TIMEOUT_MS = 2000
CONNECT_TIMEOUT_S = 2
POOL_WAIT_S = 2.0  # waiting for a pooled connection another request holds
SQLITE_BUSY_TIMEOUT_S = 2.0  # another connection holds SQLite's write lock

T = TypeVar("T")

# A stalled server (connections open, no bytes moving) answers no timeout of its own: the
# work runs on these threads and the request stops waiting at its deadline. One set of
# threads per lane, so that SMS work stuck on a stalled server never delays the voice lane.
_lanes: dict[str, ThreadPoolExecutor] = {}
_lanes_lock = threading.Lock()


def _forget_lanes_after_fork() -> None:
    """A forked child has none of its parent's threads, but an executor made before the fork
    counts the parent's idle thread as its own and would queue work for it forever (gunicorn
    forks workers from a master that checked the schema on the default lane)."""
    global _lanes_lock
    _lanes.clear()
    _lanes_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_lanes_after_fork)


def lane_threads(name: str) -> ThreadPoolExecutor:
    """The threads of a lane in this process (made anew in a forked child)."""
    with _lanes_lock:
        if name not in _lanes:
            _lanes[name] = ThreadPoolExecutor(max_workers=16,
                                              thread_name_prefix=f"db-deadline-{name}")
        return _lanes[name]


def within(seconds: float, work: Callable[..., T], *args: Any, lane: str = "default",
           **kwargs: Any) -> T:
    """`work(*args, **kwargs)`, or TimeoutError after `seconds`: work that started is left to
    finish; work still waiting for a thread is cancelled, so a backlog never builds up."""
    future = lane_threads(lane).submit(work, *args, **kwargs)
    try:
        return future.result(timeout=seconds)
    except TimeoutError:
        future.cancel()
        raise


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'hotline.sqlite3'}"


def is_embedded_default(url: str, instance_path: str) -> bool:
    """The local default: a SQLite file in instance/ that only this machine's processes use."""
    return url == default_database_url(instance_path)


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """An engine that fails fast when the server is down or a lock is held."""
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        connect_args = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} "
                       f"-c lock_timeout={STATEMENT_TIMEOUT_MS} "
                       f"-c idle_in_transaction_session_timeout={STATEMENT_TIMEOUT_MS * 5}",
            # A dropped connection (no ACK for sent bytes) fails in 3 s, not in minutes.
            "tcp_user_timeout": 3000,
            "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
            "keepalives_count": 2,
        }
        options.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=POOL_WAIT_S)
    elif url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, connect_args=connect_args, **options)
