"""console: prompt texts edited and recordings made in the console

Revision ID: 0003_console_prompt_content
Revises: 0002_console
Create Date: 2026-11-29 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_console_prompt_content"
down_revision: str | None = "0002_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_prompt_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotline", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("prompt_id", sa.String(length=64), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("previous", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_prompt_texts")),
    )
    op.create_index("ix_console_prompt_texts_key", "console_prompt_texts",
                    ["hotline", "lang", "prompt_id"], unique=False)
    op.create_table(
        "console_prompt_recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotline", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("prompt_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("audio_sha256", sa.String(length=64), nullable=False),
        sa.Column("wav", sa.LargeBinary(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_prompt_recordings")),
    )
    op.create_index("ix_console_prompt_recordings_key", "console_prompt_recordings",
                    ["hotline", "lang", "prompt_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_console_prompt_recordings_key", table_name="console_prompt_recordings")
    op.drop_table("console_prompt_recordings")
    op.drop_index("ix_console_prompt_texts_key", table_name="console_prompt_texts")
    op.drop_table("console_prompt_texts")
