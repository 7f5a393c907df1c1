"""`db upgrade` waits for no one and goes nowhere silently: run lock, older and unknown revisions (#15)."""

from __future__ import annotations

import time

import psycopg
import pytest

from fecflow.db import migrate, ops
from fecflow.errors import ConfigError, LockHeld

pytestmark = pytest.mark.integration


def revisions() -> list[str]:
    script = migrate.ScriptDirectory.from_config(migrate.alembic_config("postgresql://x/y"))
    return [rev.revision for rev in script.walk_revisions()]  # head first


def test_upgrade_refuses_while_a_run_holds_the_pipeline_lock(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as run_conn:
        run_id = ops.start_run(run_conn, "backfill", {"cycles": [2020]})
        ops.acquire_pipeline_lock(run_conn, run_id)
        with pytest.raises(LockHeld, match=f"run {run_id}"):
            migrate.upgrade(db_url)
    _wait_for_lock_release(db_url)  # a closed session's backend ends a moment later (CI failed on it under load)
    migrate.upgrade(db_url)  # the lock went with the run's session


def _wait_for_lock_release(db_url: str, timeout_s: float = 30.0) -> None:
    """Until the pipeline lock is free: the server ends a closed connection's backend asynchronously."""
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(db_url, autocommit=True) as probe:
        while True:
            row = probe.execute("SELECT pg_try_advisory_lock(%s)", (ops.PIPELINE_LOCK_KEY,)).fetchone()
            if row and row[0]:
                probe.execute("SELECT pg_advisory_unlock(%s)", (ops.PIPELINE_LOCK_KEY,))
                return
            assert time.monotonic() < deadline, "the closed run session still holds the pipeline lock"
            time.sleep(0.05)


def test_upgrade_on_an_empty_database_reports_a_held_lock_without_a_traceback(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (ops.PIPELINE_LOCK_KEY,))
        with pytest.raises(LockHeld, match="another fecflow process"):
            migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) is None


def test_an_older_revision_is_refused_and_changes_nothing(db_url: str) -> None:
    head, older = revisions()[0], revisions()[1]
    assert migrate.current_revision(db_url) == head
    with pytest.raises(ConfigError, match="never\\s+downgrades"):
        migrate.upgrade(db_url, older)
    assert migrate.current_revision(db_url) == head
    migrate.upgrade(db_url, head)  # the current revision itself is fine


def test_an_unknown_revision_is_a_clear_error(db_url: str) -> None:
    with pytest.raises(ConfigError, match="Unknown schema revision 'nope'"):
        migrate.upgrade(db_url, "nope")
