"""``fecflow backfill``, ``ingest-daily``, ``replay-range`` and ``runs resume``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import sys

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn

from fecflow.cli.context import AppState
from fecflow.cli.options import DEFAULT_FILES, parse_cycles, parse_date, parse_files
from fecflow.db.engine import connect, require_schema, resolve_database_url
from fecflow.errors import ConfigError, DataError
from fecflow.pipeline.args import DEFAULT_LOOKBACK_MONTHS, MAX_LOOKBACK_MONTHS, RunArgs
from fecflow.pipeline.flows import (
    REPLAYABLE_STAGES,
    backfill_args,
    ingest_daily_args,
    replay_range_args,
    steps_for,
    unfinished_run,
)
from fecflow.pipeline.history import get_run
from fecflow.pipeline.runner import RunSummary, StepOutcome, run_steps

console = Console(highlight=False)


def _print_step(outcome: StepOutcome) -> None:
    details = ", ".join(f"{k}={v}" for k, v in outcome.summary.items())
    console.print(f"  {outcome.name:<20} {outcome.status:<10} {outcome.seconds:6.1f}s  {details}")


def _scored_as_set(state: AppState, args: RunArgs) -> RunArgs:
    """FECFLOW_SCORES_INCLUDE_PRELIMINARY into the run's arguments (recorded, so a resume keeps it)."""
    if state.settings.scores_include_preliminary:
        return dataclasses.replace(args, include_preliminary=True)
    return args


def _execute(state: AppState, command: str, args: RunArgs, resume_from: int | None = None) -> RunSummary:
    state.setup_logging()
    settings = state.settings
    db_url = resolve_database_url(settings)  # run_steps checks the schema before it records the run
    console.print(f"{command} {args.to_json()}" + (f" (resuming run {resume_from})" if resume_from else ""))
    steps = steps_for(command, args)
    run = functools.partial(
        run_steps,
        db_url,
        settings,
        command=command,
        args=args.to_json(),
        steps=steps,
        resume_from=resume_from,
        on_step=_print_step,
    )
    if sys.stdout.isatty():
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[done]}"),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(label: str, done: int, total: int | None) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total, done="")
                bar.update(tasks[label], completed=done, done=f"{done:,}")

            summary = run(progress=progress)
    else:
        summary = run()
    console.print(f"Run {summary.run_id} succeeded. Details: `fecflow runs show {summary.run_id}`.")
    if state.json_log:
        console.print(f"Log: {state.json_log}")
    return summary


def _resume_target(state: AppState, command: str, args: RunArgs) -> int | None:
    """The newest unfinished run of the same command and arguments, for --resume."""
    with connect(resolve_database_url(state.settings)) as conn:
        return unfinished_run(conn, command, args)


def backfill(
    ctx: typer.Context,
    cycles: str = typer.Option(..., "--cycles", help="Cycles: 2020, 2018,2020 or 2016-2020 (even years)."),
    files: str = typer.Option(
        ",".join(DEFAULT_FILES), "--files", help="Comma-separated file types (see docs/data/files)."
    ),
    as_of: str = typer.Option(
        None,
        "--as-of",
        help="Score as of this date (YYYY-MM-DD; default: the latest transaction date loaded).",
    ),
    lookback_months: int = typer.Option(
        DEFAULT_LOOKBACK_MONTHS,
        "--lookback-months",
        min=1,
        max=MAX_LOOKBACK_MONTHS,
        help="Score window length in months.",
    ),
    workers: int = typer.Option(1, "--workers", min=1, max=8, help="Parallel COPY connections per file."),
    resume: bool = typer.Option(
        False, "--resume", help="Resume the last failed run with the same arguments."
    ),
    accept_shrink: bool = typer.Option(
        False,
        "--accept-shrink",
        help="Let a new snapshot remove more live rows than the snapshot_removed_share tolerance "
        "(recorded in the run); without it such a snapshot fails and changes nothing.",
    ),
) -> None:
    """Fetch, stage, validate, normalize, validate, score and validate the chosen cycles."""
    state: AppState = ctx.obj
    args = backfill_args(
        parse_cycles(cycles),
        parse_files(files),
        as_of=parse_date(as_of, "--as-of") if as_of else None,
        lookback_months=lookback_months,
        workers=workers,
    )
    if accept_shrink:
        args = dataclasses.replace(args, accept_shrink=True)
    args = _scored_as_set(state, args)
    resume_from = _resume_target(state, "backfill", args) if resume else None
    if resume and resume_from is None:
        console.print("No unfinished backfill with these arguments; starting a new run.")
    _execute(state, "backfill", args, resume_from)


