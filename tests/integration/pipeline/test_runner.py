"""The step runner: bookkeeping, failure, resume, the pipeline lock, abandoned runs."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from fecflow.config import Settings
from fecflow.db import ops
from fecflow.errors import DataError, LockHeld
from fecflow.pipeline.runner import Step, StepContext, run_steps

pytestmark = pytest.mark.integration


def _settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(home=tmp_path)


def test_steps_run_in_order_and_are_recorded(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def step(name: str) -> Step:
        def run(ctx: StepContext) -> dict[str, Any]:
            calls.append(name)
            ctx.conn.execute("INSERT INTO core.employer (canonical_name) VALUES (%s)", (name,))
            return {"rows": 1}

        return Step(name, run)

    summary = run_steps(
        db_url, _settings(tmp_path), command="test", args={"a": 1}, steps=[step("one"), step("two")]
    )
    assert calls == ["one", "two"] and summary.status == "succeeded"
    with psycopg.connect(db_url) as conn:
        audits = conn.execute(
            "SELECT stage, status, counts->>'rows' FROM ops.ingest_run_audits WHERE run_id = %s ORDER BY audit_id",
            (summary.run_id,),
        ).fetchall()
        assert audits == [("one", "succeeded", "1"), ("two", "succeeded", "1")]
        assert conn.execute("SELECT count(*) FROM core.employer").fetchone() == (2,)


def test_failed_step_rolls_back_its_work_and_resume_skips_done_steps(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    fail = {"two": True}

    def step(name: str) -> Step:
        def run(ctx: StepContext) -> dict[str, Any]:
            calls.append(name)
            ctx.conn.execute("INSERT INTO core.employer (canonical_name) VALUES (%s)", (name,))
            if fail.get(name):
                raise DataError(f"{name} broke")
            return {}

        return Step(name, run)

    steps = [step("one"), step("two"), step("three")]
    with pytest.raises(DataError):
        run_steps(db_url, _settings(tmp_path), command="test", args={}, steps=steps)
    with psycopg.connect(db_url) as conn:
        failed_run = conn.execute("SELECT run_id, status, error FROM ops.ingest_run").fetchone()
        assert failed_run is not None and failed_run[1:] == ("failed", "two broke")
        names = [r[0] for r in conn.execute("SELECT canonical_name FROM core.employer ORDER BY 1")]
        assert names == ["one"], "the failed step left nothing behind"
    fail.clear()
    calls.clear()
    resumed = run_steps(
        db_url, _settings(tmp_path), command="test", args={}, steps=steps, resume_from=failed_run[0]
    )
    assert calls == ["two", "three"]
    assert [s.status for s in resumed.steps] == ["skipped", "succeeded", "succeeded"]
    with psycopg.connect(db_url) as conn:
        names = [r[0] for r in conn.execute("SELECT canonical_name FROM core.employer ORDER BY 1")]
        assert names == ["one", "three", "two"]


def test_second_run_is_refused_while_first_holds_the_lock(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    inner: dict[str, Exception] = {}

    def run(ctx: StepContext) -> dict[str, Any]:
        try:
            run_steps(db_url, _settings(tmp_path), command="other", args={}, steps=[])
        except LockHeld as exc:
            inner["error"] = exc
        return {}

    outer = run_steps(db_url, _settings(tmp_path), command="outer", args={}, steps=[Step("s", run)])
    assert "error" in inner and f"run {outer.run_id}" in inner["error"].message


def test_runs_left_running_by_a_killed_process_are_marked_interrupted(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(db_url) as conn:
        dead = ops.start_run(conn, "backfill", {})
    run_steps(db_url, _settings(tmp_path), command="next", args={}, steps=[])
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT status FROM ops.ingest_run WHERE run_id = %s", (dead,)).fetchone() == (
            "interrupted",
        )
