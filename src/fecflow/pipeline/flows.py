"""The commands' step lists: backfill, ingest-daily, replay-range.

Each flow is a list of :class:`~fecflow.pipeline.runner.Step` built from the command's arguments
(JSON-serialisable, stored in ``ops.ingest_run.args``) so ``fecflow runs resume`` can rebuild it.
Validation gates sit between stages: a failing gate raises ValidationFailed, which stops the run
before the downstream stage touches anything.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from psycopg import sql

from fecflow.catalog import get_file_spec
from fecflow.checks.gate import GateScope, run_gate, scope_of_run
from fecflow.checks.tolerances import load_tolerances
from fecflow.db import ops
from fecflow.errors import ConfigError, DataError
from fecflow.normalize.snapshot import current_snapshot
from fecflow.normalize.step import normalize_cycle
from fecflow.pipeline.fetch import fetch_bulk
from fecflow.pipeline.runner import Step, StepContext
from fecflow.scores.engine import compute_scores
from fecflow.sources.http import RetryPolicy, build_http_client
from fecflow.sources.storage import RawStorage
from fecflow.staging.load import stage_source_file

log = logging.getLogger(__name__)

TRANSACTION_FILES = ("indiv", "pas2", "oth")
MASTER_FILES = ("cn", "cm", "ccl")
SUMMARY_FILES = ("weball", "webl", "webk")
ALL_STAGES = ("fetch", "stage", "normalize", "score")


def current_cycle(day: dt.date) -> int:
    return day.year + (day.year % 2)


# ------------------------------------------------------------------------------------------- steps
def _fetch(ctx: StepContext) -> dict[str, Any]:
    settings = ctx.settings
    with build_http_client(settings) as client:
        records = fetch_bulk(
            ctx.conn,
            settings,
            run_id=ctx.run_id,
            cycles=ctx.args["cycles"],
            file_types=ctx.args["files"],
            client=client,
            storage=RawStorage.from_settings(settings),
            policy=RetryPolicy.from_settings(settings),
        )
    changed = [r for r in records if r.status != "unchanged"]
    ctx.state["changed"] = [(r.target.cycle, r.target.file_type) for r in changed]
    return {
        "files": len(records),
        "downloaded": len(changed),
        "unchanged": len(records) - len(changed),
        "bytes": sum(r.bytes or 0 for r in changed),
    }


def _targets(ctx: StepContext) -> list[tuple[int, str]]:
    return [(c, f) for c in ctx.args["cycles"] for f in ctx.args["files"]]


def _nothing_changed(ctx: StepContext) -> bool:
    return bool(ctx.args.get("delta")) and ctx.state.get("changed") == []


def _local_copy(stack: ExitStack, storage: RawStorage, uri: str) -> Path:
    if storage.is_local or uri.startswith("/") or uri.startswith("file://"):
        return Path(uri.removeprefix("file://"))
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fecflow-stage-")))
    dest = tmp / uri.rsplit("/", 1)[-1]
    storage.get_to_local(uri, dest)
    return dest


def _line_progress(ctx: StepContext, label: str) -> Callable[[int, int], None] | None:
    """Forward a loader's (lines, bytes) progress to the CLI's progress display, if any."""
    report = ctx.progress
    if report is None:
        return None
    return lambda lines, _size: report(label, lines, None)


def _stage(ctx: StepContext) -> dict[str, Any]:
    if _nothing_changed(ctx):
        return {"skipped": "nothing changed upstream"}
    storage = RawStorage.from_settings(ctx.settings)
    totals = {"files": 0, "lines": 0, "loaded": 0, "rejected": 0, "skipped_files": 0}
    replace = bool(ctx.args.get("replace"))
    staged_ids: list[int] = []
    for cycle, file_type in _targets(ctx):
        spec = get_file_spec(file_type)
        url = spec.url(ctx.settings.bulk_base_url, cycle)
        source = ops.last_usable_source_file(ctx.conn, url)
        if source is None or source.storage_uri is None:
            raise DataError(
                f"No downloaded {file_type} file for cycle {cycle} to stage ({url}).",
                hint=f"Run `fecflow fetch --cycles {cycle} --files {file_type}` first.",
            )
        with ExitStack() as stack:
            path = _local_copy(stack, storage, source.storage_uri)
            result = stage_source_file(
                ctx.db_url,
                run_id=ctx.run_id,
                source_file_id=source.source_file_id,
                spec=spec,
                path=path,
                member=None,  # the member fetch recorded (the expected one, or the archive's only one)
                workers=int(ctx.args.get("workers", 1)),
                replace=replace,
                progress=_line_progress(ctx, f"stage {file_type} {cycle} (lines)"),
            )
        staged_ids.append(source.source_file_id)
        totals["files"] += 1
        totals["lines"] += result.lines
        totals["loaded"] += result.loaded
        totals["rejected"] += result.rejected
        totals["skipped_files"] += int(result.skipped)
    ctx.state["staged_source_files"] = staged_ids
    _analyze(ctx, [f"staging.{file_type}" for file_type in sorted(set(ctx.args["files"]))])
    return totals


def _analyze(ctx: StepContext, tables: list[str]) -> None:
    """Fresh planner statistics after a bulk load: stale ones gave a 14-minute nested-loop plan."""
    ctx.conn.commit()
    for table in tables:
        schema, name = table.split(".")
        ctx.conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, name)))
    ctx.conn.commit()


def _gate_scope(ctx: StepContext, gate: str) -> GateScope | None:
    """What a gate checks: the current snapshots of the run's cycles and files (so a resumed run
    checks them too), and the score rows this run computed."""
    if gate == "staging":
        ids = []
        for cycle, file_type in _targets(ctx):
            snap = current_snapshot(ctx.conn, cycle=cycle, file_type=file_type)
            if snap is not None:
                ids.append(snap.source_file_id)
        return GateScope(source_file_ids=tuple(sorted(set(ids)))) if ids else None
    if gate == "normalize":
        normalizable = [f for f in ctx.args["files"] if f in MASTER_FILES + TRANSACTION_FILES]
        return (
            GateScope(cycles=tuple(ctx.args["cycles"]), file_types=tuple(normalizable))
            if normalizable
            else None
        )
    return scope_of_run(ctx.conn, ctx.run_id).get("scores")


def _gate(gate: str) -> Callable[[StepContext], dict[str, Any]]:
    def run(ctx: StepContext) -> dict[str, Any]:
        if _nothing_changed(ctx):
            return {"skipped": "nothing changed upstream"}
        scope = _gate_scope(ctx, gate)
        if scope is None:
            return {"skipped": "nothing to check"}
        tolerances = load_tolerances(ctx.settings, ctx.args.get("tolerances", ()))
        results = run_gate(
            ctx.conn, run_id=ctx.run_id, gate=gate, scope=scope, tolerances=tolerances, settings=ctx.settings
        )
        return {
            "checks": len(results),
            "failed": sum(1 for r in results if r.status == "failed"),
            "warnings": sum(1 for r in results if r.status == "warning"),
        }

    return run


def _normalize(ctx: StepContext) -> dict[str, Any]:
    if _nothing_changed(ctx):
        return {"skipped": "nothing changed upstream"}
    totals: dict[str, Any] = {"units_normalized": 0, "units_unchanged": 0}
    tolerances = load_tolerances(ctx.settings, ctx.args.get("tolerances", ()))
    shrink = tolerances.shrink_policy(accept=bool(ctx.args.get("accept_shrink")))
    for cycle in ctx.args["cycles"]:
        normalizable = [f for f in ctx.args["files"] if f in MASTER_FILES + TRANSACTION_FILES]
        if not normalizable:
            continue
        result = normalize_cycle(
            ctx.conn, run_id=ctx.run_id, cycle=cycle, file_types=normalizable, shrink=shrink
        )
        ctx.conn.commit()
        for unit in result.units:
            key = "units_normalized" if unit.status in ("normalized", "remapped") else "units_unchanged"
            totals[key] += 1
        for table, counts in result.table_counts().items():
            for name, value in counts.items():
                totals[f"{table}.{name}"] = totals.get(f"{table}.{name}", 0) + value
    if totals["units_normalized"]:
        _analyze(ctx, ["core.contribution", "core.committee", "core.candidate", "core.employer"])
    return totals


def _default_as_of(ctx: StepContext) -> dt.date:
    if ctx.args.get("as_of"):
        return dt.date.fromisoformat(ctx.args["as_of"])
    row = ctx.conn.execute(
        "SELECT max(transaction_date) FROM core.contribution WHERE deleted_at IS NULL AND transaction_date <= %s",
        (dt.date.today(),),
    ).fetchone()
    return row[0] if row and row[0] else dt.date.today()


def _score(ctx: StepContext) -> dict[str, Any]:
    if _nothing_changed(ctx):
        return {"skipped": "nothing changed upstream"}
    as_of = _default_as_of(ctx)
    result = compute_scores(
        ctx.conn, run_id=ctx.run_id, as_of=as_of, lookback_months=int(ctx.args.get("lookback_months", 24))
    )
    ctx.conn.commit()
    return {
        "as_of": as_of.isoformat(),
        **{k: v for k, v in result.counts.items() if isinstance(v, int | str)},
    }


def _steps(stages: tuple[str, ...] | list[str]) -> list[Step]:
    steps: list[Step] = []
    if "fetch" in stages:
        steps.append(Step("fetch", _fetch, "download changed bulk files"))
    if "stage" in stages:
        steps += [
            Step("stage", _stage, "COPY raw files into staging"),
            Step("validate-staging", _gate("staging")),
        ]
    if "normalize" in stages:
        steps += [
            Step("normalize", _normalize, "staging -> core"),
            Step("validate-normalize", _gate("normalize")),
        ]
    if "score" in stages:
        steps += [Step("score", _score, "leaning scores"), Step("validate-scores", _gate("scores"))]
    return steps


# ------------------------------------------------------------------------------------------- flows
def backfill_args(cycles: list[int], files: list[str], **options: Any) -> dict[str, Any]:
    return {"cycles": cycles, "files": files, **{k: v for k, v in options.items() if v is not None}}


def ingest_daily_args(day: dt.date, files: list[str], **options: Any) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "cycles": [current_cycle(day)],
        "files": files,
        "delta": True,
        **{k: v for k, v in options.items() if v is not None},
    }


def steps_for(command: str, args: dict[str, Any]) -> list[Step]:
    """The steps of ``command`` with ``args`` (also used to resume a stored run)."""
    if command in ("backfill", "ingest-daily"):
        return _steps(ALL_STAGES)
    if command == "replay-range":
        stages = [s for s in args.get("stages", ALL_STAGES) if s != "fetch"]
        return _steps(tuple(stages))
    raise ConfigError(f"Runs of `{command}` cannot be resumed.", hint="Run the command again instead.")
