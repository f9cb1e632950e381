"""The ring store (what every process knows of a ring) and the REST API's health and failures."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from ivr.twilio_rest import RestHealth, RestRefused, RestUnknown, failure, rest_client
from ivr.voice.ring_store import (
    UNSEEN_SECONDS,
    Leg,
    MemoryBackend,
    RedisBackend,
    RingRecord,
    RingStore,
    StoreDown,
    ring_store,
)
from tests.services import RedisKeys, redis_keys


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[RingStore]:
    if request.param == "memory":
        yield RingStore(MemoryBackend(), shared=False, clock=lambda: 1000.0)
        return
    with redis_keys("rings") as keys:
        yield RingStore(RedisBackend(keys.url), shared=True, clock=lambda: 1000.0,
                        prefix=keys.prefix)


def ring() -> str:
    return f"ring-CA{uuid.uuid4().hex}-0"  # its own key: nothing else in Redis is touched


# --- what a record means ----------------------------------------------------------------


def test_a_ring_the_store_does_not_know_reads_as_none(store: RingStore) -> None:
    assert store.read(ring()) is None


def test_a_ring_from_start_to_an_accept(store: RingStore) -> None:
    name = ring()
    store.begin(name, 2)
    store.placed(name, 0, "CA0")
    store.refused(name, 1, "HTTP 429")
    record = store.read(name)
    assert record is not None
    assert record.legs == (Leg("CA0", "", "", 1000.0), Leg("", "", "HTTP 429", 1000.0))
    assert record.unrung(1000.0) == (1,) and not record.nobody_left(1000.0)
    store.seen(name, 0, "CA0", "ringing")
    assert store.accept(name, "CA0") == "CA0"
    assert store.accept(name, "CA9") == "CA0"  # the first stays the winner
    record = store.read(name)
    assert record is not None and record.taken_by_another("CA9")
    assert not record.taken_by_another("CA0")
    assert record.live() == [("CA0", "ringing")]


def test_an_ended_status_is_never_overwritten_by_a_late_one(store: RingStore) -> None:
    """Callbacks may arrive out of order: "ringing" after "no-answer" changes nothing."""
    name = ring()
    store.begin(name, 1)
    store.seen(name, 0, "CA0", "no-answer")
    store.seen(name, 0, "CA0", "ringing")
    record = store.read(name)
    assert record is not None and record.legs[0].status == "no-answer"
    assert record.nobody_left(1000.0) and record.live() == []


def test_a_create_without_an_answer_counts_as_never_rung_once_unseen_for_long(
        store: RingStore) -> None:
    name = ring()
    store.begin(name, 2)
    store.placed(name, 0, "CA0")
    store.seen(name, 0, "CA0", "busy")
    record = store.read(name)
    assert record is not None
    assert not record.nobody_left(1000.0 + UNSEEN_SECONDS - 0.1)  # it may still ring
    assert record.nobody_left(1000.0 + UNSEEN_SECONDS)
    assert record.unrung(1000.0 + UNSEEN_SECONDS) == (1,)
    store.seen(name, 1, "CA1", "initiated")  # its status callback names it after all
    record = store.read(name)
    assert record is not None and not record.nobody_left(2000.0) and record.unrung(2000.0) == ()


def test_the_caller_leaving_is_kept_once(store: RingStore) -> None:
    name = ring()
    store.begin(name, 1)
    store.end(name, "leave")
    store.end(name, "hangup")
    record = store.read(name)
    assert record is not None and record.ended == "leave"


@pytest.mark.parametrize("fields", [{}, {"n": "0"}, {"n": "x"}, {"n": "-3"}])
def test_garbled_fields_read_as_no_ring(fields: dict[str, str]) -> None:
    assert RingRecord.from_fields(fields) is None


def test_at_most_ten_phones_are_read() -> None:
    record = RingRecord.from_fields({"n": "99", "a0": "x"})
    assert record is not None and len(record.legs) == 10 and record.legs[0].asked_at == 0.0


def test_redis_keeps_a_ring_an_hour_at_most(shared_store: RedisKeys) -> None:
    backend = RedisBackend(shared_store.url)
    name = ring()
    RingStore(backend, shared=True, prefix=shared_store.prefix).begin(name, 2)
    assert shared_store.keys() == [f"{shared_store.prefix}:ring:{name}"]
    ttl = backend.redis.ttl(f"{shared_store.prefix}:ring:{name}")
    assert 3500 < ttl <= 3600


# --- a store that fails ------------------------------------------------------------------


class Broken(MemoryBackend):
    def read(self, key: str) -> dict[str, str]:
        raise ConnectionError("down")

    def write(self, key: str, fields: Any) -> None:
        raise TimeoutError("stalled")


def test_a_failing_store_says_so_and_is_avoided_for_a_while(
        caplog: pytest.LogCaptureFixture) -> None:
    store = RingStore(Broken(), shared=True)
    assert store.usable()
    with pytest.raises(StoreDown):
        store.begin(ring(), 2)
    assert not store.usable()  # the next callers ring one after another
    assert "ring store unavailable (TimeoutError)" in caplog.text


def test_redis_that_does_not_answer_fails_within_a_second() -> None:
    """A Redis port that accepts but never answers (a stalled server)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        store = RingStore(RedisBackend(f"redis://127.0.0.1:{port}/0"), shared=True)
        started = time.monotonic()
        with pytest.raises(StoreDown):
            store.read(ring())
        assert time.monotonic() - started < 1.5
    finally:
        listener.close()


