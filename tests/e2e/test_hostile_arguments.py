"""Bad arguments get a clear error before any work: no traceback, exit 2 (issue #15's list)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import run_fecflow

pytestmark = pytest.mark.e2e

CASES = [
    (("backfill", "--cycles", "2020", "--as-of", "2019-13-01"), "Invalid date '2019-13-01' for --as-of"),
    (("backfill", "--cycles", "2020", "--as-of", "2019-03-31; drop"), "Invalid date '2019-03-31; drop'"),
    (("ingest-daily", "--date", "2019-02-30"), "Invalid date '2019-02-30' for --date"),
    (("replay-range", "--start", "yesterday", "--end", "2019-01-01"), "Invalid date 'yesterday' for --start"),
    (("fetch", "--cycles", "1980-9999998"), "outside 1980-"),
    (("backfill", "--cycles", "1978"), "outside 1980-"),
    (("explain", "--as-of", "0001-01-01", "--lookback-months", "600", "employer", "X"), "outside 1975-01-01"),
    (("explain", "--top", "99999999999999999999", "employer", "X"), "Invalid value for '--top'"),
    (("scores", "export", "--as-of", "2019-03-31", "--output", "/dev/null"), "not a regular file"),
    (("staging", "export", "--source-file", "1", "--output", "."), "is a directory"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_rejected_before_any_work(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    # An unreachable database: the argument must be refused before anything connects.
    result = run_fecflow(tmp_path, *args, env={"FECFLOW_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "pg").exists()
