"""No silent data loss (issue #15): upstream reverts, empty or truncated snapshots, interrupted replaces.

Each case used to exit 0 while core lost or reverted rows. Real 2020 pas2 sample, real stage step.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest
from normalize_samples import EARLY_2020, Stager

from fecflow.catalog import FILES
from fecflow.errors import SnapshotRefused
from fecflow.normalize.guards import ShrinkPolicy
from fecflow.normalize.snapshot import current_snapshot
from fecflow.normalize.step import normalize_cycle
from fecflow.pipeline.prune import plan_prune
from fecflow.staging.load import stage_source_file, unstage_source_file
from support.staging_loader import read_sample_lines, write_lines

pytestmark = pytest.mark.integration

T1 = dt.datetime(2019, 3, 19, 12, 0, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(days=7)
T3 = T2 + dt.timedelta(days=7)


def live(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM core.contribution WHERE source = 'pas2' AND cycle = 2020 AND deleted_at IS NULL"
    ).fetchone()
    assert row is not None
    return int(row[0])


def normalize(conn: psycopg.Connection, run_id: int, **kwargs: object) -> str:
    result = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["pas2"], **kwargs)  # type: ignore[arg-type]
    conn.commit()
    (unit,) = result.units
    return unit.status


def failed_audits(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT error FROM ops.ingest_run_audits WHERE stage = 'normalize' AND status = 'failed' ORDER BY audit_id"
    ).fetchall()
    return [str(r[0]) for r in rows]


@pytest.fixture
def sample() -> list[bytes]:
    return read_sample_lines(EARLY_2020 / "itpas2.txt")


def test_an_upstream_revert_makes_the_reverted_file_current_again(
    conn: psycopg.Connection, stage: Stager, run_id: int, tmp_path: Path, sample: list[bytes]
) -> None:
    full = len(sample)
    a = write_lines(tmp_path / "a.txt", sample)
    a_id = stage(a, "pas2", 2020, T1)
    assert normalize(conn, run_id) == "normalized" and live(conn) == full

    stage(write_lines(tmp_path / "a_prime.txt", sample[100:]), "pas2", 2020, T2)
    assert normalize(conn, run_id) == "normalized" and live(conn) == full - 100

    again = write_lines(tmp_path / "a_again.txt", sample)  # the same bytes: staging skips it as a duplicate
    again_id = stage(again, "pas2", 2020, T3)
    snapshot = current_snapshot(conn, cycle=2020, file_type="pas2")
    assert snapshot is not None and again_id != a_id
    assert (snapshot.source_file_id, snapshot.fetched_at) == (a_id, T3)
    # `staging prune` keeps the reverted-to file although two newer fetches exist.
    kept = {d.file.source_file_id: d.reason for d in plan_prune(conn, keep=1) if not d.prune}
    assert "current snapshot" in kept[a_id]
    assert normalize(conn, run_id) == "normalized"
    assert live(conn) == full


def test_an_empty_snapshot_fails_and_changes_nothing_unless_accepted(
    conn: psycopg.Connection, stage: Stager, run_id: int, tmp_path: Path, sample: list[bytes]
) -> None:
    stage(write_lines(tmp_path / "a.txt", sample), "pas2", 2020, T1)
    normalize(conn, run_id)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    stage(empty, "pas2", 2020, T2)

    with pytest.raises(SnapshotRefused, match="would remove 3,159 of 3,159 live rows"):
        normalize(conn, run_id)
    conn.rollback()
    assert live(conn) == len(sample)
    assert len(failed_audits(conn)) == 1

    assert normalize(conn, run_id, shrink=ShrinkPolicy(accept=True)) == "normalized"
    assert live(conn) == 0
    row = conn.execute(
        "SELECT counts->'removals' FROM ops.ingest_run_audits WHERE stage = 'normalize' AND status = 'succeeded' "
        "ORDER BY audit_id DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    assert row[0] == {"removed_rows": len(sample), "live_rows_before": len(sample), "shrink_accepted": True}


def test_a_truncated_snapshot_fails_but_a_small_amendment_passes(
    conn: psycopg.Connection, stage: Stager, run_id: int, tmp_path: Path, sample: list[bytes]
) -> None:
    stage(write_lines(tmp_path / "a.txt", sample), "pas2", 2020, T1)
    normalize(conn, run_id)
    tenth = len(sample) // 10
    stage(write_lines(tmp_path / "truncated.txt", sample[:tenth]), "pas2", 2020, T2)
    with pytest.raises(SnapshotRefused, match="tolerance 5.0%"):
        normalize(conn, run_id)
    conn.rollback()
    assert live(conn) == len(sample)

    # 3% gone (the kind of change an amendment makes): within the default tolerance.
    stage(write_lines(tmp_path / "amended.txt", sample[95:]), "pas2", 2020, T3)
    assert normalize(conn, run_id) == "normalized"
    assert live(conn) == len(sample) - 95
    # A stricter tolerance refuses the same kind of change.
    stage(write_lines(tmp_path / "amended_again.txt", sample[190:]), "pas2", 2020, T3 + dt.timedelta(days=1))
    with pytest.raises(SnapshotRefused):
        normalize(conn, run_id, shrink=ShrinkPolicy(max_removed_share=0.01, min_removed_rows=10))
    conn.rollback()
    assert live(conn) == len(sample) - 95


def test_an_interrupted_replace_does_not_revert_core_to_an_older_snapshot(
    conn: psycopg.Connection, db_url: str, stage: Stager, run_id: int, tmp_path: Path, sample: list[bytes]
) -> None:
    stage(write_lines(tmp_path / "a.txt", sample), "pas2", 2020, T1)
    normalize(conn, run_id)
    b = write_lines(tmp_path / "b.txt", sample[50:])
    b_id = stage(b, "pas2", 2020, T2)
    normalize(conn, run_id)
    assert live(conn) == len(sample) - 50

    # What `stage --replace` leaves when killed after its delete committed and before the reload did.
    unstage_source_file(conn, FILES["pas2"], b_id, run_id)
    conn.commit()
    with pytest.raises(SnapshotRefused, match="older than the one core holds"):
        normalize(conn, run_id)
    conn.rollback()
    assert live(conn) == len(sample) - 50

    # Staging the newer file again (the hint) resumes; core already holds it.
    stage_source_file(db_url, run_id=run_id, source_file_id=b_id, spec=FILES["pas2"], path=b)
    assert normalize(conn, run_id) == "skipped"
    assert live(conn) == len(sample) - 50