def test_which_store_rings_use() -> None:
    assert ring_store("redis://127.0.0.1:6379/0", local_mode=False).shared  # type: ignore[union-attr]
    local = ring_store("memory://", local_mode=True)
    assert local is not None and not local.shared
    assert ring_store("memory://", local_mode=False) is None  # production: nothing shared


# --- the REST API: what a failure means --------------------------------------------------


@pytest.mark.parametrize(("error", "meaning"), [
    (TwilioRestException(401, "https://api.twilio.com/x", msg="Authenticate"), RestRefused),
    (TwilioRestException(429, "https://api.twilio.com/x", msg="Too many"), RestRefused),
    (TwilioRestException(500, "https://api.twilio.com/x", msg="Oops"), RestRefused),
    (requests.exceptions.ConnectTimeout("no connection"), RestRefused),
    (requests.exceptions.ProxyError("Tunnel connection failed: 502"), RestRefused),
    (requests.exceptions.SSLError("bad certificate"), RestRefused),
    (requests.exceptions.ConnectionError("Caused by NewConnectionError(refused)"), RestRefused),
    (requests.exceptions.ReadTimeout("no answer in 3 s"), RestUnknown),
    (requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected"),
     RestUnknown),
    (ValueError("anything else"), RestUnknown),
])
def test_a_failure_says_whether_the_request_may_have_been_done(
        error: Exception, meaning: type[Exception]) -> None:
    assert isinstance(failure(error), meaning)


def test_a_refused_connection_is_refused_for_real() -> None:
    try:
        requests.get("https://127.0.0.1:9", timeout=2)
    except requests.RequestException as error:
        assert isinstance(failure(error), RestRefused)


@pytest.mark.parametrize(("region", "edge", "host"), [
    ("", "", "api.twilio.com"), ("ie1", "", "api.ie1.twilio.com"),
    ("ie1", "dublin", "api.dublin.ie1.twilio.com"), ("au1", "sydney", "api.sydney.au1.twilio.com"),
])
def test_the_client_talks_to_the_region_and_edge_it_is_given(region: str, edge: str,
                                                             host: str) -> None:
    client = rest_client("AC" + "0" * 32, "token", region, edge)
    assert client.get_hostname("https://api.twilio.com/2010-04-01") == \
        f"https://{host}/2010-04-01"


# --- the REST API: whether it works --------------------------------------------------------


def test_the_health_check_says_what_failed_and_when_it_works_again(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "ivr.twilio_rest")
    answers: list[Exception | None] = [TwilioRestException(401, "u", msg="x"), None]

    def probe() -> None:
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    health = RestHealth(probe, interval=0)
    assert health.usable()  # not asked yet: taken as working
    assert not health.check()
    assert not health.usable() and health.reason == "Twilio's REST API does not work (HTTP 401)"
    assert "ring one after another until it works" in caplog.text
    assert health.check() and health.usable() and health.reason == ""
    assert "Twilio's REST API works" in caplog.text


def test_a_failed_call_marks_the_rest_api_broken_until_the_next_check() -> None:
    health = RestHealth(lambda: None, interval=0)
    health.failed("HTTP 500")
    assert not health.usable()
    health.check()
    assert health.usable()


def test_the_watcher_checks_every_interval_on_one_thread_per_process() -> None:
    checked = threading.Event()
    calls: list[float] = []

    def probe() -> None:
        calls.append(time.monotonic())
        if len(calls) >= 2:
            checked.set()

    health = RestHealth(probe, interval=0.2)
    health.watch()
    health.watch()  # a second call starts nothing more
    assert checked.wait(5)
    assert [t.name for t in threading.enumerate()].count("rest-health") == 1
    assert calls[1] - calls[0] >= 0.15
