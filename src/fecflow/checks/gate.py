"""Validation gates: run the checks of a stage, record them, stop the run when one fails.

A gate runs after a pipeline stage and before the next one:

========== ================================================= ===========================================
gate       checks                                             scope
========== ================================================= ===========================================
staging    schema + staging accounting, per source file      the source files just staged
normalize  staging vs core per normalized snapshot, unique   the cycles (and file types) just normalized
           SUB_IDs and reconciliation per cycle
scores     score ranges, intervals, support, open rows       the (method, as_of) slots just scored
========== ================================================= ===========================================

:func:`run_gate` records one ``ops.ingest_run_audits`` row (``stage='validate'``, ``scope=<gate>``,
``validation`` = the results as JSON, status ``failed`` when a check failed) before and after the
work, logs every failed check at ERROR with its numbers, sends the run's alert, and raises
:class:`~fecflow.errors.ValidationFailed`: the pipeline stops there, so the next stage never touches
its tables. :func:`check_gate` does the same without alerting or raising (``fecflow validate`` runs
several gates and decides once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx
import psycopg

from fecflow.catalog import NORMALIZED_FILE_TYPES, TRANSACTION_FILE_TYPES
from fecflow.checks.accounting import (
    check_core_accounting,
    check_provenance,
    check_staging_accounting,
    check_unique_sub_ids,
)
from fecflow.checks.alert import alert_failed_run
from fecflow.checks.reconciliation import check_reconciliation
from fecflow.checks.result import CheckResult, count_by_status, failed
from fecflow.checks.schema import check_schema
from fecflow.checks.scores import ScoreSlot, check_scores
from fecflow.checks.tolerances import Tolerances
from fecflow.config import Settings
from fecflow.db import ops
from fecflow.errors import ConfigError, ValidationFailed
from fecflow.normalize.snapshot import last_normalized

log = logging.getLogger(__name__)

GateName = Literal["staging", "normalize", "scores"]
GATES: tuple[GateName, ...] = ("staging", "normalize", "scores")
MAX_CHECKS_IN_ERROR = 8


@dataclass(frozen=True)
class GateScope:
    """What a gate looks at. Each gate reads only its own fields."""

    source_file_ids: tuple[int, ...] = ()  # staging
    cycles: tuple[int, ...] = ()  # normalize
    file_types: tuple[str, ...] = ()  # normalize; empty = every normalized file type of the cycles
    score_slots: tuple[ScoreSlot, ...] = ()  # scores; empty = every current score row

    def describe(self, gate: str) -> dict[str, object]:
        if gate == "staging":
            return {"source_file_ids": list(self.source_file_ids)}
        if gate == "normalize":
            return {"cycles": list(self.cycles), "file_types": list(self.file_types)}
        return {"score_slots": [str(s) for s in self.score_slots]}


# --- evaluating -------------------------------------------------------------------------------------------
def evaluate_gate(
    conn: psycopg.Connection, *, gate: str, scope: GateScope, tolerances: Tolerances
) -> list[CheckResult]:
    """Run the checks of ``gate`` over ``scope`` (read-only) and return every result."""
    if gate == "staging":
        return _staging(conn, scope, tolerances)
    if gate == "normalize":
        return _normalize(conn, scope, tolerances)
    if gate == "scores":
        return check_scores(conn, tolerances, scope.score_slots)
    raise ConfigError(f"Unknown validation gate {gate!r}.", hint=f"Gates: {', '.join(GATES)}.")


def staged_source_file(conn: psycopg.Connection, source_file_id: int) -> int:
    """The source file whose staged rows stand for ``source_file_id``.

    A file staging skipped because an identical file (same sha256) is staged has no rows of its own;
    its data is that file's.
    """
    original = ops.duplicate_of(conn, source_file_id)
    return source_file_id if original is None else original


def _staging(conn: psycopg.Connection, scope: GateScope, tolerances: Tolerances) -> list[CheckResult]:
    results: list[CheckResult] = []
    seen: set[int] = set()
    for source_file_id in scope.source_file_ids:
        staged = staged_source_file(conn, source_file_id)
        if staged in seen:
            continue
        seen.add(staged)
        results.extend(check_schema(conn, staged, tolerances))
        results.extend(check_staging_accounting(conn, staged, tolerances))
    return results


def _normalize(conn: psycopg.Connection, scope: GateScope, tolerances: Tolerances) -> list[CheckResult]:
    results: list[CheckResult] = []
    wanted = [ft for ft in NORMALIZED_FILE_TYPES if not scope.file_types or ft in scope.file_types]
    for cycle in scope.cycles:
        normalized: list[str] = []
        for file_type in wanted:
            mark = last_normalized(conn, cycle=cycle, file_type=file_type)
            if mark is None:
                continue
            normalized.append(file_type)
            results.extend(check_core_accounting(conn, mark.source_file_id, tolerances))
        if any(ft in TRANSACTION_FILE_TYPES for ft in normalized):
            results.append(check_unique_sub_ids(conn, cycle))
            results.append(check_provenance(conn, cycle))
        if "indiv" in normalized:
            results.extend(check_reconciliation(conn, cycle, tolerances))
        if not normalized:
            results.append(
                CheckResult(
                    "normalize.snapshots",
                    f"cycle:{cycle}",
                    0,
                    None,
                    None,
                    "warning",
                    f"nothing of {', '.join(wanted)} is normalized for {cycle}: no core rows to check",
                )
            )
    return results


# --- recording, logging, failing ------------------------------------------------------------------------
def check_gate(
    conn: psycopg.Connection, *, run_id: int, gate: str, scope: GateScope, tolerances: Tolerances
) -> list[CheckResult]:
    """Evaluate ``gate``, store its results in a ``validate`` audit of ``run_id`` and log them."""
    if gate not in GATES:
        raise ConfigError(f"Unknown validation gate {gate!r}.", hint=f"Gates: {', '.join(GATES)}.")
    audit_id = ops.start_audit(conn, run_id, ops.Stage.VALIDATE, scope=ops.NamedScope(gate))  # commits: the start is on record
    started = time.monotonic()
    try:
        results = evaluate_gate(conn, gate=gate, scope=scope, tolerances=tolerances)
    except BaseException as exc:
        conn.rollback()
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        ops.finish_audit(conn, audit_id, "failed", error=f"the checks could not run: {message}"[:4000])
        raise
    seconds = round(time.monotonic() - started, 3)
    counts = {**count_by_status(results), "seconds": seconds, "scope": scope.describe(gate)}
    status = "failed" if failed(results) else "succeeded"
    ops.finish_audit(conn, audit_id, status, validation=[r.to_json() for r in results], counts=counts)
    _log_results(run_id, gate, results, seconds)
    return results


def _log_results(run_id: int, gate: str, results: Sequence[CheckResult], seconds: float) -> None:
    extra = {"run_id": run_id, "stage": ops.Stage.VALIDATE}
    for r in results:
        if r.status == "failed":
            log.error(
                "validation %s: FAILED %s", gate, r.describe(), extra={**extra, "event": "check_failed"}
            )
        elif r.status == "warning":
            log.warning(
                "validation %s: warning %s", gate, r.describe(), extra={**extra, "event": "check_warning"}
            )
    counts = count_by_status(results)
    log.info(
        "validation %s: %d checks in %.1fs: %d passed, %d warnings, %d failed",
        gate,
        len(results),
        seconds,
        counts["passed"],
        counts["warning"],
        counts["failed"],
        extra={**extra, "event": "gate_end", "counts": counts, "duration_s": seconds},
    )


def validation_error(run_id: int, results_by_gate: Mapping[str, Sequence[CheckResult]]) -> ValidationFailed:
    """The error naming every failed check (the first few with their numbers)."""
    bad = [(gate, r) for gate, results in results_by_gate.items() for r in results if r.failed]
    gates = ", ".join(dict.fromkeys(gate for gate, _ in bad))
    lines = [f"{gate}: {r.describe()}" for gate, r in bad[:MAX_CHECKS_IN_ERROR]]
    if len(bad) > MAX_CHECKS_IN_ERROR:
        lines.append(f"... and {len(bad) - MAX_CHECKS_IN_ERROR} more")
    return ValidationFailed(
        f"Validation failed in run {run_id} ({gates}): {len(bad)} check(s) failed:\n  " + "\n  ".join(lines),
        hint=f"Inspect the failed checks with `fecflow runs show {run_id}`; tolerances are in "
        "docs/data/validation.md.",
    )


def fail_if_any_failed(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    run_id: int,
    results_by_gate: Mapping[str, Sequence[CheckResult]],
    client: httpx.Client | None = None,
) -> None:
    """Alert once and raise ValidationFailed when any check failed; otherwise do nothing."""
    bad_gates = [g for g, results in results_by_gate.items() if failed(results)]
    if not bad_gates:
        return
    all_failed = [r for g in bad_gates for r in failed(results_by_gate[g])]
    alert_failed_run(
        conn, settings, run_id=run_id, gate=", ".join(bad_gates), failed=all_failed, client=client
    )
    raise validation_error(run_id, results_by_gate)


def run_gate(
    conn: psycopg.Connection,
    *,
    run_id: int,
    gate: str,
    scope: GateScope,
    tolerances: Tolerances,
    settings: Settings,
    client: httpx.Client | None = None,
) -> list[CheckResult]:
    """Run a gate for the pipeline: record, log, and on failure alert and raise ValidationFailed."""
    results = check_gate(conn, run_id=run_id, gate=gate, scope=scope, tolerances=tolerances)
    fail_if_any_failed(conn, settings, run_id=run_id, results_by_gate={gate: results}, client=client)
    return results


# --- what a past run touched --------------------------------------------------------------------------
def scope_of_run(conn: psycopg.Connection, run_id: int) -> dict[str, GateScope]:
    """The gates (and their scopes) that apply to what ``run_id`` staged, normalized and scored.

    A run that resumed others (``fecflow runs resume``) is checked together with them: the steps it
    skipped because they succeeded earlier did their work in the runs it resumed.
    """
    scopes: dict[str, GateScope] = {}
    runs = ops.resume_chain(conn, run_id)
    staged = ops.staged_by_runs(conn, runs)
    if staged:
        scopes["staging"] = GateScope(source_file_ids=tuple(staged))
    units = ops.normalized_by_runs(conn, runs)
    if units:
        scopes["normalize"] = GateScope(
            cycles=tuple(sorted({u.cycle for u in units if u.cycle is not None})),
            file_types=tuple(sorted({u.file_type for u in units})),
        )
    slots = ops.scored_by_runs(conn, runs)
    if slots:
        scopes["scores"] = GateScope(score_slots=tuple(ScoreSlot(m, as_of) for m, as_of in slots))
    conn.commit()
    return scopes
