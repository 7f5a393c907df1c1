"""Queries over ``ops.ingest_run_audits``: staging coverage, snapshots, what a run touched, alerts.

With the writers in :mod:`fecflow.db.ops.records`, the only SQL against the audit table. Statements
are ``psycopg.sql`` compositions with named placeholders; rows are read by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from fecflow.db.ops.vocabulary import STEP, CountKey, Scope, Stage, UnitScope
from fecflow.db.statements import every

#: A staging batch that counts: succeeded and not superseded by a later load of its file.
CURRENT_BATCH = sql.SQL(
    "{a}stage = %(stage)s AND {a}status = 'succeeded' AND NOT ({a}counts ? %(superseded)s)"
)


def _current_batch(alias: str = "") -> sql.Composed:
    return CURRENT_BATCH.format(a=sql.SQL(f"{alias}." if alias else ""))


def _batch_params(**more: Any) -> dict[str, Any]:
    return {"stage": Stage.STAGE, "superseded": CountKey.SUPERSEDED, **more}


# --- staging batches ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageBatch:
    audit_id: int
    counts: dict[str, Any]
    lines_read: int | None
    rows_loaded: int | None
    rows_rejected: int | None
    sha256: str | None
    bytes: int | None
    window_start: dt.date | None
    window_end: dt.date | None


def current_batches(conn: psycopg.Connection, source_file_id: int) -> list[StageBatch]:
    """The staging batches of a source file that count (succeeded, not superseded), by audit id."""
    rows = every(
        conn,
        sql.SQL(
            "SELECT audit_id, counts, lines_read, rows_loaded, rows_rejected, sha256, bytes, window_start, "
            "window_end FROM ops.ingest_run_audits WHERE source_file_id = %(source_file_id)s AND {current} "
            "ORDER BY audit_id"
        ).format(current=_current_batch()),
        _batch_params(source_file_id=source_file_id),
    )
    return [StageBatch(**{**row, "counts": dict(row["counts"] or {})}) for row in rows]


@dataclass(frozen=True)
class BatchTotals:
    batches: int
    lines_read: int | None  # None: no batch counts
    rows_loaded: int | None
    rows_rejected: int | None


def batch_totals(conn: psycopg.Connection, source_file_id: int) -> BatchTotals:
    """How many batches of a source file count, and their summed lines."""
    (row,) = every(
        conn,
        sql.SQL(
            "SELECT count(*) AS batches, sum(lines_read) AS lines_read, sum(rows_loaded) AS rows_loaded, "
            "sum(rows_rejected) AS rows_rejected FROM ops.ingest_run_audits "
            "WHERE source_file_id = %(source_file_id)s AND {current}"
        ).format(current=_current_batch()),
        _batch_params(source_file_id=source_file_id),
    )

    def number(key: str) -> int | None:
        return None if row[key] is None else int(row[key])

    return BatchTotals(
        int(row["batches"]), number("lines_read"), number("rows_loaded"), number("rows_rejected")
    )


def fail_running_batches(conn: psycopg.Connection, source_file_id: int) -> int:
    """Mark the file's batches still 'running' failed (their process died); return how many."""
    return conn.execute(
        "UPDATE ops.ingest_run_audits SET status = 'failed', finished_at = now(), "
        "error = 'interrupted: the staging process ended before this batch finished' "
        "WHERE stage = %(stage)s AND source_file_id = %(source_file_id)s AND status = 'running'",
        {"stage": Stage.STAGE, "source_file_id": source_file_id},
    ).rowcount


def supersede_batches(
    conn: psycopg.Connection, source_file_id: int, run_id: int, note: dict[str, Any] | None = None
) -> None:
    """Mark the file's current batches superseded by ``run_id`` (they stay as history, no longer count)."""
    conn.execute(
        sql.SQL(
            "UPDATE ops.ingest_run_audits SET counts = counts || jsonb_build_object(%(superseded)s::text, "
            "%(run_id)s::bigint) || %(note)s WHERE source_file_id = %(source_file_id)s AND {current}"
        ).format(current=_current_batch()),
        _batch_params(source_file_id=source_file_id, run_id=run_id, note=Jsonb(note or {})),
    )


