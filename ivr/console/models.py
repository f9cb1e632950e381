"""The console's own tables: operator accounts and prompt reviews (on the hotline's Base)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
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

