"""A stand-in for Twilio: its voice platform running the app's TwiML, and its REST API.

Written from Twilio's documentation (shared/reference/twilio.md; the TwiML pages of
<Dial>, <Number>, <Enqueue>, <Leave>, <Queue>, <Gather>; the Call resource), not from what
the app expects:

- `<Dial>` with several `<Number>`s rings them at once; the first phone to pick up wins and
  the others are hung up. A voicemail picks up too, and then presses nothing.
- `<Number url>` runs the whisper on the answering phone; a `<Hangup>` there, or a gather
  with no key that falls through to one, ends that leg without bridging.
- `<Enqueue>` puts the caller in a queue (made on demand) and runs its waitUrl document,
  which may hold only Say, Play, Pause, Redirect and Leave (error 13238); a document that
  ends is requested again. The waitUrl request carries QueueTime. `<Leave/>` takes the
  caller out and requests the Enqueue action at once (QueueResult=leave); a caller
  dequeued by `<Dial><Queue>` talks, and the action is requested once both have hung up
  (QueueResult=bridged); a caller who hangs up in the queue: QueueResult=hangup.
- `<Dial><Queue>` takes the first caller waiting; on an empty queue it waits for one until
  its timeout; on a queue that does not exist it posts an error status to its action.
- REST: `calls.create` places a call (queued, then ringing; at most one call a second
  leaves an account, the rest wait); status callbacks for the events asked; the phone rings
  `timeout` seconds. `update(status="canceled")` stops a queued or ringing call and does
  nothing to one in progress; `completed` ends it either way. A queue can be deleted when
  empty. Faults are set per operation: an HTTP status, "slow" (done, but answered after
  the client gave up) or "unreachable" (not done).

Each phone follows a script (`Phone`); the caller follows keys, and may hang up at a time.
It runs in virtual time (the tests' Clock moves with it) or in real time, one thread a
call, against a server over the network (tests/test_ring_faults.py).
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException

Post = Callable[[str, dict[str, str]], tuple[int, str]]  # (absolute url, form) -> (status, body)

WAIT_VERBS = {"Say", "Play", "Pause", "Redirect", "Leave"}
SAY_CHARS_PER_SECOND = 14.0
PLAY_SECONDS = 3.0
TALK_SECONDS = 30.0  # how long a conversation lasts
CALLS_PER_SECOND = 1.0  # an account's outbound rate: calls beyond it are queued, not refused
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@dataclass(frozen=True)
class Phone:
    """How one phone behaves when it rings."""

    picks_up_after: float | None  # seconds; None: never picks up (no answer)
    presses: str = ""  # what is pressed in the whisper ("" = nothing, as a voicemail)
    busy: bool = False
    hangs_up_first: bool = False  # after accepting, the person ends the conversation
    press_after: float = 2.0  # seconds into the whisper the key is pressed


PERSON_ACCEPTS = Phone(6, "1")
PERSON_ACCEPTS_THEN_HANGS_UP = Phone(6, "1", hangs_up_first=True)
PERSON_DECLINES = Phone(6, "2")
VOICEMAIL = Phone(3)  # picks up quickly and presses nothing
NO_ANSWER = Phone(None)
BUSY = Phone(None, busy=True)


# --- processes: generators that yield what they wait for --------------------------------


class Signal:
    """Something a process can wait for, fired once with a value."""

    def __init__(self) -> None:
        self.value: Any = None
        self.fired = False
        self.event = threading.Event()

    def fire(self, value: Any = True) -> bool:
        if self.fired:
            return False
        self.value, self.fired = value, True
        self.event.set()
        return True


@dataclass
class Wait:
    """Wait `seconds`, or until any of `signals` fires."""

    seconds: float
    signals: tuple[Signal, ...] = ()

    def woken(self) -> bool:
        return any(signal.fired for signal in self.signals)


def wait(seconds: float, *signals: Signal | None) -> Wait:
    return Wait(seconds, tuple(s for s in signals if s is not None))


Process = Generator[Wait, None, None]


class VirtualTime:
    """Processes on a heap of wake-up times; time jumps. The app's clock moves with it."""

    def __init__(self, clock: Any = None) -> None:
        self.t = 0.0
        self.clock = clock  # tests.conftest.Clock, or None
        self._heap: list[tuple[float, int, int]] = []  # (time, order, token)
        self._order = itertools.count()
        self._tokens = itertools.count()
        # token -> (the process, what it waits for, when it wakes at the latest)
        self._waits: dict[int, tuple[Process, Wait | None, float]] = {}

    def now(self) -> float:
        return self.t

    def _push(self, at: float, process: Process, waiting: Wait | None) -> None:
        token = next(self._tokens)
        self._waits[token] = (process, waiting, at)
        heapq.heappush(self._heap, (at, next(self._order), token))

    def spawn(self, process: Process, delay: float = 0.0) -> None:
        self._push(self.t + delay, process, None)

    def run(self, until: float = 600.0) -> None:
        """Play everything out; `until` seconds from now at most."""
        deadline = self.t + until
        while self._heap:
            at, _, token = heapq.heappop(self._heap)
            entry = self._waits.pop(token, None)
            if entry is None:
                continue  # woken earlier by a signal
            if at > deadline:
                raise AssertionError(f"still running after {until} s")
            if at > self.t:
                if self.clock is not None:
                    self.clock.now += timedelta(seconds=at - self.t)
                self.t = at
            self._step(entry[0])
            self._wake_signalled()

    def _step(self, process: Process) -> None:
        try:
            waiting = next(process)
        except StopIteration:
            return
        self._push(self.t + (0.0 if waiting.woken() else waiting.seconds), process, waiting)

    def _wake_signalled(self) -> None:
        for token, (process, waiting, at) in list(self._waits.items()):
            if waiting is not None and waiting.woken() and at > self.t:
                del self._waits[token]
                self._push(self.t, process, None)


