"""initial schema: events, voice messages, SMS cases, opt-outs, senders, deliveries

Revision ID: 0001_initial
Revises: (none)
Create Date: 2026-11-26 06:05:03.837414
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("conversation", sa.String(length=24), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_conversation"), ["conversation"], unique=False)

    op.create_table(
        "sms_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("number_encrypted", sa.Text(), nullable=False),
        sa.Column("number_hash", sa.String(length=24), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_cases")),
        sa.UniqueConstraint("code", name=op.f("uq_sms_cases_code")),
    )
    with op.batch_alter_table("sms_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_cases_last_activity_at"), ["last_activity_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sms_cases_number_hash"), ["number_hash"], unique=False)

    op.create_table(
        "sms_deliveries",
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_sid", name=op.f("pk_sms_deliveries")),
    )
    with op.batch_alter_table("sms_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_deliveries_at"), ["at"], unique=False)

    op.create_table(
        "sms_opt_outs",
        sa.Column("number_hash", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number_hash", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "sms_senders",
        sa.Column("number_hash", sa.String(length=24), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number_hash", name=op.f("pk_sms_senders")),
    )
    with op.batch_alter_table("sms_senders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_senders_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "voice_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        sa.Column("recording_url", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_messages")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_voice_messages_recording_sid")),
    )
    with op.batch_alter_table("voice_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_messages_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("voice_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_messages_at"))

    op.drop_table("voice_messages")
    with op.batch_alter_table("sms_senders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_senders_seen_at"))

    op.drop_table("sms_senders")
    op.drop_table("sms_opt_outs")
    with op.batch_alter_table("sms_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_deliveries_at"))

    op.drop_table("sms_deliveries")
    with op.batch_alter_table("sms_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_cases_number_hash"))
        batch_op.drop_index(batch_op.f("ix_sms_cases_last_activity_at"))

    op.drop_table("sms_cases")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_conversation"))
        batch_op.drop_index(batch_op.f("ix_events_at"))

    op.drop_table("events")
