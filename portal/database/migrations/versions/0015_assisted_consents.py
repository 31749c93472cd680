"""assisted mode: consents, and which drafts and applications an agent filled in

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assisted_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=120), nullable=False),
        sa.Column("agent_name", sa.String(length=200), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_assisted_consents_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assisted_consents")),
        sa.UniqueConstraint("public_id", name=op.f("uq_assisted_consents_public_id")),
    )
    op.create_index(
        op.f("ix_assisted_consents_citizen_id"), "assisted_consents", ["citizen_id"], unique=False
    )
    for table in ("drafts", "applications"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("assisted_by", sa.String(length=120), nullable=True))
            batch_op.add_column(sa.Column("assisted_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    for table in ("applications", "drafts"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("assisted_name")
            batch_op.drop_column("assisted_by")
    op.drop_index(op.f("ix_assisted_consents_citizen_id"), table_name="assisted_consents")
    op.drop_table("assisted_consents")
