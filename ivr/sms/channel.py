"""The SMS channel: keywords answered in the sender's language, free text relayed to the
helpline under a case code, the helpline's replies passed back, opt-outs honoured.

`SmsChannel.handle` is plain Python (no Flask): it turns one inbound message into a Plan
(messages to the helpline or the person, the answer to the sender). The `/sms` view only
reads Twilio's form and renders the plan as TwiML <Message>s or REST API sends.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from ivr.content.i18n import suggest_language
from ivr.content.profile import Profile
from ivr.content.speech import Prompter
from ivr.security import twilio_signed
from ivr.settings import SETTINGS, ServiceKey
from ivr.sms.outbound import SMS_SENDER
from ivr.sms.staff import StaffGate
from ivr.sms.text import (
    MAX_BODY,
    KeywordMatch,
    KeywordTable,
    clean_body,
    detect_language,
    gsm_friendly,
    normalize_keyword,
    truncate,
    warm_language_model,
)
from ivr.storage.crypto import NumberVault, local_key
from ivr.storage.db import EVENTS, make_engine
from ivr.storage.sms_store import CODE_ALPHABET, CODE_LENGTH, CaseView, SmsStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sender = Callable[[str, str, str], bool]  # (to, from, body) -> sent
MAX_REPLY_SEGMENTS = 2
TWILIO_OPT_OUT_TYPES = {"STOP": "stop", "START": "start", "HELP": "help"}
KEYWORD_REPLIES = {"help": "sms.help", "signs": "sms.signs", "police": "sms.police",
                   "languages": "sms.languages"}
# Codes of CODE_LENGTH; the 4-character codes of cases opened before stay answerable.
_STAFF_CODE = re.compile(r"^\W*#?\s*([" + CODE_ALPHABET + r"]{4," + str(CODE_LENGTH) + r"})\b"
                         r"[\s:,.;-]*(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as Twilio posts it."""

    sid: str
    from_number: str
    to_number: str
    body: str
    # Twilio's OptOutType (STOP, START, HELP) when Twilio itself acted on and answered a
    # keyword (its own words, or those set in Advanced Opt-Out).
    opt_out_type: str = ""


@dataclass(frozen=True, slots=True)
class Outbound:
    to: str
    body: str


@dataclass
class Plan:
    """What to send for one inbound message."""

    relays: list[Outbound] = field(default_factory=list)  # to the helpline or the person
    answer: str | None = None  # to the sender
    answer_if_relay_failed: str | None = None  # instead of `answer`, when no relay went out
    event: dict[str, Any] = field(default_factory=dict)