class RealTime:
    """Each process on a thread of its own, sleeping for real."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.threads: list[threading.Thread] = []

    def now(self) -> float:
        return time.monotonic() - self.t0

    def spawn(self, process: Process, delay: float = 0.0) -> None:
        def run() -> None:
            if delay:
                time.sleep(delay)
            for waiting in process:
                end = time.monotonic() + waiting.seconds
                while time.monotonic() < end and not waiting.woken():
                    time.sleep(min(0.05, max(0.0, end - time.monotonic())))

        thread = threading.Thread(target=run, daemon=True)
        self.threads.append(thread)
        thread.start()

    def run(self, until: float = 600.0) -> None:
        deadline = time.monotonic() + until
        while any(t.is_alive() for t in self.threads):
            alive = [t for t in self.threads if t.is_alive()]
            alive[0].join(timeout=max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                raise AssertionError(f"still running after {until} s")


# --- what happened -------------------------------------------------------------------


@dataclass
class Call:
    """What happened in one caller's call."""

    heard: list[str] = field(default_factory=list)  # spoken texts and audio URLs, in order
    rang: list[list[str]] = field(default_factory=list)  # the phones of each <Dial>, in order
    caller_ids: list[str | None] = field(default_factory=list)  # each <Dial>'s callerId
    whispered: list[str] = field(default_factory=list)  # phones that heard the whisper
    bridged_to: str | None = None
    bridged_at: float | None = None
    menus: list[str] = field(default_factory=list)  # gather action URLs, in order
    held: list[str] = field(default_factory=list)  # what the wait documents said
    queued_at: float | None = None
    left_queue_at: float | None = None
    queue_results: list[str] = field(default_factory=list)
    recorded: list[int] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    ended: str = ""
    ended_at: float | None = None
    longest_hold: float = 0.0


@dataclass
class Leg:
    """A call the REST API placed to a helpline phone."""

    sid: str
    to: str
    url: str
    status_callback: str
    events: tuple[str, ...]
    timeout: int
    created_at: float
    caller: str = ""  # the CallSid of the caller whose ring placed it
    status: str = "queued"
    rang_until: float | None = None  # when it stopped ringing (picked up, ended)
    stop: Signal = field(default_factory=Signal)
    heard: list[str] = field(default_factory=list)
    bridged_with: str | None = None
    ended_at: float | None = None


