"""Helpers for running the fecflow CLI in a subprocess, the way a user does."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import run_fecflow

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path, db_url: str) -> CliRunner:
    """Run the CLI against this test's database (FECFLOW_DATABASE_URL) in a temp FECFLOW_HOME."""

    def runner(
        *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        merged = {"FECFLOW_DATABASE_URL": db_url, **(env or {})}
        return run_fecflow(tmp_path, *args, env=merged, timeout=timeout)

    return runner
