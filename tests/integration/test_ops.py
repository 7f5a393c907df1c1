"""Run / audit / source-file bookkeeping and the pipeline lock."""

from __future__ import annotations

import psycopg
import pytest

from fecflow.db import ops
from fecflow.errors import LockHeld

pytestmark = pytest.mark.integration


def test_run_and_audit_lifecycle(conn: psycopg.Connection) -> None:
    run_id = ops.start_run(conn, "stage", {"cycles": [2020]})
    sf = ops.record_source_file(
        conn, url="file:///x/cm20.zip", cycle=2020, file_type="cm", status="downloaded", bytes=10, sha256="ab"
    )
    audit = ops.start_audit(conn, run_id, "stage", scope="cm", source_file_id=sf)
    ops.finish_audit(conn, audit, "succeeded", lines_read=10, rows_loaded=9, rows_rejected=1, counts={"x": 1})
    ops.finish_run(conn, run_id, "succeeded")
    row = conn.execute(
        "SELECT r.status, a.status, a.lines_read, a.counts FROM ops.ingest_run r "
        "JOIN ops.ingest_run_audits a USING (run_id) WHERE r.run_id = %s",
        (run_id,),
    ).fetchone()
    assert row == ("succeeded", "succeeded", 10, {"x": 1})


def test_audit_refuses_unbalanced_line_counts(conn: psycopg.Connection) -> None:
    run_id = ops.start_run(conn, "stage", {})
    audit = ops.start_audit(conn, run_id, "stage")
    with pytest.raises(psycopg.errors.CheckViolation):
        ops.finish_audit(conn, audit, "succeeded", lines_read=10, rows_loaded=8, rows_rejected=1)
    conn.rollback()


def test_last_usable_source_file_ignores_failed_downloads(conn: psycopg.Connection) -> None:
    url = "http://127.0.0.1/2020/cn20.zip"
    assert ops.last_usable_source_file(conn, url) is None
    good = ops.record_source_file(conn, url=url, file_type="cn", status="downloaded", sha256="aa", bytes=1)
    ops.record_source_file(conn, url=url, file_type="cn", status="failed")
    last = ops.last_usable_source_file(conn, url)
    assert last is not None and last.source_file_id == good


def test_second_writer_gets_lock_error_naming_the_running_run(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as first, psycopg.connect(db_url, autocommit=True) as second:
        run_id = ops.start_run(first, "backfill", {"cycles": [2020]})
        ops.acquire_pipeline_lock(first, run_id)
        other = ops.start_run(second, "backfill", {})
        with pytest.raises(LockHeld) as info:
            ops.acquire_pipeline_lock(second, other)
        assert f"run {run_id}" in info.value.message
        assert "backfill" in info.value.message
        ops.release_pipeline_lock(first)
        ops.acquire_pipeline_lock(second, other)  # free now
        ops.release_pipeline_lock(second)
