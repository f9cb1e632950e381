"""console: a recording is a draft until a second operator approves it

Revision ID: 0006_console_recording_approval
Revises: 0005_console_phone_positions
Create Date: 2026-12-07 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_console_recording_approval"
down_revision: str | None = "0005_console_phone_positions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Recordings made before this revision went live at once: they count as approved (the
    # live one) or replaced, approved by whoever made them.
    with op.batch_alter_table("console_prompt_recordings") as table:
        table.add_column(sa.Column("state", sa.String(length=16), nullable=False,
                                   server_default="approved"))
        table.add_column(sa.Column("approved_by", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.execute("UPDATE console_prompt_recordings SET state = 'replaced' WHERE NOT active")
    op.execute("UPDATE console_prompt_recordings SET approved_by = author, "
               "approved_at = created_at")
    op.create_index("ix_console_prompt_recordings_audio", "console_prompt_recordings",
                    ["hotline", "lang", "prompt_id", "audio_sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_console_prompt_recordings_audio", table_name="console_prompt_recordings")
    with op.batch_alter_table("console_prompt_recordings") as table:
        table.drop_column("note")
        table.drop_column("approved_at")
        table.drop_column("approved_by")
        table.drop_column("state")
