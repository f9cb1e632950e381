"""The console's own tables: operator accounts, prompt reviews, edited texts, recordings,
and where a phone recording call is now.

All on the hotline's Base. Texts, recordings and phone positions are keyed by hotline
profile, so that one database can hold several hotlines.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.storage.db import Base


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Operator(Base):
    """A helpline staff member who may sign in to the console."""

    __tablename__ = "console_operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Part of the session cookie; replaced at sign-out so an old cookie no longer signs in.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 default=lambda: datetime.now(UTC))
    active: Mapped[bool] = mapped_column(default=True)
    # The console's language for this operator; None: the profile's staff language.
    language: Mapped[str | None] = mapped_column(String(8), default=None)


class Review(Base):
    """One reviewer's verdict on one prompt's translation, tied to the exact text read."""

    __tablename__ = "console_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), index=True)
    prompt_id: Mapped[str] = mapped_column(String(64), index=True)
    # sha256 of source and translation together: a change to either reopens the review.
    text_hash: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))  # reviewed | comment
    comment: Mapped[str | None] = mapped_column(Text)
    operator_id: Mapped[int] = mapped_column(ForeignKey("console_operators.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                         default=lambda: datetime.now(UTC))

    operator: Mapped[Operator] = relationship()



class PromptText(Base):
    """One version of one prompt's translation: a draft until another operator approves it.

    Every save is a new row, so the history (who, when, the text before and after) is the
    table itself; restoring an old version saves it again as a new draft.
    """

    __tablename__ = "console_prompt_texts"
    __table_args__ = (Index("ix_console_prompt_texts_key", "hotline", "lang", "prompt_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hotline: Mapped[str] = mapped_column(String(64))  # the profile's key (its file name)
    lang: Mapped[str] = mapped_column(String(8))
    prompt_id: Mapped[str] = mapped_column(String(64))
    # sha256 of the English source it translates: a new English text leaves it unused.
    source_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    previous: Mapped[str | None] = mapped_column(Text)  # what callers heard when it was saved
    state: Mapped[str] = mapped_column(String(16))  # draft | approved | replaced
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 default=lambda: datetime.now(UTC))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)  # e.g. "restored version 3"


class PromptRecording(Base):
    """A person's recording of one prompt, as telephone-ready WAV, tied to the text it speaks.

    Like a text, a draft until a second operator approves it (or the same one, where the
    profile allows single sign-off); then the live one (`active`) until another replaces it.
    """

    __tablename__ = "console_prompt_recordings"
    __table_args__ = (Index("ix_console_prompt_recordings_key", "hotline", "lang",
                            "prompt_id"),
                      # An audio URL names the recording by its content: found at once.
                      Index("ix_console_prompt_recordings_audio", "hotline", "lang",
                            "prompt_id", "audio_sha256"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hotline: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8))
    prompt_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)  # the exact filled text it speaks
    text_sha256: Mapped[str] = mapped_column(String(64))
    audio_sha256: Mapped[str] = mapped_column(String(64))
    wav: Mapped[bytes] = mapped_column(LargeBinary)
    duration: Mapped[float] = mapped_column()
    how: Mapped[str] = mapped_column(String(16))  # browser | upload | phone | import
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 default=lambda: datetime.now(UTC))
    active: Mapped[bool] = mapped_column(default=False)  # the live one: approved, current
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft|approved|replaced
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)  # e.g. "restores ben's take of …"


class PhonePosition(Base):
    """Where one call to the staff recording line is now, for the console to follow it live.

    One row per call, keyed by a keyed hash of its CallSid: no phone number, no audio.
    """

    __tablename__ = "console_phone_positions"
    __table_args__ = (UniqueConstraint("hotline", "call", name="uq_console_phone_positions_call"),
                      Index("ix_console_phone_positions_recent", "hotline", "updated_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hotline: Mapped[str] = mapped_column(String(64))
    call: Mapped[str] = mapped_column(String(64))  # keyed hash of the CallSid
    lang: Mapped[str] = mapped_column(String(8))
    queue: Mapped[str] = mapped_column(Text)  # JSON list of the call's prompt ids, in order
    prompt_index: Mapped[int] = mapped_column(Integer)  # 0-based; == total once finished
    total: Mapped[int] = mapped_column(Integer)
    prompt_id: Mapped[str | None] = mapped_column(String(64))  # None once finished
    step: Mapped[str] = mapped_column(String(16))  # reading | checking | finished
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
