"""Three `fecflow db start` at once in a fresh FECFLOW_HOME: one initialises, all end with one server.

Issue #15: two commands starting the embedded server in a fresh home failed in 4 of 5 tries (one hinted
`rm -r` on a data directory the other was still creating, one ended in a traceback).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import run_fecflow

pytestmark = pytest.mark.e2e


def test_concurrent_starts_in_a_fresh_home_all_succeed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
    env.update(FECFLOW_HOME=str(tmp_path), FECFLOW_LOG_DIR=str(tmp_path / "logs"), COLUMNS="200")
    if os.environ.get("FECFLOW_TEST_PG_BIN"):
        env["FECFLOW_PG_BIN_DIR"] = os.environ["FECFLOW_TEST_PG_BIN"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "fecflow.cli.app", "db", "start"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        outputs = [p.communicate(timeout=300) for p in procs]
        codes = [p.returncode for p in procs]
        assert codes == [0, 0, 0], outputs
        ports = {
            m.group(1) for out, _ in outputs for m in [re.search(r"running on 127\.0\.0\.1:(\d+)", out)] if m
        }
        assert len(ports) == 1, outputs
        assert "Traceback" not in "".join(err for _, err in outputs)
        status = run_fecflow(tmp_path, "db", "status")
        assert status.returncode == 0 and f"127.0.0.1:{ports.pop()}" in status.stdout, status.stdout
    finally:
        run_fecflow(tmp_path, "db", "stop")
