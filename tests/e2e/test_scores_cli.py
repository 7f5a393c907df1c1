"""`fecflow scores compute|export` and `fecflow explain` end to end, in a subprocess."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import psycopg
import pytest

from integration.scores.core_rows import CoreRows
from support.cli import run_fecflow

pytestmark = pytest.mark.e2e


def run(home: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_fecflow(home, *args, env={"FECFLOW_DATABASE_URL": db_url})


@pytest.fixture
def data(db_url: str) -> str:
    with psycopg.connect(db_url) as conn:
        core = CoreRows(conn)
        core.campaign("H8DEM0001", "DEM", "C00000001")
        core.campaign("H8REP0001", "REP", "C00000003")
        core.employer("MICROSOFT")
        for donor, recipient, amount in (
            ("A", "C00000001", 500),
            ("B", "C00000001", 250),
            ("C", "C00000003", 100),
        ):
            core.give(recipient, amount, "2018-05-01", donor=donor, employer="MICROSOFT")
        core.commit()
    return db_url


V1 = ("--method", "lean-2026.1")  # the hand-computed numbers below are lean-2026.1's (the default is 2026.2)


def test_compute_export_explain(tmp_path: Path, data: str) -> None:
    computed = run(
        tmp_path, data, "scores", "compute", "--as-of", "2019-03-31", "--lookback-months", "24", *V1
    )
    assert computed.returncode == 0, computed.stderr
    assert "employer" in computed.stdout and "opened 3, closed 0, unchanged 0" in computed.stdout
    with psycopg.connect(data) as conn:
        run_row = conn.execute(
            "SELECT command, status, args FROM ops.ingest_run ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
    assert run_row is not None and run_row[:2] == ("scores compute", "succeeded")
    assert run_row[2]["as_of"] == "2019-03-31"

    again = run(tmp_path, data, "scores", "compute", "--as-of", "2019-03-31", *V1)
    assert again.returncode == 0 and "opened 0, closed 0, unchanged 3" in again.stdout

    out = tmp_path / "out" / "scores.csv"
    exported = run(
        tmp_path,
        data,
        "scores",
        "export",
        "--as-of",
        "2019-03-31",
        "--format",
        "csv",
        "--output",
        str(out),
        *V1,
    )
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(out.open(newline="")))
    assert [(r["entity_type"], r["entity_id"]) for r in rows] == [
        ("candidate", "H8DEM0001"),
        ("candidate", "H8REP0001"),
        ("employer", "MICROSOFT"),
    ]
    # D 750, R 100 over 3 donors: Beta(3 * 100/850 + 1, 3 * 750/850 + 1) -> mean 0.27059
    assert next(r for r in rows if r["entity_id"] == "MICROSOFT")["score"] == "0.27059"

    explained = run(tmp_path, data, "explain", "employer", "MICROSOFT", *V1)
    assert explained.returncode == 0, explained.stderr
    assert "score: 0.27059" in explained.stdout and "C00000001" in explained.stdout
    assert "Top recipients" in explained.stdout


def test_errors_have_hints(tmp_path: Path, data: str) -> None:
    unknown = run(tmp_path, data, "explain", "employer", "MICROSOF")
    assert unknown.returncode == 1
    assert "Error:" in unknown.stderr and "Hint:" in unknown.stderr and "MICROSOFT" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    not_computed = run(
        tmp_path, data, "scores", "export", "--as-of", "2019-03-31", "--output", str(tmp_path / "x.csv")
    )
    assert not_computed.returncode == 1 and "fecflow scores compute --as-of 2019-03-31" in not_computed.stderr
    bad_date = run(tmp_path, data, "scores", "compute", "--as-of", "March")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
