"""Pruning old staged snapshots: which files go, which stay, and what a pruned file leaves behind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

import fecflow.staging.coverage as coverage_module
from fecflow.db import ops
from fecflow.db.partitions import staging_leaves
from fecflow.normalize.snapshot import current_snapshot
from fecflow.normalize.step import normalize_cycle
from fecflow.pipeline.prune import PRUNE_STAGE, plan_prune, prune_staging
from fecflow.staging.coverage import coverage_of
from fecflow.staging.load import STAGE_LOCK_CLASS
from support.staging_loader import read_sample_lines, stage_file, write_lines

EARLY_CM = "bulk-2020-early-snapshot-2019-03/extracted/cm.txt"
LATE_CM = "masters-2020-late-snapshot-2020-11/cm.txt"
T1 = dt.datetime(2019, 3, 19, tzinfo=dt.UTC)
T2 = dt.datetime(2020, 11, 7, tzinfo=dt.UTC)
T3 = dt.datetime(2020, 11, 14, tzinfo=dt.UTC)


def staged_rows(conn: psycopg.Connection, source_file_id: int) -> int:
    row = conn.execute(
        "SELECT count(*) FROM staging.cm WHERE _source_file_id = %s", (source_file_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def decisions(conn: psycopg.Connection, keep: int = 1) -> dict[int, tuple[bool, str]]:
    return {d.file.source_file_id: (d.prune, d.reason) for d in plan_prune(conn, keep=keep)}


def normalize_cm(conn: psycopg.Connection) -> None:
    run_id = ops.start_run(conn, "normalize", {})
    normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm"])
    conn.commit()


def test_prune_keeps_the_snapshot_core_was_normalized_from(
    conn: psycopg.Connection, db_url: str, shared_samples: Path
) -> None:
    early = stage_file(conn, db_url, shared_samples / EARLY_CM, file_type="cm", cycle=2020, fetched_at=T1)
    normalize_cm(conn)
    late = stage_file(conn, db_url, shared_samples / LATE_CM, file_type="cm", cycle=2020, fetched_at=T2)

    # The late snapshot is not normalized yet: core still holds the early one, which stays.
    plan = decisions(conn)
    assert plan[late] == (False, "one of the 1 newest fully staged snapshot(s)")
    assert plan[early] == (False, "core was last normalized from it")

    normalize_cm(conn)
    assert decisions(conn)[early] == (True, "older snapshot: newer ones are staged")
    run_id = ops.start_run(conn, "staging-prune", {})
    result = prune_staging(conn, lambda: psycopg.connect(db_url), run_id=run_id)

    assert result.pruned == [early] and result.rows_deleted == 11605 and result.busy == []
    assert result.vacuumed == ["ops.rejected_row", "staging.raw_line"]
    assert result.bytes_freed > 11605 * 50  # the dropped leaves' pages (~100 bytes per cm row)
    assert staging_leaves(conn, "cm", early) == [] and staging_leaves(conn, "cm", late)
    assert staged_rows(conn, early) == 0 and staged_rows(conn, late) == 17939
    assert not coverage_of(conn, early).complete and coverage_of(conn, late).complete
    snapshot = current_snapshot(conn, cycle=2020, file_type="cm")
    assert snapshot is not None and snapshot.source_file_id == late
    batches = conn.execute(
        "SELECT counts->>'superseded_by_run_id', counts->>'pruned', rows_loaded FROM ops.ingest_run_audits "
        "WHERE stage = 'stage' AND source_file_id = %s AND status = 'succeeded'",
        (early,),
    ).fetchall()
    assert batches == [(str(run_id), "true", 11605)]  # history kept, no longer coverage
    audit = conn.execute(
        "SELECT status, counts->>'rows_deleted', (counts->>'bytes_freed')::bigint FROM ops.ingest_run_audits "
        "WHERE stage = %s AND source_file_id = %s",
        (PRUNE_STAGE, early),
    ).fetchall()
    assert audit == [("succeeded", "11605", result.bytes_freed)]
    # Nothing left to prune; the early file can be staged again from its payload.
    assert not any(p for p, _ in decisions(conn).values())
    again = stage_file(conn, db_url, shared_samples / EARLY_CM, file_type="cm", cycle=2020, fetched_at=T1)
    assert staged_rows(conn, again) == 11605


@pytest.fixture
def three_snapshots(
    conn: psycopg.Connection, db_url: str, shared_samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int, int]:
    """The early and late 2020 cm, then a newer 5,000-line cm staged in two batches."""
    s1 = stage_file(conn, db_url, shared_samples / EARLY_CM, file_type="cm", cycle=2020, fetched_at=T1)
    s2 = stage_file(conn, db_url, shared_samples / LATE_CM, file_type="cm", cycle=2020, fetched_at=T2)
    s3_path = write_lines(tmp_path / "cm_s3.txt", read_sample_lines(shared_samples / EARLY_CM)[:5000])
    monkeypatch.setattr(coverage_module, "MIN_PART_BYTES", 1)
    s3 = stage_file(conn, db_url, s3_path, file_type="cm", cycle=2020, fetched_at=T3, workers=2)
    return s1, s2, s3


def test_keep_counts_fully_staged_snapshots_and_spares_a_partly_staged_newer_one(
    conn: psycopg.Connection, db_url: str, three_snapshots: tuple[int, int, int]
) -> None:
    s1, s2, s3 = three_snapshots
    # s3's second batch "crashed" (failed, rolled back): s3 is partly staged, resumable.
    last = conn.execute(
        "UPDATE ops.ingest_run_audits SET status = 'failed' WHERE stage = 'stage' AND source_file_id = %s "
        "AND (counts->>'eof')::boolean RETURNING audit_id",
        (s3,),
    ).fetchone()
    assert last is not None
    conn.execute("DELETE FROM staging.cm WHERE _batch_id = %s", (last[0],))
    conn.commit()
    assert 0 < staged_rows(conn, s3) < 5000

    assert decisions(conn, keep=1) == {
        s3: (False, "newer than the kept snapshots, partly staged (resumable)"),
        s2: (False, "one of the 1 newest fully staged snapshot(s)"),
        s1: (True, "older snapshot: newer ones are staged"),
    }
    assert not any(p for p, _ in decisions(conn, keep=2).values())
    assert decisions(conn, keep=3)[s1] == (False, "only 2 fully staged snapshot(s), keeping 3")
    with pytest.raises(ValueError):
        plan_prune(conn, keep=0)

    run_id = ops.start_run(conn, "staging-prune", {})
    dry = prune_staging(conn, lambda: psycopg.connect(db_url), run_id=run_id, dry_run=True)
    assert [d.file.source_file_id for d in dry.to_prune] == [s1] and dry.pruned == []
    assert staged_rows(conn, s1) == 11605  # a dry run changes nothing


def test_a_file_being_staged_is_left_alone(
    conn: psycopg.Connection, db_url: str, shared_samples: Path
) -> None:
    s1 = stage_file(conn, db_url, shared_samples / EARLY_CM, file_type="cm", cycle=2020, fetched_at=T1)
    stage_file(conn, db_url, shared_samples / LATE_CM, file_type="cm", cycle=2020, fetched_at=T2)
    run_id = ops.start_run(conn, "staging-prune", {})
    with psycopg.connect(db_url, autocommit=True) as stager:
        stager.execute("SELECT pg_advisory_lock(%s, %s)", (STAGE_LOCK_CLASS, s1))
        result = prune_staging(conn, lambda: psycopg.connect(db_url), run_id=run_id)
    assert result.busy == [s1] and result.pruned == [] and result.vacuumed == []
    assert staged_rows(conn, s1) == 11605
    assert coverage_of(conn, s1).complete


def test_normalize_reads_what_staging_calls_fully_staged(
    conn: psycopg.Connection, three_snapshots: tuple[int, int, int]
) -> None:
    """current_snapshot (normalize) and coverage_of (stage, prune) share one definition of fully staged."""
    s1, s2, s3 = three_snapshots

    def current_after_breaking(source_file_id: int, change: str) -> tuple[int, int | None]:
        """Break one file's staging audits with ``change``; the current snapshot after it."""
        conn.execute(
            f"UPDATE ops.ingest_run_audits SET {change} WHERE stage = 'stage' AND source_file_id = %s",  # noqa: S608
            (source_file_id,),
        )
        assert not coverage_of(conn, source_file_id).complete
        snapshot = current_snapshot(conn, cycle=2020, file_type="cm")
        assert snapshot is not None
        return snapshot.source_file_id, snapshot.rows_loaded

    snapshot = current_snapshot(conn, cycle=2020, file_type="cm")
    assert snapshot is not None and (snapshot.source_file_id, snapshot.rows_loaded) == (s3, staged_rows(conn, s3))
    # s3's first batch failed: its last batch reached the end of the file, but a gap is left.
    gap = "status = CASE WHEN (counts->>'first_line')::int = 1 THEN 'failed' ELSE status END"
    assert current_after_breaking(s3, gap)[0] == s2
    # s2's audit says its lines start at 1 but its bytes at 7: inconsistent, so not fully staged.
    assert current_after_breaking(s2, "counts = jsonb_set(counts, '{first_byte}', '7')") == (s1, 11605)
    conn.rollback()
