"""Ringing several phones at once without letting a voicemail take the call.

Twilio hangs up the other `<Number>`s of a `<Dial>` when one picks up, and a voicemail
picks up too. So for a step whose phones should ring together, the caller waits in a
conference of their own (a hold message in their language) while each phone gets its own
outbound call through the REST API; each hears the whisper, and pressing 1 joins the
conference. A coordinator, started right after the caller's webhook is answered (never on
its path), watches the room: the first person in wins and the other calls are cancelled;
when nobody has joined by the deadline, or every call has ended, the caller is moved on to
the next step of the ring plan.

The coordinator lives in the worker that started the ring. If that worker dies, the other
phones ring out on their own (`timeout`), and the caller's hold loop moves them on after
the deadline (`ConferenceRinger.rescue`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ivr.settings import ServiceKey
from ivr.storage.engines import lane_threads

log = logging.getLogger(__name__)
T = TypeVar("T")

LANE = "conference-ring"
POLL_SECONDS = 1.5  # how often the coordinator looks at the room and the calls
# After the phones stop ringing, time for a person who picked up at the last second to hear
# the whisper (twice, about 12 s) and press 1.
WHISPER_SECONDS = 15
CREATE_SECONDS = 5  # starting the outbound calls (REST, one after another)
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
HOLD_PAUSE_SECONDS = 5  # silence between two hold messages (each about 3 s): under 10 s


@dataclass(frozen=True, slots=True)
class RingPlan:
    """One step of a ring plan, rung at once: everything the coordinator needs."""

    room: str  # the conference's name
    caller_sid: str
    phones: tuple[str, ...]
    hotline_number: str  # shown to the phones (the number the caller called)
    leg_url: str  # absolute: the whisper each phone hears when it answers
    moved_on_url: str  # absolute: where the caller goes when nobody accepted
    ring_seconds: int
    until: float  # Unix time: nobody in by then, the caller moves on


class RingApi(Protocol):
    """The few REST operations a conference ring needs (Twilio's, or the tests' stand-in)."""

    def start_call(self, to: str, from_: str, url: str, timeout: int) -> str: ...

    def call_status(self, sid: str) -> str: ...

    def room_members(self, room: str) -> list[str]: ...

    def end_call(self, sid: str, status: str) -> None: ...

    def redirect(self, sid: str, url: str) -> None: ...


class Ringer(Protocol):
    """What the voice webhooks hand a conference ring to (ConferenceRinger, or a test's)."""

    def start(self, plan: RingPlan) -> None: ...

    def rescue(self, caller_sid: str, url: str) -> None: ...


@dataclass
class Outcome:
    """How a conference ring ended (for the log and the tests)."""

    accepted_by: str | None = None  # the call SID of the person who joined
    moved_on: bool = False  # the caller was sent to the next step
    caller_left: bool = False
    started: int = 0  # outbound calls that could be started
    cancelled: int = 0


def coordinate(plan: RingPlan, api: RingApi, sleep: Callable[[float], None] = time.sleep,
               now: Callable[[], float] = time.time) -> Outcome:
    """Start a call to each phone, then watch until someone joins or it is time to move on."""
    outcome = Outcome()
    legs: list[str] = []
    for position, phone in enumerate(plan.phones):
        try:
            legs.append(api.start_call(phone, plan.hotline_number, plan.leg_url,
                                       plan.ring_seconds))
        except Exception as exc:  # noqa: BLE001 — one phone that can't be called stops nothing
            log.warning("conference ring %s: phone %d of %d not called (%s)", plan.room,
                        position + 1, len(plan.phones), type(exc).__name__)
    outcome.started = len(legs)
    while legs:
        members = _safely(api.room_members, plan.room, default=None)
        joined = [sid for sid in members or [] if sid in legs]
        if joined:
            # Two people who pressed 1 between two looks: the first stays, the other leaves.
            outcome.accepted_by = joined[0]
            outcome.cancelled = _end_all(api, [sid for sid in legs if sid != joined[0]])
            return outcome
        if _safely(api.call_status, plan.caller_sid, default="") in ENDED:
            outcome.caller_left = True
            outcome.cancelled = _end_all(api, legs)
            return outcome
        statuses = [_safely(api.call_status, sid, default="") for sid in legs]
        if now() >= plan.until or all(status in ENDED for status in statuses):
            break
        sleep(POLL_SECONDS)
    outcome.cancelled = _end_all(api, legs)
    outcome.moved_on = move_on(plan.caller_sid, plan.moved_on_url, api)
    return outcome


def move_on(caller_sid: str, url: str, api: RingApi) -> bool:
    """Take the caller out of the hold to the next step; False if they could not be moved."""
    try:
        api.redirect(caller_sid, url)
        return True
    except Exception as exc:  # noqa: BLE001 — the hold loop's rescue tries again
        log.warning("conference ring: caller not moved on (%s)", type(exc).__name__)
        return False


def _end_all(api: RingApi, legs: list[str]) -> int:
    """Cancel the calls still ringing and hang up those in the whisper; how many were asked."""
    ended = 0
    for sid in legs:
        status = _safely(api.call_status, sid, default="")
        if status in ENDED:
            continue
        try:
            api.end_call(sid, "canceled" if status in ("queued", "ringing") else "completed")
            ended += 1
        except Exception as exc:  # noqa: BLE001 — it rings out on its own timeout
            log.warning("conference ring: a call not ended (%s)", type(exc).__name__)
    return ended


def _safely(read: Callable[[str], T], key: str, default: T) -> T:
    try:
        return read(key)
    except Exception as exc:  # noqa: BLE001 — a failed look is tried again next round
        log.info("conference ring: REST read failed (%s)", type(exc).__name__)
        return default


class TwilioRingApi:
    """`RingApi` on twilio's REST `Client` (built with a short timeout, no retries)."""

    def __init__(self, client: object) -> None:
        self.client = client

    def start_call(self, to: str, from_: str, url: str, timeout: int) -> str:
        call = self.client.calls.create(to=to, from_=from_, url=url,  # type: ignore[attr-defined]
                                        method="POST", timeout=timeout)
        return str(call.sid)

    def call_status(self, sid: str) -> str:
        return str(self.client.calls(sid).fetch().status)  # type: ignore[attr-defined]

    def room_members(self, room: str) -> list[str]:
        rooms = self.client.conferences.list(  # type: ignore[attr-defined]
            friendly_name=room, status="in-progress", limit=1)
        if not rooms:
            return []
        return [str(p.call_sid) for p in rooms[0].participants.list(limit=20)]

    def end_call(self, sid: str, status: str) -> None:
        self.client.calls(sid).update(status=status)  # type: ignore[attr-defined]

    def redirect(self, sid: str, url: str) -> None:
        self.client.calls(sid).update(url=url, method="POST")  # type: ignore[attr-defined]


# The app's ringer, where Twilio's REST API is set (ivr/__init__.py builds it).
RINGER: ServiceKey[Ringer] = ServiceKey("conference_ringer")


class ConferenceRinger:
    """Runs each ring's coordinator on a thread of this process, off the request path (a
    lane of its own: never the threads that store callers' voice messages or SMS)."""

    def __init__(self, api: RingApi) -> None:
        self.api = api

    def start(self, plan: RingPlan) -> None:
        lane_threads(LANE).submit(self._run, plan)

    def _run(self, plan: RingPlan) -> None:
        try:
            outcome = coordinate(plan, self.api)
        except Exception:  # noqa: BLE001 — logged; the hold loop's rescue moves the caller
            log.exception("conference ring %s failed", plan.room)
            return
        log.info("conference ring %s: %d of %d phones called, %s", plan.room, outcome.started,
                 len(plan.phones), "accepted" if outcome.accepted_by else
                 "caller left" if outcome.caller_left else "moved on")

    def rescue(self, caller_sid: str, url: str) -> None:
        """The hold loop outlived its deadline (the coordinator's worker died): move on."""
        lane_threads(LANE).submit(move_on, caller_sid, url, self.api)
