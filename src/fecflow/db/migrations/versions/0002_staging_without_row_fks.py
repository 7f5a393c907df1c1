"""Staging tables without per-row foreign keys.

A foreign key on ``_source_file_id`` and ``_batch_id`` is checked for every staged row, which cost
about 4x the COPY throughput. Every row of a batch references the same two parent rows; the loader
locks both ``FOR KEY SHARE`` once per batch and commits the rows together with their audit row, and
the accounting checks verify that every staged row belongs to a succeeded batch.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STAGING_FILE_TABLES = ("ccl", "cm", "cn", "indiv", "oth", "pas2", "weball", "webk", "webl")


def upgrade() -> None:
    for table in STAGING_FILE_TABLES:
        op.drop_constraint(
            f"fk_{table}__source_file_id_source_file", table, schema="staging", type_="foreignkey"
        )
        op.drop_constraint(
            f"fk_{table}__batch_id_ingest_run_audits", table, schema="staging", type_="foreignkey"
        )


def downgrade() -> None:
    for table in STAGING_FILE_TABLES:
        op.create_foreign_key(
            f"fk_{table}__source_file_id_source_file",
            table,
            "source_file",
            ["_source_file_id"],
            ["source_file_id"],
            source_schema="staging",
            referent_schema="ops",
        )
        op.create_foreign_key(
            f"fk_{table}__batch_id_ingest_run_audits",
            table,
            "ingest_run_audits",
            ["_batch_id"],
            ["audit_id"],
            source_schema="staging",
            referent_schema="ops",
        )
