"""`fecflow db ...` end to end with a private embedded server in a temp FECFLOW_HOME."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from fecflow.db.migrate import head_revision
from support.cli import run_fecflow

pytestmark = pytest.mark.e2e


def run_cli(
    home: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """fecflow with FECFLOW_HOME=home (its own embedded server under home/pg)."""
    return run_fecflow(home, *args, env=extra_env)


def postmaster_pid(home: Path) -> int:
    return int((home / "pg" / "data" / "postmaster.pid").read_text().splitlines()[0])


def _wait_until_gone(pid: int, timeout: float = 60) -> None:
    """Until the killed process has exited (gone, or a zombie nobody reaped yet): the event, not a nap."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} still running {timeout} s after SIGKILL")


@pytest.fixture
def home(tmp_path: Path):
    yield tmp_path
    run_cli(tmp_path, "db", "stop")


def test_start_upgrade_status_kill_recover_stop(home: Path) -> None:
    started = run_cli(home, "db", "start")
    assert started.returncode == 0, started.stderr
    assert "running on 127.0.0.1:" in started.stdout

    again = run_cli(home, "db", "start")
    assert again.returncode == 0
    first_pid = postmaster_pid(home)

    up = run_cli(home, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert f"Schema at revision {head_revision()}" in up.stdout

    status = run_cli(home, "db", "status")
    assert status.returncode == 0, status.stderr
    assert f"{head_revision()} (code head {head_revision()})" in status.stdout
    assert "core.contribution" in status.stdout

    query = run_cli(home, "db", "psql", "-At", "-c", "SELECT count(*) FROM ops.alembic_version")
    assert query.returncode == 0 and query.stdout.strip() == "1", query.stderr

    os.kill(first_pid, signal.SIGKILL)
    _wait_until_gone(first_pid)
    recovered = run_cli(home, "db", "status")
    assert recovered.returncode == 0, recovered.stderr + recovered.stdout
    assert f"{head_revision()} (code head {head_revision()})" in recovered.stdout, "data survived the kill"
    assert postmaster_pid(home) != first_pid

    url = run_cli(home, "db", "url")
    assert url.stdout.startswith("postgresql://postgres@127.0.0.1:")

    stopped = run_cli(home, "db", "stop")
    assert stopped.returncode == 0 and "Stopped." in stopped.stdout
    assert "Not running." in run_cli(home, "db", "stop").stdout


def test_stale_pid_file_of_an_unrelated_process_is_cleared(home: Path) -> None:
    assert run_cli(home, "db", "start").returncode == 0
    assert run_cli(home, "db", "stop").returncode == 0
    pid_file = home / "pg" / "data" / "postmaster.pid"
    # A leftover lock naming a live process that is not our server (this test process).
    pid_file.write_text(f"{os.getpid()}\n{home / 'pg' / 'data'}\n0\n5432\n\n127.0.0.1\n0 0\nready\n")
    os.chmod(pid_file, 0o644)
    result = run_cli(home, "db", "status")
    assert result.returncode == 0, result.stderr
    assert postmaster_pid(home) != os.getpid()


def test_clear_error_and_hint_when_server_cannot_start(tmp_path: Path) -> None:
    empty_bin = tmp_path / "nobin"
    empty_bin.mkdir()
    result = run_cli(tmp_path, "db", "status", extra_env={"FECFLOW_PG_BIN_DIR": str(empty_bin)})
    assert result.returncode == 3
    assert "Error:" in result.stderr and "initdb not found" in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_is_a_config_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "db", "status", extra_env={"FECFLOW_HTTP_MAX_ATTEMPTS": "zero"})
    assert result.returncode == 2
    assert "FECFLOW_HTTP_MAX_ATTEMPTS" in result.stderr
