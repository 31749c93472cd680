"""citizens' public ids: how staff pages and the audit log name a citizen

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 03:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=40), nullable=True))
    connection = op.get_bind()
    citizens = sa.table("citizens", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    for (row_id,) in connection.execute(sa.select(citizens.c.id)).all():
        connection.execute(
            citizens.update()
            .where(citizens.c.id == row_id)
            .values(public_id=f"c_{secrets.token_hex(10)}")
        )
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_citizens_public_id"), ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_citizens_public_id"), type_="unique")
        batch_op.drop_column("public_id")
