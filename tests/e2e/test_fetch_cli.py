"""`fecflow fetch` and `fecflow fetch-api` against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from support.http_server import Fault, FecHttpServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = pytest.mark.e2e

API_KEY = "fecflow-e2e-key-Hh27QpLx"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FecHttpServer]:
    root = tmp_path / "www"
    shutil.copytree(FIXTURES / "bulk", root / "files" / "bulk-downloads")
    with FecHttpServer(root, FIXTURES / "openfec") as srv:
        yield srv


def test_fetch_downloads_verifies_records_then_skips_unchanged(
    cli, server, db_url: str, tmp_path: Path
) -> None:
    env = {"FECFLOW_BULK_BASE_URL": server.bulk_base_url}
    first = cli("fetch", "--cycles", "2020", "--files", "cm,cn,indiv", env=env)
    assert first.returncode == 0, first.stderr
    assert "3 file(s) downloaded, 0 unchanged" in first.stdout
    second = cli("fetch", "--cycles", "2020", "--files", "cm,cn,indiv", env=env)
    assert second.returncode == 0, second.stderr
    assert "0 file(s) downloaded, 3 unchanged" in second.stdout
    assert "304 Not Modified" in second.stdout
    zip_gets = [r for r in server.requests if r.path.endswith(".zip")]
    assert len(zip_gets) == 6 and all(r.headers.get("if-none-match") for r in zip_gets[3:])
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT file_type, status, sha256, storage_uri FROM ops.source_file ORDER BY source_file_id"
        ).fetchall()
    assert [r[1] for r in rows] == ["downloaded"] * 3 + ["unchanged"] * 3
    original = (FIXTURES / "bulk" / "2020" / "cm20.zip").read_bytes()
    import hashlib

    assert rows[0][2] == hashlib.sha256(original).hexdigest()
    assert Path(rows[0][3]).read_bytes() == original


def test_fetch_failure_is_recorded_and_not_usable(cli, server, db_url: str) -> None:
    from support.http_server import Fault

    server.script("/files/bulk-downloads/2020/cn20.zip", *[Fault.truncated() for _ in range(6)])
    result = cli(
        "fetch",
        "--cycles",
        "2020",
        "--files",
        "cn",
        env={"FECFLOW_BULK_BASE_URL": server.bulk_base_url, "FECFLOW_HTTP_BACKOFF_BASE": "0"},
    )
    assert result.returncode != 0
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT status FROM ops.source_file").fetchall() == [("failed",)]
        assert conn.execute("SELECT status FROM ops.ingest_run").fetchall() == [("failed",)]


def test_fetch_api_pages_to_the_end_and_resumes(cli, server, db_url: str, tmp_path: Path) -> None:
    env = {"FECFLOW_OPENFEC_BASE_URL": server.api_base_url, "FECFLOW_OPENFEC_API_KEY": API_KEY}
    args = ("fetch-api", "schedule_a", "--cycle", "2016", "--per-page", "4")
    partial = cli(*args, "--max-pages", "2", env=env)
    assert partial.returncode == 0, partial.stderr
    assert "not finished" in partial.stdout
    rest = cli(*args, env=env)
    assert rest.returncode == 0, rest.stderr
    assert "(resumed)" in rest.stdout and "complete" in rest.stdout
    assert not server.protocol_errors
    expected = json.loads((FIXTURES / "openfec" / "schedules__schedule_a.json").read_text())["results"]
    with psycopg.connect(db_url) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT jsonb_array_elements(response->'results')->>'sched_a_sk' FROM staging.openfec_payload "
                "ORDER BY page_number"
            )
        ]
        pages = conn.execute("SELECT count(*) FROM staging.openfec_payload").fetchone()
        dump = conn.execute(
            "SELECT string_agg(t::text, '') FROM (SELECT * FROM staging.openfec_payload) t"
        ).fetchone()
        runs = conn.execute(
            "SELECT string_agg(args::text || coalesce(error, ''), '') FROM ops.ingest_run"
        ).fetchone()
    assert sorted(ids) == sorted(str(r["sched_a_sk"]) for r in expected), "no gap, no duplicate"
    assert pages is not None and pages[0] >= 3
    assert dump is not None and API_KEY not in dump[0]
    assert runs is not None and API_KEY not in runs[0]
    for log_file in (tmp_path / "logs").rglob("*.json"):
        assert API_KEY not in log_file.read_text()
    assert API_KEY not in partial.stdout + partial.stderr + rest.stdout + rest.stderr


def test_fetch_api_without_key_is_a_clear_error(cli, server) -> None:
    result = cli("fetch-api", "schedule_a", env={"FECFLOW_OPENFEC_BASE_URL": server.api_base_url})
    assert result.returncode == 2
    assert "FECFLOW_OPENFEC_API_KEY" in result.stderr


def test_a_403_body_that_echoes_the_key_never_shows_or_stores_it(
    cli, server, db_url: str, tmp_path: Path
) -> None:
    server.api.echoing_keys.add(API_KEY)
    env = {"FECFLOW_OPENFEC_BASE_URL": server.api_base_url, "FECFLOW_OPENFEC_API_KEY": API_KEY}
    result = cli("fetch-api", "schedule_a", "--cycle", "2016", env=env)
    assert result.returncode != 0
    assert "OpenFEC refused the API key" in result.stderr
    assert API_KEY not in result.stdout + result.stderr
    with psycopg.connect(db_url) as conn:
        stored = conn.execute(
            "SELECT coalesce((SELECT string_agg(error, '|') FROM ops.ingest_run), '') || '|' || "
            "coalesce((SELECT string_agg(error, '|') FROM ops.ingest_run_audits), '')"
        ).fetchone()
    assert stored is not None and "refused" in (stored[0] or "") and API_KEY not in stored[0]
    for log_file in (tmp_path / "logs").rglob("*.json"):
        assert API_KEY not in log_file.read_text()


def test_a_download_killed_with_sigkill_leaves_nothing_the_next_fetch_keeps(
    cli, server, db_url: str, tmp_path: Path
) -> None:
    indiv = "/files/bulk-downloads/2020/indiv20.zip"
    server.script(indiv, Fault.drip(chunk=1024, interval=0.05))  # ~20 kB/s: minutes for 2.3 MB
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
    env.update(
        FECFLOW_HOME=str(tmp_path),
        FECFLOW_DATABASE_URL=db_url,
        FECFLOW_BULK_BASE_URL=server.bulk_base_url,
        FECFLOW_HTTP_MIN_RATE="0",
        TMPDIR=str(tmp),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "fecflow.cli.app", "fetch", "--cycles", "2020", "--files", "indiv"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in tmp.glob("fecflow-bulk-*/*.part")):
            assert time.monotonic() < deadline, "the download never started"
            assert proc.poll() is None, "fetch ended before it was killed"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    left = list(tmp.glob("fecflow-bulk-*"))
    assert len(left) == 1 and list(left[0].glob("*.part")), "SIGKILL leaves the partial download"

    again = cli(
        "fetch",
        "--cycles",
        "2020",
        "--files",
        "cm",
        env={"FECFLOW_BULK_BASE_URL": server.bulk_base_url, "TMPDIR": str(tmp)},
    )
    assert again.returncode == 0, again.stderr
    assert list(tmp.glob("fecflow-bulk-*")) == []
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT count(*) FROM ops.source_file WHERE file_type = 'indiv'").fetchone()
    assert stored == (0,), "a partial download never becomes a stored raw file"
