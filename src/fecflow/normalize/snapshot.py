"""Which staged source file is the current snapshot of a (cycle, file type), and was it normalized?

FEC bulk files are full snapshots, so normalization reads exactly one staged source file per cycle
and file type: the newest ``ops.source_file`` (by ``fetched_at``, then id) of that cycle and type
whose staging covers it completely (see :func:`current_snapshot`). Older snapshots stay in staging
for replay but are never mixed in.

Each normalization of a snapshot leaves one ``normalize`` audit (scope ``<file_type>:<cycle>``,
``source_file_id`` = the snapshot) whose ``counts`` record the rule and employer-map versions it
used; :func:`last_normalized` reads the newest succeeded one so a rerun can skip unchanged work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from fecflow.staging.load import SUPERSEDED_KEY

NORMALIZE_STAGE = "normalize"


def normalize_scope(file_type: str, cycle: int) -> str:
    return f"{file_type}:{cycle}"


@dataclass(frozen=True)
class Snapshot:
    source_file_id: int
    file_type: str
    cycle: int
    fetched_at: dt.datetime
    rows_loaded: int | None


@dataclass(frozen=True)
class NormalizedMark:
    audit_id: int
    source_file_id: int
    counts: dict[str, Any]


def current_snapshot(conn: psycopg.Connection, *, cycle: int, file_type: str) -> Snapshot | None:
    """The newest fully staged source file of ``cycle`` / ``file_type``, or None.

    Fully staged = its succeeded, not superseded ``stage`` batches form consecutive line ranges from
    line 1 to the end of the payload (the coverage rule of :mod:`fecflow.staging.load`). A source file
    skipped by staging as a duplicate (same sha256) has no batches of its own: the staged original,
    with identical rows, stays the current snapshot.
    """
    row = conn.execute(
        """
        WITH batches AS (
            SELECT a.source_file_id, a.rows_loaded,
                   (a.counts->>'first_line')::bigint AS first_line,
                   (a.counts->>'last_line')::bigint AS last_line,
                   coalesce((a.counts->>'eof')::boolean, false) AS eof
            FROM ops.ingest_run_audits a
            JOIN ops.source_file sf ON sf.source_file_id = a.source_file_id
            WHERE a.stage = 'stage' AND a.status = 'succeeded' AND NOT (a.counts ? %(superseded)s)
              AND sf.cycle = %(cycle)s AND sf.file_type = %(file_type)s
        ), ordered AS (
            SELECT b.*, lag(b.last_line) OVER (PARTITION BY b.source_file_id ORDER BY b.first_line) AS prev_last
            FROM batches b
        ), covered AS (
            SELECT source_file_id, sum(rows_loaded)::bigint AS rows_loaded
            FROM ordered
            GROUP BY source_file_id
            HAVING bool_and(first_line = coalesce(prev_last, 0) + 1)
               AND bool_or(eof)
               AND max(last_line) = max(last_line) FILTER (WHERE eof)
        )
        SELECT sf.source_file_id, sf.fetched_at, c.rows_loaded
        FROM covered c JOIN ops.source_file sf USING (source_file_id)
        ORDER BY sf.fetched_at DESC, sf.source_file_id DESC
        LIMIT 1
        """,
        {"cycle": cycle, "file_type": file_type, "superseded": SUPERSEDED_KEY},
    ).fetchone()
    if row is None:
        return None
    return Snapshot(int(row[0]), file_type, cycle, row[1], int(row[2]) if row[2] is not None else None)


def last_normalized(conn: psycopg.Connection, *, cycle: int, file_type: str) -> NormalizedMark | None:
    """The newest succeeded normalization of this cycle and file type."""
    row = conn.execute(
        "SELECT audit_id, source_file_id, counts FROM ops.ingest_run_audits "
        "WHERE stage = %s AND scope = %s AND status = 'succeeded' AND source_file_id IS NOT NULL "
        "ORDER BY finished_at DESC, audit_id DESC LIMIT 1",
        (NORMALIZE_STAGE, normalize_scope(file_type, cycle)),
    ).fetchone()
    if row is None:
        return None
    return NormalizedMark(int(row[0]), int(row[1]), dict(row[2] or {}))
