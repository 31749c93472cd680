"""sign-in codes: one-time codes by SMS or email, and wrong guesses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=320), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_codes")),
    )
    for column in ("destination", "ip", "created_at"):
        op.create_index(op.f(f"ix_sign_in_codes_{column}"), "sign_in_codes", [column])
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


def downgrade() -> None:
    op.drop_table("sign_in_code_failures")
    op.drop_table("sign_in_codes")
