"""chat messages answered, and outbox messages kept in order: a citizen's message records when
the bot's replies to it were written; an outbox message may name the sequence it belongs to

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 09:30:00

A message from SMS or WhatsApp is answered through the outbox (a "chat_turn"), so that a portal
that dies mid-turn leaves it to a worker. The replies and this mark are written in one
transaction: a turn taken up again after a crash sees the mark and asks the bot nothing twice.

`ordered_by` names a sequence ("chat_turn:12": the turns of conversation 12): a worker takes a
message only when no earlier one of its sequence is still pending, so the messages of one
conversation are answered and sent in order by any number of replicas.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ordered_by", sa.String(length=80), nullable=True))
        batch_op.create_index("ix_outbox_messages_ordered_by", ["ordered_by", "id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_ordered_by")
        batch_op.drop_column("ordered_by")
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
