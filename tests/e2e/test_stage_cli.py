"""`fecflow stage` and `fecflow staging export` end to end, against the test database."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import psycopg
import pytest

from fecflow.catalog import FILES
from fecflow.config import DEFAULT_BULK_BASE_URL
from fecflow.db import ops
from support.cli import run_fecflow

pytestmark = pytest.mark.e2e

E20 = "bulk-2020-early-snapshot-2019-03"


def run_cli(home: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_fecflow(home, *args, env={"FECFLOW_DATABASE_URL": db_url})


def test_stage_local_paths_then_skip_then_export(tmp_path: Path, db_url: str, shared_samples: Path) -> None:
    zips = shared_samples / E20 / "zips"
    cm, indiv = zips / "cm20.zip", zips / "indiv20.zip"

    first = run_cli(tmp_path, db_url, "stage", str(cm), str(indiv), "--workers", "2")

    assert first.returncode == 0, first.stderr + first.stdout
    assert "cm20.zip" in first.stdout and "indiv20.zip" in first.stdout
    assert "11,605" in first.stdout and "70,671" in first.stdout
    assert "2017-11-21..2019-03-04" in first.stdout
    assert "2 file(s) staged, 0 skipped" in first.stdout

    second = run_cli(tmp_path, db_url, "stage", str(cm), str(indiv))
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("already staged") >= 2  # the table (and the INFO log lines)
    assert "0 file(s) staged, 2 skipped" in second.stdout

    with psycopg.connect(db_url) as conn:
        (sfid,) = conn.execute(
            "SELECT source_file_id FROM ops.source_file WHERE file_type = 'indiv' AND status = 'local'"
        ).fetchone()
        runs = conn.execute("SELECT command, status FROM ops.ingest_run ORDER BY run_id").fetchall()
    assert runs == [("stage", "succeeded"), ("stage", "succeeded")]

    out = tmp_path / "out" / "itcont.txt"
    exported = run_cli(
        tmp_path, db_url, "staging", "export", "--source-file", str(sfid), "--output", str(out)
    )
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(indiv) as zf:
        original = zf.read("itcont.txt")
    assert out.read_bytes() == original
    assert hashlib.sha256(original).hexdigest() in exported.stdout
    assert "byte-identical" in exported.stdout


def test_stage_downloaded_files_by_cycle(tmp_path: Path, db_url: str, shared_samples: Path) -> None:
    stored = tmp_path / "raw" / "cn20.zip"
    stored.parent.mkdir()
    shutil.copyfile(shared_samples / E20 / "zips" / "cn20.zip", stored)
    with psycopg.connect(db_url) as conn:
        run_id = ops.start_run(conn, "fetch", {})
        ops.record_source_file(
            conn,
            url=FILES["cn"].url(DEFAULT_BULK_BASE_URL, 2020),
            cycle=2020,
            file_type="cn",
            member="cn.txt",
            status="downloaded",
            bytes=stored.stat().st_size,
            sha256=hashlib.sha256(stored.read_bytes()).hexdigest(),
            storage_uri=str(stored),
            run_id=run_id,
        )

    result = run_cli(tmp_path, db_url, "stage", "--cycles", "2020", "--files", "cn")

    assert result.returncode == 0, result.stderr
    assert "cn20.zip" in result.stdout and "3,937" in result.stdout


def test_a_file_never_fetched_is_a_clear_error(tmp_path: Path, db_url: str) -> None:
    result = run_cli(tmp_path, db_url, "stage", "--cycles", "2020", "--files", "indiv")
    assert result.returncode == 1
    assert "Error:" in result.stderr and "Never downloaded: indiv 2020" in result.stderr
    assert "fecflow fetch --cycles 2020 --files indiv" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_file_name_needs_files_option(tmp_path: Path, db_url: str, shared_samples: Path) -> None:
    odd = tmp_path / "data.txt"
    shutil.copyfile(shared_samples / "masters-2022-cycle" / "ccl.txt", odd)
    refused = run_cli(tmp_path, db_url, "stage", str(odd))
    assert refused.returncode == 2 and "--files" in refused.stderr
    forced = run_cli(tmp_path, db_url, "stage", str(odd), "--files", "ccl", "--cycles", "2022")
    assert forced.returncode == 0, forced.stderr
    assert "7,685" in forced.stdout


def test_staging_prune_drops_an_old_snapshot_that_can_be_staged_again(
    tmp_path: Path, db_url: str, shared_samples: Path
) -> None:
    early, late = (
        shared_samples / E20 / "zips" / "cm20.zip",
        shared_samples / "masters-2020-late-snapshot-2020-11" / "cm.txt",
    )
    assert run_cli(tmp_path, db_url, "stage", str(early)).returncode == 0
    staged = run_cli(tmp_path, db_url, "stage", str(late), "--files", "cm", "--cycles", "2020")
    assert staged.returncode == 0, staged.stderr + staged.stdout

    dry = run_cli(tmp_path, db_url, "staging", "prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr + dry.stdout
    assert "would prune" in dry.stdout and "Would prune 1 source file(s), 11,605 staged rows." in dry.stdout
    with psycopg.connect(db_url) as conn:
        early_id, late_id = (
            r[0]
            for r in conn.execute(
                "SELECT source_file_id FROM ops.source_file ORDER BY fetched_at, source_file_id"
            )
        )
        assert conn.execute("SELECT count(*) FROM staging.cm").fetchone() == (11605 + 17939,)

    pruned = run_cli(tmp_path, db_url, "staging", "prune")
    assert pruned.returncode == 0, pruned.stderr + pruned.stdout
    assert "Pruned 1 source file(s): 11,605 staged rows dropped, " in pruned.stdout and "MB freed." in pruned.stdout
    assert "Vacuumed ops.rejected_row, staging.raw_line." in pruned.stdout
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM staging.cm").fetchone() == (17939,)
        assert conn.execute(
            "SELECT count(*) FROM staging.cm WHERE _source_file_id = %s", (late_id,)
        ).fetchone() == (17939,)

    # The pruned file cannot be exported any more (clear error), but staging it again works.
    export = run_cli(tmp_path, db_url, "staging", "export", "--source-file", str(early_id), "-o", "x.txt")
    assert export.returncode == 1 and f"Source file {early_id} is not fully staged." in export.stderr
    again = run_cli(tmp_path, db_url, "stage", str(early))
    assert again.returncode == 0, again.stderr + again.stdout
    assert "1 file(s) staged, 0 skipped" in again.stdout
    with psycopg.connect(db_url) as conn:  # the same source file (same path and sha256), staged again
        assert conn.execute(
            "SELECT count(*) FROM staging.cm WHERE _source_file_id = %s", (early_id,)
        ).fetchone() == (11605,)
    nothing = run_cli(tmp_path, db_url, "staging", "prune", "--cycles", "2018")
    assert nothing.returncode == 0 and "Nothing is staged" in nothing.stdout
