"""Which staged source file is the current snapshot of a (cycle, file type), and was it normalized?

FEC bulk files are full snapshots, so normalization reads exactly one staged source file per cycle
and file type: the one the newest fetch (by ``fetched_at``, then id) of that cycle and type defines,
fully staged itself or a duplicate of a fully staged file (see :func:`current_snapshot`). Older
snapshots stay in staging for replay but are never mixed in.

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
    """``source_file_id`` holds the staged rows; ``fetched_at`` is the newest fetch that resolved to it."""

    source_file_id: int
    file_type: str
    cycle: int
    fetched_at: dt.datetime
    rows_loaded: int | None


@dataclass(frozen=True)
class NormalizedMark:
    """The newest succeeded normalization: its snapshot and when that snapshot was fetched (the
    newest fetch that resolved to it, as recorded in ``counts.snapshot_fetched_at``, else the source
    file's own ``fetched_at``)."""

    audit_id: int
    source_file_id: int
    counts: dict[str, Any]
    fetched_at: dt.datetime | None = None


def current_snapshot(conn: psycopg.Connection, *, cycle: int, file_type: str) -> Snapshot | None:
    """The snapshot the newest fetch of ``cycle`` / ``file_type`` defines, or None.

    The newest fetch wins, whatever its checksum's history: source files are tried newest first (by
    ``fetched_at``, then id), and the first one that is either fully staged itself or was skipped by
    staging as a duplicate (same sha256) of a fully staged file is the current snapshot. A duplicate
    resolves to the staged original, whose rows are identical, with the duplicate's ``fetched_at``:
    when the FEC publishes A, then A', then A again, A is current again (an upstream revert), not A'.

    Fully staged is staging's own definition (:func:`fecflow.staging.coverage.coverage_of`, which
    ``stage`` uses to plan a resume and ``staging prune`` to choose what to keep): its succeeded, not
    superseded ``stage`` batches cover the payload's lines and bytes from the start to the end of the
    file without a gap or an overlap. Only files with a batch that reached the end of the payload, or
    with a duplicate skip, are read at all.
    """
    candidates = conn.execute(
        """
        SELECT sf.source_file_id, sf.fetched_at,
               (SELECT (a.counts->>'duplicate_of')::bigint FROM ops.ingest_run_audits a
                WHERE a.source_file_id = sf.source_file_id AND a.stage = %(stage)s
                  AND a.status = 'skipped' AND a.counts ? 'duplicate_of'
                ORDER BY a.audit_id DESC LIMIT 1) AS duplicate_of
        FROM ops.source_file sf
        WHERE sf.cycle = %(cycle)s AND sf.file_type = %(file_type)s
          AND EXISTS (SELECT 1 FROM ops.ingest_run_audits a
                      WHERE a.source_file_id = sf.source_file_id AND a.stage = %(stage)s
                        AND ((a.status = 'succeeded' AND NOT (a.counts ? %(superseded)s)
                              AND a.counts->>'eof' = 'true')
                             OR (a.status = 'skipped' AND a.counts ? 'duplicate_of')))
        ORDER BY sf.fetched_at DESC, sf.source_file_id DESC
        """,
        {"cycle": cycle, "file_type": file_type, "stage": STAGE, "superseded": SUPERSEDED_KEY},
    ).fetchall()
    for source_file_id, fetched_at, duplicate_of in candidates:
        for staged_id in (int(source_file_id), duplicate_of):
            if staged_id is None:
                continue
            coverage = coverage_of(conn, int(staged_id))
            if coverage.complete:
                loaded = sum(r.loaded for r in coverage.ranges)
                return Snapshot(int(staged_id), file_type, cycle, fetched_at, loaded)
    return None


def last_normalized(conn: psycopg.Connection, *, cycle: int, file_type: str) -> NormalizedMark | None:
    """The newest succeeded normalization of this cycle and file type."""
    row = conn.execute(
        "SELECT a.audit_id, a.source_file_id, a.counts, "
        "coalesce((a.counts->>'snapshot_fetched_at')::timestamptz, sf.fetched_at) "
        "FROM ops.ingest_run_audits a LEFT JOIN ops.source_file sf ON sf.source_file_id = a.source_file_id "
        "WHERE a.stage = %s AND a.scope = %s AND a.status = 'succeeded' AND a.source_file_id IS NOT NULL "
        "ORDER BY a.finished_at DESC, a.audit_id DESC LIMIT 1",
        (NORMALIZE_STAGE, normalize_scope(file_type, cycle)),
    ).fetchone()
    if row is None:
        return None
    return NormalizedMark(int(row[0]), int(row[1]), dict(row[2] or {}), row[3])