def lock_batch_parents(conn: psycopg.Connection, source_file_id: int, audit_id: int) -> bool:
    """Lock a batch's two parent rows ``FOR KEY SHARE`` (what a per-row foreign key would do); False
    when one is missing."""
    (row,) = every(
        conn,
        "SELECT EXISTS (SELECT FROM ops.source_file WHERE source_file_id = %(source_file_id)s FOR KEY SHARE) "
        "AS source_file, EXISTS (SELECT FROM ops.ingest_run_audits WHERE audit_id = %(audit_id)s FOR KEY SHARE) "
        "AS batch",
        {"source_file_id": source_file_id, "audit_id": audit_id},
    )
    return bool(row["source_file"]) and bool(row["batch"])


def staged_with_sha256(
    conn: psycopg.Connection, *, sha256: str, file_type: str, member: str | None, other_than: int
) -> list[int]:
    """Other source files with this content that have a succeeded staging batch."""
    rows = every(
        conn,
        "SELECT DISTINCT s.source_file_id FROM ops.source_file s JOIN ops.ingest_run_audits a "
        "ON a.source_file_id = s.source_file_id AND a.stage = %(stage)s AND a.status = 'succeeded' "
        "WHERE s.sha256 = %(sha256)s AND s.file_type = %(file_type)s AND s.member IS NOT DISTINCT FROM %(member)s "
        "AND s.source_file_id <> %(other_than)s ORDER BY 1",
        {
            "stage": Stage.STAGE,
            "sha256": sha256,
            "file_type": file_type,
            "member": member,
            "other_than": other_than,
        },
    )
    return [int(r["source_file_id"]) for r in rows]


def duplicate_of(conn: psycopg.Connection, source_file_id: int) -> int | None:
    """The staged file whose rows stand for ``source_file_id``, when staging skipped it as identical
    (same sha256) and never staged it itself."""
    rows = every(
        conn,
        "SELECT (counts->>%(key)s)::bigint AS original FROM ops.ingest_run_audits "
        "WHERE stage = %(stage)s AND source_file_id = %(source_file_id)s AND status = 'skipped' "
        "AND counts ? %(key)s AND NOT EXISTS (SELECT 1 FROM ops.ingest_run_audits b WHERE b.stage = %(stage)s "
        "AND b.source_file_id = %(source_file_id)s AND b.status = 'succeeded') ORDER BY audit_id DESC LIMIT 1",
        {"key": CountKey.DUPLICATE_OF, "stage": Stage.STAGE, "source_file_id": source_file_id},
    )
    return int(rows[0]["original"]) if rows and rows[0]["original"] is not None else None


@dataclass(frozen=True)
class StagedSourceFile:
    source_file_id: int
    file_type: str
    cycle: int
    fetched_at: dt.datetime
    rows_loaded: int | None


def staged_source_files(
    conn: psycopg.Connection, *, cycles: Sequence[int] | None = None, file_types: Sequence[str] | None = None
) -> list[StagedSourceFile]:
    """Source files of a cycle with current stage batches, by cycle and type, newest first."""
    rows = every(
        conn,
        sql.SQL(
            """
            SELECT sf.source_file_id, sf.file_type, sf.cycle, sf.fetched_at, sum(a.rows_loaded)::bigint AS rows_loaded
            FROM ops.source_file sf
            JOIN ops.ingest_run_audits a ON a.source_file_id = sf.source_file_id
            WHERE {current}
              AND sf.cycle IS NOT NULL
              AND (%(cycles)s::int[] IS NULL OR sf.cycle = ANY(%(cycles)s::int[]))
              AND (%(types)s::text[] IS NULL OR sf.file_type = ANY(%(types)s::text[]))
            GROUP BY sf.source_file_id
            ORDER BY sf.cycle, sf.file_type, sf.fetched_at DESC, sf.source_file_id DESC
            """
        ).format(current=_current_batch("a")),
        _batch_params(
            cycles=list(cycles) if cycles else None, types=list(file_types) if file_types else None
        ),
    )
    return [StagedSourceFile(**row) for row in rows]


