"""Run the fecflow CLI in a subprocess, the way a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_fecflow(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``fecflow ARGS`` with FECFLOW_HOME=home and a clean FECFLOW_* environment plus ``env``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
    full_env["FECFLOW_HOME"] = str(home)
    full_env["FECFLOW_LOG_DIR"] = str(home / "logs")
    full_env["COLUMNS"] = "200"
    if os.environ.get("FECFLOW_TEST_PG_BIN"):
        full_env["FECFLOW_PG_BIN_DIR"] = os.environ["FECFLOW_TEST_PG_BIN"]
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fecflow.cli.app", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=home,
        timeout=timeout,
        check=False,
    )
