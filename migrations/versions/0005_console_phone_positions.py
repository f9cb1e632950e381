"""console: where each call to the staff recording line is, for the console to follow it live

Revision ID: 0005_console_phone_positions
Revises: durable_sms_and_voice_messages
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_console_phone_positions"
down_revision: str | None = "durable_sms_and_voice_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_phone_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotline", sa.String(length=64), nullable=False),
        sa.Column("call", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("queue", sa.Text(), nullable=False),
        sa.Column("prompt_index", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.String(length=64), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_phone_positions")),
        sa.UniqueConstraint("hotline", "call", name="uq_console_phone_positions_call"),
    )
    op.create_index("ix_console_phone_positions_recent", "console_phone_positions",
                    ["hotline", "updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_console_phone_positions_recent", table_name="console_phone_positions")
    op.drop_table("console_phone_positions")
