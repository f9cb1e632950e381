"""The /sms webhook: reads Twilio's form, asks the channel for a plan, and renders it as
TwiML <Message>s or sends it through the REST API."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from ivr.content.safe_text import xml_safe
from ivr.security import twilio_signed
from ivr.sms.channel import SMS_CHANNEL, Inbound, Plan
from ivr.sms.outbound import SMS_SENDER
from ivr.sms.text import MAX_BODY
from ivr.storage.db import EVENTS
from ivr.storage.writer import EventLog

log = logging.getLogger(__name__)

Sender = Callable[[str, str, str], bool]  # (to, from, body) -> sent
RETRY_AFTER_S = 10


def as_twiml(plan: Plan) -> MessagingResponse:
    """The plan as TwiML: <Message to=…> for relays, a bare <Message> for the answer.

    A relay carries the person's own words, which may hold anything: what XML forbids is
    taken out, so that the document, and the relay in it, always reaches Twilio."""
    response = MessagingResponse()
    for relay in plan.relays:
        response.message(xml_safe(relay.body, "an SMS relay"), to=relay.to)
    if plan.answer:
        response.message(xml_safe(plan.answer, "an SMS answer"))
    return response


def send_by_rest(plan: Plan, send: Sender, message: Inbound) -> tuple[int, bool]:
    """Send the plan through the REST API from the number the message came to.

    (relays sent, answer sent); when no relay went out, the fallback answer replaces the
    answer. A sender that raises counts as not sent.
    """
    def sent(to: str, body: str) -> bool:
        try:
            return bool(send(to, message.to_number, body))
        except Exception as exc:  # noqa: BLE001 — a network error is a failed send, not a 500
            log.warning("an outbound SMS failed: %s", type(exc).__name__)
            return False

    relayed = sum(sent(relay.to, relay.body) for relay in plan.relays)
    answer = plan.answer
    if plan.relays and not relayed and plan.answer_if_relay_failed:
        answer = plan.answer_if_relay_failed
    answered = sent(message.from_number, answer) if answer else False
    return relayed, answered


def twiml_response(twiml: MessagingResponse) -> Response:
    return Response(str(twiml), mimetype="application/xml")


bp = Blueprint("sms", __name__)


def _inbound_message() -> Inbound:
    form = request.form
    return Inbound(sid=(form.get("MessageSid") or form.get("SmsSid") or "")[:64],
                   from_number=form.get("From", "")[:32],
                   to_number=form.get("To", "")[:32],
                   body=form.get("Body", "")[:MAX_BODY * 2],
                   opt_out_type=form.get("OptOutType", "")[:16])


@bp.post("/sms")
@twilio_signed
def inbound() -> Response:
    """Twilio's messaging webhook."""
    message = _inbound_message()
    channel = SMS_CHANNEL.get()
    events = EVENTS.get()
    try:
        plan = channel.handle(message)
    except Exception as exc:  # noqa: BLE001 — a sender must get an answer, never a 500
        # The place, not the traceback: an exception's text might quote the message.
        last = traceback.extract_tb(exc.__traceback__)[-1]
        reason = f"handling failed: {type(exc).__name__} at {last.filename}:{last.lineno}"
        try:
            plan = channel.unstored(message, reason)
        except Exception:  # noqa: BLE001 — even the masked relay failed: the numbers
            log.error("SMS %s %s; not relayed", message.sid, reason)
            lang = channel.profile.default_language
            plan = Plan(answer=channel.reply_text(lang, "sms.relay_failed"),
                        event={"kind": "error"})
    outcome: str | None = None
    if current_app.config["SMS_USE_REST_API"]:
        send = SMS_SENDER.get()  # None: no account to send with (production refuses that)
        relayed, answered = send_by_rest(plan, send, message) if send else (0, False)
        if plan.relays and not relayed and not answered:
            # Nothing reached anyone (Twilio's API unreachable): let Twilio retry it.
            log.warning("SMS %s: nothing could be sent; answering 503 for Twilio's retry",
                        message.sid)
            if plan.finish_sid:
                channel.release(plan.finish_sid)
            _record(events, plan, "send_failed")
            return Response(status=503, headers={"Retry-After": str(RETRY_AFTER_S)})
        if plan.relays and relayed < len(plan.relays):
            log.warning("SMS %s: a relay was not accepted by Twilio", message.sid)
            outcome = "send_failed"
        channel.finish(plan)
        _record(events, plan, outcome)
        return twiml_response(MessagingResponse())
    _record(events, plan, outcome)
    response = twiml_response(as_twiml(plan))
    # Handled once Twilio has the TwiML: a worker killed before that leaves it to the retry.
    response.call_on_close(lambda: channel.finish(plan))
    return response


def _record(events: EventLog, plan: Plan, outcome: str | None) -> None:
    event = dict(plan.event)
    case = event.pop("case", None)
    if outcome is not None:
        event["outcome"] = outcome
    events.event("sms", event.pop("kind", "received"), f"sms-case:{case}" if case else None,
                 **{k: v for k, v in event.items() if k in ("language", "node", "outcome")})
