"""What one inbound message causes: the messages to send, and what to record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    finish_sid: str | None = None  # the MessageSid to mark handled once the relays went out