@dataclass
class Member:
    call_sid: str
    call: Call
    entered: float
    dequeued: Signal = field(default_factory=Signal)  # fired with the dequeuing leg


@dataclass
class Queue:
    sid: str
    name: str
    members: list[Member] = field(default_factory=list)
    joined: Signal = field(default_factory=Signal)  # fired when somebody enters


class World:
    """Twilio, as its documentation describes it, driving the app through `post`."""

    def __init__(self, post: Post | None = None, phones: dict[str, Phone] | None = None,
                 default: Phone = NO_ANSWER, runtime: VirtualTime | RealTime | None = None,
                 hotline: str = "+352200000001") -> None:
        self.post_raw: Post = post or _unset
        self.phones = phones or {}
        self.default = default
        self.runtime = runtime or VirtualTime()
        self.hotline = hotline
        self.lock = threading.RLock()
        self.legs: dict[str, Leg] = {}
        self.queues: dict[str, Queue] = {}
        self.deleted: dict[str, Queue] = {}
        # (time, operation, subject, the CallSid of the caller whose ring asked it, or "")
        self.rest_requests: list[tuple[float, str, str, str]] = []
        self.scripts: dict[str, dict[str, Phone]] = {}  # a caller's own phone scripts
        # "operation" or "operation:subject" (a phone, a call SID) -> what the REST API does:
        # an HTTP status ("401", "429", "500"), "slow" (done, answered after the client gave
        # up), "lost" (no answer in time, and not done), "unreachable" (not done).
        self.faults: dict[str, str] = {}
        self.absolute = True  # every URL in the app's TwiML must be absolute
        self.slow_seconds = 5.0  # a slow REST API's answer time
        self.client_timeout = 3.0  # the app's REST client gives up after this
        self._numbers = itertools.count()
        self._next_call_slot = 0.0  # the account's outbound rate
        self.calls: list[Call] = []
        self.talk_seconds = TALK_SECONDS
        self.calls_per_second = CALLS_PER_SECOND  # an account's rate (raised on request)
        self.webhooks: list[tuple[float, str]] = []  # (time, route) of every request made
        # How long the app's current webhook waited for the REST API (virtual time only: the
        # requests may come from the app's threads, so not a thread-local).
        self._webhook_delay = 0.0

    # --- the caller -------------------------------------------------------------------

    def phone(self, number: str, caller: str = "") -> Phone:
        """How a phone behaves: as scripted for this caller's ring, else for everyone."""
        return self.scripts.get(caller, self.phones).get(number, self.default)

    def caller_of(self, operation: str, subject: str, url: str = "") -> str:
        """The caller a REST request is for (their ring named in a URL, a call, a queue)."""
        if operation == "create_call":
            found = re.search(r"[?&]c=ring-(\w+)-\d+", url)
            return found.group(1) if found else ""
        if operation == "end_call":
            leg = self.legs.get(subject)
            return leg.caller if leg else ""
        if operation == "delete_queue":
            for queue in list(self.queues.values()) + list(self.deleted.values()):
                if queue.sid == subject:
                    found = re.match(r"ring-(\w+)-\d+", queue.name)
                    return found.group(1) if found else ""
        return ""

    def call(self, url: str, inputs: list[str], digits: str | None = None,
             hang_up_at: float | None = None, call_sid: str = "CAtest",
             caller: str = "+380501234567", phones: dict[str, Phone] | None = None) -> Call:
        """A caller's call, from a first request to `url` (with `digits`, a key pressed
        in the menu that led there); then `inputs` are the keys pressed ("" = silence), and
        the caller hangs up when none is left. run() plays it out."""
        call = Call()
        self.calls.append(call)
        if phones is not None:
            self.scripts[call_sid] = phones
        base = {"CallSid": call_sid, "From": caller, "To": self.hotline}
        hang_up = Signal()
        if hang_up_at is not None:
            self.runtime.spawn(self._fire_later(hang_up, hang_up_at))
        first = {**base, "Digits": digits} if digits is not None else base
        self.runtime.spawn(self._caller(call, url, first, list(inputs), base, hang_up))
        return call

    def run(self, until: float = 600.0) -> None:
        self.runtime.run(until)

    def post(self, url: str, form: dict[str, str], call: Call | None = None) -> str | None:
        """A webhook; None when it did not answer 200 (the call then fails)."""
        self._webhook_delay = 0.0
        with self.lock:
            self.webhooks.append((self.runtime.now(), url.split("?")[0].rsplit("/voice", 1)[-1]))
        status, body = self.post_raw(url, form)
        if self.absolute and status == 200 and body.strip():
            relative = relative_urls(body)
            assert not relative, f"relative URLs in the TwiML of {url}: {relative}"
        if status not in (200, 204):
            if call is not None:
                call.failed_requests.append(f"{status} {url.split('?')[0]}")
            return None
        return body

    def _delay(self) -> float:
        """How long the app took on its side (a REST request it waited for, virtually)."""
        return self._webhook_delay if isinstance(self.runtime, VirtualTime) else 0.0

    def _fire_later(self, signal: Signal, at: float) -> Process:
        yield wait(max(0.0, at - self.runtime.now()))
        signal.fire()

    def _caller(self, call: Call, url: str, first: dict[str, str], pending: list[str],
                base: dict[str, str], hang_up: Signal) -> Process:
        document = self.post(url, first, call)
        for _ in range(200):
            if document is None:
                call.ended = call.ended or "a webhook failed"
                break
            delay = self._delay()
            if delay:
                yield wait(delay)
            result = yield from self._run_caller_document(call, document, pending, base,
                                                          hang_up)
            if result is None:
                break
            document = result
        else:
            raise AssertionError(f"the call never ended: {call.menus[-6:]}")
        call.ended_at = self.runtime.now()

    def _run_caller_document(self, call: Call, document: str, pending: list[str],
                             base: dict[str, str], hang_up: Signal
                             ) -> Generator[Wait, None, str | None]:
        for verb in ET.fromstring(document):
            if hang_up.fired:
                call.ended = "caller hung up"
                return None
            if verb.tag in ("Say", "Play"):
                call.heard.append(verb.text or "")
                yield wait(_duration(verb), hang_up)
            elif verb.tag == "Pause":
                yield wait(float(verb.get("length") or 1), hang_up)
            elif verb.tag == "Gather":
                call.heard.extend(child.text or "" for child in verb)
                call.menus.append(verb.get("action") or "")
                if not pending:  # nothing more to press: the caller hangs up here
                    call.ended = "caller hung up"
                    return None
                for child in verb:
                    yield wait(_duration(child), hang_up)
                key = pending.pop(0)
                if not key:
                    yield wait(float(verb.get("timeout") or 5), hang_up)
                if key or verb.get("actionOnEmptyResult") == "true":
                    return self.post(verb.get("action") or "", {**base, "Digits": key}, call)
            elif verb.tag == "Redirect":
                return self.post(verb.text or "", base, call)
            elif verb.tag == "Enqueue":
                return (yield from self._enqueued(call, verb, base, hang_up))
            elif verb.tag == "Dial":
                return (yield from self._dial(call, verb, base, hang_up))
            elif verb.tag == "Record":
                seconds = int(pending.pop(0)) if pending else 0
                if seconds > 0:
                    call.recorded.append(seconds)
                    return self.post(verb.get("action") or "", {
                        **base, "RecordingDuration": str(seconds), "RecordingSid": "RE0",
                        "RecordingUrl": "https://api.twilio.com/recording"}, call)
            elif verb.tag == "Hangup":
                call.ended = "hung up"
                return None
            elif verb.tag == "Leave":
                pass  # outside a queue: nothing
            else:
                raise AssertionError(f"a verb the stand-in does not know: {verb.tag}")
        call.ended = call.ended or "end of document"
        return None

    # --- the queue ----------------------------------------------------------------------

    def _enqueued(self, call: Call, verb: ET.Element, base: dict[str, str], hang_up: Signal
                  ) -> Generator[Wait, None, str | None]:
        name = (verb.text or "").strip()
        assert 0 < len(name) <= 64, name
        with self.lock:
            queue = self.queues.get(name)
            if queue is None:
                queue = self.queues[name] = Queue(f"QU{next(self._numbers)}", name)
            member = Member(base["CallSid"], call, self.runtime.now())
            queue.members.append(member)
            queue.joined.fire()
            queue.joined = Signal()
        call.queued_at = member.entered
        wait_url = verb.get("waitUrl") or ""
        result = ""  # how the caller left the queue, once they have
        while True:
            waited = int(self.runtime.now() - member.entered)
            document = self.post(wait_url, {**base, "QueueTime": str(waited),
                                            "QueueSid": queue.sid, "QueuePosition": "1",
                                            "CurrentQueueSize": str(len(queue.members))},
                                 call)
            if document is None:
                result = "error"
                with self.lock:
                    if member in queue.members:
                        queue.members.remove(member)
                break
            verbs = list(ET.fromstring(document))
            assert {v.tag for v in verbs} <= WAIT_VERBS, \
                f"error 13238: {({v.tag for v in verbs}) - WAIT_VERBS} in a waitUrl document"
            leave = False
            for wait_verb in verbs:
                if member.dequeued.fired or hang_up.fired:
                    break
                if wait_verb.tag in ("Say", "Play"):
                    call.held.append(wait_verb.text or "")
                    yield wait(_duration(wait_verb), member.dequeued, hang_up)
                elif wait_verb.tag == "Pause":
                    yield wait(float(wait_verb.get("length") or 1), member.dequeued, hang_up)
                elif wait_verb.tag == "Leave":
                    leave = True
                    break
                elif wait_verb.tag == "Redirect":
                    wait_url = wait_verb.text or wait_url
                    break
            with self.lock:
                if member.dequeued.fired:
                    result = "bridged"
                elif hang_up.fired:
                    result = "hangup"
                elif leave:
                    result = "leave"
                if result and member in queue.members:
                    queue.members.remove(member)
            if result:
                break
        waited_s = self.runtime.now() - member.entered
        call.longest_hold = max(call.longest_hold, waited_s)
        call.left_queue_at = self.runtime.now()
        if result == "bridged":
            leg: Leg = member.dequeued.value
            call.bridged_to, call.bridged_at = leg.to, self.runtime.now()
            # The conversation: the action is requested once both have hung up.
            yield wait(self.talk_seconds)
        call.queue_results.append(result)
        action = verb.get("action")
        answer = self.post(action or "", {**base, "QueueResult": result, "QueueSid": queue.sid,
                                          "QueueTime": str(int(waited_s))}, call) \
            if action else None
        if result == "hangup":
            call.ended = "caller hung up"
            return None
        if result == "bridged" and not self.phone(call.bridged_to or "",
                                                  base["CallSid"]).hangs_up_first:
            call.ended = "conversation over, caller hung up"
            return None
        return answer

    def dequeue(self, name: str, leg: Leg) -> Member | None:
        with self.lock:
            queue = self.queues.get(name)
            if queue is None or not queue.members:
                return None
            member = queue.members.pop(0)
            member.dequeued.fire(leg)
            return member

    # --- ringing phones from a <Dial> ----------------------------------------------------

    def _dial(self, call: Call, verb: ET.Element, base: dict[str, str], hang_up: Signal
              ) -> Generator[Wait, None, str | None]:
        numbers = [((n.text or "").strip(), n.get("url")) for n in verb.iter("Number")]
        assert numbers, "a <Dial> of the caller without <Number>"
        call.rang.append([n for n, _ in numbers])
        call.caller_ids.append(verb.get("callerId"))
        timeout = float(verb.get("timeout") or 30)
        picked = sorted((p.picks_up_after, n, url) for n, url in numbers
                        if (p := self.phone(n, base["CallSid"])).picks_up_after is not None
                        and p.picks_up_after <= timeout and not p.busy)
        action = verb.get("action")
        if not picked:
            busy = all(self.phone(n, base["CallSid"]).busy for n, _ in numbers)
            yield wait(0.5 if busy else timeout, hang_up)
            outcome = {"DialCallStatus": "busy" if busy else "no-answer", "DialBridged": "false"}
        else:
            after, winner, url = picked[0]
            yield wait(after, hang_up)
            if hang_up.fired:
                call.ended = "caller hung up"
                return None
            phone = self.phone(winner, base["CallSid"])
            bridged = True
            if url:
                call.whispered.append(winner)
                bridged = yield from self._whisper_on_dial(url, phone, winner)
            if not bridged:
                outcome = {"DialCallStatus": "completed", "DialBridged": "false"}
            else:
                call.bridged_to, call.bridged_at = winner, self.runtime.now()
                yield wait(self.talk_seconds)
                if not phone.hangs_up_first:
                    call.ended = "conversation over, caller hung up"
                    return None
                outcome = {"DialCallStatus": "completed", "DialBridged": "true",
                           "DialCallDuration": str(int(self.talk_seconds))}
        if hang_up.fired:
            call.ended = "caller hung up"
            return None
        return self.post(action, {**base, **outcome}, call) if action else None

    def _whisper_on_dial(self, url: str, phone: Phone, number: str
                         ) -> Generator[Wait, None, bool]:
        """The whisper on the answering phone; True when the leg is bridged."""
        form = {"CallSid": f"CAdial{next(self._numbers)}", "From": self.hotline, "To": number}
        document = self.post(url, form)
        for _ in range(5):
            if document is None:
                return False
            root = ET.fromstring(document)
            nxt = None
            for verb in root:
                if verb.tag == "Gather":
                    if phone.presses:
                        yield wait(phone.press_after)
                        nxt = self.post(verb.get("action") or "",
                                        {**form, "Digits": phone.presses})
                        break
                    yield wait(sum(_duration(c) for c in verb)
                               + float(verb.get("timeout") or 5))
                elif verb.tag in ("Say", "Play"):
                    yield wait(_duration(verb))
                elif verb.tag == "Redirect":
                    nxt = self.post(verb.text or "", form)
                    break
                elif verb.tag == "Hangup":
                    return False
            if nxt is None:
                return True  # the whisper's TwiML ended without hanging up: bridged
            document = nxt
        raise AssertionError("the whisper never ended")

    # --- the REST API ---------------------------------------------------------------------

    def count_rest(self, operation: str, subject: str, url: str = "") -> str | None:
        """Count a REST request; the fault set for it, if any."""
        with self.lock:
            self.rest_requests.append((self.runtime.now(), operation, subject,
                                       self.caller_of(operation, subject, url)))
        return (self.faults.get(f"{operation}:{subject}") or self.faults.get(operation)
                or self.faults.get("*"))

    def _rest(self, operation: str, subject: str, url: str = "") -> bool:
        """The REST API called in-process (virtual time): a fault raised as the client
        would raise it; True for "slow" (the work is done, then the client times out)."""
        fault = self.count_rest(operation, subject, url)
        if fault is None:
            return False
        if fault == "lost":
            if operation == "create_call":
                self._webhook_delay = max(self._webhook_delay, self.client_timeout)
            raise LostRequest("stand-in: no answer, nothing done")
        if fault == "unreachable":
            raise requests.exceptions.ConnectionError(
                "Caused by NewConnectionError('connection refused')")
        if fault == "slow":
            if operation == "create_call":  # asked while the caller's webhook waits
                self._webhook_delay = max(self._webhook_delay, self.client_timeout)
            return True
        raise TwilioRestException(int(fault), f"https://api.twilio.com/{operation}",
                                  msg=f"stand-in: {fault}")

    # The RingApi the app calls (ivr/voice/together.py), in-process.

    def create_call(self, to: str, from_: str, url: str, status_callback: str,
                    timeout: int) -> str:
        slow = self._rest("create_call", to, url)
        sid = self.place_call(to, from_, url, status_callback,
                              ("initiated", "answered", "completed"), timeout)
        if slow:
            raise requests.exceptions.ReadTimeout("stand-in: slow")
        return sid

    def end_call(self, sid: str, status: str) -> None:
        slow = self._rest("end_call", sid)
        if not self.stop_call(sid, status):
            raise TwilioRestException(404, "https://api.twilio.com/calls", msg="no call")
        if slow:
            raise requests.exceptions.ReadTimeout("stand-in: slow")

    def delete_queue(self, queue_sid: str) -> None:
        self._rest("delete_queue", queue_sid)
        if not self.remove_queue(queue_sid):
            raise TwilioRestException(400, "https://api.twilio.com/queues", msg="not empty")

    def probe(self) -> None:
        self._rest("fetch_account", "")

    def forget_connections(self) -> None:
        return None

    # What the requests do, whichever way they came.

    def place_call(self, to: str, from_: str, url: str, status_callback: str,
                   events: tuple[str, ...], timeout: int) -> str:
        assert url.startswith("https://") and status_callback.startswith("https://"), \
            "the REST API takes absolute URLs"
        assert from_ == self.hotline, "the phones see the hotline's number"
        with self.lock:
            sid = f"CAleg{next(self._numbers)}"
            now = self.runtime.now()
            start = max(now, self._next_call_slot)
            self._next_call_slot = start + 1.0 / self.calls_per_second
            leg = self.legs[sid] = Leg(sid, to, url, status_callback, events, timeout, now,
                                       caller=self.caller_of("create_call", to, url))
        self.runtime.spawn(self._leg(leg), delay=start - now + 0.2)
        return sid

    def stop_call(self, sid: str, status: str) -> bool:
        """`canceled` stops a queued or ringing call; `completed` any live one. False for
        a call Twilio does not know."""
        with self.lock:
            leg = self.legs.get(sid)
            if leg is None:
                return False
            if leg.status in ("queued", "initiated", "ringing") or (
                    status == "completed" and leg.status == "in-progress"):
                if leg.status == "queued":  # still waiting for the account's rate: never rang
                    leg.rang_until = self.runtime.now()
                leg.stop.fire(status)
        return True

    def remove_queue(self, queue_sid: str) -> bool:
        """Delete an empty queue; False while somebody waits in it."""
        with self.lock:
            for name, queue in list(self.queues.items()):
                if queue.sid == queue_sid:
                    if queue.members:
                        return False
                    self.deleted[name] = self.queues.pop(name)
        return True

    def _status(self, leg: Leg, status: str) -> None:
        if leg.status in ("queued", "initiated", "ringing") and status not in (
                "initiated", "ringing") and leg.rang_until is None:
            leg.rang_until = self.runtime.now()
        leg.status = status
        event = "completed" if status in ENDED else {"in-progress": "answered"}.get(status,
                                                                                    status)
        if status in ENDED:
            leg.ended_at = self.runtime.now()
        if event in leg.events:
            self.post(leg.status_callback, {"CallSid": leg.sid, "CallStatus": status,
                                            "From": self.hotline, "To": leg.to})

    def _leg(self, leg: Leg) -> Process:
        phone = self.phone(leg.to, leg.caller)
        if leg.stop.fired:  # cancelled while queued at the account's rate
            self._status(leg, "canceled")
            return
        self._status(leg, "initiated")
        self._status(leg, "ringing")
        if phone.busy:
            yield wait(0.5)
            self._status(leg, "busy")
            return
        picks_up = phone.picks_up_after
        rings_for = float(leg.timeout) if picks_up is None else min(picks_up, leg.timeout)
        yield wait(rings_for, leg.stop)
        if leg.stop.fired:
            self._status(leg, "canceled")
            return
        if picks_up is None or picks_up > leg.timeout:
            self._status(leg, "no-answer")
            return
        self._status(leg, "in-progress")
        form = {"CallSid": leg.sid, "From": self.hotline, "To": leg.to}
        document = self.post(leg.url, form)
        yield from self._leg_documents(leg, phone, form, document)
        self._status(leg, "completed")

    def _leg_documents(self, leg: Leg, phone: Phone, form: dict[str, str],
                       document: str | None) -> Process:
        for _ in range(10):
            if document is None or leg.stop.fired:
                return
            nxt = None
            for verb in ET.fromstring(document):
                if leg.stop.fired:
                    return
                if verb.tag in ("Say", "Play"):
                    leg.heard.append(verb.text or "")
                    yield wait(_duration(verb), leg.stop)
                elif verb.tag == "Gather":
                    for child in verb:
                        leg.heard.append(child.text or "")
                    if phone.presses:
                        yield wait(phone.press_after, leg.stop)
                        if leg.stop.fired:
                            return
                        nxt = self.post(verb.get("action") or "",
                                        {**form, "Digits": phone.presses})
                        break
                    yield wait(sum(_duration(c) for c in verb)
                               + float(verb.get("timeout") or 5), leg.stop)
                elif verb.tag == "Dial" and verb.find("Queue") is not None:
                    nxt = yield from self._dial_queue(leg, phone, verb, form)
                    break
                elif verb.tag == "Hangup":
                    return
                elif verb.tag == "Redirect":
                    nxt = self.post(verb.text or "", form)
                    break
                else:
                    raise AssertionError(f"a verb on a phone's call: {verb.tag}")
            document = nxt
        raise AssertionError("a phone's call never ended")

    def _dial_queue(self, leg: Leg, phone: Phone, verb: ET.Element, form: dict[str, str]
                    ) -> Generator[Wait, None, str | None]:
        name = (verb.findtext("Queue") or "").strip()
        timeout = float(verb.get("timeout") or 30)
        action = verb.get("action") or ""
        with self.lock:
            exists = name in self.queues
        if not exists:
            return self.post(action, {**form, "DialCallStatus": "failed"}) if action else None
        end = self.runtime.now() + timeout
        member = self.dequeue(name, leg)
        while member is None and self.runtime.now() < end:
            with self.lock:
                queue = self.queues.get(name)
            if queue is None:
                break
            yield wait(end - self.runtime.now(), queue.joined)
            member = self.dequeue(name, leg)
        if member is None:
            return self.post(action, {**form, "DialCallStatus": "no-answer"}) if action \
                else None
        leg.bridged_with = member.call_sid
        yield wait(self.talk_seconds)
        return self.post(action, {**form, "DialCallStatus": "completed",
                                  "DialCallDuration": str(int(self.talk_seconds))}) \
            if action else None

    # --- reading the outcome ------------------------------------------------------------

    def rest_count(self, operation: str | None = None, caller: str | None = None) -> int:
        """REST requests made: of one operation, for one caller's ring (all by default)."""
        return sum(1 for _, op, _, whose in self.rest_requests
                   if operation in (None, op) and caller in (None, whose))

    def rang_after(self, moment: float, grace: float = 0.0, caller: str | None = None
                   ) -> list[str]:
        """Phones whose call still rang (or was queued) `grace` seconds after `moment`."""
        return [leg.to for leg in self.legs.values()
                if caller in (None, leg.caller)
                and (leg.rang_until is None or leg.rang_until > moment + grace)]

    def people_connected(self, caller: str | None = None) -> list[str]:
        return [leg.to for leg in self.legs.values()
                if leg.bridged_with and caller in (None, leg.caller)]


