"""Outbound SMS through twilio's REST Client; in local mode, an outbox kept in memory.

Every REST call has a short timeout: the numbers sent by SMS during a call are sent inside
the voice webhook, and a slow API must not hold the caller in silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)

REST_TIMEOUT_S = 3.0  # connect and read, per request (requests' timeout)


def rest_client(account_sid: str, auth_token: str) -> Client:
    """twilio's Client with a timeout on every request and no retries."""
    return Client(account_sid, auth_token,
                  http_client=TwilioHttpClient(timeout=REST_TIMEOUT_S, max_retries=0))


@dataclass
class TwilioSender:
    """Sends one SMS with twilio's Client; a Twilio or network error is a False, never a
    crash."""

    client: Client

    def __call__(self, to: str, from_: str, body: str) -> bool:
        try:
            self.client.messages.create(to=to, from_=from_, body=body)
        except TwilioException as exc:
            log.warning("Twilio refused an outbound SMS: %s", getattr(exc, "code", type(exc)))
            return False
        except Exception as exc:  # noqa: BLE001 — ConnectionError, a timeout: not sent
            log.warning("an outbound SMS did not reach Twilio: %s", type(exc).__name__)
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
        sender = TwilioSender(rest_client(sid, token)) if sid and token else LocalOutbox()
    app.extensions["sms_sender"] = sender
