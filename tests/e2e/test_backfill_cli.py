"""backfill / ingest-daily / replay-range / runs resume end to end, through the CLI, on real data.

A run is killed at a known point deterministically: the test holds an ACCESS EXCLUSIVE lock on the
table the stage is about to write, waits until the run's audit says that stage is running (blocked
on the lock), sends SIGKILL, then releases the lock.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from fecflow.db import ops
from support.cli import run_fecflow
from support.http_server import FecHttpServer

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MIRROR = f"file://{FIXTURES / 'bulk'}"
FILES = "cm,cn,ccl,indiv,pas2,oth,weball,webk"
BACKFILL = ("backfill", "--cycles", "2020", "--files", FILES, "--as-of", "2019-03-31")


def _env(db_url: str) -> dict[str, str]:
    return {"FECFLOW_DATABASE_URL": db_url, "FECFLOW_BULK_BASE_URL": MIRROR}


def state_fingerprint(db_url: str) -> dict[str, object]:
    """Everything a run produces, minus run ids and timestamps."""
    queries = {
        "staging": "SELECT (SELECT count(*) FROM staging.indiv), (SELECT count(*) FROM staging.cm), "
        "(SELECT count(*) FROM staging.oth), (SELECT count(*) FROM staging.pas2)",
        "rejected": "SELECT count(*) FROM ops.rejected_row",
        "candidates": "SELECT count(*), count(*) FILTER (WHERE is_placeholder) FROM core.candidate",
        "committees": "SELECT count(*), count(*) FILTER (WHERE is_placeholder) FROM core.committee",
        "links": "SELECT count(*) FROM core.candidate_committee_link",
        "employers": "SELECT count(*) FROM core.employer",
        "contributions": "SELECT count(*), sum(amount), count(*) FILTER (WHERE deleted_at IS NOT NULL), "
        "sum(amount) FILTER (WHERE counts_as_contribution) FROM core.contribution",
        "history": "SELECT count(*) FROM core.committee_history",
        # Natural keys, not surrogate keys: a rolled-back transaction consumes identity values.
        "scores": "SELECT md5(string_agg(concat_ws('|', s.entity_type, ca.candidate_id, co.committee_id, "
        "e.canonical_name, i.naics_code, s.as_of, s.window_start, s.window_end, s.score, s.ci_low, s.ci_high, "
        "s.dem_amount, s.rep_amount, s.other_amount, s.n_contributions, s.n_donors, s.reason), ',' "
        "ORDER BY s.entity_type, ca.candidate_id, co.committee_id, e.canonical_name, i.naics_code)), count(*) "
        "FROM scores.leaning_score s LEFT JOIN core.candidate ca USING (candidate_key) "
        "LEFT JOIN core.committee co USING (committee_key) LEFT JOIN core.employer e USING (employer_key) "
        "LEFT JOIN core.industry i USING (industry_key) WHERE s.valid_to IS NULL",
    }
    with psycopg.connect(db_url) as conn:
        return {name: conn.execute(q).fetchone() for name, q in queries.items()}


CORE_CONTENT = {
    # Natural keys and values only (no surrogate keys, run ids or timestamps), in a fixed order.
    "contribution": "SELECT c.sub_id, c.transaction_date, c.amount, c.raw_employer, e.canonical_name, "
    "c.category, c.counts_as_contribution, c.is_refund, c.deleted_at IS NULL, c.row_hash "
    "FROM core.contribution c LEFT JOIN core.employer e USING (employer_key) ORDER BY 1, 2",
    "committee": "SELECT committee_id, name, committee_type, designation, party, organization_type, "
    "is_placeholder FROM core.committee ORDER BY 1",
    "candidate": "SELECT candidate_id, name, party, office, is_placeholder FROM core.candidate ORDER BY 1",
    "employer_alias": "SELECT a.raw_employer, e.canonical_name, a.method, a.confidence "
    "FROM core.employer_alias a JOIN core.employer e USING (employer_key) ORDER BY 1",
    "employer_industry": "SELECT e.canonical_name, i.naics_code, x.method FROM core.employer_industry x "
    "JOIN core.employer e USING (employer_key) JOIN core.industry i USING (industry_key) ORDER BY 1",
}


def core_digest(db_url: str) -> str:
    """sha256 over the content of the core tables a replay rewrites."""
    digest = hashlib.sha256()
    with psycopg.connect(db_url) as conn:
        for name, query in CORE_CONTENT.items():
            digest.update(name.encode())
            for row in conn.execute(query):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def _wait_for(db_url: str, sql: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(db_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute(sql).fetchone():
                return
            time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {sql}")


def _start_cli(home: Path, db_url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
    env.update(_env(db_url), FECFLOW_HOME=str(home), FECFLOW_LOG_DIR=str(home / "logs"))
    return subprocess.Popen(
        [sys.executable, "-m", "fecflow.cli.app", *args],
        env=env,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_while_blocked(home: Path, db_url: str, table: str, stage_sql: str) -> None:
    """Start a backfill, let it block on ``table``, SIGKILL it, release the lock."""
    with psycopg.connect(db_url) as blocker:
        blocker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        proc = _start_cli(home, db_url, *BACKFILL)
        try:
            _wait_for(db_url, stage_sql)
            _wait_for(
                db_url,
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        blocker.rollback()


@pytest.fixture(scope="session")
def clean_state(make_db, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The state a clean backfill reaches."""
    url = make_db()
    result = run_fecflow(tmp_path_factory.mktemp("clean"), *BACKFILL, env=_env(url))
    assert result.returncode == 0, result.stdout + result.stderr
    return state_fingerprint(url)


