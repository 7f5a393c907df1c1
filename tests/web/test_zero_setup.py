"""Zero setup (#17): on the embedded default, commands migrate the database themselves; an external
FECFLOW_DATABASE_URL is never migrated implicitly (`fecflow db upgrade` or `serve --migrate`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fecflow.db.migrate import head_revision
from support.cli import run_fecflow

pytestmark = pytest.mark.web


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    run_fecflow(tmp_path, "db", "stop")


def test_a_fresh_embedded_home_needs_no_db_upgrade(home: Path) -> None:
    runs = run_fecflow(home, "runs")
    assert runs.returncode == 0, runs.stderr
    assert "db upgrade" not in runs.stderr
    status = run_fecflow(home, "db", "status")
    assert status.returncode == 0, status.stderr
    assert f"{head_revision()} (code head {head_revision()})" in status.stdout


def test_an_external_database_is_not_migrated_implicitly(tmp_path: Path, empty_db_url: str) -> None:
    env = {"FECFLOW_DATABASE_URL": empty_db_url}
    refused = run_fecflow(tmp_path, "serve", "--port", "1", env=env)
    assert refused.returncode == 3, refused.stderr
    assert "fecflow db upgrade" in refused.stderr and "Traceback" not in refused.stderr
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('ops.alembic_version')").fetchone() == (None,)
    listed = run_fecflow(tmp_path, "runs", env=env)
    assert listed.returncode == 3 and "db upgrade" in listed.stderr
