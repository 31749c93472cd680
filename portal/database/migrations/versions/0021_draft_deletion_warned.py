"""drafts deletion warned: when the owner of a draft left unchanged was told it will be deleted

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 10:30:00

The worker deletes drafts left unchanged for FRONTDOOR_DRAFT_RETENTION_DAYS, only once their
owner was warned at least FRONTDOOR_DRAFT_WARNING_DAYS before (portal/retention/). The moment
of the warning is kept so that it is sent once; a draft changed since is warned again when it
is left alone again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deletion_warned_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("deletion_warned_at")
