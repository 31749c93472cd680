"""limit counters: atomic rate limits in the database (when Redis is not configured); wrong
sign-in codes are counted there too, so their table of failures goes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "limit_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_limit_counters")),
    )
    op.create_index(op.f("ix_limit_counters_ends_at"), "limit_counters", ["ends_at"])
    op.drop_table("sign_in_code_failures")


def downgrade() -> None:
    op.create_table(
        "sign_in_code_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=320), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_code_failures")),
    )
    for column in ("destination", "ip", "at"):
        op.create_index(
            op.f(f"ix_sign_in_code_failures_{column}"), "sign_in_code_failures", [column]
        )
    op.drop_index(op.f("ix_limit_counters_ends_at"), table_name="limit_counters")
    op.drop_table("limit_counters")