def test_backfill_twice_changes_nothing(cli, db_url: str) -> None:
    first = cli(*BACKFILL, env={"FECFLOW_BULK_BASE_URL": MIRROR})
    assert first.returncode == 0, first.stdout + first.stderr
    state = state_fingerprint(db_url)
    contributions = state["contributions"]
    assert isinstance(contributions, tuple) and contributions[0] > 100_000
    scores = state["scores"]
    assert isinstance(scores, tuple) and scores[1] > 0
    second = cli(*BACKFILL, env={"FECFLOW_BULK_BASE_URL": MIRROR})
    assert second.returncode == 0, second.stdout + second.stderr
    assert "downloaded=0" in second.stdout
    assert state_fingerprint(db_url) == state


def test_kill_during_staging_then_resume_reaches_the_clean_state(
    clean_state: dict[str, object], db_url: str, tmp_path: Path
) -> None:
    running_stage = (
        "SELECT 1 FROM ops.ingest_run_audits WHERE stage = 'stage' AND scope = 'indiv' AND status = 'running'"
    )
    _kill_while_blocked(tmp_path, db_url, "staging.indiv", running_stage)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM staging.indiv").fetchone() == (0,), "no partial batch visible"
    resumed = run_fecflow(tmp_path, *BACKFILL, "--resume", env=_env(db_url))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming run" in resumed.stdout
    assert state_fingerprint(db_url) == clean_state


def test_kill_during_normalization_then_runs_resume_reaches_the_clean_state(
    clean_state: dict[str, object], db_url: str, tmp_path: Path
) -> None:
    running_normalize = (
        "SELECT 1 FROM ops.ingest_run_audits WHERE stage = 'normalize' AND scope = 'step' AND status = 'running'"
    )
    _kill_while_blocked(tmp_path, db_url, "core.contribution", running_normalize)
    with psycopg.connect(db_url) as conn:
        killed = conn.execute("SELECT run_id FROM ops.ingest_run ORDER BY run_id DESC LIMIT 1").fetchone()
        assert conn.execute("SELECT count(*) FROM core.contribution").fetchone() == (0,)
    assert killed is not None
    again = run_fecflow(tmp_path, "runs", "resume", str(killed[0]), env=_env(db_url))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "skipped" in again.stdout  # fetch and stage succeeded before the kill
    assert state_fingerprint(db_url) == clean_state


def test_second_concurrent_backfill_is_refused_with_the_lock_message(db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url) as blocker:
        blocker.execute("LOCK TABLE staging.cm IN ACCESS EXCLUSIVE MODE")
        first = _start_cli(tmp_path, db_url, *BACKFILL)
        try:
            _wait_for(
                db_url, "SELECT 1 FROM ops.ingest_run WHERE command = 'backfill' AND status = 'running'"
            )
            second = run_fecflow(tmp_path, *BACKFILL, env=_env(db_url))
        finally:
            blocker.rollback()
        out, err = first.communicate(timeout=300)
    assert second.returncode == 4, second.stdout + second.stderr
    assert "Another fecflow run is writing to this database: run" in second.stderr
    assert first.returncode == 0, out + err


