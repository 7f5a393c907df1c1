"""``fecflow normalize``: the current staged snapshots of some cycles -> core tables."""

from __future__ import annotations

import typer
from rich.console import Console

from fecflow.checks.tolerances import load_tolerances
from fecflow.cli.context import AppState, open_run
from fecflow.cli.options import parse_cycles
from fecflow.errors import ConfigError
from fecflow.normalize.step import NORMALIZE_ORDER, NormalizeResult, normalize_cycle

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
) -> None:
    """Normalize staged snapshots into core: candidates, committees, links, contributions.

    For each cycle and file type the snapshot of the newest fetch (a file republished with an older
    file's bytes makes that one current again) is diffed into core (new, changed,
    deleted and restored rows, with history). A snapshot already normalized is skipped, so a rerun
    changes nothing. A snapshot that would remove more live rows than the snapshot_removed_share
    tolerance, or that is older than the one core holds, fails and changes nothing.
    """
    state: AppState = ctx.obj
    cycle_list, file_list = parse_cycles(cycles), _parse_normalize_files(files)
    results: list[NormalizeResult] = []
    shrink = load_tolerances(state.settings).shrink_policy(accept=accept_shrink)
    run_args = {"cycles": cycle_list, "files": file_list, "force": force}
    if accept_shrink:
        run_args["accept_shrink"] = True
    # open_run holds the pipeline lock for the whole run.
    with open_run(state, "normalize", run_args) as (
        conn,
        run_id,
    ):
        for cycle in cycle_list:
            results.append(
                normalize_cycle(
                    conn, run_id=run_id, cycle=cycle, file_types=file_list, force=force, shrink=shrink
                )
            )

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
