"""lean-2026.2 on `fecflow scores compute`, `explain` and `export`, in a subprocess: the default method
(no `--method`) and the explicit option give the same rows."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import psycopg
import pytest

from fecflow.normalize.sponsors import link_sponsors
from integration.scores.core_rows import CoreRows
from support.cli import run_fecflow

pytestmark = pytest.mark.e2e

V2 = ("--method", "lean-2026.2")


def run(home: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_fecflow(home, *args, env={"FECFLOW_DATABASE_URL": db_url})


@pytest.fixture
def data(db_url: str) -> str:
    with psycopg.connect(db_url) as conn:
        core = CoreRows(conn)
        core.campaign("H8DEM0001", "DEM", "C00000001")
        core.campaign("H8REP0001", "REP", "C00000003")
        core.committee("C00000020", committee_type="Q", name="ISSUES PAC")
        core.committee(
            "C00000040", committee_type="Q", name="MICROSOFT CORPORATION POLITICAL ACTION COMMITTEE"
        )
        conn.execute("UPDATE core.committee SET organization_type = 'C' WHERE committee_id = 'C00000040'")
        link_sponsors(conn, run_id=core.run())
        core.employer("MICROSOFT")
        core.give(
            "C00000003", 900, "2018-03-01", source="pas2", contributor="C00000020", candidate="H8REP0001"
        )
        core.give(
            "C00000001", 100, "2018-03-02", source="pas2", contributor="C00000020", candidate="H8DEM0001"
        )
        core.give(
            "C00000003", 500, "2018-03-03", source="pas2", contributor="C00000040", candidate="H8REP0001"
        )
        core.give("C00000040", 2000, "2018-04-01", donor="P", employer="MICROSOFT")  # payroll, own PAC
        core.give("C00000020", 300, "2018-04-01", donor="A", employer="MICROSOFT")
        core.give("C00000001", 200, "2018-04-02", donor="B", employer="MICROSOFT")
        core.commit()
    return db_url


def test_method_option_end_to_end(tmp_path: Path, data: str) -> None:
    computed = run(tmp_path, data, "scores", "compute", "--as-of", "2019-03-31")  # the default method
    assert computed.returncode == 0, computed.stderr
    assert "leaning scores lean-2026.2" in computed.stdout
    explicit = run(tmp_path, data, "scores", "compute", "--as-of", "2019-03-31", *V2)
    assert explicit.returncode == 0 and "opened 0" in explicit.stdout, explicit.stdout  # the same rows

    explained = run(tmp_path, data, "explain", "employer", "MICROSOFT")
    assert explained.returncode == 0, explained.stderr
    out = " ".join(explained.stdout.split())
    assert "method lean-2026.2" in out
    assert "direct $200.00, through committees $300.00" in out
    assert "raw donors 2" in out
    assert "own PAC C00000040" in out and "$2,000.00 from its people" in out
    assert "C00000020" in out and "60.0%" in out  # $300 of $500 partisan through the issues PAC
    assert "passed on" in out
    assert "preliminary e-filed rows: not included" in out  # computed without --include-preliminary
    recipients = explained.stdout.split("Top recipients", 1)[1].split("partisan money:", 1)[0]
    assert "C00000040" not in recipients  # the own PAC is reported apart, not as a recipient

    csv_path = tmp_path / "v2.csv"
    exported = run(tmp_path, data, "scores", "export", "--as-of", "2019-03-31", "--output", str(csv_path))
    assert exported.returncode == 0, exported.stderr
    ms = next(r for r in csv.DictReader(csv_path.open(newline="")) if r["entity_id"] == "MICROSOFT")
    assert (ms["preliminary_amount"], ms["preliminary_share"]) == ("", "")
    assert (ms["method_version"], ms["own_pac_committee_id"], ms["own_pac_amount"]) == (
        "lean-2026.2",
        "C00000040",
        "2000.00",
    )


def test_unknown_method_is_refused_with_a_hint(tmp_path: Path, data: str) -> None:
    result = run(tmp_path, data, "scores", "compute", "--as-of", "2019-03-31", "--method", "lean-1999")
    assert result.returncode != 0
    assert "Error:" in result.stderr and "lean-2026.2" in result.stderr and "Traceback" not in result.stderr
