"""Operator accounts: create, check a password, sign-out that invalidates old cookies."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.console.models import Operator, new_session_token

log = logging.getLogger(__name__)
R = TypeVar("R")

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD_LENGTH = 12

log = logging.getLogger(__name__)

# CONSOLE_PASSWORD_COST picks argon2's parameters: "standard" (argon2-cffi's default, RFC 9106
# low memory) always, except in an app with TESTING set, where "cheapest" is allowed so that
# the test suite does not spend seconds per fixture hashing.
PASSWORD_COSTS = {"standard": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}


@cache
def _hasher_of(cost: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(PASSWORD_COSTS[cost])


@cache
def _dummy_hash(cost: str) -> str:
    """Checked against when a name is unknown, so the answer takes as long as for a real one."""
    return _hasher_of(cost).hash("not-a-password-of-anyone")


def _cost() -> str:
    if not has_app_context():
        return "standard"
    cost = str(current_app.config.get("CONSOLE_PASSWORD_COST") or "standard")
    if cost == "standard" or (cost == "cheapest" and current_app.testing):
        return cost
    log.warning("CONSOLE_PASSWORD_COST %r ignored (\"cheapest\" is for tests only): "
                "using the standard cost", cost)
    return "standard"


class AccountError(ValueError):
    """A name or password that cannot be used; the message says why."""


class HashingBusy(RuntimeError):
    """Too many password checks are waiting in this process: try again in a moment."""


# Sign-in's password checks (argon2: ~0.1-0.4 s of CPU, on several cores) run on one thread
# per process, at a low CPU priority, never on the threads that answer Twilio's webhooks;
# past HASH_QUEUE_LIMIT waiting checks a sign-in is refused at once instead of queued.
# Nice 10 (about a tenth of a normal thread's share when the CPUs are busy), not 19, which
# a busy machine can starve for longer than HASH_WAIT_SECONDS.
HASH_QUEUE_LIMIT = 4
HASH_WAIT_SECONDS = 30.0
LOW_PRIORITY = 10


def _lower_priority() -> None:
    try:  # Linux: the thread's own nice value (argon2's lane threads inherit it)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOW_PRIORITY)
    except (AttributeError, OSError):
        log.info("password hashing runs at normal priority (cannot lower it here)")


class HashingLane:
    """One hashing thread per process, with a bounded queue (made lazily: fork-safe)."""

    def __init__(self, limit: int = HASH_QUEUE_LIMIT) -> None:
        self.slots = threading.BoundedSemaphore(limit)
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(1, "argon2", initializer=_lower_priority)
                self._pid = os.getpid()
            return self._executor

    def run(self, work: Callable[[], R]) -> R:
        """The result of `work`, done on the hashing thread; HashingBusy if the queue is full."""
        if not self.slots.acquire(blocking=False):
            raise HashingBusy("too many sign-ins at once")
        try:
            return self.executor().submit(work).result(timeout=HASH_WAIT_SECONDS)
        except TimeoutError as exc:
            raise HashingBusy("password check took too long") from exc
        finally:
            self.slots.release()


hashing = HashingLane()


def hash_password(password: str) -> str:
    """A new hash, on the caller's thread: accounts are made by the CLI, not by strangers."""
    return _hasher_of(_cost()).hash(password)


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise AccountError("a name is 2 to 64 letters, digits or . _ @ -")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def add_operator(session: Session, name: str, password: str) -> Operator:
    """A new operator account; the password is kept only as an argon2 hash."""
    check_name(name)
    check_password(password)
    if session.scalar(select(Operator).where(Operator.name == name)):
        raise AccountError(f"an operator named {name!r} already exists")
    operator = Operator(name=name, password_hash=hash_password(password),
                        session_token=new_session_token(), active=True)
    session.add(operator)
    session.flush()
    return operator


def set_password(session: Session, operator: Operator, password: str) -> None:
    """A new password also signs the operator out everywhere."""
    operator.password_hash = hash_password(check_password(password))
    operator.session_token = new_session_token()


def authenticate(session: Session, name: str, password: str) -> Operator | None:
    """The operator with this name and password, or None (same work either way)."""
    operator = session.scalar(select(Operator).where(Operator.name == name))
    cost = _cost()  # read here: the hashing thread has no app context
    hasher = _hasher_of(cost)
    # For any name, so that a first attempt tells nothing either.
    dummy = hashing.run(lambda: _dummy_hash(cost))
    stored = operator.password_hash if operator and operator.active else dummy
    if not hashing.run(lambda: _verified(hasher, stored, password)):
        return None
    if operator is None or not operator.active:
        return None
    if hasher.check_needs_rehash(operator.password_hash):
        operator.password_hash = hashing.run(lambda: hasher.hash(password))
    return operator


@dataclass(frozen=True)
class SignedIn:
    """The operator Flask-Login keeps for one request (a plain value, no open DB session)."""

    id: int
    name: str
    session_token: str
    language: str | None = None  # the console's language they chose, if any

    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        # The token changes at sign-out, so a copied cookie stops working then.
        return f"{self.id}:{self.session_token}"


def _verified(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return bool(hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def load_signed_in(session: Session, cookie_id: str) -> SignedIn | None:
    """The operator a session cookie names, if its token is still the current one."""
    operator_id, _, token = cookie_id.partition(":")
    if not operator_id.isdigit() or not token:
        return None
    operator = session.get(Operator, int(operator_id))
    if operator is None or not operator.active or operator.session_token != token:
        return None
    return SignedIn(operator.id, operator.name, operator.session_token, operator.language)


def set_language(session: Session, operator_id: int, code: str | None) -> None:
    """Keep an operator's console language (None: back to the profile's staff language)."""
    operator = session.get(Operator, operator_id)
    if operator is not None:
        operator.language = code


def sign_out_everywhere(session: Session, operator_id: int) -> None:
    operator = session.get(Operator, operator_id)
    if operator is not None:
        operator.session_token = new_session_token()
