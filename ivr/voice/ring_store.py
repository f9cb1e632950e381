"""Where a ring's state lives while the phones ring together: shared by every process.

The phones' call SIDs, what Twilio's status callbacks said of each, who accepted and
whether the caller has left: every webhook of a ring may land on another worker or
instance, so none of it lives in one process's memory. Redis in production (the store
the limits use); a dict in local mode, where one process serves.

Nothing here holds a caller: each operation has a short timeout, and a store that fails
is remembered for a few seconds so that the next callers' phones ring one after another
(the way that needs no shared state) instead of waiting on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ivr.settings import DEFAULT_REDIS_KEY_PREFIX

log = logging.getLogger(__name__)

RING_TTL_SECONDS = 3600  # a ring lasts a minute; its record is kept a while for late callbacks
STORE_TIMEOUT_SECONDS = 0.5  # each Redis operation (connect, read or write)
DOWN_SECONDS = 10.0  # after a failure, rings go one after another for this long
# A create that timed out may still have been placed: its "initiated" status callback
# names it within a second or two. Not seen by then, it is taken for never placed.
UNSEEN_SECONDS = 6.0
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class StoreDown(Exception):
    """The ring store could not be reached in time."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One phone of a ring: the call the REST API placed to it, as far as it is known."""

    sid: str = ""
    status: str = ""  # Twilio's CallStatus, the latest seen ("" before any)
    refused: str = ""  # why it could not be placed ("HTTP 401", "ConnectTimeout")
    asked_at: float = 0.0  # Unix time its creation was asked for

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    def never_rang(self, now: float) -> bool:
        """Refused, or asked without an answer and never seen since."""
        if self.refused:
            return True
        return not self.sid and bool(self.asked_at) and now - self.asked_at >= UNSEEN_SECONDS


@dataclass(frozen=True, slots=True)
class RingRecord:
    """Everything known of one ring."""

    legs: tuple[Leg, ...]
    winner: str = ""  # the CallSid of the phone whose person accepted
    ended: str = ""  # why the caller left the queue ("leave", "hangup", "bridged", ...)

    def nobody_left(self, now: float) -> bool:
        """No phone can still take the caller: each ended or never rang, nobody accepted."""
        return not self.winner and all(leg.ended or leg.never_rang(now) for leg in self.legs)

    def unrung(self, now: float) -> tuple[int, ...]:
        """The phones that never rang (to ring one after another once the caller leaves)."""
        return tuple(i for i, leg in enumerate(self.legs) if leg.never_rang(now))

    def live(self, but: str = "") -> list[tuple[str, str]]:
        """(sid, status) of the calls that may still ring or whisper, except `but`."""
        return [(leg.sid, leg.status) for leg in self.legs
                if leg.sid and not leg.ended and leg.sid != but]

    def taken_by_another(self, sid: str) -> bool:
        return bool(self.winner) and self.winner != sid

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> RingRecord | None:
        """The record from the store's fields (None for a ring the store does not know)."""
        try:
            count = int(fields.get("n", "0"))
        except ValueError:
            return None
        if count <= 0:
            return None

        def asked(i: int) -> float:
            try:
                return float(fields.get(f"a{i}", "0"))
            except ValueError:
                return 0.0

        legs = tuple(Leg(sid=fields.get(f"s{i}", ""),
                         status=fields.get(f"d{i}") or fields.get(f"p{i}", ""),
                         refused=fields.get(f"f{i}", ""), asked_at=asked(i))
                     for i in range(min(count, 10)))
        return cls(legs, winner=fields.get("w", ""), ended=fields.get("e", ""))


class Backend(Protocol):
    """The three operations the store needs, on a hash per ring."""

    def write(self, key: str, fields: Mapping[str, str]) -> None: ...

    def write_once(self, key: str, field: str, value: str) -> str: ...  # the value that stays

    def read(self, key: str) -> dict[str, str]: ...


