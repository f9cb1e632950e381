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

from ivr.security import FailureLimit
from ivr.settings import DEFAULT_REDIS_KEY_PREFIX

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
    limit: str = UNKNOWN_CODE_LIMIT
    key_prefix: str = DEFAULT_REDIS_KEY_PREFIX
    _failures: FailureLimit = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._failures = FailureLimit("staff-failures", self.limit, self.storage_uri,
                                      key_prefix=self.key_prefix)

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
        return self._failures.may_try(sender_key)

    def failed(self, sender_key: str) -> None:
        self._failures.failed(sender_key)
