"""The PostgreSQL server is killed under a running backfill: one Error: line, no traceback (#15).

The run is held at a known point (the test locks staging.indiv, the stage step blocks on it), then
the embedded server's postmaster gets SIGKILL, as in the fault probe that saw three psycopg
tracebacks before the Error: line in one of four kills.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from support.cli import run_fecflow

pytestmark = pytest.mark.e2e

MIRROR = f"file://{Path(__file__).resolve().parents[1] / 'fixtures' / 'bulk'}"


def _wait_for(conn: psycopg.Connection, query: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not conn.execute(query).fetchone():
        assert time.monotonic() < deadline, f"timed out waiting for: {query}"
        time.sleep(0.05)


def test_a_killed_server_ends_the_run_with_a_clear_error(tmp_path: Path) -> None:
    started = run_fecflow(tmp_path, "db", "start")
    try:
        assert started.returncode == 0, started.stderr
        port = re.search(r"127\.0\.0\.1:(\d+)", started.stdout)
        assert port is not None, started.stdout
        assert run_fecflow(tmp_path, "db", "upgrade").returncode == 0
        url = f"postgresql://postgres@127.0.0.1:{port.group(1)}/fecflow"

        env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
        env.update(
            FECFLOW_HOME=str(tmp_path), FECFLOW_LOG_DIR=str(tmp_path / "logs"), FECFLOW_BULK_BASE_URL=MIRROR
        )
        if os.environ.get("FECFLOW_TEST_PG_BIN"):
            env["FECFLOW_PG_BIN_DIR"] = os.environ["FECFLOW_TEST_PG_BIN"]
        blocker, watcher = psycopg.connect(url), psycopg.connect(url, autocommit=True)
        try:
            blocker.execute("LOCK TABLE staging.indiv IN ACCESS EXCLUSIVE MODE")
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "fecflow.cli.app",
                    "backfill",
                    "--cycles",
                    "2020",
                    "--files",
                    "cm,indiv",
                ],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                _wait_for(
                    watcher,
                    "SELECT 1 FROM ops.ingest_run_audits WHERE stage = 'stage' AND scope = 'indiv' AND status = 'running'",
                )
                _wait_for(watcher, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                postmaster = int((tmp_path / "pg" / "data" / "postmaster.pid").read_text().splitlines()[0])
                os.kill(postmaster, signal.SIGKILL)
                stdout, stderr = proc.communicate(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
        finally:  # both died with the server
            for conn in (blocker, watcher):
                with contextlib.suppress(psycopg.Error):
                    conn.close()
        assert proc.returncode != 0
        assert "Error:" in stderr, stderr
        assert "Traceback" not in stdout + stderr, stdout + stderr
    finally:
        run_fecflow(tmp_path, "db", "stop")
