"""Who may answer a case by SMS: a helpline phone that also knows its PIN, within limits
that an attacker cannot turn against the staff.

A From number can be faked at carrier level, so a staff reply must carry the phone's PIN
(STAFF_REPLY_PINS) after the case code: `#K7QM2XPA 482913 your text`. The PIN is checked
before any case is looked up, so a wrong PIN is answered the same whether the code exists
or not, and the answer goes to the real phone, never to whoever faked its number.

Failures are counted so that a flood of faked texts cannot silence the real phone:
- wrong PINs per (phone, code the text names): guessing the PIN of one known case is
  limited; a flood under random codes never reaches the real case's count;
- codes that name no case, with the right PIN, per phone (typos, or a leaked PIN);
- every failure per phone, under a ceiling far above what typing makes.
A count never depends on whether a case exists. While the store is down the PIN still
holds (FailureLimit lets the attempt through and logs it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from ivr.security import FailureLimit
from ivr.settings import DEFAULT_REDIS_KEY_PREFIX

log = logging.getLogger(__name__)

# Wrong PINs for one case code from one phone: 27^8 codes, so only someone who read a code
# off a helpline phone can aim at a case; for them, about 87,600 tries a year against a PIN
# of at least 10^6.
WRONG_PIN_PER_CASE = "10 per hour"
# Codes that name no case, sent with the right PIN, per phone: typos, or someone holding the
# PIN guessing codes (10 an hour find one of 1,000 open cases in a year with about 0.03 %).
UNKNOWN_CODE_LIMIT = "10 per hour"
# Every failure per phone: a person mistypes a few an hour; a flood of faked texts needs
# this many before the phone's correct replies are refused.
PHONE_CEILING = "200 per hour"
# Wrong-PIN answers per phone: past them, one notice that the number may be faked, then
# silence (each answer is an SMS to the staff's own phone, paid for).
WRONG_PIN_ANSWERS = "10 per hour"
# A notice ("limit reached", "number faked") once per window and subject.
NOTICES = "1 per hour"
_PIN = re.compile(r"^\s*([^\s:,.;-]+)[\s:,.;-]*(.*)$", re.DOTALL)


class WrongPinAnswer(StrEnum):
    ANSWER = "answer"  # tell the phone its PIN was wrong or missing
    FLOOD = "flood"  # tell it once that many came: its number may be faked
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Replies refused until a time: from the whole phone ("phone") or to one case code."""

    until: datetime
    scope: str


def no_pin(helpline_number: str) -> str:
    return ""


def case_key(phone_key: str, code: str) -> str:
    """The counter key of one phone and one case code: no code readable in the store."""
    return hashlib.sha256(f"{phone_key}:{code.upper()}".encode()).hexdigest()[:32]


@dataclass
class StaffGate:
    """Checks a staff reply's PIN and counts its failures (per phone: a keyed hash)."""

    pin_of: Callable[[str], str] = no_pin
    storage_uri: str = "memory://"
    key_prefix: str = DEFAULT_REDIS_KEY_PREFIX
    _per_case: FailureLimit = field(init=False, repr=False)
    _unknown: FailureLimit = field(init=False, repr=False)
    _ceiling: FailureLimit = field(init=False, repr=False)
    _answers: FailureLimit = field(init=False, repr=False)
    _notices: FailureLimit = field(init=False, repr=False)

    def __post_init__(self) -> None:
        def limit(namespace: str, rate: str) -> FailureLimit:
            return FailureLimit(namespace, rate, self.storage_uri, key_prefix=self.key_prefix)

        self._per_case = limit("staff-wrong-pin", WRONG_PIN_PER_CASE)
        self._unknown = limit("staff-unknown-code", UNKNOWN_CODE_LIMIT)
        self._ceiling = limit("staff-failures", PHONE_CEILING)
        self._answers = limit("staff-wrong-pin-answers", WRONG_PIN_ANSWERS)
        self._notices = limit("staff-notices", NOTICES)

    def unlock(self, helpline_number: str, text: str) -> str | None:
        """The reply without its PIN; None when the phone has a PIN and the text lacks it."""
        pin = self.pin_of(helpline_number)
        if not pin:
            return text  # local mode: production refuses to start without PINs
        found = _PIN.match(text)
        if not found or not hmac.compare_digest(found.group(1).encode(), pin.encode()):
            return None
        return found.group(2)

    def refused(self, phone_key: str, code: str) -> Refusal | None:
        """Whether replies from this phone to this code are refused now (a limit reached),
        until when, and for what; None when they may be tried."""
        for limit, key, scope in ((self._ceiling, phone_key, "phone"),
                                  (self._unknown, phone_key, "phone"),
                                  (self._per_case, case_key(phone_key, code), code.upper())):
            if not limit.may_try(key):
                window = limit.window(key)
                until = window[1] if window else datetime.now(UTC) + timedelta(hours=1)
                return Refusal(until, scope)
        return None

    def wrong_pin(self, phone_key: str, code: str) -> int:
        """Count a wrong or missing PIN; the phone's failures in its window so far."""
        self._per_case.failed(case_key(phone_key, code))
        return self._failed(phone_key)

    def unknown_code(self, phone_key: str) -> int:
        """Count a code that names no case (the PIN was right); the phone's failures."""
        self._unknown.failed(phone_key)
        return self._failed(phone_key)

    def _failed(self, phone_key: str) -> int:
        self._ceiling.failed(phone_key)
        window = self._ceiling.window(phone_key)
        return window[0] if window else 0

    def answer_to_wrong_pin(self, phone_key: str) -> WrongPinAnswer:
        """Whether to answer a wrong PIN: yes at first, then one notice, then silence."""
        if self._answers.may_try(phone_key):
            self._answers.failed(phone_key)
            return WrongPinAnswer.ANSWER
        if self.notice_once(phone_key, "flood"):
            return WrongPinAnswer.FLOOD
        return WrongPinAnswer.SILENT

    def notice_once(self, phone_key: str, subject: str) -> bool:
        """True the first time in a window a notice on `subject` goes to this phone."""
        key = case_key(phone_key, f"notice:{subject}")
        if not self._notices.may_try(key):
            return False
        self._notices.failed(key)
        return True

    def answers_resume_at(self, phone_key: str) -> datetime | None:
        """When wrong PINs from this phone are answered again."""
        window = self._answers.window(phone_key)
        return window[1] if window else None