def ingest_daily(
    ctx: typer.Context,
    date: str = typer.Option(None, "--date", help="The day to ingest (YYYY-MM-DD; default today)."),
    files: str = typer.Option(
        ",".join(DEFAULT_FILES), "--files", help="Comma-separated file types of the current cycle."
    ),
    lookback_months: int = typer.Option(
        DEFAULT_LOOKBACK_MONTHS,
        "--lookback-months",
        min=1,
        max=MAX_LOOKBACK_MONTHS,
        help="Score window length in months.",
    ),
    accept_shrink: bool = typer.Option(
        False,
        "--accept-shrink",
        help="Let a new snapshot remove more live rows than the snapshot_removed_share tolerance "
        "(recorded in the run); without it such a snapshot fails and changes nothing.",
    ),
) -> None:
    """Delta-fetch the current cycle's bulk files; stage, normalize and score only when something changed.

    An unchanged day finishes in seconds and says so. Last, it fetches, stages and reconciles the FEC's
    daily e-filing archives of the FECFLOW_EFILING_DAYS days (default 3; 0: none) before --date that
    no earlier run fetched (docs/data/efilings.md).
    """
    state: AppState = ctx.obj
    day = parse_date(date, "--date") if date else dt.date.today()
    args = ingest_daily_args(
        day, parse_files(files), lookback_months=lookback_months, efiling_days=state.settings.efiling_days
    )
    if accept_shrink:
        args = dataclasses.replace(args, accept_shrink=True)
    summary = _execute(state, "ingest-daily", _scored_as_set(state, args))
    fetch = next((s for s in summary.steps if s.name == "fetch"), None)
    if fetch is not None and fetch.summary.get("downloaded") == 0:
        console.print("Nothing changed upstream: no file was downloaded, later stages were skipped.")


def replay_range(
    ctx: typer.Context,
    start: str = typer.Option(..., "--start", help="First day (YYYY-MM-DD) of source files to replay."),
    end: str = typer.Option(..., "--end", help="Last day (YYYY-MM-DD), inclusive."),
    stages: str = typer.Option(
        "stage,normalize,score",
        "--stages",
        help="Stages to re-run: stage, normalize, score (comma-separated).",
    ),
    accept_shrink: bool = typer.Option(
        False,
        "--accept-shrink",
        help="Let a new snapshot remove more live rows than the snapshot_removed_share tolerance "
        "(recorded in the run); without it such a snapshot fails and changes nothing.",
    ),
) -> None:
    """Re-run stages for the source files fetched in a date range, from stored raw files (no download)."""
    state: AppState = ctx.obj
    chosen = [s.strip() for s in stages.split(",") if s.strip()]
    bad = [s for s in chosen if s not in REPLAYABLE_STAGES]
    if bad or not chosen:
        raise ConfigError(f"Unknown stages {bad or stages!r}.", hint="Use --stages stage,normalize,score.")
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if first > last:
        raise ConfigError("--start is after --end.", hint="Swap the dates.")
    with connect(resolve_database_url(state.settings)) as conn:
        require_schema(conn)
        args = replay_range_args(conn, first, last, chosen)
    if accept_shrink:
        args = dataclasses.replace(args, accept_shrink=True)
    _execute(state, "replay-range", _scored_as_set(state, args))


def resume_run(
    ctx: typer.Context, run_id: int = typer.Argument(..., help="The failed run to resume.")
) -> None:
    """Resume a failed or interrupted run from its failed stage (same command and arguments)."""
    state: AppState = ctx.obj
    with connect(resolve_database_url(state.settings)) as conn:
        require_schema(conn)
        run = get_run(conn, run_id)
    if run.status == "succeeded":
        raise DataError(f"Run {run_id} succeeded; there is nothing to resume.", hint="See `fecflow runs`.")
    _execute(state, run.command, RunArgs.from_json(run.args), resume_from=run_id)
