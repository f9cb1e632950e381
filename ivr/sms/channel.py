"""The SMS channel: keywords answered in the sender's language, free text relayed to the
helpline under a case code, the helpline's replies passed back, opt-outs honoured.

`SmsChannel.handle` is plain Python (no Flask): it turns one inbound message into a Plan
(messages to the helpline or the person, the answer to the sender). The `/sms` view only
reads Twilio's form and renders the plan as TwiML <Message>s or REST API sends
(ivr/sms/views.py); ivr/sms/wiring.py builds the channel for the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from ivr.content.i18n import CLDR_LOCALES, SOURCE_LANGUAGE, suggest_language
from ivr.content.profile import Profile, e164
from ivr.content.speech import Prompter, is_right_to_left
from ivr.settings import ServiceKey
from ivr.sms.language import bilingual, language_of_text
from ivr.sms.plan import Inbound, Outbound, Plan
from ivr.sms.staff import StaffGate
from ivr.sms.staff_replies import StaffReplies
from ivr.sms.text import (
    MAX_BODY,
    KeywordMatch,
    KeywordTable,
    clean_body,
    gsm_friendly,
    normalize_keyword,
    right_to_left,
    truncate,
)
from ivr.storage.crypto import NumberVault
from ivr.storage.engines import within
from ivr.storage.sms_store import BUSY, DONE, SmsStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_REPLY_SEGMENTS = 2
TWILIO_OPT_OUT_TYPES = {"STOP": "stop", "START": "start", "HELP": "help"}
KEYWORD_REPLIES = {"help": "sms.help", "signs": "sms.signs", "police": "sms.police",
                   "languages": "sms.languages"}
# The code of a text relayed while storage failed: no case, so staff cannot answer it by SMS.
MASKED_CODE = "----"
# Deadlines (s) for the database work of one message; past them the text is relayed masked.
STEP_DEADLINE_S = 2.5
WORK_DEADLINE_S = 6.0
# A duplicate waits this long for the first delivery's outcome: longer than the claim lease,
# so that a dead worker's message is taken over by its retry.
BUSY_WAIT_S = 10.5


class SmsChannel:
    """One hotline's SMS channel."""

    def __init__(self, profile: Profile, prompter: Prompter, store: SmsStore,
                 vault: NumberVault, clock: Clock | None = None,
                 staff: StaffGate | None = None) -> None:
        self.profile = profile
        self.staff = staff or StaffGate()
        self.prompter = prompter
        self.store = store
        self.vault = vault
        self.clock = clock or (lambda: datetime.now(UTC))
        self.keywords = KeywordTable(profile.sms.keywords, profile.languages)
        self.helpline = frozenset(profile.sms.helpline_numbers)
        self.replies = StaffReplies(self)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # --- texts ------------------------------------------------------------------------

    def reply_text(self, lang: str, prompt_id: str, **extra: str) -> str:
        """A reply in a language, in the profile's wording (discreet or plain)."""
        discreet_id = f"{prompt_id}.discreet"
        if self.profile.sms.discreet and discreet_id in self.profile.all_prompt_ids():
            prompt_id = discreet_id
        return self._written(lang, prompt_id, extra)

    def staff_text(self, prompt_id: str, **extra: str) -> str:
        return self._written(self.profile.staff_language, prompt_id, extra)

    def _written(self, lang: str, prompt_id: str, extra: Mapping[str, str]) -> str:
        text, used = self.prompter.text(lang, prompt_id, extra, written=True)
        text = gsm_friendly(text)
        return right_to_left(text) if is_right_to_left(CLDR_LOCALES.get(used, used)) else text

    def keyword_list(self) -> str:
        """The help word of every language, for the "languages" reply."""
        words = [self.profile.sms.keywords.get("help", {}).get(code, ())[:1]
                 for code in self.profile.languages]
        return " ".join(dict.fromkeys(w[0] for w in words if w))

    # --- inbound ----------------------------------------------------------------------

    def handle(self, message: Inbound) -> Plan:
        """Decide what one inbound message causes; never raises for the sender's input.

        The MessageSid is claimed first and counts as handled only when `finish` says the
        relay went out: a crash or timeout in between leaves it to Twilio's retry.
        """
        sender = e164(message.from_number)
        if sender is None:
            return Plan(event={"kind": "unusable_sender"})
        handler = self._from_helpline if sender in self.helpline else self._from_person
        if message.sid:
            try:
                state = self._claim(message.sid)
            except (SQLAlchemyError, TimeoutError) as exc:
                return self._unstored(message, sender, f"storage failed: {type(exc).__name__}")
            if state == DONE:
                return Plan(event={"kind": "duplicate"})
            if state == BUSY:
                log.warning("SMS %s: a duplicate while the first delivery is still being "
                            "handled; answered empty", message.sid)
                return Plan(event={"kind": "duplicate", "outcome": "in_flight"})
        try:
            plan = within(WORK_DEADLINE_S, handler, message, sender, lane="sms")
        except (SQLAlchemyError, RuntimeError, TimeoutError) as exc:
            if message.sid:
                self.release(message.sid)
            reason = ("storage timed out" if isinstance(exc, TimeoutError)
                      else f"storage failed: {type(exc).__name__}")
            return self._unstored(message, sender, reason)
        plan.finish_sid = message.sid or None
        return plan

    def finish(self, plan: Plan) -> None:
        """Mark the plan's MessageSid handled, once its relays went out (or were answered)."""
        if not plan.finish_sid:
            return
        try:
            within(STEP_DEADLINE_S, self.store.finish_delivery, plan.finish_sid, lane="sms")
        except (SQLAlchemyError, TimeoutError) as exc:
            # Still claimed: a retry after the lease relays it again (twice, never lost).
            log.warning("SMS %s relayed but not marked handled: %s", plan.finish_sid,
                        type(exc).__name__)

    def _claim(self, sid: str) -> str:
        """Claim the MessageSid; while another worker handles it, wait for its outcome
        (or for its lease to end: a dead worker's message is then handled here)."""
        give_up = time.monotonic() + BUSY_WAIT_S
        while True:
            state = within(STEP_DEADLINE_S, self.store.claim_delivery, sid, self.now(), lane="sms")
            if state != BUSY or time.monotonic() >= give_up:
                return state
            time.sleep(0.2)

    def release(self, sid: str) -> None:
        try:
            within(STEP_DEADLINE_S, self.store.release_delivery, sid, lane="sms")
        except (SQLAlchemyError, TimeoutError):
            pass  # the claim ends with its lease: a retry after it is handled

    def unstored(self, message: Inbound, reason: str) -> Plan:
        """What to do when handling failed for any reason: the masked relay."""
        sender = e164(message.from_number)
        if sender is None:
            return Plan(event={"kind": "unusable_sender"})
        return self._unstored(message, sender, reason)

    def _unstored(self, message: Inbound, sender: str, reason: str) -> Plan:
        """Storage failed: keywords are answered, free text reaches the helpline masked (no
        number, no code: staff cannot answer it by SMS) and the sender is told to call."""
        log.warning("SMS %s not relayed normally, %s", message.sid or "(no MessageSid)", reason)
        if sender in self.helpline:
            return Plan(answer=self.staff_text("sms.staff.failed", case="?"),
                        event={"kind": "staff_reply", "outcome": "storage_failed"})
        lang = self._language_without_storage(message)
        match = self.keywords.match(message.body)
        text = clean_body(message.body)
        if match is not None and match.kind in KEYWORD_REPLIES and not message.opt_out_type:
            return Plan(answer=self.reply_text(lang, KEYWORD_REPLIES[match.kind],
                                               keywords=self.keyword_list()),
                        event={"kind": "keyword", "node": match.kind, "language": lang,
                               "outcome": "storage_failed"})
        if not text or not self.helpline:
            return Plan(answer=self.reply_text(lang, "sms.relay_failed"),
                        event={"kind": "relay", "language": lang, "outcome": "storage_failed"})
        head = f"#{MASKED_CODE} [{lang}] "
        relays = [Outbound(number, head + truncate(text, MAX_BODY - len(head)))
                  for number in self.profile.sms.helpline_numbers]
        if match is not None and match.kind in ("stop", "start"):
            # Not recorded: staff read it; someone who asked for silence gets none.
            return Plan(relays=relays, event={"kind": "keyword", "node": match.kind,
                                              "language": lang, "outcome": "storage_failed"})
        answer = self.reply_text(lang, "sms.relayed_unanswerable")
        return Plan(relays=relays, answer=answer,
                    answer_if_relay_failed=self.reply_text(lang, "sms.relay_failed"),
                    event={"kind": "relay", "language": lang, "outcome": "relayed_masked"})

    def _language_without_storage(self, message: Inbound) -> str:
        match = self.keywords.match(message.body)
        if match:
            return match.language(None, self.profile.default_language)
        return (language_of_text(message.body, self.keywords, self.profile.languages)
                or self.profile.default_language)

    def _from_person(self, message: Inbound, sender: str) -> Plan:
        identity = self.vault.identity(sender)
        match = self.keywords.match(message.body)
        twilio_kind = TWILIO_OPT_OUT_TYPES.get(message.opt_out_type.strip().upper())
        if twilio_kind and (match is None or match.kind != twilio_kind):
            match = KeywordMatch(twilio_kind, match.languages if match else (), True)
        elif match is not None and twilio_kind:
            match = KeywordMatch(match.kind, match.languages, True)
        if match is not None and match.kind == "start" and not self.store.opted_out(identity):
            # "Yes" from someone who never opted out is an answer for the helpline.
            match = None
        if match is not None:
            return self._keyword(match, identity)
        return self._relay(message, sender, identity)

    def _keyword(self, match: KeywordMatch, identity: str) -> Plan:
        """Answer a keyword; where Twilio has answered it already (twilio_word), record its
        effect and stay silent, so the sender never gets two replies."""
        now = self.now()
        known = self.store.language_of(identity)
        lang = match.language(known, self.profile.default_language)
        event = {"kind": "keyword", "node": match.kind, "language": lang}
        if match.kind == "stop":
            codes = self.store.opt_out(identity, now)
            tell = [Outbound(number, self.staff_text("sms.staff.opted_out", case=code))
                    for code in codes for number in self.profile.sms.helpline_numbers]
            # Twilio answers its own STOP words (and blocks our reply): say nothing then.
            answer = None if match.twilio_word else self.reply_text(lang, "sms.stopped")
            return Plan(relays=tell, answer=answer, event=event)
        if match.kind == "start":
            self.store.opt_in(identity)
            answer = None if match.twilio_word else self.reply_text(lang, "sms.started")
            return Plan(answer=answer, event=event)
        if len(match.languages) == 1 or known is None:
            # A word of several languages (POLICE: en, fr) says little about the sender's.
            self.store.remember_language(identity, lang, now)
        prompt_id = KEYWORD_REPLIES.get(match.kind)
        if prompt_id is None:  # a kind a profile added without a reply: the numbers
            prompt_id = "sms.help"
        if match.twilio_word:
            return Plan(event={**event, "outcome": "answered_by_twilio"})
        return Plan(answer=self.reply_text(lang, prompt_id, keywords=self.keyword_list()),
                    event=event)

    def _relay(self, message: Inbound, sender: str, identity: str) -> Plan:
        now = self.now()
        text = clean_body(message.body)
        # This text's own language, else the last one the sender was clear in (a keyword or
        # an earlier text), else the open case's, else the one the number's country
        # suggests (+380 and unclear Cyrillic: Ukrainian), else the profile's default. The
        # latest text wins over an earlier keyword: HELP is on every poster, and people of
        # every language send it first.
        remembered = self.store.language_of(identity)
        detected = language_of_text(text, self.keywords, self.profile.languages)
        if detected is not None and detected != remembered:
            self.store.remember_language(identity, detected, now)
        clear = detected or remembered
        suggested = suggest_language(self.profile, None, sender)
        fallback = suggested or self.profile.default_language
        if not text or not self.helpline:
            lang = clear or fallback
            if not text:
                return Plan(answer=self.reply_text(lang, "sms.help"),
                            event={"kind": "empty", "language": lang})
            return Plan(answer=self.reply_text(lang, "sms.relay_failed"),
                        event={"kind": "relay", "language": lang, "outcome": "no_helpline"})
        case = self.store.case_for(identity, self.vault.encrypt(sender), clear, fallback, now,
                                   self.profile.sms.case_expiry_days)
        lang = case.language or fallback
        opted_out = self.store.opted_out(identity)
        head = f"#{case.code} [{lang}] "
        relays = [Outbound(number, head + truncate(text, MAX_BODY - len(head)))
                  for number in self.profile.sms.helpline_numbers]
        # Someone who opted out still reaches the helpline, but gets nothing back.
        answer = None if opted_out else self.reply_text(lang, "sms.ack")
        # Unclear (no keyword, no sure language, no country, nothing from before): a short
        # acknowledgement in the default language and English, not a confident wrong one.
        if not (clear or suggested or opted_out) and case.language == fallback:
            answer = bilingual(self.reply_text(lang, "sms.ack.short"),
                               self.reply_text(SOURCE_LANGUAGE, "sms.ack.short"))
        failed = None if opted_out else self.reply_text(lang, "sms.relay_failed")
        return Plan(relays=relays, answer=answer, answer_if_relay_failed=failed,
                    event={"kind": "relay", "language": lang, "case": case.code,
                           "outcome": "relayed"})

    def _from_helpline(self, message: Inbound, sender: str) -> Plan:
        return self.replies.handle(message.body, sender)


SMS_CHANNEL: ServiceKey[SmsChannel] = ServiceKey("sms")
SMS_STORE: ServiceKey[SmsStore] = ServiceKey("sms_store")


__all__ = ["SMS_CHANNEL", "SMS_STORE", "Inbound", "Outbound", "Plan", "SmsChannel", "e164",
           "normalize_keyword"]
