"""Ringing several phones at once, so that the first person to press 1 takes the caller.

Twilio hangs up the other `<Number>`s of a `<Dial>` as soon as one picks up, and a
voicemail picks up too. So the caller waits in a queue of their own (`<Enqueue>`, named
after their CallSid) while each phone gets a call of its own through the REST API. Whoever
picks up hears the whisper; pressing 1 takes the caller with `<Dial><Queue>`.

Why a queue (README, "Ringing"): the caller's wait document says `<Leave/>` once the
ring is over, and Twilio then asks the Enqueue action what comes next; no REST request is
needed to end the hold, so a REST API that refuses, is slow or is gone cannot hold a caller.
Twilio dequeues a caller once: the first `<Dial><Queue>` takes them, a later one finds the
queue empty and connects nobody. A conference, by contrast, holds the caller until a REST
request moves them, and lets a late person into an empty room.

The state of a ring (each phone's call, who accepted, whether the caller left) lives in the
ring store (Redis), so any worker or instance answers any of its webhooks; the phones' calls
are placed while the caller's webhook is answered, and Twilio's status callbacks report
them. Nothing runs between webhooks: a worker that dies or stops takes no ring with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import Flask

from ivr.content.profile import Profile
from ivr.settings import ServiceKey, Settings
from ivr.storage.engines import lane_threads
from ivr.twilio_rest import (
    REST_TIMEOUT_S,
    RestHealth,
    RestRefused,
    RestUnknown,
    call_rest,
    rest_client,
)
from ivr.voice.ring_store import RingRecord, RingStore, StoreDown, ring_store

log = logging.getLogger(__name__)

LANE = "twilio-rest"
# A create that has not answered by then is taken as timed out (requests' timeout applies
# to the connection and to the answer, each).
CREATE_WAIT_S = 2 * REST_TIMEOUT_S + 1
# Status callbacks asked of each phone's call: its SID as soon as Twilio places it (even when
# the create's answer was lost), whether it is in the whisper, and how it ended.
LEG_EVENTS = ("initiated", "answered", "completed")
STILL_RINGING = frozenset({"", "queued", "initiated", "ringing"})


@dataclass(frozen=True, slots=True)
class RingPlan:
    """One step of a ring plan, rung at once."""

    ring: str  # the queue's name, also the ring's key in the store (no personal data)
    phones: tuple[str, ...]
    hotline_number: str  # shown to the phones (the number the caller called)
    leg_urls: tuple[str, ...]  # absolute: the whisper each phone hears when it answers
    status_urls: tuple[str, ...]  # absolute: each phone's status callback
    ring_seconds: int


class RingApi(Protocol):
    """The REST requests a ring makes (Twilio's, or a stand-in); failures raise anything,
    classified by ivr.twilio_rest.failure."""

    def create_call(self, to: str, from_: str, url: str, status_callback: str,
                    timeout: int) -> str: ...

    def end_call(self, sid: str, status: str) -> None: ...

    def delete_queue(self, queue_sid: str) -> None: ...

    def probe(self) -> None: ...

    def forget_connections(self) -> None: ...


class TwilioRingApi:
    """`RingApi` on twilio's REST `Client` (built with a short timeout, no retries)."""

    def __init__(self, client: object) -> None:
        self.client = client

    def create_call(self, to: str, from_: str, url: str, status_callback: str,
                    timeout: int) -> str:
        call = self.client.calls.create(  # type: ignore[attr-defined]
            to=to, from_=from_, url=url, method="POST", timeout=timeout,
            status_callback=status_callback, status_callback_method="POST",
            status_callback_event=list(LEG_EVENTS))
        return str(call.sid)

    def end_call(self, sid: str, status: str) -> None:
        self.client.calls(sid).update(status=status)  # type: ignore[attr-defined]

    def delete_queue(self, queue_sid: str) -> None:
        self.client.queues(queue_sid).delete()  # type: ignore[attr-defined]

    def probe(self) -> None:
        client = self.client
        client.api.v2010.accounts(client.account_sid).fetch()  # type: ignore[attr-defined]

    def forget_connections(self) -> None:
        """Close the pooled connections (before a fork: two processes must never write to
        one TLS connection)."""
        session = getattr(getattr(self.client, "http_client", None), "session", None)
        if session is not None:
            session.close()


class Together:
    """What a ring together does outside TwiML: place the phones' calls, keep the ring's
    state in the store, and stop the calls nobody needs any more."""

    def __init__(self, api: RingApi, store: RingStore, health: RestHealth,
                 now: Callable[[], float]) -> None:
        self.api = api
        self.store = store
        self.health = health
        self.now = now

    def ready(self) -> bool:
        """Whether phones may ring together now (else they ring one after another)."""
        return self.health.usable() and self.store.usable()

    def start(self, plan: RingPlan) -> tuple[str, ...] | None:
        """Ask Twilio to call each phone, all at once; per phone "placed", "unknown" (no
        answer in time: it may ring) or "refused". None when the ring's state cannot be
        kept: then nothing was asked."""
        try:
            self.store.begin(plan.ring, len(plan.phones))
        except StoreDown:
            return None
        # Joined below, within this webhook: threads only so that the phones are called
        # at the same time, never work that outlives the request.
        asked = [lane_threads(LANE).submit(self._create, plan, i)
                 for i in range(len(plan.phones))]
        outcomes = []
        for future in asked:
            try:
                outcomes.append(future.result(timeout=CREATE_WAIT_S))
            except FutureTimeout:
                outcomes.append("unknown")
        return tuple(outcomes)

    def _create(self, plan: RingPlan, index: int) -> str:
        try:
            sid = str(call_rest(lambda: self.api.create_call(
                plan.phones[index], plan.hotline_number, plan.leg_urls[index],
                plan.status_urls[index], plan.ring_seconds)))
        except RestRefused as exc:
            why = str(exc)
            log.warning("ring %s: phone %d of %d not called (%s)", plan.ring, index + 1,
                        len(plan.phones), why)
            self.health.failed(why)
            self._keep(lambda: self.store.refused(plan.ring, index, why))
            return "refused"
        except RestUnknown as exc:
            log.warning("ring %s: phone %d of %d: no answer from the REST API (%s); its "
                        "status callback will say whether it rings", plan.ring, index + 1,
                        len(plan.phones), exc)
            self.health.failed(str(exc))
            return "unknown"
        self._keep(lambda: self.store.placed(plan.ring, index, sid))
        return "placed"

    @staticmethod
    def _keep(write: Callable[[], None]) -> None:
        try:
            write()
        except StoreDown:
            pass  # logged by the store; a status callback writes it again

    def read(self, ring: str) -> RingRecord | None:
        """The ring's record; None when unknown or the store cannot be read."""
        try:
            return self.store.read(ring)
        except StoreDown:
            return None

    def seen(self, ring: str, index: int, sid: str, status: str) -> None:
        self._keep(lambda: self.store.seen(ring, index, sid, status))

    def accept(self, ring: str, sid: str) -> bool:
        """Claim the caller for this call: False when another person was first. With the
        store down, True: Twilio's queue still lets only one person take the caller."""
        try:
            return self.store.accept(ring, sid) == sid
        except StoreDown:
            return True

    def end(self, ring: str, why: str) -> None:
        self._keep(lambda: self.store.end(ring, why))

    def stop(self, calls: list[tuple[str, str]]) -> None:
        """Stop the calls that still ring. One already picked up is left to its whisper: its
        person, pressing 1, is told the caller is no longer waiting (hanging up on them
        would tell them nothing)."""
        for sid, status in calls:
            if status not in STILL_RINGING:
                continue
            try:
                call_rest(lambda sid=sid: self.api.end_call(sid, "canceled"))  # type: ignore[misc]
            except (RestRefused, RestUnknown) as exc:
                log.warning("a phone's call could not be stopped (%s): it rings out on its "
                            "own timeout", exc)

    def forget_queue(self, queue_sid: str) -> None:
        """Delete the caller's queue once they have left it (Twilio keeps queues until
        deleted)."""
        if not queue_sid:
            return
        try:
            call_rest(lambda: self.api.delete_queue(queue_sid))
        except (RestRefused, RestUnknown) as exc:
            log.info("a ring's queue was not deleted (%s)", exc)


class RingingEngine(Protocol):
    """What init_app needs of the call engine (ivr.voice.engine.Engine)."""

    profile: Profile
    clock: Callable[[], datetime]
    together: Together | None


# The app's ring together, where Twilio's REST API and a shared ring store are set.
TOGETHER: ServiceKey[Together] = ServiceKey("ring_together")


def init_app(app: Flask, settings: Settings, engine: RingingEngine) -> None:
    """Let the `together` destinations' phones ring at once, where that can work, and say
    in the start log how each such destination rings."""
    wanted = [d.name for d in engine.profile.destinations.values() if d.together]
    api: RingApi | None = app.config.get("RING_API")  # a stand-in: tests, `ivr call`, Try-it
    if api is None and settings.twilio_account_sid and settings.twilio_auth_token:
        api = TwilioRingApi(rest_client(settings.twilio_account_sid, settings.twilio_auth_token,
                                        settings.twilio_region, settings.twilio_edge))
    store = app.config.get("RING_STORE") or ring_store(
        settings.ratelimit_storage_uri, settings.local_mode, settings.redis_key_prefix)
    why_not = ("no TWILIO_ACCOUNT_SID: no REST API" if api is None else
               "RATELIMIT_STORAGE_URI is not Redis: no store every process shares"
               if store is None else "")
    if api is None or store is None:
        if wanted:
            log.info("ringing %s: one phone after another (%s)", ", ".join(wanted), why_not)
        return
    now = lambda: engine.clock().timestamp()  # noqa: E731 — the engine's clock (tests set it)
    store.clock = now
    health = RestHealth(api.probe, interval=settings.twilio_rest_check_seconds)
    together = TOGETHER.set(app, Together(api, store, health, now))
    engine.together = together
    app.before_request(health.watch)
    if wanted:
        log.info("ringing %s: the phones of a step at once (a queue, REST API%s); one after "
                 "another while the REST API or the store fails", ", ".join(wanted),
                 "" if store.shared else ", ring state in this process only: local mode")
