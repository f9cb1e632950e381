"""Twilio's REST API: one way to build the client, what its failures mean, and whether it works.

Every request has a short timeout and no retry: a voice webhook that waits on Twilio holds
a caller. A failure is told apart by what it means for what was asked:

- `RestRefused`: the request was refused (an HTTP error from Twilio) or never left this
  machine (no connection, a proxy or TLS failure): nothing was done.
- `RestUnknown`: no answer in time, or the connection broke after the request was sent:
  it may have been done (a call may be ringing).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)

REST_TIMEOUT_S = 3.0  # connect and read, per request (requests' timeout)
CHECK_INTERVAL_S = 60.0  # how often each process asks whether the REST API works


class RestRefused(Exception):
    """The REST API refused, or could not be reached: nothing was done."""


class RestUnknown(Exception):
    """The REST API did not answer in time: what was asked may have been done."""


def rest_client(account_sid: str, auth_token: str, region: str = "", edge: str = "") -> Client:
    """twilio's Client with a timeout on every request and no retries, in the account's
    region (its credentials work there only) and through the chosen edge."""
    return Client(account_sid, auth_token, region=region or None, edge=edge or None,
                  http_client=TwilioHttpClient(timeout=REST_TIMEOUT_S, max_retries=0))


def failure(exc: BaseException) -> RestRefused | RestUnknown:
    """What a failed request means: refused (nothing done) or unknown (maybe done)."""
    if isinstance(exc, RestRefused | RestUnknown):  # a stand-in's own answer
        return exc
    if isinstance(exc, TwilioRestException):
        return RestRefused(f"HTTP {exc.status}")
    # Failures before a request reaches Twilio: nothing can have been done.
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError |
                  requests.exceptions.SSLError):
        return RestRefused(type(exc).__name__)
    if isinstance(exc, requests.exceptions.ConnectionError) and _refused_connection(exc):
        return RestRefused("ConnectionRefused")
    return RestUnknown(type(exc).__name__)


def _refused_connection(exc: BaseException) -> bool:
    """A connection that was never opened (refused, no route): the request was not sent.
    urllib3 names its cause in the message ("Caused by NewConnectionError(...)")."""
    return "NewConnectionError" in str(exc)


def call_rest(work: Callable[[], object]) -> object:
    """Run one REST request; its failure raised as RestRefused or RestUnknown."""
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 — every failure is classified, none escapes
        raise failure(exc) from exc


@dataclass
class RestHealth:
    """Whether the REST API works, asked at start and every minute with a cheap
    authenticated request (fetching the account). Until it works, phones ring one after
    another; /healthz and the log say why."""

    probe: Callable[[], None]  # raises when the REST API does not work
    interval: float = CHECK_INTERVAL_S
    ok: bool | None = None  # None: not asked yet (taken as working)
    reason: str = ""
    checked_at: float = field(default=float("-inf"))
    _watching: int = field(default=0, repr=False)  # the pid whose watcher runs
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def usable(self) -> bool:
        return self.ok is not False

    def check(self) -> bool:
        """Ask now; log a change."""
        try:
            call_rest(self.probe)
        except (RestRefused, RestUnknown) as exc:
            self._set(False, f"Twilio's REST API does not work ({exc})")
        else:
            self._set(True, "")
        return bool(self.ok)

    def failed(self, why: str) -> None:
        """A request of a ring failed: ring one after another until the next check says
        the REST API works again."""
        self._set(False, f"Twilio's REST API failed a call ({why})")

    def _set(self, ok: bool, reason: str) -> None:
        with self._lock:
            changed = ok != self.ok
            self.ok, self.reason, self.checked_at = ok, reason, time.monotonic()
        if changed and not ok:
            log.warning("%s: phones that ring together ring one after another until it "
                        "works", reason)
        elif changed:
            log.info("Twilio's REST API works: phones of a step may ring together")

    def watch(self) -> None:
        """Check every `interval` seconds on a daemon thread of this process (one per
        process: a forked worker starts its own). It holds no call's state: a process that
        dies or stops takes nothing with it."""
        if self.interval <= 0 or self._watching == os.getpid():
            return
        with self._lock:
            if self._watching == os.getpid():
                return
            self._watching = os.getpid()
        threading.Thread(target=self._watch, name="rest-health", daemon=True).start()

    def _watch(self) -> None:
        while True:
            wait = self.checked_at + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
                continue
            self.check()
