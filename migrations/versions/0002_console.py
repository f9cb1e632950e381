"""console: operator accounts and translation reviews

Revision ID: 0002_console
Revises: 0001_initial
Create Date: 2026-11-26 06:07:55
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_console"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_operators")),
        sa.UniqueConstraint("name", name=op.f("uq_console_operators_name")),
    )
    op.create_table(
        "console_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("prompt_id", sa.String(length=64), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["console_operators.id"],
                                name=op.f("fk_console_reviews_operator_id_console_operators")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_reviews")),
    )
    with op.batch_alter_table("console_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_reviews_lang"), ["lang"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_reviews_prompt_id"), ["prompt_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_reviews_prompt_id"))
        batch_op.drop_index(batch_op.f("ix_console_reviews_lang"))
    op.drop_table("console_reviews")
    op.drop_table("console_operators")
