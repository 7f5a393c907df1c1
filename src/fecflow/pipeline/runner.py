"""Run a list of steps as one recorded, locked, resumable run.

* One ``ops.ingest_run`` row per command; each step writes its start (an ``ops.ingest_run_audits``
  row with ``scope = 'step'``) before working and its finish after.
* A PostgreSQL advisory lock, held on a dedicated connection for the whole run, stops two runs from
  writing at once; the second gets :class:`~fecflow.errors.LockHeld` naming the running run.
* Resuming a failed run starts a new run (``resumed_from_run_id``) with the same command and
  arguments and skips the steps that succeeded in the run it resumes (following the chain of
  resumes). Every step is idempotent on its own (fetch skips unchanged files, stage skips staged
  files, normalize skips normalized snapshots), so a resumed run ends in the state a clean run
  would have reached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from fecflow.config import Settings
from fecflow.db import ops
from fecflow.db.engine import connect, require_schema
from fecflow.errors import DatabaseUnavailable, FecflowError

log = logging.getLogger(__name__)


@dataclass
class StepContext:
    conn: psycopg.Connection
    db_url: str
    settings: Settings
    run_id: int
    state: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[str, int, int | None], None] | None = None


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[StepContext], dict[str, Any]]
    description: str = ""


@dataclass
class StepOutcome:
    name: str
    status: str  # succeeded | skipped | failed
    seconds: float
    summary: dict[str, Any]


@dataclass
class RunSummary:
    run_id: int
    command: str
    status: str
    steps: list[StepOutcome]
    resumed_from: int | None = None


def succeeded_steps(conn: psycopg.Connection, run_id: int) -> set[str]:
    """Steps that succeeded in ``run_id`` or in the runs it resumed (transitively)."""
    done = ops.succeeded_steps(conn, ops.resume_chain(conn, run_id))
    conn.commit()
    return done


@contextmanager
def recorded_run(
    db_url: str, command: str, args: dict[str, Any], *, resume_from: int | None = None
) -> Iterator[tuple[psycopg.Connection, int]]:
    """One ``ops.ingest_run`` under the pipeline lock: yield ``(conn, run_id)``; record the outcome.

    Used by :func:`run_steps` and by the single-stage CLI commands, so every writing command records
    its run, takes the lock and marks runs abandoned by a killed process the same way.
    """
    with connect(db_url, autocommit=True) as lock_conn, connect(db_url) as conn:
        require_schema(conn)
        conn.commit()
        run_id = ops.start_run(conn, command, args, resumed_from=resume_from)
        log.info("run %d: %s started", run_id, command, extra={"run_id": run_id, "event": "run_start"})
        try:
            ops.acquire_pipeline_lock(lock_conn, run_id)
        except FecflowError as exc:
            ops.finish_run(conn, run_id, "failed", exc.message)
            raise
        ops.mark_abandoned_runs(conn, run_id)
        try:
            yield conn, run_id
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            message = exc.message if isinstance(exc, FecflowError) else f"{type(exc).__name__}: {exc}"
            _safe_rollback(conn)
            try:
                ops.finish_run(conn, run_id, status, message)
            except psycopg.Error as db_exc:
                raise DatabaseUnavailable(
                    f"The database failed during run {run_id} ({message}); the run could not be recorded as {status}.",
                    hint="Check the server (FECFLOW_HOME/pg/server.log for the embedded one), then "
                    f"`fecflow runs resume {run_id}`.",
                ) from db_exc
            log.error(
                "run %d: %s %s: %s",
                run_id,
                command,
                status,
                message,
                extra={"run_id": run_id, "event": "run_end"},
            )
            raise
        finally:
            try:
                ops.release_pipeline_lock(lock_conn)
            except psycopg.Error:  # the lock dies with the session anyway; keep the real error
                log.debug("could not release the pipeline lock", exc_info=True)
        ops.finish_run(conn, run_id, "succeeded")
        log.info("run %d: %s succeeded", run_id, command, extra={"run_id": run_id, "event": "run_end"})


def run_steps(
    db_url: str,
    settings: Settings,
    *,
    command: str,
    args: dict[str, Any],
    steps: Sequence[Step],
    resume_from: int | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    on_step: Callable[[StepOutcome], None] | None = None,
) -> RunSummary:
    """Run ``steps`` in order under the pipeline lock; raise the first step's error after recording it.

    ``args`` is only recorded (``ops.ingest_run.args``): the steps carry their own typed arguments.
    """
    with recorded_run(db_url, command, args, resume_from=resume_from) as (conn, run_id):
        skip = succeeded_steps(conn, resume_from) if resume_from is not None else set()
        ctx = StepContext(conn, db_url, settings, run_id, progress=progress)
        outcomes: list[StepOutcome] = []
        for step in steps:
            outcome = _run_step(conn, ctx, step, skip)
            outcomes.append(outcome)
            if on_step is not None:
                on_step(outcome)
    return RunSummary(run_id, command, "succeeded", outcomes, resume_from)


def _run_step(conn: psycopg.Connection, ctx: StepContext, step: Step, skip: set[str]) -> StepOutcome:
    extra = {"run_id": ctx.run_id, "stage": step.name}
    audit_id = ops.start_audit(conn, ctx.run_id, step.name, scope=ops.STEP)
    if step.name in skip:
        ops.finish_audit(conn, audit_id, "skipped", counts={"reason": "succeeded in the resumed run"})
        log.info(
            "step %s: skipped (succeeded in the resumed run)",
            step.name,
            extra={**extra, "event": "step_skip"},
        )
        return StepOutcome(step.name, "skipped", 0.0, {"reason": "succeeded in the resumed run"})
    log.info("step %s: started", step.name, extra={**extra, "event": "step_start"})
    if ctx.progress is not None:
        ctx.progress(f"step {step.name}", 0, None)
    started = time.monotonic()
    try:
        summary = step.run(ctx)
    except BaseException as exc:
        seconds = time.monotonic() - started
        message = exc.message if isinstance(exc, FecflowError) else f"{type(exc).__name__}: {exc}"
        _safe_rollback(conn)
        ops.finish_audit(conn, audit_id, "failed", error=message, counts={"seconds": round(seconds, 3)})
        log.error(
            "step %s: failed after %.1fs: %s",
            step.name,
            seconds,
            message,
            extra={**extra, "event": "step_end", "duration_s": round(seconds, 3)},
        )
        raise
    seconds = time.monotonic() - started
    _safe_commit(conn)
    counts = {**summary, "seconds": round(seconds, 3)}
    ops.finish_audit(conn, audit_id, "succeeded", counts=counts)
    log.info(
        "step %s: succeeded in %.1fs",
        step.name,
        seconds,
        extra={**extra, "event": "step_end", "duration_s": round(seconds, 3), "counts": summary},
    )
    return StepOutcome(step.name, "succeeded", seconds, summary)


def _safe_rollback(conn: psycopg.Connection) -> None:
    try:
        conn.rollback()
    except psycopg.Error:  # pragma: no cover - connection already broken
        log.debug("rollback failed", exc_info=True)


def _safe_commit(conn: psycopg.Connection) -> None:
    if not conn.autocommit:
        conn.commit()
