"""``fecflow normalize``: the current staged snapshots of some cycles -> core tables."""

from __future__ import annotations

import typer
from rich.console import Console

from fecflow.catalog import NORMALIZED_FILE_TYPES as NORMALIZE_ORDER
from fecflow.cli.context import AppState, open_run
from fecflow.cli.gates import run_gate_after, skip_gates_option
from fecflow.cli.options import parse_cycles
from fecflow.errors import ConfigError
from fecflow.pipeline import steps
from fecflow.pipeline.args import NormalizeArgs, to_json
from fecflow.pipeline.steps import NormalizeResult

console = Console(highlight=False, soft_wrap=True)


def _parse_normalize_files(text: str | None) -> list[str]:
    if not text:
        return list(NORMALIZE_ORDER)
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in NORMALIZE_ORDER]
    if unknown or not names:
        raise ConfigError(
            f"Cannot normalize file types: {', '.join(unknown) or text!r}.",
            hint=f"Normalized file types: {', '.join(NORMALIZE_ORDER)}.",
        )
    return names


def _format_counts(counts: dict[str, int]) -> str:
    shown = [f"{name} {value:,}" for name, value in counts.items() if value]
    return ", ".join(shown) or "-"


def normalize(
    ctx: typer.Context,
    cycles: str = typer.Option(..., "--cycles", help="Cycles: 2020, 2018,2020 or 2016-2020 (even years)."),
    files: str = typer.Option(
        None,
        "--files",
        help=f"Comma-separated file types (default and order: {','.join(NORMALIZE_ORDER)}).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Normalize snapshots again even when they were normalized already."
    ),
    accept_shrink: bool = typer.Option(
        False,
        "--accept-shrink",
        help="Let a new snapshot remove more live rows than the snapshot_removed_share tolerance "
        "(recorded in the run); without it such a snapshot fails and changes nothing.",
    ),
    skip_gates: bool = skip_gates_option(),
) -> None:
    """Normalize staged snapshots into core: candidates, committees, links, contributions.

    For each cycle and file type the snapshot of the newest fetch (a file republished with an older
    file's bytes makes that one current again) is diffed into core (new, changed,
    deleted and restored rows, with history). A snapshot already normalized is skipped, so a rerun
    changes nothing. A snapshot that would remove more live rows than the snapshot_removed_share
    tolerance, or that is older than the one core holds, fails and changes nothing. Then the
    normalize gate checks the cycles, as in `fecflow backfill`.
    """
    state: AppState = ctx.obj
    args = NormalizeArgs(
        tuple(parse_cycles(cycles)), tuple(_parse_normalize_files(files)), force, accept_shrink=accept_shrink
    )
    # open_run holds the pipeline lock for the whole run.
    with open_run(state, "normalize", to_json(args)) as (conn, run_id):
        results = steps.normalize(conn, run_id=run_id, args=args, settings=state.settings)
        _print_results(results)
        if not skip_gates:
            scope = steps.normalize_scope(args)
            run_gate_after(console, conn, state.settings, run_id=run_id, gate="normalize", scope=scope)
    _print_outcome(results, run_id)


def _print_results(results: list[NormalizeResult]) -> None:
    for result in results:
        console.print(f"cycle {result.cycle}:")
        for unit in result.units:
            where = f"source file {unit.source_file_id}" if unit.source_file_id else "-"
            note = f" ({unit.reason})" if unit.reason else ""
            console.print(f"  {unit.file_type:<5} {unit.status:<10} {where}, {unit.seconds:.1f}s{note}")
            for table, counts in unit.tables.items():
                if table != "snapshot":
                    console.print(f"        {table}: {_format_counts(counts)}")
    totals: dict[str, dict[str, int]] = {}
    for result in results:
        for table, counts in result.table_counts().items():
            bucket = totals.setdefault(table, {})
            for name, value in counts.items():
                bucket[name] = bucket.get(name, 0) + value
    if any(any(counts.values()) for counts in totals.values()):
        console.print("rows per table:")
        for table, counts in sorted(totals.items()):
            console.print(f"  {table}: {_format_counts(counts)}")


def _print_outcome(results: list[NormalizeResult], run_id: int) -> None:
    normalized = sum(1 for r in results for u in r.units if u.status == "normalized")
    for unit in (u for r in results for u in r.units if u.status == "remapped"):
        console.print(f"Employers mapped again with {unit.reason} (older versions had mapped some).")
    if normalized == 0 and any(u.status == "skipped" for r in results for u in r.units):
        console.print(f"Nothing changed: every staged snapshot was already normalized (run {run_id}).")
    elif normalized == 0:
        console.print(
            f"Nothing to normalize: no staged snapshot (run {run_id}); stage files with `fecflow stage`."
        )
    else:
        console.print(f"{normalized} snapshot(s) normalized (run {run_id}).")
