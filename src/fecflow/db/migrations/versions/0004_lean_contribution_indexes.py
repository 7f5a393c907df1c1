"""A leaner ``core.contribution``: indexes that earn their cost, no foreign keys on provenance columns.

Every first load attaches a year partition, and PostgreSQL then builds each index and checks each
foreign key of the parent over the new rows; for 2M rows that was 7 index builds and 8 key checks,
7 s of a 20 s load. This revision keeps what queries and referential integrity need:

* ``ix_contribution_sub_id`` is dropped: ``uq_contribution_sub_id_transaction_date`` starts with
  ``sub_id`` and serves every lookup by SUB_ID.
* ``ix_contribution_transaction_date`` becomes a BRIN index: rows arrive roughly in date order within
  a year partition, date-range reads scan whole partitions or large runs of them, and a BRIN index is
  built in a fraction of a B-tree's time and size.
* ``ix_contribution_candidate_key`` and ``ix_contribution_contributor_committee_key`` become partial
  (``IS NOT NULL``): individual contributions, the bulk of the rows, have neither.
* The foreign keys of ``source_file_id``, ``first_run_id``, ``last_run_id`` and ``deleted_by_run_id``
  to ``ops`` are dropped. Normalization writes these from the run and the source file it holds (rows
  that exist before it starts), the ops rows are never deleted, and the validation
  ``accounting.provenance`` checks every reference after each normalize run. The keys to
  committees, candidates and employers stay.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PROVENANCE_FKS = (
    ("fk_contribution_source_file_id_source_file", "source_file_id", "ops.source_file", "source_file_id"),
    ("fk_contribution_first_run_id_ingest_run", "first_run_id", "ops.ingest_run", "run_id"),
    ("fk_contribution_last_run_id_ingest_run", "last_run_id", "ops.ingest_run", "run_id"),
    ("fk_contribution_deleted_by_run_id_ingest_run", "deleted_by_run_id", "ops.ingest_run", "run_id"),
)
PARTIAL = ("candidate_key", "contributor_committee_key")
COMMENTS = {
    "source_file_id": "ops.source_file of the snapshot that last wrote the row",
    "first_run_id": "ops.ingest_run that inserted the row",
    "last_run_id": "ops.ingest_run that last changed the row",
    "deleted_by_run_id": "ops.ingest_run that soft-deleted the row",
}


def _comment(column: str, comment: str | None) -> None:
    op.alter_column(
        "contribution",
        column,
        existing_type=sa.BigInteger(),
        existing_nullable=True,
        comment=comment,
        schema="core",
    )


def upgrade() -> None:
    for name, _, _, _ in PROVENANCE_FKS:
        op.drop_constraint(name, "contribution", schema="core", type_="foreignkey")
    for column, comment in COMMENTS.items():
        _comment(column, comment)
    op.drop_index("ix_contribution_sub_id", table_name="contribution", schema="core")
    op.drop_index("ix_contribution_transaction_date", table_name="contribution", schema="core")
    op.create_index(
        "ix_contribution_transaction_date",
        "contribution",
        ["transaction_date"],
        schema="core",
        postgresql_using="brin",
    )
    for column in PARTIAL:
        op.drop_index(f"ix_contribution_{column}", table_name="contribution", schema="core")
        op.create_index(
            f"ix_contribution_{column}",
            "contribution",
            [column],
            schema="core",
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade() -> None:
    for column in COMMENTS:
        _comment(column, None)
    for column in PARTIAL:
        op.drop_index(f"ix_contribution_{column}", table_name="contribution", schema="core")
        op.create_index(f"ix_contribution_{column}", "contribution", [column], schema="core")
    op.drop_index("ix_contribution_transaction_date", table_name="contribution", schema="core")
    op.create_index("ix_contribution_transaction_date", "contribution", ["transaction_date"], schema="core")
    op.create_index("ix_contribution_sub_id", "contribution", ["sub_id"], schema="core")
    for name, column, table, key in PROVENANCE_FKS:
        schema, _, referred = table.partition(".")
        op.create_foreign_key(
            name, "contribution", referred, [column], [key], source_schema="core", referent_schema=schema
        )
