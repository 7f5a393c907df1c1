"""Odd archives behave the same in `stage` and `backfill`; an empty one is never stored as usable (#15)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import psycopg
import pytest

from support.cli import run_fecflow

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bulk"


def rename_only_member(archive: Path, new_name: str) -> None:
    with zipfile.ZipFile(archive) as zf:
        (info,) = zf.infolist()
        data = zf.read(info)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(new_name, data)


def test_a_misnamed_only_member_is_staged_by_backfill_as_by_stage(db_url: str, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES, mirror)
    rename_only_member(mirror / "2020" / "cm20.zip", "cm_2020_renamed.txt")
    env = {"FECFLOW_DATABASE_URL": db_url, "FECFLOW_BULK_BASE_URL": f"file://{mirror}"}

    staged = run_fecflow(tmp_path, "stage", "--files", "cm", str(mirror / "2020" / "cm20.zip"), env=env)
    assert staged.returncode == 0, staged.stdout + staged.stderr
    result = run_fecflow(
        tmp_path, "backfill", "--cycles", "2020", "--files", "cm", "--as-of", "2019-03-31", env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(db_url) as conn:
        members = conn.execute(
            "SELECT DISTINCT member FROM ops.source_file WHERE file_type = 'cm' AND sha256 IS NOT NULL"
        ).fetchall()
        staged_rows = conn.execute("SELECT count(*) FROM staging.cm").fetchone()
    assert members == [("cm_2020_renamed.txt",)]
    assert staged_rows == (11605,)


def test_an_empty_archive_fails_the_fetch_and_stage_says_why(db_url: str, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES, mirror)
    with zipfile.ZipFile(mirror / "2020" / "cn20.zip", "w"):
        pass
    env = {"FECFLOW_DATABASE_URL": db_url, "FECFLOW_BULK_BASE_URL": f"file://{mirror}"}

    fetched = run_fecflow(
        tmp_path, "backfill", "--cycles", "2020", "--files", "cn", "--as-of", "2019-03-31", env=env
    )
    assert fetched.returncode != 0
    assert "is an empty archive" in fetched.stderr and "fetch again later" in fetched.stderr
    with psycopg.connect(db_url) as conn:
        usable = conn.execute(
            "SELECT count(*) FROM ops.source_file WHERE file_type = 'cn' AND status IN ('downloaded', 'local')"
        ).fetchone()
    assert usable == (0,)

    staged = run_fecflow(tmp_path, "stage", "--files", "cn", str(mirror / "2020" / "cn20.zip"), env=env)
    assert staged.returncode != 0
    assert "is an empty archive: nothing to stage" in staged.stderr
    assert "Name the member" not in staged.stderr