def e164(number: str) -> str | None:
    """A number in E.164, or None for what is not a phone number (short codes, garbage)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # --- texts ------------------------------------------------------------------------

    def reply_text(self, lang: str, prompt_id: str, **extra: str) -> str:
        """A reply in a language, in the profile's wording (discreet or plain)."""
        discreet_id = f"{prompt_id}.discreet"
        if self.profile.sms.discreet and discreet_id in self.profile.all_prompt_ids():
            prompt_id = discreet_id
        text, _ = self.prompter.text(lang, prompt_id, extra, written=True)
        return gsm_friendly(text)

    def staff_text(self, prompt_id: str, **extra: str) -> str:
        text, _ = self.prompter.text(self.profile.staff_language, prompt_id, extra,
                                     written=True)
        return gsm_friendly(text)

    def keyword_list(self) -> str:
        """The help word of every language, for the "languages" reply."""
        words = [self.profile.sms.keywords.get("help", {}).get(code, ())[:1]
                 for code in self.profile.languages]
        return " ".join(dict.fromkeys(w[0] for w in words if w))

    # --- inbound ----------------------------------------------------------------------

    def handle(self, message: Inbound) -> Plan:
        """Decide what one inbound message causes; never raises for the sender's input."""
        sender = e164(message.from_number)
        if sender is None:
            return Plan(event={"kind": "unusable_sender"})
        if sender in self.helpline:
            return self._guarded(message, self._from_helpline, sender)
        return self._guarded(message, self._from_person, sender)

    def _guarded(self, message: Inbound, handler: Callable[[Inbound, str], Plan],
                 sender: str) -> Plan:
        recorded = False
        try:
            if message.sid:
                if not self.store.first_delivery(message.sid, self.now()):
                    return Plan(event={"kind": "duplicate"})
                recorded = True
            return handler(message, sender)
        except (SQLAlchemyError, RuntimeError) as exc:
            # The database is down: the sender still gets the numbers; nothing is relayed.
            log.warning("SMS not relayed, storage failed: %s", type(exc).__name__)
            if recorded:
                self._forget(message.sid)
            if sender in self.helpline:
                return Plan(answer=self.staff_text("sms.staff.failed", case="?"),
                            event={"kind": "staff_reply", "outcome": "storage_failed"})
            lang = self._language_without_storage(message)
            return Plan(answer=self.reply_text(lang, "sms.relay_failed"),
                        event={"kind": "relay", "language": lang, "outcome": "storage_failed"})

    def _forget(self, sid: str) -> None:
        try:
            self.store.forget_delivery(sid)
        except SQLAlchemyError:
            pass  # the database is still down: a retry will be taken for a duplicate

    def _language_without_storage(self, message: Inbound) -> str:
        match = self.keywords.match(message.body)
        if match:
            return match.language(None, self.profile.default_language)
        return (detect_language(message.body, self.profile.languages)
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
        # The last keyword's language, else the text's, else the open case's, else the one
        # the number's country suggests (+380 and unclear Cyrillic: Ukrainian), else the
        # profile's default.
        clear = (self.store.language_of(identity)
                 or detect_language(text, self.profile.languages))
        fallback = (suggest_language(self.profile, None, sender)
                    or self.profile.default_language)
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
        failed = None if opted_out else self.reply_text(lang, "sms.relay_failed")
        return Plan(relays=relays, answer=answer, answer_if_relay_failed=failed,
                    event={"kind": "relay", "language": lang, "case": case.code,
                           "outcome": "relayed"})

    def _from_helpline(self, message: Inbound, sender: str) -> Plan:
        match = _STAFF_CODE.match(message.body.strip())
        event: dict[str, Any] = {"kind": "staff_reply"}
        if not match or not clean_body(match.group(2)):
            return Plan(answer=self.staff_text("sms.staff.no_code"),
                        event={**event, "outcome": "no_code"})
        code = match.group(1).upper()
        sender_key = self.vault.identity(sender)
        if not self.staff.may_try(sender_key):  # guessing: no answer, nothing looked up
            return Plan(event={**event, "outcome": "limited"})
        unlocked = self.staff.unlock(sender, match.group(2))
        text = clean_body(unlocked or "")
        if unlocked is not None and not text:
            return Plan(answer=self.staff_text("sms.staff.no_code"),
                        event={**event, "outcome": "no_code"})
        # A wrong PIN is answered as an unknown code: neither half of a guess is confirmed.
        case = self.store.find_case(code) if unlocked is not None else None
        event["case"] = code
        if case is None:
            self.staff.failed(sender_key)
            return Plan(answer=self.staff_text("sms.staff.unknown", case=code),
                        event={**event, "outcome": "unknown"})
        if self._closed(case):
            return Plan(answer=self.staff_text("sms.staff.closed", case=code),
                        event={**event, "outcome": "closed"})
        if self.store.opted_out(case.number_hash):
            return Plan(answer=self.staff_text("sms.staff.opted_out", case=code),
                        event={**event, "outcome": "opted_out"})
        number = self.vault.decrypt(case.number_encrypted)
        if number is None:
            return Plan(answer=self.staff_text("sms.staff.failed", case=code),
                        event={**event, "outcome": "undecryptable"})
        self.store.touch(code, self.now())
        return Plan(relays=[Outbound(number, truncate(text, MAX_BODY))],
                    answer_if_relay_failed=self.staff_text("sms.staff.failed", case=code),
                    event={**event, "language": case.language, "outcome": "relayed"})

    def _closed(self, case: CaseView) -> bool:
        expiry = timedelta(days=self.profile.sms.case_expiry_days)
        return case.state != "open" or case.last_activity_at < self.now() - expiry


# --- rendering --------------------------------------------------------------------


def as_twiml(plan: Plan) -> MessagingResponse:
    """The plan as TwiML: <Message to=…> for relays, a bare <Message> for the answer."""
    response = MessagingResponse()
    for relay in plan.relays:
        response.message(relay.body, to=relay.to)
    if plan.answer:
        response.message(plan.answer)
    return response


def send_by_rest(plan: Plan, send: Sender, message: Inbound) -> bool:
    """Send the plan through the REST API from the number the message came to.

    True if every relay went out; when none did, the fallback answer replaces the answer.
    """
    sent = [send(relay.to, message.to_number, relay.body) for relay in plan.relays]
    all_sent = all(sent)
    answer = plan.answer
    if plan.relays and not any(sent) and plan.answer_if_relay_failed:
        answer = plan.answer_if_relay_failed
    if answer:
        send(message.from_number, message.to_number, answer)
    return all_sent


def twiml_response(twiml: MessagingResponse) -> Response:
    return Response(str(twiml), mimetype="application/xml")


bp = Blueprint("sms", __name__)


@bp.post("/sms")
@twilio_signed
def inbound() -> Response:
    """Twilio's messaging webhook."""
    form = request.form
    message = Inbound(sid=(form.get("MessageSid") or form.get("SmsSid") or "")[:64],
                      from_number=form.get("From", "")[:32],
                      to_number=form.get("To", "")[:32],
                      body=form.get("Body", "")[:MAX_BODY * 2],
                      opt_out_type=form.get("OptOutType", "")[:16])
    channel = SMS_CHANNEL.get()
    events = EVENTS.get()
    try:
        plan = channel.handle(message)
    except Exception as exc:  # noqa: BLE001 — a sender must get an answer, never a 500
        log.error("SMS handling failed: %s", type(exc).__name__)
        lang = channel.profile.default_language
        plan = Plan(answer=channel.reply_text(lang, "sms.relay_failed"),
                    event={"kind": "error"})
    outcome = _deliver(plan, message)
    event = dict(plan.event)
    case = event.pop("case", None)
    if outcome is not None:
        event["outcome"] = outcome
    events.event("sms", event.pop("kind", "received"), f"sms-case:{case}" if case else None,
                 **{k: v for k, v in event.items() if k in ("language", "node", "outcome")})
    if current_app.config["SMS_USE_REST_API"]:
        return twiml_response(MessagingResponse())
    return twiml_response(as_twiml(plan))


def _deliver(plan: Plan, message: Inbound) -> str | None:
    """REST mode: send now; a changed outcome if a relay failed."""
    if not current_app.config["SMS_USE_REST_API"]:
        return None
    send = SMS_SENDER.get()
    if (send is None or not send_by_rest(plan, send, message)) and plan.relays:
        log.warning("an SMS relay was not accepted by Twilio")
        return "send_failed"
    return None


SMS_CHANNEL: ServiceKey[SmsChannel] = ServiceKey("sms")
SMS_STORE: ServiceKey[SmsStore] = ServiceKey("sms_store")


def init_app(app: Flask) -> None:
    hotline = app.extensions["hotline"]  # voice.hotline.HOTLINE (sms may not import voice)
    settings = SETTINGS.get(app)
    app.config["SMS_USE_REST_API"] = bool(app.config.get("SMS_USE_REST_API")
                                          or hotline.profile.sms.use_rest_api)
    # A key kept in instance/ in local mode only: production refuses to start without one.
    key = str(app.config.get("NUMBER_ENCRYPTION_KEY") or local_key(app.instance_path))
    vault = NumberVault.from_settings(key, app.config["SECRET_KEY"])
    store = SmsStore(make_engine(app.config["DATABASE_URL"]))
    SMS_STORE.set(app, store)
    staff = StaffGate(settings.staff_pin, settings.ratelimit_storage_uri or "memory://")
    SMS_CHANNEL.set(app, SmsChannel(hotline.profile, hotline.prompter, store, vault,
                                    clock=app.config.get("CLOCK"), staff=staff))
    app.register_blueprint(bp)
    # Load the language model now, off the request path (about half a second).
    threading.Thread(target=warm_language_model, args=(tuple(hotline.profile.languages),),
                     name="langid-warmup", daemon=True).start()


__all__ = ["Inbound", "Outbound", "Plan", "SmsChannel", "as_twiml", "init_app",
           "normalize_keyword", "send_by_rest"]
