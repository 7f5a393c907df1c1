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

from fecflow.staging.coverage import STAGE, SUPERSEDED_KEY, coverage_of

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

    Fully staged is staging's own definition (:func:`fecflow.staging.coverage.coverage_of`, which
    ``stage`` uses to plan a resume and ``staging prune`` to choose what to keep): its succeeded, not
    superseded ``stage`` batches cover the payload's lines and bytes from the start to the end of the
    file without a gap or an overlap. Files are tried newest first (by ``fetched_at``, then id); only
    those with a batch that reached the end of the payload are read at all. A source file skipped by
    staging as a duplicate (same sha256) has no batches of its own: the staged original, with
    identical rows, stays the current snapshot.
    """
    candidates = conn.execute(
        """
        SELECT sf.source_file_id, sf.fetched_at
        FROM ops.source_file sf
        WHERE sf.cycle = %(cycle)s AND sf.file_type = %(file_type)s
          AND EXISTS (SELECT 1 FROM ops.ingest_run_audits a
                      WHERE a.source_file_id = sf.source_file_id AND a.stage = %(stage)s
                        AND a.status = 'succeeded' AND NOT (a.counts ? %(superseded)s)
                        AND a.counts->>'eof' = 'true')
        ORDER BY sf.fetched_at DESC, sf.source_file_id DESC
        """,
        {"cycle": cycle, "file_type": file_type, "stage": STAGE, "superseded": SUPERSEDED_KEY},
    ).fetchall()
    for source_file_id, fetched_at in candidates:
        coverage = coverage_of(conn, int(source_file_id))
        if coverage.complete:
            loaded = sum(r.loaded for r in coverage.ranges)
            return Snapshot(int(source_file_id), file_type, cycle, fetched_at, loaded)
    return None


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
