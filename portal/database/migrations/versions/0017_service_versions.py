"""service versions: services and their definitions' versions in the database (designers
publish without a restart); drafts and applications keep the version they started with

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:20:00

Drafts and applications made before this get version 1: the portal seeds every repository
service as its version 1 at start, so that is the version they were made with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "designed_services",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_by", sa.String(length=120), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designed_services")),
    )
    op.create_table(
        "service_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=2000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("based_on", sa.String(length=80), nullable=True),
        sa.Column("fallback_languages", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=120), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=120), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["designed_services.id"],
            name=op.f("fk_service_versions_service_id_designed_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_versions")),
        sa.UniqueConstraint("service_id", "number", name=op.f("uq_service_versions_service_id")),
    )
    op.create_index(op.f("ix_service_versions_service_id"), "service_versions", ["service_id"])
    op.create_index(op.f("ix_service_versions_state"), "service_versions", ["state"])
    for table in ("drafts", "applications"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("service_version", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET service_version = 1")  # noqa: S608 (a fixed name)


def downgrade() -> None:
    for table in ("applications", "drafts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("service_version")
    op.drop_index(op.f("ix_service_versions_state"), table_name="service_versions")
    op.drop_index(op.f("ix_service_versions_service_id"), table_name="service_versions")
    op.drop_table("service_versions")
    op.drop_table("designed_services")