def test_ingest_daily_unchanged_downloads_nothing_and_replay_reruns_window(
    cli, db_url: str, tmp_path: Path
) -> None:
    # E-filing archives of the three days before --date on a local HTTP mirror: 01-12 is not published
    # yet (404: reported, asked again by the next run), 01-13 was fetched by an earlier run, so
    # ingest-daily takes 01-14 only (the 52-filing sample day, under that date).
    www = tmp_path / "www" / "electronic"
    www.mkdir(parents=True)
    for name in ("20200113.zip", "20200114.zip"):
        shutil.copy(FIXTURES / "efilings" / "20180616.zip", www / name)
    with FecHttpServer(www.parent) as server:
        env = {
            "FECFLOW_BULK_BASE_URL": MIRROR, "FECFLOW_EFILING_BASE_URL": f"{server.base_url}/electronic",
            "FECFLOW_EFILING_DAYS": "3",
        }
        with psycopg.connect(db_url) as conn:  # the earlier run's record of 01-13
            earlier = ops.start_run(conn, "fetch-efilings", {})
            ops.record_source_file(
                conn, url=f"{server.base_url}/electronic/20200113.zip", file_type="efiling_daily",
                status="downloaded", sha256="0" * 64, run_id=earlier,
            )
        _ingest_daily_then_unchanged_then_replay(cli, db_url, env)
        assert len(server.requests_for("/electronic/20200114.zip")) == 1  # fetched once, seen afterwards
        assert server.requests_for("/electronic/20200113.zip") == []
        assert len(server.requests_for("/electronic/20200112.zip")) == 2  # each ingest-daily asked again
        with psycopg.connect(db_url) as conn:
            efilings = conn.execute(
                "SELECT count(*), count(DISTINCT a.run_id) FROM ops.ingest_run_audits a JOIN ops.ingest_run r "
                "USING (run_id) WHERE r.command = 'ingest-daily' AND a.stage = 'stage-efiling'"
            ).fetchone()
        assert efilings == (52, 1)
        # Published later: the next run takes it.
        shutil.copy(FIXTURES / "efilings" / "20180616.zip", www / "20200112.zip")
        third = cli("ingest-daily", "--date", "2020-01-15", "--files", FILES, env=env)
        assert third.returncode == 0, third.stdout + third.stderr
        assert "days=2020-01-12, not_published=none, filings=52" in third.stdout
        assert len(server.requests_for("/electronic/20200112.zip")) == 3


def _ingest_daily_then_unchanged_then_replay(cli, db_url: str, env: dict[str, str]) -> None:
    day = ("ingest-daily", "--date", "2020-01-15", "--files", FILES)
    first = cli(*day, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "days=2020-01-14, not_published=2020-01-12, filings=52" in first.stdout
    before = state_fingerprint(db_url)
    core_before = core_digest(db_url)
    second = cli(*day, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Nothing changed upstream" in second.stdout
    assert state_fingerprint(db_url) == before

    # The day the files were fetched, as the database (whose clock replay-range compares with) sees it.
    with psycopg.connect(db_url) as conn:
        fetched = conn.execute("SELECT max(fetched_at)::date FROM ops.source_file").fetchone()
    assert fetched is not None and fetched[0] is not None
    day_fetched = fetched[0].isoformat()
    replay = cli(
        "replay-range", "--start", day_fetched, "--end", day_fetched, "--stages", "stage,normalize", env=env
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    with psycopg.connect(db_url) as conn:
        run = conn.execute(
            "SELECT run_id, args FROM ops.ingest_run WHERE command = 'replay-range' ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        assert run is not None and run[1]["stages"] == ["stage", "normalize"]
        steps = [
            r[0]
            for r in conn.execute(
                "SELECT stage FROM ops.ingest_run_audits WHERE run_id = %s AND scope = 'step' ORDER BY audit_id",
                (run[0],),
            )
        ]
        fetches = conn.execute("SELECT count(*) FROM ops.source_file WHERE run_id = %s", (run[0],)).fetchone()
    assert steps == ["stage", "validate-staging", "normalize", "validate-normalize"]
    assert fetches == (0,), "replay reads stored raw files, it downloads nothing"
    assert state_fingerprint(db_url)["contributions"] == before["contributions"]
    # Replaying the same raw files reproduces the same core state, row for row.
    assert core_digest(db_url) == core_before