class RingStore:
    """Ring records on a backend; a failure raises StoreDown and is remembered a while."""

    def __init__(self, backend: Backend, shared: bool, clock: Callable[[], float] = time.time,
                 prefix: str = DEFAULT_REDIS_KEY_PREFIX) -> None:
        self.backend = backend
        self.prefix = prefix
        self.shared = shared  # seen by every process (Redis), not this one's memory only
        self.clock = clock
        self._down_until = 0.0

    def usable(self) -> bool:
        """False for a few seconds after a failure: rings go one after another meanwhile."""
        return time.monotonic() >= self._down_until

    def _key(self, ring: str) -> str:
        return f"{self.prefix}:ring:{ring}"

    def _do(self, work: Callable[[], object]) -> object:
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 — any backend fault: the store is down
            self._down_until = time.monotonic() + DOWN_SECONDS
            log.warning("ring store unavailable (%s): phones ring one after another for %d s",
                        type(exc).__name__, DOWN_SECONDS)
            raise StoreDown(type(exc).__name__) from exc

    def begin(self, ring: str, phones: int) -> None:
        """A new ring of `phones` phones, their creation about to be asked."""
        now = f"{self.clock():.3f}"
        fields = {"n": str(phones), **{f"a{i}": now for i in range(phones)}}
        self._do(lambda: self.backend.write(self._key(ring), fields))

    def placed(self, ring: str, index: int, sid: str) -> None:
        self._do(lambda: self.backend.write(self._key(ring), {f"s{index}": sid}))

    def refused(self, ring: str, index: int, why: str) -> None:
        self._do(lambda: self.backend.write(self._key(ring), {f"f{index}": why[:64]}))

    def seen(self, ring: str, index: int, sid: str, status: str) -> None:
        """A status callback or the whisper: the call's SID and where it is now. An ended
        status is kept apart, so that a late "ringing" can never bring a call back."""
        field = f"d{index}" if status in ENDED else f"p{index}"
        self._do(lambda: self.backend.write(self._key(ring), {f"s{index}": sid, field: status}))

    def accept(self, ring: str, sid: str) -> str:
        """Claim the caller for this call; the winner's SID (this one if first)."""
        return str(self._do(lambda: self.backend.write_once(self._key(ring), "w", sid)))

    def end(self, ring: str, why: str) -> None:
        """The caller has left the queue (or is about to): no one else may take them."""
        self._do(lambda: self.backend.write_once(self._key(ring), "e", why))

    def read(self, ring: str) -> RingRecord | None:
        fields = self._do(lambda: self.backend.read(self._key(ring)))
        assert isinstance(fields, dict)
        return RingRecord.from_fields(fields)


class MemoryBackend:
    """One process's dict: local mode only (one process serves), and the tests."""

    def __init__(self) -> None:
        self._rings: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def _fields(self, key: str) -> dict[str, str]:
        now = time.monotonic()
        for old in [k for k, (at, _) in self._rings.items() if now - at > RING_TTL_SECONDS]:
            del self._rings[old]
        return self._rings.setdefault(key, (now, {}))[1]

    def write(self, key: str, fields: Mapping[str, str]) -> None:
        with self._lock:
            self._fields(key).update(fields)

    def write_once(self, key: str, field: str, value: str) -> str:
        with self._lock:
            return self._fields(key).setdefault(field, value)

    def read(self, key: str) -> dict[str, str]:
        with self._lock:
            return dict(self._rings.get(key, (0.0, {}))[1])


class RedisBackend:
    """A Redis hash per ring, with a TTL; every operation gives up after half a second."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=STORE_TIMEOUT_SECONDS,
                                          socket_connect_timeout=STORE_TIMEOUT_SECONDS,
                                          decode_responses=True)

    def write(self, key: str, fields: Mapping[str, str]) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(key, mapping=dict(fields))  # type: ignore[arg-type]
        pipe.expire(key, RING_TTL_SECONDS)
        pipe.execute()

    def write_once(self, key: str, field: str, value: str) -> str:
        pipe = self.redis.pipeline()
        pipe.hsetnx(key, field, value)
        pipe.hget(key, field)
        pipe.expire(key, RING_TTL_SECONDS)
        return str(pipe.execute()[1])

    def read(self, key: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.redis.hgetall(key).items()}


def ring_store(url: str, local_mode: bool, prefix: str = DEFAULT_REDIS_KEY_PREFIX
               ) -> RingStore | None:
    """The store rings use: Redis where the limits' store is Redis; this process's memory
    in local mode; None otherwise (production without Redis cannot ring together)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RingStore(RedisBackend(url), shared=True, prefix=prefix)
    if local_mode:
        return RingStore(MemoryBackend(), shared=False)
    return None
