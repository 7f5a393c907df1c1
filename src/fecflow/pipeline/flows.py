"""The commands' step lists: backfill, ingest-daily, replay-range.

Each flow is a list of :class:`~fecflow.pipeline.runner.Step` built from the command's typed
arguments (:class:`~fecflow.pipeline.args.RunArgs`, stored as JSON in ``ops.ingest_run.args``) so
``fecflow runs resume`` can rebuild it. Each step calls the same step function as its single-step
command (:mod:`fecflow.pipeline.steps`).
Validation gates sit between stages: a failing gate raises ValidationFailed, which stops the run
before the downstream stage touches anything.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

import psycopg

from fecflow.checks.gate import GateName, GateScope
from fecflow.db import ops
from fecflow.errors import ConfigError, DataError
from fecflow.pipeline import steps
from fecflow.pipeline.args import RunArgs
from fecflow.pipeline.efilings import ingest_unseen_days
from fecflow.pipeline.runner import Step, StepContext

log = logging.getLogger(__name__)

ALL_STAGES = ops.FlowStep.ALL
REPLAYABLE_STAGES = ops.FlowStep.REPLAYABLE
SKIPPED_UPSTREAM = {"skipped": "nothing changed upstream"}


def current_cycle(day: dt.date) -> int:
    return day.year + (day.year % 2)


# ------------------------------------------------------------------------------------------- steps
# Each adapter runs one step function of fecflow.pipeline.steps with the run's typed arguments and
# returns the counts the runner records for the step.
def _fetch(args: RunArgs, ctx: StepContext) -> dict[str, Any]:
    records = steps.fetch(ctx.conn, ctx.settings, run_id=ctx.run_id, args=args.fetch())
    changed = [r for r in records if r.status != "unchanged"]
    ctx.state["changed"] = [(r.target.cycle, r.target.file_type) for r in changed]
    return {
        "files": len(records),
        "downloaded": len(changed),
        "unchanged": len(records) - len(changed),
        "bytes": sum(r.bytes or 0 for r in changed),
    }


def _nothing_changed(args: RunArgs, ctx: StepContext) -> bool:
    return bool(args.delta) and ctx.state.get("changed") == []


def _line_progress(ctx: StepContext) -> steps.FileProgress | None:
    """Forward a loader's (lines, bytes) progress to the CLI's progress display, if any."""
    report = ctx.progress
    if report is None:
        return None
    return lambda label, _total: lambda lines, _size: report(f"stage {label} (lines)", lines, None)


def _stage(args: RunArgs, ctx: StepContext) -> dict[str, Any]:
    if _nothing_changed(args, ctx):
        return SKIPPED_UPSTREAM
    staged = steps.stage(
        ctx.conn,
        ctx.settings,
        db_url=ctx.db_url,
        run_id=ctx.run_id,
        args=args.stage(),
        progress=_line_progress(ctx),
    )
    results = [s.result for s in staged]
    return {
        "files": len(results),
        "lines": sum(r.lines for r in results),
        "loaded": sum(r.loaded for r in results),
        "rejected": sum(r.rejected for r in results),
        "skipped_files": sum(int(r.skipped) for r in results),
    }


def _gate_scope(args: RunArgs, ctx: StepContext, gate: GateName) -> GateScope | None:
    """What a gate checks: the current snapshots of the run's cycles and files (so a resumed run
    checks them too), and the score rows this run computed."""
    if gate == "staging":
        return steps.staging_scope(ctx.conn, args.stage())
    if gate == "normalize":
        return steps.normalize_scope(args.normalize())
    return steps.scores_scope(ctx.conn, ctx.run_id)


def _gate(gate: GateName, args: RunArgs, ctx: StepContext) -> dict[str, Any]:
    if _nothing_changed(args, ctx):
        return SKIPPED_UPSTREAM
    scope = _gate_scope(args, ctx, gate)
    if scope is None:
        return {"skipped": "nothing to check"}
    results = steps.validate(
        ctx.conn, ctx.settings, run_id=ctx.run_id, gate=gate, scope=scope, tolerances=args.tolerances or ()
    )
    return steps.gate_counts(results)


def _normalize(args: RunArgs, ctx: StepContext) -> dict[str, Any]:
    if _nothing_changed(args, ctx):
        return SKIPPED_UPSTREAM
    totals: dict[str, Any] = {"units_normalized": 0, "units_unchanged": 0}
    for result in steps.normalize(ctx.conn, run_id=ctx.run_id, args=args.normalize(), settings=ctx.settings):
        for unit in result.units:
            key = "units_normalized" if unit.status in ("normalized", "remapped") else "units_unchanged"
            totals[key] += 1
        for table, counts in result.table_counts().items():
            for name, value in counts.items():
                totals[f"{table}.{name}"] = totals.get(f"{table}.{name}", 0) + value
    return totals


def _score(args: RunArgs, ctx: StepContext) -> dict[str, Any]:
    if _nothing_changed(args, ctx):
        return SKIPPED_UPSTREAM
    result = steps.score(ctx.conn, run_id=ctx.run_id, args=args.score())
    return {
        "as_of": result.as_of.isoformat(),
        **{k: v for k, v in result.counts.items() if isinstance(v, int | str)},
    }


def _efilings(args: RunArgs, ctx: StepContext) -> dict[str, Any]:
    """The e-filing archives of the days before ``args.date`` that no run fetched yet (not delta-gated:
    e-filings do not depend on the bulk files changing)."""
    assert args.date is not None
    done = ingest_unseen_days(ctx.conn, ctx.settings, run_id=ctx.run_id, day=args.date, days=args.efiling_days or 0)
    return {
        "days": ",".join(d.isoformat() for d in done.taken) or "none",
        "not_published": ",".join(d.isoformat() for d in done.not_published) or "none",
        "filings": len(done.run.staged),
        "quarantined": sum(s.status == "quarantined" for s in done.run.staged),
        "preliminary": done.run.preliminary,
        "superseded": done.run.superseded,
    }


def _steps(stages: tuple[str, ...] | list[str], args: RunArgs) -> list[Step]:
    def step(name: str, run: Callable[[RunArgs, StepContext], dict[str, Any]], description: str = "") -> Step:
        return Step(name, functools.partial(run, args), description)

    def gate(name: GateName) -> Step:
        return step(ops.FlowStep.gate(name), functools.partial(_gate, name))

    chosen: list[Step] = []
    if ops.FlowStep.FETCH in stages:
        chosen.append(step(ops.FlowStep.FETCH, _fetch, "download changed bulk files"))
    if ops.FlowStep.STAGE in stages:
        chosen += [step(ops.FlowStep.STAGE, _stage, "COPY raw files into staging"), gate("staging")]
    if ops.FlowStep.NORMALIZE in stages:
        chosen += [step(ops.FlowStep.NORMALIZE, _normalize, "staging -> core"), gate("normalize")]
    if ops.FlowStep.SCORE in stages:
        chosen += [step(ops.FlowStep.SCORE, _score, "leaning scores"), gate("scores")]
    if args.efiling_days and args.date is not None:  # ingest-daily; last, so a bad filing never blocks bulk
        chosen.append(step(ops.FlowStep.EFILINGS, _efilings, "previous days' e-filings not fetched yet"))
    return chosen


# ------------------------------------------------------------------------------------------- flows
def backfill_args(
    cycles: list[int], files: list[str], *, as_of: dt.date | None, lookback_months: int, workers: int
) -> RunArgs:
    return RunArgs(tuple(cycles), tuple(files), as_of=as_of, lookback_months=lookback_months, workers=workers)


def ingest_daily_args(day: dt.date, files: list[str], *, lookback_months: int, efiling_days: int = 0) -> RunArgs:
    return RunArgs(
        (current_cycle(day),), tuple(files), date=day, delta=True, lookback_months=lookback_months,
        efiling_days=efiling_days or None,
    )


def replay_range_args(conn: psycopg.Connection, first: dt.date, last: dt.date, stages: list[str]) -> RunArgs:
    """Re-run ``stages`` for the files fetched from ``first`` to ``last``, restaging them, scored as of ``last``."""
    fetched = ops.fetched_between(conn, first, last)
    if not fetched:
        raise DataError(
            f"No source files were fetched between {first} and {last}.",
            hint="List runs with `fecflow runs` to find the dates that have data.",
        )
    cycles = tuple(sorted({cycle for cycle, _ in fetched}))
    files = tuple(sorted({file_type for _, file_type in fetched}))
    return RunArgs(cycles, files, start=first, end=last, stages=tuple(stages), replace=True, as_of=last)


def unfinished_run(conn: psycopg.Connection, command: str, args: RunArgs) -> int | None:
    """The newest failed or interrupted run of ``command`` with the same arguments (``--resume``)."""
    return ops.unfinished_run(conn, command, args.to_json())


def steps_for(command: str, args: RunArgs) -> list[Step]:
    """The steps of ``command`` with ``args`` (also used to resume a stored run)."""
    if command in ("backfill", "ingest-daily"):
        return _steps(ALL_STAGES, args)
    if command == "replay-range":
        stages = [s for s in (args.stages or ALL_STAGES) if s in REPLAYABLE_STAGES]
        return _steps(tuple(stages), args)
    raise ConfigError(f"Runs of `{command}` cannot be resumed.", hint="Run the command again instead.")