def _unset(url: str, form: dict[str, str]) -> tuple[int, str]:
    raise AssertionError("the world has no app to post to yet")


class LostRequest(requests.exceptions.ReadTimeout):
    """A request that timed out and was never done (the stand-in's own marker)."""


URL_ATTRIBUTES = ("action", "url", "waitUrl", "statusCallback", "recordingStatusCallback")


def relative_urls(document: str) -> list[str]:
    """The URLs of a TwiML document that are not absolute."""
    found = []
    for element in ET.fromstring(document).iter():
        for name in URL_ATTRIBUTES:
            value = element.get(name)
            if value is not None and not value.startswith(("https://", "http://")):
                found.append(f"{element.tag}@{name}={value}")
        if element.tag in ("Play", "Redirect") and not (element.text or "").strip().startswith(
                ("https://", "http://")):
            found.append(f"{element.tag}={element.text}")
    return found


def _duration(verb: ET.Element) -> float:
    if verb.tag == "Play":
        return PLAY_SECONDS
    if verb.tag == "Pause":
        return float(verb.get("length") or 1)
    return max(1.0, len(verb.text or "") / SAY_CHARS_PER_SECOND)


def iter_verbs(document: str) -> Iterator[str]:
    return (verb.tag for verb in ET.fromstring(document))