def files_reaching_eof(
    conn: psycopg.Connection, *, cycle: int, file_type: str
) -> list[tuple[int, dt.datetime, int | None]]:
    """The candidates for the current snapshot of ``cycle``/``file_type``, newest fetch first:
    (id, fetched_at, duplicate_of) of source files with a current batch that reached the end of the
    payload, or that staging skipped as a duplicate of another file (``duplicate_of`` names it)."""
    rows = every(
        conn,
        sql.SQL(
            """
            SELECT sf.source_file_id, sf.fetched_at,
                   (SELECT (d.counts->>%(duplicate)s)::bigint FROM ops.ingest_run_audits d
                    WHERE d.source_file_id = sf.source_file_id AND d.stage = %(stage)s
                      AND d.status = 'skipped' AND d.counts ? %(duplicate)s
                    ORDER BY d.audit_id DESC LIMIT 1) AS duplicate_of
            FROM ops.source_file sf
            WHERE sf.cycle = %(cycle)s AND sf.file_type = %(file_type)s
              AND EXISTS (SELECT 1 FROM ops.ingest_run_audits a
                          WHERE a.source_file_id = sf.source_file_id
                            AND (({current} AND a.counts->>%(eof)s = 'true')
                                 OR (a.stage = %(stage)s AND a.status = 'skipped'
                                     AND a.counts ? %(duplicate)s)))
            ORDER BY sf.fetched_at DESC, sf.source_file_id DESC
            """
        ).format(current=_current_batch("a")),
        _batch_params(cycle=cycle, file_type=file_type, eof=CountKey.EOF, duplicate=CountKey.DUPLICATE_OF),
    )
    return [
        (int(r["source_file_id"]), r["fetched_at"], None if r["duplicate_of"] is None else int(r["duplicate_of"]))
        for r in rows
    ]


