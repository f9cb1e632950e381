"""Operator accounts: create, check a password, sign-out that invalidates old cookies."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.console.models import Operator, new_session_token

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


def hash_password(password: str) -> str:
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
    hasher = _hasher_of(_cost())
    stored = operator.password_hash if operator and operator.active else _dummy_hash(_cost())
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if operator is None or not operator.active:
        return None
    if hasher.check_needs_rehash(operator.password_hash):
        operator.password_hash = hash_password(password)
    return operator


@dataclass(frozen=True)
class SignedIn:
    """The operator Flask-Login keeps for one request (a plain value, no open DB session)."""

    id: int
    name: str
    session_token: str

    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        # The token changes at sign-out, so a copied cookie stops working then.
        return f"{self.id}:{self.session_token}"


def load_signed_in(session: Session, cookie_id: str) -> SignedIn | None:
    """The operator a session cookie names, if its token is still the current one."""
    operator_id, _, token = cookie_id.partition(":")
    if not operator_id.isdigit() or not token:
        return None
    operator = session.get(Operator, int(operator_id))
    if operator is None or not operator.active or operator.session_token != token:
        return None
    return SignedIn(operator.id, operator.name, operator.session_token)


def sign_out_everywhere(session: Session, operator_id: int) -> None:
    operator = session.get(Operator, operator_id)
    if operator is not None:
        operator.session_token = new_session_token()
