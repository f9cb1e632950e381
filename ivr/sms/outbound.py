"""Outbound SMS through twilio's REST Client; in local mode only, an outbox kept in memory.

Every REST call has a short timeout: the numbers sent by SMS during a call are sent inside
the voice webhook, and a slow API must not hold the caller in silence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from ivr.settings import SETTINGS, ServiceKey
from ivr.twilio_rest import rest_client

log = logging.getLogger(__name__)

Sender = Callable[[str, str, str], bool]  # (to, from, body) -> sent


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


# None: nothing can be sent (production without an account SID, for a profile that needs
# none); callers are then never told that something was sent.
SMS_SENDER: ServiceKey[Sender | None] = ServiceKey("sms_sender")


def choose_sender(sid: str, token: str, local_mode: bool, region: str = "", edge: str = ""
                  ) -> Sender | None:
    """Twilio's Client when it can send; the outbox in local mode only; else nothing."""
    if sid and token:
        return TwilioSender(rest_client(sid, token, region, edge))
    return LocalOutbox() if local_mode else None


def init_app(app: Flask) -> None:
    # twilio's HTTP client logs each API request at INFO; keep only its warnings.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    sender = app.config.get("SMS_SENDER")
    if sender is None:
        settings = SETTINGS.get(app)
        sender = choose_sender(settings.twilio_account_sid, settings.twilio_auth_token,
                               settings.local_mode, settings.twilio_region, settings.twilio_edge)
    SMS_SENDER.set(app, sender)
