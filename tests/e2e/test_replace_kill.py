"""`fecflow stage --replace` killed with SIGKILL between its delete and its reload (#15, silent loss 3).

Before: the next `normalize` fell back to the older staged snapshot and reverted core to it (1.2M rows
deleted, 70,671 restored in the probe). Now normalize refuses (exit 5, core unchanged), and staging
the file again resumes. The kill point is made deterministic: the test holds a row lock on the file's
ops.source_file row, which the reload's first batch needs (FOR KEY SHARE) and the delete does not.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from support.cli import run_fecflow
from support.samples import SAMPLES
from support.staging_loader import read_sample_lines, stage_file, write_lines

pytestmark = pytest.mark.e2e

T1 = dt.datetime(2019, 3, 19, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(days=7)
LIVE = "SELECT count(*) FROM core.contribution WHERE source = 'pas2' AND deleted_at IS NULL"


def _wait_for(conn: psycopg.Connection, query: str, params: tuple = (), timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not conn.execute(query, params).fetchone():
        assert time.monotonic() < deadline, f"timed out waiting for: {query}"
        time.sleep(0.05)


def test_a_killed_replace_does_not_revert_core(db_url: str, tmp_path: Path) -> None:
    lines = read_sample_lines(SAMPLES / "bulk-2020-early-snapshot-2019-03" / "extracted" / "itpas2.txt")
    env = {"FECFLOW_DATABASE_URL": db_url}
    (tmp_path / "b").mkdir()
    b_path = write_lines(tmp_path / "b" / "itpas2.txt", lines[50:])
    with psycopg.connect(db_url) as conn:
        stage_file(
            conn,
            db_url,
            write_lines(tmp_path / "itpas2.txt", lines),
            file_type="pas2",
            cycle=2020,
            fetched_at=T1,
        )
        normalized = run_fecflow(tmp_path, "normalize", "--cycles", "2020", "--files", "pas2", env=env)
        assert normalized.returncode == 0, normalized.stderr
        b_id = stage_file(conn, db_url, b_path, file_type="pas2", cycle=2020, fetched_at=T2)
    normalized = run_fecflow(tmp_path, "normalize", "--cycles", "2020", "--files", "pas2", env=env)
    assert normalized.returncode == 0, normalized.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute(LIVE).fetchone() == (len(lines) - 50,)

    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
    child_env.update(
        FECFLOW_HOME=str(tmp_path), FECFLOW_LOG_DIR=str(tmp_path / "logs"), FECFLOW_DATABASE_URL=db_url
    )
    with psycopg.connect(db_url) as blocker, psycopg.connect(db_url, autocommit=True) as watcher:
        blocker.execute("SELECT 1 FROM ops.source_file WHERE source_file_id = %s FOR UPDATE", (b_id,))
        proc = subprocess.Popen(
            [sys.executable, "-m", "fecflow.cli.app", "stage", "--replace", "--files", "pas2", str(b_path)],
            env=child_env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(  # the delete committed: B's earlier batches are superseded
                watcher,
                "SELECT 1 FROM ops.ingest_run_audits WHERE source_file_id = %s AND counts ? 'superseded_by_run_id'",
                (b_id,),
            )
            _wait_for(watcher, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        blocker.rollback()
        assert watcher.execute(
            "SELECT count(*) FROM staging.pas2 WHERE _source_file_id = %s", (b_id,)
        ).fetchone() == (0,)

    refused = run_fecflow(tmp_path, "normalize", "--cycles", "2020", "--files", "pas2", env=env)
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "older than the one core holds" in refused.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute(LIVE).fetchone() == (len(lines) - 50,)

    restaged = run_fecflow(tmp_path, "stage", "--files", "pas2", str(b_path), env=env)
    assert restaged.returncode == 0, restaged.stderr
    again = run_fecflow(tmp_path, "normalize", "--cycles", "2020", "--files", "pas2", env=env)
    assert again.returncode == 0, again.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute(LIVE).fetchone() == (len(lines) - 50,)