def staged_file_totals(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Per staged source file: type, cycle, lines, loaded, rejected, window (every succeeded batch)."""
    return every(
        conn,
        """
        SELECT sf.file_type, sf.cycle, sf.source_file_id, sum(a.lines_read) AS lines,
               sum(a.rows_loaded) AS loaded, sum(a.rows_rejected) AS rejected,
               min(a.window_start) AS window_start, max(a.window_end) AS window_end
        FROM ops.ingest_run_audits a JOIN ops.source_file sf USING (source_file_id)
        WHERE a.stage = %(stage)s AND a.status = 'succeeded'
        GROUP BY sf.file_type, sf.cycle, sf.source_file_id
        ORDER BY sf.cycle, sf.file_type, sf.source_file_id
        """,
        {"stage": Stage.STAGE},
    )


# --- normalize units ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NormalizedMark:
    """The newest succeeded normalization: its snapshot and when that snapshot was fetched (the
    newest fetch that resolved to it, as recorded in ``counts.snapshot_fetched_at``, else the source
    file's own ``fetched_at``)."""

    audit_id: int
    source_file_id: int
    counts: dict[str, Any]
    fetched_at: dt.datetime | None = None


def last_normalized(conn: psycopg.Connection, unit: UnitScope) -> NormalizedMark | None:
    """The newest succeeded normalization of this cycle and file type."""
    rows = every(
        conn,
        "SELECT a.audit_id, a.source_file_id, a.counts, "
        "coalesce((a.counts->>'snapshot_fetched_at')::timestamptz, sf.fetched_at) AS fetched_at "
        "FROM ops.ingest_run_audits a LEFT JOIN ops.source_file sf ON sf.source_file_id = a.source_file_id "
        "WHERE a.stage = %(stage)s AND a.scope = %(scope)s AND a.status = 'succeeded' "
        "AND a.source_file_id IS NOT NULL ORDER BY a.finished_at DESC, a.audit_id DESC LIMIT 1",
        {"stage": Stage.NORMALIZE, "scope": str(unit)},
    )
    if not rows:
        return None
    row = rows[0]
    return NormalizedMark(
        int(row["audit_id"]), int(row["source_file_id"]), dict(row["counts"] or {}), row["fetched_at"]
    )


# --- what runs touched ------------------------------------------------------------------------------------
def staged_by_runs(conn: psycopg.Connection, runs: Sequence[int]) -> list[int]:
    """Source files the runs staged (or tried to, or skipped as staged already)."""
    rows = every(
        conn,
        "SELECT DISTINCT source_file_id FROM ops.ingest_run_audits WHERE run_id = ANY(%(runs)s) "
        "AND stage = %(stage)s AND source_file_id IS NOT NULL AND status IN ('succeeded', 'skipped', 'failed') "
        "ORDER BY 1",
        {"runs": list(runs), "stage": Stage.STAGE},
    )
    return [int(r["source_file_id"]) for r in rows]


def normalized_by_runs(conn: psycopg.Connection, runs: Sequence[int]) -> list[UnitScope]:
    """The (file type, cycle) units the runs normalized (or tried to)."""
    rows = every(
        conn,
        "SELECT DISTINCT scope FROM ops.ingest_run_audits WHERE run_id = ANY(%(runs)s) AND stage = %(stage)s "
        "AND source_file_id IS NOT NULL ORDER BY 1",
        {"runs": list(runs), "stage": Stage.NORMALIZE},
    )
    units = [UnitScope.parse(str(r["scope"])) for r in rows]
    return [u for u in units if u is not None and u.cycle is not None]


def scored_by_runs(conn: psycopg.Connection, runs: Sequence[int]) -> list[tuple[str, dt.date]]:
    """The (method version, as-of date) slots the runs scored."""
    rows = every(
        conn,
        "SELECT DISTINCT counts->>%(method)s AS method_version, counts->>%(as_of)s AS as_of "
        "FROM ops.ingest_run_audits WHERE run_id = ANY(%(runs)s) AND stage = %(stage)s AND status = 'succeeded' "
        "AND counts ? %(method)s AND counts ? %(as_of)s ORDER BY 1, 2",
        {
            "runs": list(runs),
            "stage": Stage.SCORES,
            "method": CountKey.METHOD_VERSION,
            "as_of": CountKey.AS_OF,
        },
    )
    return [(str(r["method_version"]), dt.date.fromisoformat(str(r["as_of"]))) for r in rows]


def succeeded_steps(conn: psycopg.Connection, runs: Sequence[int]) -> set[str]:
    """Flow steps that succeeded (or were skipped as done) in the runs."""
    rows = every(
        conn,
        "SELECT DISTINCT stage FROM ops.ingest_run_audits WHERE run_id = ANY(%(runs)s) "
        "AND scope = %(scope)s AND status IN ('succeeded', 'skipped')",
        {"runs": list(runs), "scope": str(STEP)},
    )
    return {str(r["stage"]) for r in rows}


def run_audits(conn: psycopg.Connection, run_id: int) -> list[dict[str, Any]]:
    """Every audit row of a run, with its source file's URL, in order."""
    return every(
        conn,
        "SELECT a.audit_id, a.stage, a.scope, a.status, a.source_file_id, a.lines_read, a.rows_loaded, "
        "a.rows_rejected, a.window_start, a.window_end, a.started_at, a.finished_at, a.counts, "
        "a.validation, a.error, sf.url FROM ops.ingest_run_audits a "
        "LEFT JOIN ops.source_file sf USING (source_file_id) WHERE a.run_id = %(run_id)s ORDER BY a.audit_id",
        {"run_id": run_id},
    )


# --- alerts -----------------------------------------------------------------------------------------------
def alert_sent(conn: psycopg.Connection, run_id: int) -> bool:
    (row,) = every(
        conn,
        "SELECT EXISTS (SELECT 1 FROM ops.ingest_run_audits WHERE run_id = %(run_id)s AND stage = %(stage)s "
        "AND counts->>%(alert)s = 'sent') AS sent",
        {"run_id": run_id, "stage": Stage.VALIDATE, "alert": CountKey.ALERT},
    )
    return bool(row["sent"])


def record_alert(conn: psycopg.Connection, run_id: int, *, sent: bool) -> None:
    """Note the alert's outcome on the run's last validation row."""
    conn.execute(
        "UPDATE ops.ingest_run_audits SET counts = counts || %(note)s WHERE audit_id = ("
        "SELECT max(audit_id) FROM ops.ingest_run_audits WHERE run_id = %(run_id)s AND stage = %(stage)s)",
        {
            "note": Jsonb({CountKey.ALERT: "sent" if sent else "failed"}),
            "run_id": run_id,
            "stage": Stage.VALIDATE,
        },
    )


# --- maintenance (the benchmark) ------------------------------------------------------------------------
def has_succeeded(conn: psycopg.Connection, stage: str, scope: Scope) -> bool:
    (row,) = every(
        conn,
        "SELECT EXISTS (SELECT 1 FROM ops.ingest_run_audits WHERE stage = %(stage)s AND scope = %(scope)s "
        "AND status = 'succeeded') AS found",
        {"stage": stage, "scope": str(scope)},
    )
    return bool(row["found"])


def delete_audits(conn: psycopg.Connection, stages: Sequence[str]) -> None:
    conn.execute("DELETE FROM ops.ingest_run_audits WHERE stage = ANY(%(stages)s)", {"stages": list(stages)})


def runs_with_totals(conn: psycopg.Connection, *, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
    """The newest runs with the lines staged, rows rejected and gates run of each (the explorer)."""
    query = sql.SQL(
        "SELECT r.run_id, r.command, r.status, r.started_at, r.finished_at, r.error, "
        "coalesce(sum(a.rows_rejected) FILTER (WHERE a.stage = {stage} AND a.scope <> {step}), 0) AS rows_rejected, "
        "coalesce(sum(a.lines_read) FILTER (WHERE a.stage = {stage} AND a.scope <> {step}), 0) AS lines_read, "
        "count(*) FILTER (WHERE a.stage = {validate}) AS gates "
        "FROM ops.ingest_run r LEFT JOIN ops.ingest_run_audits a ON a.run_id = r.run_id "
        "GROUP BY r.run_id ORDER BY r.run_id DESC LIMIT %(limit)s OFFSET %(offset)s"
    ).format(
        stage=sql.Literal(Stage.STAGE), step=sql.Literal(str(STEP)), validate=sql.Literal(Stage.VALIDATE)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"limit": limit, "offset": offset}).fetchall()


def run_validations(conn: psycopg.Connection, run_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Each check result the gates of ``run_ids`` recorded, failures and warnings first per run."""
    query = sql.SQL(
        "SELECT a.run_id, a.scope AS gate, v ->> 'name' AS name, v ->> 'scope' AS scope, "
        "v ->> 'status' AS status, v ->> 'message' AS message "
        "FROM ops.ingest_run_audits a CROSS JOIN LATERAL jsonb_array_elements(a.validation) v "
        "WHERE a.stage = {validate} AND a.run_id = ANY(%(runs)s) AND jsonb_typeof(a.validation) = 'array' "
        "ORDER BY a.run_id DESC, a.audit_id, (v ->> 'status') = 'passed', name, scope"
    ).format(validate=sql.Literal(Stage.VALIDATE))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"runs": list(run_ids)}).fetchall()
