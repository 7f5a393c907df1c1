"""A summary of a fecflow database for `fecflow db status`."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

SUMMARY_TABLES = (
    "ops.ingest_run",
    "ops.source_file",
    "ops.rejected_row",
    "core.candidate",
    "core.committee",
    "core.employer",
    "core.contribution",
    "scores.leaning_score",
)


@dataclass
class DatabaseSummary:
    server_version: str
    revision: str | None
    table_counts: dict[str, int] = field(default_factory=dict)


def database_summary(conn: psycopg.Connection) -> DatabaseSummary:
    version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    revision = None
    if conn.execute("SELECT to_regclass('ops.alembic_version')").fetchone()[0]:  # type: ignore[index]
        row = conn.execute("SELECT version_num FROM ops.alembic_version").fetchone()
        revision = row[0] if row else None
    counts: dict[str, int] = {}
    if revision:
        for qualified in SUMMARY_TABLES:
            schema, name = qualified.split(".")
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
            counts[qualified] = int(conn.execute(query).fetchone()[0])  # type: ignore[index]
    return DatabaseSummary(server_version=version, revision=revision, table_counts=counts)
