"""`fecflow stage` then `fecflow normalize` on the real 2020 fixture zips; a rerun changes nothing."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bulk" / "2020"

pytestmark = pytest.mark.e2e


def test_normalize_prints_counts_then_nothing_changed(cli, db_url: str) -> None:
    zips = [
        str(FIXTURES / name) for name in ("cn20.zip", "cm20.zip", "ccl20.zip", "indiv20.zip", "pas220.zip")
    ]
    staged = cli("stage", *zips)
    assert staged.returncode == 0, staged.stderr

    first = cli("normalize", "--cycles", "2020")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "5 snapshot(s) normalized" in out
    for table in ("core.candidate", "core.committee", "core.candidate_committee_link", "core.contribution"):
        assert table in out
    assert "inserted 70,671" in out  # itcont
    assert "no staged snapshot" in out  # oth was not staged

    second = cli("normalize", "--cycles", "2020")
    assert second.returncode == 0, second.stderr
    assert "Nothing changed" in second.stdout
    assert "already normalized" in second.stdout

    with psycopg.connect(db_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM core.contribution), (SELECT count(*) FROM core.committee), "
            "(SELECT count(*) FROM core.committee_history), (SELECT count(*) FROM core.candidate_committee_link)"
        ).fetchone()
        assert counts == (70671 + 3159, 11603, 11603, 3752)
        audits = conn.execute(
            "SELECT a.status, count(*) FROM ops.ingest_run_audits a JOIN ops.ingest_run r USING (run_id) "
            "WHERE a.stage = 'normalize' AND r.command = 'normalize' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert audits == [("skipped", 7), ("succeeded", 5)]
        runs = conn.execute("SELECT status FROM ops.ingest_run WHERE command = 'normalize'").fetchall()
        assert runs == [("succeeded",), ("succeeded",)]


def test_normalize_rejects_unknown_file_types(cli) -> None:
    result = cli("normalize", "--cycles", "2020", "--files", "weball")
    assert result.returncode == 2
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
