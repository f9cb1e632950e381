"""console: each operator's language for the console (empty: the profile's staff language)

Revision ID: 0007_console_operator_language
Revises: 0006_console_recording_approval
Create Date: 2026-12-08 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_console_operator_language"
down_revision: str | None = "0006_console_recording_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("console_operators") as table:
        table.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_operators") as table:
        table.drop_column("language")
