"""Outbound SMS through twilio's REST Client; in local mode, an outbox kept in memory."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

log = logging.getLogger(__name__)


@dataclass
class TwilioSender:
    """Sends one SMS with twilio's Client; a Twilio error is a False, never a crash."""

    client: Client

    def __call__(self, to: str, from_: str, body: str) -> bool:
        try:
            self.client.messages.create(to=to, from_=from_, body=body)
        except TwilioException as exc:
            log.warning("Twilio refused an outbound SMS: %s", getattr(exc, "code", type(exc)))
            return False
        return True


@dataclass
class LocalOutbox:
    """Local mode: nothing leaves the machine; the console and tests read what would."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def __call__(self, to: str, from_: str, body: str) -> bool:
        self.sent.append((to, from_, body))
        log.info("local mode: an SMS of %d characters was not sent", len(body))
        return True


def init_app(app: Flask) -> None:
    # twilio's HTTP client logs each API request at INFO; keep only its warnings.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    sender = app.config.get("SMS_SENDER")
    if sender is None:
        sid, token = app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"]
        sender = TwilioSender(Client(sid, token)) if sid and token else LocalOutbox()
    app.extensions["sms_sender"] = sender
