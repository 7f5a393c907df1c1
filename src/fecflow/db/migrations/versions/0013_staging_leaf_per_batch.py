"""Bulk staging tables partitioned by ``(_source_file_id, _batch_id)``: one leaf per stage batch.

Each stage batch creates its leaf in its own transaction and COPYs into it with ``FREEZE``, so the
staged rows are written frozen and all-visible: the first reader (the validate-staging gate) no
longer rewrites every page to set hint bits, which with data checksums cost a full-page image per
page once a checkpoint had begun (the gate's step between 2M and 8M rows, docs/data/ingestion.md).
Unstaging a file (``--replace``, ``staging prune``) drops its leaves instead of deleting its rows.

The upgrade moves the rows already staged into one leaf per (source file, batch), in line order;
the downgrade moves them back into one plain table per file type. Both rewrite every staged row in
one transaction (about as long as staging them, and their space twice until the commit): prune old
snapshots first (``fecflow staging prune``).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from typing import Any

from alembic import op
from psycopg import sql

from fecflow.db.partitions import STAGING_PARTITION, attach_staging_leaf, create_staging_leaf

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

STAGING_FILE_TABLES = ("ccl", "cm", "cn", "indiv", "oth", "pas2", "weball", "webk", "webl")
KEEP = sql.SQL("INCLUDING COMMENTS INCLUDING STORAGE")


def _psycopg() -> Any:
    """The migration's psycopg connection (same transaction as Alembic's)."""
    return op.get_bind().connection.driver_connection


def _swap_out(conn: Any, table: str, old: str, *, partitioned: bool) -> None:
    """Rename ``staging.<table>`` to ``old`` and create the new ``staging.<table>`` like it."""
    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier("staging", table), sql.Identifier(old)))
    conn.execute(
        sql.SQL("ALTER INDEX {} RENAME TO {}").format(
            sql.Identifier("staging", f"ix_{table}_source_line"), sql.Identifier(f"ix_{old}_source_line")
        )
    )
    conn.execute(
        sql.SQL("CREATE TABLE {new} (LIKE {old} {keep}){by}").format(
            new=sql.Identifier("staging", table),
            old=sql.Identifier("staging", old),
            keep=KEEP,
            by=sql.SQL(" PARTITION BY " + STAGING_PARTITION) if partitioned else sql.SQL(""),
        )
    )
    comment = conn.execute(
        "SELECT obj_description(%s::regclass, 'pg_class')", (f"staging.{old}",)
    ).fetchone()[0]
    if comment is not None:
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(sql.Identifier("staging", table), sql.Literal(comment)))
    conn.execute(
        sql.SQL("CREATE INDEX {} ON {} USING brin (_source_file_id, _line_number)").format(
            sql.Identifier(f"ix_{table}_source_line"), sql.Identifier("staging", table)
        )
    )


def upgrade() -> None:
    conn = _psycopg()
    for table in STAGING_FILE_TABLES:
        old = f"{table}_unpartitioned"
        _swap_out(conn, table, old, partitioned=True)
        batches = conn.execute(
            sql.SQL("SELECT DISTINCT _source_file_id, _batch_id FROM {} ORDER BY 1, 2").format(
                sql.Identifier("staging", old)
            )
        ).fetchall()
        for source_file_id, batch_id in batches:
            leaf = create_staging_leaf(conn, table, source_file_id, batch_id)
            conn.execute(
                sql.SQL(
                    "INSERT INTO {leaf} SELECT * FROM {old} WHERE _source_file_id = %s AND _batch_id = %s "
                    "ORDER BY _line_number"
                ).format(leaf=leaf, old=sql.Identifier("staging", old)),
                (source_file_id, batch_id),
            )
            attach_staging_leaf(conn, table, source_file_id, batch_id)
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("staging", old)))


def downgrade() -> None:
    conn = _psycopg()
    for table in STAGING_FILE_TABLES:
        old = f"{table}_partitioned"
        _swap_out(conn, table, old, partitioned=False)
        conn.execute(
            sql.SQL("INSERT INTO {} SELECT * FROM {} ORDER BY _source_file_id, _line_number").format(
                sql.Identifier("staging", table), sql.Identifier("staging", old)
            )
        )
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("staging", old)))
