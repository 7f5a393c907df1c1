"""`fecflow fetch-efilings` and `fecflow staging export-efiling` against a real HTTP server (#21)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from support.http_server import Fault, FecHttpServer

EFILINGS = Path(__file__).resolve().parents[1] / "fixtures" / "efilings"

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FecHttpServer]:
    """The FEC layouts: daily archives under /electronic/, single filings under /posted/."""
    root = tmp_path / "www"
    (root / "electronic").mkdir(parents=True)
    shutil.copy(EFILINGS / "20180616.zip", root / "electronic" / "20180616.zip")
    shutil.copytree(EFILINGS, root / "posted", ignore=shutil.ignore_patterns("*.zip"))
    with FecHttpServer(root) as srv:
        yield srv


def _env(server: FecHttpServer) -> dict[str, str]:
    return {
        "FECFLOW_EFILING_BASE_URL": f"{server.base_url}/electronic",
        "FECFLOW_EFILING_FILING_BASE_URL": f"{server.base_url}/posted",
        "FECFLOW_HTTP_BACKOFF_BASE": "0",
    }


def test_a_day_is_fetched_staged_recorded_then_unchanged(cli, server, db_url: str) -> None:
    server.script("/electronic/20180616.zip", Fault.error(503))  # one transient failure, retried
    first = cli("fetch-efilings", "--date", "2018-06-16", env=_env(server))
    assert first.returncode == 0, first.stderr
    assert "52 filing(s): 0 quarantined, 52 recorded in core.efiling" in first.stdout
    second = cli("fetch-efilings", "--date", "2018-06-16", env=_env(server))
    assert second.returncode == 0, second.stderr
    assert "304 Not Modified" in second.stdout
    gets = server.requests_for("/electronic/20180616.zip")
    assert len(gets) == 3 and gets[2].headers.get("if-none-match")
    with psycopg.connect(db_url) as conn:
        statuses = conn.execute(
            "SELECT status, count(*) FROM ops.ingest_run_audits WHERE stage = 'stage-efiling' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        received = conn.execute("SELECT DISTINCT received_date::text FROM core.efiling").fetchall()
    assert statuses == [("skipped", 52), ("succeeded", 52)]
    assert received == [("2018-06-16",)]


def test_single_filings_export_byte_exact_and_the_invalid_version_is_quarantined(
    cli, server, db_url: str, tmp_path: Path
) -> None:
    got = cli(
        "fetch-efilings", "--filing-id", "1229017", "--filing-id", "1550548", "--filing-id", "27789",
        env=_env(server),
    )
    assert got.returncode == 0, got.stderr
    assert "match" in got.stdout and "mismatch" not in got.stdout
    for filing_id in (1229017, 27789):
        out = tmp_path / f"{filing_id}.out"
        exported = cli("staging", "export-efiling", "--filing-id", str(filing_id), "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        original = (EFILINGS / f"{filing_id}.fec").read_bytes()
        assert out.read_bytes() == original
        assert hashlib.sha256(original).hexdigest() in exported.stdout

    # The invalid-version filing, served under a filing id of its own.
    shutil.copy(EFILINGS / "filing_invalid_version.fec", server.root / "posted" / "1509999.fec")
    bad = cli("fetch-efilings", "--filing-id", "1509999", env=_env(server))
    assert bad.returncode == 0, bad.stderr
    assert "quarantined" in bad.stdout
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT status, error, lines, parsed, rejected FROM staging.efiling WHERE filing_id = 1509999"
        ).fetchone()
        reasons = conn.execute(
            "SELECT DISTINCT reason FROM staging.efiling_reject WHERE filing_id = 1509999"
        ).fetchall()
    assert row is not None and row[0] == "quarantined" and "'180.5'" in row[1]
    assert row[2] == row[4] == 469 and row[3] == 0
    assert reasons == [("unknown_version",)]
    out = tmp_path / "bad.out"
    exported = cli("staging", "export-efiling", "--filing-id", "1509999", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert out.read_bytes() == (EFILINGS / "filing_invalid_version.fec").read_bytes()


def test_arguments_are_checked_before_any_work(cli, db_url: str) -> None:
    nothing = cli("fetch-efilings")
    assert nothing.returncode == 2 and "Nothing to fetch" in nothing.stderr
    backwards = cli("fetch-efilings", "--date", "2018-06-16..2018-06-10")
    assert backwards.returncode == 2 and "ends before it starts" in backwards.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM ops.ingest_run").fetchone() == (0,)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fetch-efilings", "--date", "2018-02-30"), "Invalid --date '2018-02-30'"),
        (("fetch-efilings", "--filing-id", "0"), "Invalid value for '--filing-id'"),
        (("fetch-efilings", "--filing-id", "99999999999999999999"), "Invalid value for '--filing-id'"),
        (("staging", "export-efiling", "--filing-id", "1", "--output", "/dev/null"), "not a regular file"),
    ],
)
def test_hostile_arguments_are_refused_before_anything_connects(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    from support.cli import run_fecflow

    result = run_fecflow(tmp_path, *args, env={"FECFLOW_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
