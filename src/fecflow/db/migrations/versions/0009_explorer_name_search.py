"""The score explorer's search: trigram indexes on the names people type (issue #17).

``fecflow serve`` searches employers, committees, candidates and industries by prefix and by
similarity (``ILIKE 'q%'`` and the ``%`` operator of pg_trgm, ordered by ``similarity``). A GIN
``gin_trgm_ops`` index serves both on a full cycle (hundreds of thousands of employer names).
``fastupdate = off``: names arrive in bulk during normalize, and with the default pending list a
freshly loaded database searched 2-3x slower (every query scans the unmerged list) until autovacuum
merged it. pg_trgm ships with PostgreSQL's contrib (the embedded server and Debian's postgresql-15 both have it).

Written beside other branches' revisions: when merging, point ``down_revision`` at the head they
leave (and renumber this file if another 0009 landed first).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = (
    ("candidate", "name"),
    ("committee", "name"),
    ("industry", "title"),
    ("employer", "canonical_name"),
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in INDEXES:
        op.create_index(
            f"ix_{table}_{column}_trgm",
            table,
            [column],
            schema="core",
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        )


def downgrade() -> None:
    for table, column in INDEXES:
        op.drop_index(f"ix_{table}_{column}_trgm", table_name=table, schema="core")
    # pg_trgm stays: another database object may use it, and dropping it needs no data back.
