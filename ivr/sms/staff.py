"""Who may answer a case by SMS: a helpline phone that also knows its PIN, within a limit.

A From number can be faked at carrier level, so a staff reply must carry the phone's PIN
(STAFF_REPLY_PINS) after the case code: `#K7QM2XPA 482913 your text`. A wrong PIN gets the
same answer as an unknown code, and each sender may get either only a few times an hour, so
guessing a code (27^8, about 2.8e11 of them) or a PIN is hopeless.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)

# Failed staff replies (unknown code, closed code is not one, or wrong PIN) per sender.
UNKNOWN_CODE_LIMIT = "10 per hour"
_PIN = re.compile(r"^\s*([^\s:,.;-]+)[\s:,.;-]*(.*)$", re.DOTALL)


def no_pin(helpline_number: str) -> str:
    return ""


@dataclass
class StaffGate:
    """Checks a staff reply's PIN and counts its failures, per sender (a keyed hash)."""

    pin_of: Callable[[str], str] = no_pin
    storage_uri: str = "memory://"
    limit: RateLimitItem = field(default_factory=lambda: parse(UNKNOWN_CODE_LIMIT))
    _limiter: FixedWindowRateLimiter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        storage = storage_from_string(self.storage_uri)
        assert isinstance(storage, Storage), "a synchronous storage URI (not async+...)"
        self._limiter = FixedWindowRateLimiter(storage)

    def unlock(self, helpline_number: str, text: str) -> str | None:
        """The reply without its PIN; None when the phone has a PIN and the text lacks it."""
        pin = self.pin_of(helpline_number)
        if not pin:
            return text  # local mode: production refuses to start without PINs
        found = _PIN.match(text)
        if not found or not hmac.compare_digest(found.group(1).encode(), pin.encode()):
            return None
        return found.group(2)

    def may_try(self, sender_key: str) -> bool:
        """Whether this sender has failures left in the window (an outage lets it try)."""
        try:
            return bool(self._limiter.test(self.limit, "staff-failures", sender_key))
        except Exception as exc:  # noqa: BLE001 — the limit store is down; the PIN still holds
            log.warning("staff reply limit not checked: %s", type(exc).__name__)
            return True

    def failed(self, sender_key: str) -> None:
        try:
            self._limiter.hit(self.limit, "staff-failures", sender_key)
        except Exception as exc:  # noqa: BLE001
            log.warning("staff reply failure not counted: %s", type(exc).__name__)
