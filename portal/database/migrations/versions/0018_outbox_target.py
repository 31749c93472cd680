"""outbox target: each outbox message names the backend it goes to, for the operators' page

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:00:00

Messages queued before this get their backend from what their payload points at (the
department request's department, the notification's channel, the payment's owner); one whose
row is gone stays "unknown".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _payload_id(field: str) -> str:
    """SQL for an integer field of outbox_messages.payload (a JSON column) in this dialect."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(outbox_messages.payload ->> '{field}' AS INTEGER)"
    return f"json_extract(outbox_messages.payload, '$.{field}')"


def _backfill(kinds: str, value: str, table: str, field: str) -> None:
    """Set the target of `kinds` messages to `value` of the `table` row their payload's `field`
    names; no such row: "unknown". Every part is a constant of this file."""
    found = f"SELECT {value} FROM {table} WHERE {table}.id = {_payload_id(field)}"  # noqa: S608
    update = f"UPDATE outbox_messages SET target = COALESCE(({found}), 'unknown')"  # noqa: S608
    op.execute(f"{update} WHERE kind IN ({kinds})")


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target", sa.String(length=64), nullable=False, server_default="unknown")
        )
        batch_op.create_index(batch_op.f("ix_outbox_messages_target"), ["target"], unique=False)
    _backfill("'deliver', 'information'", "department", "department_requests", "request_id")
    _backfill(
        "'notify'",
        "CASE channel WHEN 'email' THEN 'mail' ELSE channel END",
        "notifications",
        "notification_id",
    )
    _backfill(
        "'payment_report'",
        "CASE kind WHEN 'bill' THEN 'bills' ELSE department END",
        "payments",
        "payment_id",
    )
    op.execute("UPDATE outbox_messages SET target = 'payments' WHERE kind = 'send_paid_draft'")


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_target"))
        batch_op.drop_column("target")
