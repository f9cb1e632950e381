"""Deleting what the retention period no longer allows (`ivr purge`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ivr.storage.models import SmsCase, SmsDelivery, SmsSender, VoiceMessage


@dataclass(frozen=True)
class Purged:
    cases: int
    voice_messages: int
    senders: int
    deliveries: int


def purge(engine: Engine, now: datetime, retention_days: int) -> Purged:
    """Delete SMS cases, voice-message references, language memories and delivery ids
    older than the retention period. Opt-outs stay: forgetting one would break a promise."""
    cutoff = now.astimezone(UTC) - timedelta(days=retention_days)
    with Session(engine) as session, session.begin():
        cases = session.execute(delete(SmsCase).where(SmsCase.last_activity_at < cutoff))
        voice = session.execute(delete(VoiceMessage).where(VoiceMessage.at < cutoff))
        senders = session.execute(delete(SmsSender).where(SmsSender.seen_at < cutoff))
        deliveries = session.execute(delete(SmsDelivery).where(SmsDelivery.at < cutoff))
    return Purged(cases.rowcount, voice.rowcount, senders.rowcount,  # type: ignore[attr-defined]
                  deliveries.rowcount)  # type: ignore[attr-defined]
