"""outbox leases: each message is leased on its own, by a named worker with a token, and carries
the trace of the request that wrote it

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 03:00:00

`attempt_started_at` is set when a worker takes a message (the attempt is counted then, before
the call) and cleared when the attempt ends, so a message that still has it once its lease has
run out was cut short by a crash: its handler checks whether the attempt went out before
sending again. Adding nullable columns takes no table rewrite on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("leased_by", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("trace_context", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("trace_context")
        batch_op.drop_column("attempt_started_at")
        batch_op.drop_column("leased_by")
        batch_op.drop_column("lease_token")
