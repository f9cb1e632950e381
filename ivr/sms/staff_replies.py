"""Staff replies by SMS: a helpline phone answers a case with its code and PIN; the reply
reaches the case's person, or the phone is told, in the staff language, why it did not.

The limits that keep a faked From number from silencing the phone are in ivr/sms/staff.py.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any, Protocol

from babel.dates import format_time

from ivr.content.i18n import CLDR_LOCALES
from ivr.content.profile import Profile
from ivr.sms.plan import Outbound, Plan
from ivr.sms.staff import StaffGate, WrongPinAnswer
from ivr.sms.text import MAX_BODY, clean_body, truncate
from ivr.storage.crypto import NumberVault
from ivr.storage.sms_store import CODE_ALPHABET, CODE_LENGTH, CaseView, SmsStore

log = logging.getLogger(__name__)

# Codes of CODE_LENGTH; the 4-character codes of cases opened before stay answerable.
_STAFF_CODE = re.compile(r"^\W*#?\s*([" + CODE_ALPHABET + r"]{4," + str(CODE_LENGTH) + r"})\b"
                         r"[\s:,.;-]*(.*)$", re.IGNORECASE | re.DOTALL)


class Channel(Protocol):
    """What staff replies use of the SMS channel (ivr.sms.channel.SmsChannel)."""

    profile: Profile
    staff: StaffGate
    store: SmsStore
    vault: NumberVault

    def staff_text(self, prompt_id: str, **extra: str) -> str: ...

    def now(self) -> datetime: ...


class StaffReplies:
    """One hotline's staff replies, read through its channel (whose profile a test may swap)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def handle(self, body: str, sender: str) -> Plan:
        """A staff reply: relayed to the case's person, or refused with the reason told to
        the phone (the real one: a faked From never gets the answer)."""
        match = _STAFF_CODE.match(body.strip())
        event: dict[str, Any] = {"kind": "staff_reply"}
        if not match or not clean_body(match.group(2)):
            return Plan(answer=self.channel.staff_text("sms.staff.no_code"),
                        event={**event, "outcome": "no_code"})
        code = match.group(1).upper()
        phone = self.channel.vault.identity(sender)
        refused = self.channel.staff.refused(phone, code)
        if refused is not None:  # nothing looked up
            log.warning("SMS staff reply from %s refused: too many failed replies (%s) "
                        "until %s", self._phone_label(sender),
                        "from this phone" if refused.scope == "phone" else "to one case",
                        refused.until.isoformat(timespec="minutes"))
            subject = "limit" if refused.scope == "phone" else f"limit:{refused.scope}"
            told = self.channel.staff.notice_once(phone, subject)  # once, not per text
            answer = (self.channel.staff_text("sms.staff.limited", case=code,
                                              time=self._local_time(refused.until))
                      if told else None)
            return Plan(answer=answer, event={**event, "outcome": "limited"})
        unlocked = self.channel.staff.unlock(sender, match.group(2))
        if unlocked is None:  # checked before the code: the answer says nothing of a case
            return self._wrong_pin(sender, phone, code, event)
        text = clean_body(unlocked)
        if not text:
            return Plan(answer=self.channel.staff_text("sms.staff.no_code"),
                        event={**event, "outcome": "no_code"})
        case = self.channel.store.find_case(code)
        if case is None:
            self.channel.staff.unknown_code(phone)
            return Plan(answer=self.channel.staff_text("sms.staff.unknown", case=code),
                        event={**event, "outcome": "unknown"})
        event["case"] = code
        if self._closed(case):
            return Plan(answer=self.channel.staff_text("sms.staff.closed", case=code),
                        event={**event, "outcome": "closed"})
        if self.channel.store.opted_out(case.number_hash):
            return Plan(answer=self.channel.staff_text("sms.staff.opted_out", case=code),
                        event={**event, "outcome": "opted_out"})
        number = self.channel.vault.decrypt(case.number_encrypted)
        if number is None:
            return Plan(answer=self.channel.staff_text("sms.staff.failed", case=code),
                        event={**event, "outcome": "undecryptable"})
        self.channel.store.touch(code, self.channel.now())
        return Plan(relays=[Outbound(number, truncate(text, MAX_BODY))],
                    answer_if_relay_failed=self.channel.staff_text("sms.staff.failed", case=code),
                    event={**event, "language": case.language, "outcome": "relayed"})

    def _wrong_pin(self, sender: str, phone: str, code: str,
                   event: dict[str, Any]) -> Plan:
        """A reply without the phone's PIN: counted, logged as a possible faked number,
        answered until answers would feed a flood, then told once, then silent."""
        failures = self.channel.staff.wrong_pin(phone, code)
        log.warning("SMS staff reply with a wrong or missing PIN from %s (%d failed replies "
                    "from it this hour): a mistake, or its number faked",
                    self._phone_label(sender), failures)
        how = self.channel.staff.answer_to_wrong_pin(phone)
        answer = None
        if how == WrongPinAnswer.ANSWER:
            answer = self.channel.staff_text("sms.staff.wrong_pin", case=code)
        elif how == WrongPinAnswer.FLOOD:
            resume = (self.channel.staff.answers_resume_at(phone)
                      or self.channel.now() + timedelta(hours=1))
            answer = self.channel.staff_text("sms.staff.flood", time=self._local_time(resume))
            log.warning("SMS staff replies with a wrong PIN keep coming from %s: its number "
                        "is probably faked; no more answered until %s",
                        self._phone_label(sender), resume.isoformat(timespec="minutes"))
        return Plan(answer=answer, event={**event, "outcome": "wrong_pin"})

    def _phone_label(self, sender: str) -> str:
        """A helpline phone as the log names it: by its place in the profile, no number."""
        numbers = list(self.channel.profile.sms.helpline_numbers)
        place = numbers.index(sender) + 1 if sender in numbers else 0
        return f"helpline phone {place} of {len(numbers)}"

    def _local_time(self, moment: datetime) -> str:
        """A time as the staff read it: their language, the hotline's time zone."""
        lang = self.channel.profile.staff_language
        return format_time(moment.astimezone(self.channel.profile.timezone), "short",
                           locale=CLDR_LOCALES.get(lang, lang))

    def _closed(self, case: CaseView) -> bool:
        expiry = timedelta(days=self.channel.profile.sms.case_expiry_days)
        return case.state != "open" or case.last_activity_at < self.channel.now() - expiry
