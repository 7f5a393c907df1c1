"""The FEC republishes indiv empty: `fecflow backfill` fails, core keeps its rows, --accept-shrink applies it.

Issue #15: an empty member soft-deleted all 70,671 indiv contributions with exit 0 and one warning.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import psycopg
import pytest

from support.cli import run_fecflow

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bulk"
BACKFILL = ("backfill", "--cycles", "2020", "--files", "cm,indiv", "--as-of", "2019-03-31")


def live_indiv(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM core.contribution WHERE source = 'indiv' AND deleted_at IS NULL"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_empty_republished_file_fails_the_run_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES, mirror)
    env = {"FECFLOW_DATABASE_URL": db_url, "FECFLOW_BULK_BASE_URL": f"file://{mirror}"}
    home = tmp_path / "home"
    home.mkdir()

    first = run_fecflow(home, *BACKFILL, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    before = live_indiv(db_url)
    assert before > 70_000

    with zipfile.ZipFile(mirror / "2020" / "indiv20.zip", "w") as zf:
        zf.writestr("itcont.txt", b"")
    refused = run_fecflow(home, *BACKFILL, env=env)
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "would remove" in refused.stderr and "--accept-shrink" in refused.stderr
    assert live_indiv(db_url) == before

    accepted = run_fecflow(home, *BACKFILL, "--accept-shrink", env=env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert live_indiv(db_url) == 0
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT args FROM ops.ingest_run WHERE command = 'backfill' ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
    assert row is not None and row[0].get("accept_shrink") is True, json.dumps(row)
