"""What the SMS channel keeps in the database: cases, opt-outs, language memory, MessageSids.

Every method raises SQLAlchemyError when the database fails; the channel answers the
sender anyway, and the text reaches the helpline (ivr/sms/channel.py). Nothing here stores
a number in clear or a message body.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.storage.models import SmsCase, SmsDelivery, SmsOptOut, SmsSender, as_utc

# No 0/O, 1/I/L, 5/S, 8/B: a code read off a small screen and typed back must survive.
CODE_ALPHABET = "234679ACDEFGHJKMNPQRTUVWXYZ"
CODE_LENGTH = 8  # 27^8: about 2.8e11 codes (4 gave 531,441, enumerable)
CLAIMED, DONE, BUSY = "claimed", "done", "busy"
# Longer than a live worker can hold a message (the /sms deadline, ivr/sms/views.py):
# a claim this old is a dead worker's.
CLAIM_LEASE = timedelta(seconds=10)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as the channel needs it, detached from the session."""

    code: str
    number_encrypted: str
    number_hash: str
    language: str | None
    state: str
    last_activity_at: datetime


def _view(case: SmsCase) -> CaseView:
    return CaseView(case.code, case.number_encrypted, case.number_hash, case.language,
                    case.state, as_utc(case.last_activity_at))


class SmsStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim_delivery(self, message_sid: str, now: datetime,
                       lease: timedelta = CLAIM_LEASE) -> str:
        """Claim a MessageSid for handling: "claimed" (handle it), "done" (handled before:
        a duplicate) or "busy" (another worker is handling it right now).

        A claim older than `lease` belongs to a worker that died or gave up: it is taken over.
        """
        sid = message_sid[:64]
        try:
            with Session(self.engine) as session, session.begin():
                session.add(SmsDelivery(message_sid=sid, at=now, state=CLAIMED))
            return CLAIMED
        except IntegrityError:
            pass
        with Session(self.engine) as session, session.begin():
            taken = session.execute(
                update(SmsDelivery).where(SmsDelivery.message_sid == sid,
                                          SmsDelivery.state == CLAIMED,
                                          SmsDelivery.at < now - lease)
                .values(at=now))
            if taken.rowcount:  # type: ignore[attr-defined]
                return CLAIMED
            state = session.scalar(select(SmsDelivery.state)
                                   .where(SmsDelivery.message_sid == sid))
        if state is None:  # released in between: claim it again
            return self.claim_delivery(message_sid, now, lease)
        return DONE if state == DONE else BUSY

    def finish_delivery(self, message_sid: str) -> None:
        """The message was relayed or answered: from now on its MessageSid is a duplicate."""
        with Session(self.engine) as session, session.begin():
            session.execute(update(SmsDelivery).where(SmsDelivery.message_sid
                                                      == message_sid[:64]).values(state=DONE))

    def release_delivery(self, message_sid: str) -> None:
        """Let Twilio's retry of a message we failed to handle be handled after all."""
        with Session(self.engine) as session, session.begin():
            session.execute(delete(SmsDelivery).where(SmsDelivery.message_sid
                                                      == message_sid[:64],
                                                      SmsDelivery.state == CLAIMED))

    def opted_out(self, number_hash: str) -> bool:
        with Session(self.engine) as session:
            return session.get(SmsOptOut, number_hash) is not None

    def opt_out(self, number_hash: str, now: datetime) -> list[str]:
        """Record an opt-out; the codes of the number's open cases (the helpline is told)."""
        with Session(self.engine) as session, session.begin():
            if session.get(SmsOptOut, number_hash) is None:
                session.add(SmsOptOut(number_hash=number_hash, at=now))
            cases = session.scalars(select(SmsCase.code).where(
                SmsCase.number_hash == number_hash, SmsCase.state == "open"))
            return list(cases)

    def opt_in(self, number_hash: str) -> bool:
        """Undo an opt-out; True if there was one."""
        with Session(self.engine) as session, session.begin():
            found = session.get(SmsOptOut, number_hash)
            if found is not None:
                session.delete(found)
            return found is not None

    def remember_language(self, number_hash: str, language: str, now: datetime) -> None:
        with Session(self.engine) as session, session.begin():
            sender = session.get(SmsSender, number_hash)
            if sender is None:
                session.add(SmsSender(number_hash=number_hash, language=language, seen_at=now))
            else:
                sender.language, sender.seen_at = language, now

    def language_of(self, number_hash: str) -> str | None:
        with Session(self.engine) as session:
            sender = session.get(SmsSender, number_hash)
            return sender.language if sender else None

    def case_for(self, number_hash: str, number_encrypted: str, language: str | None,
                 fallback: str, now: datetime, expiry_days: int) -> CaseView:
        """The sender's open, unexpired case, else a new one. A known `language` replaces the
        case's; unknown, the case keeps its own (a new case takes `fallback`)."""
        fresh_since = now - timedelta(days=expiry_days)
        for _attempt in range(8):
            try:
                with Session(self.engine) as session, session.begin():
                    case = session.scalars(
                        select(SmsCase).where(SmsCase.number_hash == number_hash,
                                              SmsCase.state == "open",
                                              SmsCase.last_activity_at >= fresh_since)
                        .order_by(SmsCase.last_activity_at.desc()).limit(1)).first()
                    if case is None:
                        case = SmsCase(code=new_code(), number_encrypted=number_encrypted,
                                       number_hash=number_hash, language=language or fallback,
                                       opened_at=now, last_activity_at=now, state="open")
                        session.add(case)
                    else:
                        case.language = language or case.language or fallback
                        case.last_activity_at = now
                    session.flush()
                    return _view(case)
            except IntegrityError:
                continue  # two cases drew the same code: draw again
        raise RuntimeError("could not draw a free case code")

    def find_case(self, code: str) -> CaseView | None:
        with Session(self.engine) as session:
            case = session.scalars(select(SmsCase).where(SmsCase.code == code.upper())).first()
            return _view(case) if case else None

    def touch(self, code: str, now: datetime) -> None:
        with Session(self.engine) as session, session.begin():
            case = session.scalars(select(SmsCase).where(SmsCase.code == code)).first()
            if case is not None:
                case.last_activity_at = now

    def close_case(self, code: str, now: datetime | None = None) -> bool:
        """Close a case (the console or staff); replies to it are refused from then on."""
        with Session(self.engine) as session, session.begin():
            case = session.scalars(select(SmsCase).where(SmsCase.code == code.upper())).first()
            if case is None or case.state == "closed":
                return False
            case.state, case.closed_at = "closed", now or datetime.now(UTC)
            return True

    def rotate_numbers(self, rotate: Callable[[str], str]) -> int:
        """Re-encrypt every stored number with the newest key; the count re-encrypted."""
        with Session(self.engine) as session, session.begin():
            cases = list(session.scalars(select(SmsCase)))
            for case in cases:
                case.number_encrypted = rotate(case.number_encrypted)
            return len(cases)

