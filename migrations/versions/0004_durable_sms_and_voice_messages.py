"""durable messages: a MessageSid is claimed, then done; voice messages keep no URL

Revision ID: durable_sms_and_voice_messages
Revises: 0003_console_prompt_content
Create Date: 2026-11-29 23:10:00

Independent of the console's tables: it touches only sms_deliveries and voice_messages.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "durable_sms_and_voice_messages"
down_revision: str | None = "0003_console_prompt_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every MessageSid stored before was handled: "done".
    with op.batch_alter_table("sms_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=False,
                                      server_default="done"))
    # Never read: the console fetches the audio by recording_sid.
    with op.batch_alter_table("voice_messages", schema=None) as batch_op:
        batch_op.drop_column("recording_url")


def downgrade() -> None:
    with op.batch_alter_table("voice_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_url", sa.String(length=512), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("sms_deliveries", schema=None) as batch_op:
        batch_op.drop_column("state")
