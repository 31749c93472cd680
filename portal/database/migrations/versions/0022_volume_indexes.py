"""indexes for a city's volume: the agents' citizen search, open work, a day's payments

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 19:00:00

Measured with a million citizens (scripts/volume.py, `make bench` volume mode):
- the agents' search by part of a name, case and accents ignored: a folded copy of the name
  (citizens.name_folded, kept by the model) with a trigram index on PostgreSQL (the portal puts
  the matches in order: portal.assisted.service.search); by email, an index on lower(email);
- a citizen's conversations by citizen_id (their summary), and the inbox's open work as partial
  indexes (conversations with a person, hand-offs not ended): a few rows among many;
- a day's payments by created_at (reconciliation).

Safe on a live database: the column is added with a constant default (no table rewrite), the
names are folded in batches of 5,000, each committed by itself, and every index is built
CONCURRENTLY (PostgreSQL), so that reads and writes go on meanwhile. A citizen who signs in
with a new name while it runs, on a portal still running the code from before, keeps an
unfolded name until their next sign-in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.i18n.folding import fold

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
# name, table, columns, only the rows where
INDEXES: list[tuple[str, str, list[str | sa.TextClause], str | None]] = [
    ("ix_citizens_email_lower", "citizens", [sa.text("lower(email)")], None),
    ("ix_conversations_citizen_id", "conversations", ["citizen_id"], None),
    (
        "ix_conversations_with_people",
        "conversations",
        ["handoff_at", "id"],
        "status IN ('waiting', 'agent')",
    ),
    ("ix_handoffs_open", "handoffs", ["conversation_id"], "ended_at IS NULL"),
    ("ix_payments_created_at", "payments", ["created_at"], None),
]


def _fold_names() -> None:
    """Every citizen's folded name, a batch at a time (each statement commits by itself)."""
    bind = op.get_bind()
    after = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, name FROM citizens WHERE id > :after ORDER BY id LIMIT :batch"),
            {"after": after, "batch": BATCH},
        ).all()
        if not rows:
            return
        bind.execute(
            sa.text("UPDATE citizens SET name_folded = :folded WHERE id = :id"),
            [{"id": row.id, "folded": fold(row.name)} for row in rows],
        )
        after = rows[-1].id


def upgrade() -> None:
    op.add_column(
        "citizens",
        sa.Column("name_folded", sa.String(200), nullable=False, server_default=""),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.get_context().autocommit_block():
        _fold_names()
        for name, table, columns, where in INDEXES:
            op.create_index(
                name,
                table,
                columns,
                if_not_exists=True,
                postgresql_concurrently=True,
                postgresql_where=sa.text(where) if where else None,
                sqlite_where=sa.text(where) if where else None,
            )
        if postgres:  # part of a name anywhere in it: "arc" finds García
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.execute(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_citizens_name_trigram "
                "ON citizens USING gin (name_folded gin_trgm_ops)"
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX IF EXISTS ix_citizens_name_trigram")
        for name, table, _, _ in reversed(INDEXES):
            op.drop_index(name, table_name=table, if_exists=True)
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.drop_column("name_folded")
