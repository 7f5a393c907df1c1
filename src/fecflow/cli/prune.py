"""``fecflow staging prune``: drop the staged rows of old snapshots (see :mod:`fecflow.pipeline.prune`)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from fecflow.cli.context import AppState, open_run
from fecflow.cli.options import parse_cycles, parse_files
from fecflow.db.engine import connect, resolve_database_url
from fecflow.pipeline.prune import PruneDecision, PruneResult, prune_staging

console = Console(highlight=False, soft_wrap=True)


def prune(
    ctx: typer.Context,
    keep: int = typer.Option(
        1, "--keep", min=1, help="Fully staged snapshots to keep per cycle and file type (newest first)."
    ),
    cycles: str = typer.Option(None, "--cycles", help="Only these cycles: 2020, 2018,2020 or 2016-2020."),
    files: str = typer.Option(
        None, "--files", help="Only these file types, comma-separated (e.g. indiv,oth)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be pruned and why; change nothing."
    ),
    vacuum: bool = typer.Option(
        True,
        "--vacuum/--no-vacuum",
        help="VACUUM (ANALYZE) ops.rejected_row and staging.raw_line after the prune (the staged rows' "
        "own tables are dropped: their space is freed at once).",
    ),
) -> None:
    """Drop the staged rows of snapshots older than the newest --keep ones of their cycle and type.

    Normalization reads only the current snapshot; older ones only take disk space. Kept always: the
    --keep newest fully staged snapshots, the one core was last normalized from, the current one (an
    older file whose bytes the newest fetch repeats), and any newer partly staged file. Pruned files keep their raw payload, audit history and normalization
    rejects; `fecflow stage --replace` or `replay-range` can stage them again.
    """
    state: AppState = ctx.obj
    cycle_list = parse_cycles(cycles) if cycles else None
    file_list = parse_files(files) if files else None
    args = {"keep": keep, "cycles": cycle_list, "files": file_list, "dry_run": dry_run, "vacuum": vacuum}
    with open_run(state, "staging-prune", args) as (conn, run_id):
        url = resolve_database_url(state.settings)

        def announce(decision: PruneDecision) -> None:
            f = decision.file
            console.print(
                f"pruning {f.file_type} {f.cycle} source file {f.source_file_id} ({f.rows:,} rows)..."
            )

        result = prune_staging(
            conn,
            lambda: connect(url),
            run_id=run_id,
            keep=keep,
            cycles=cycle_list,
            file_types=file_list,
            dry_run=dry_run,
            vacuum=vacuum,
            progress=announce,
        )
    _print(result)


def _print(result: PruneResult) -> None:
    table = Table(title="staging prune" + (" (dry run: nothing changed)" if result.dry_run else ""))
    for column in ("cycle", "type", "source file", "fetched", "rows", "action", "why"):
        table.add_column(column, justify="right" if column in ("source file", "rows") else "left")
    for d in result.decisions:
        f = d.file
        if not d.prune:
            action = "keep"
        elif result.dry_run:
            action = "would prune"
        elif f.source_file_id in result.busy:
            action = "busy: skipped"
        else:
            action = "pruned"
        table.add_row(
            str(f.cycle),
            f.file_type,
            str(f.source_file_id),
            f.fetched_at.strftime("%Y-%m-%d %H:%M"),
            f"{f.rows:,}",
            action,
            d.reason,
        )
    console.print(table)
    if not result.decisions:
        console.print("Nothing is staged (for these cycles and file types).")
    elif result.dry_run:
        rows = sum(d.file.rows for d in result.to_prune)
        console.print(f"Would prune {len(result.to_prune)} source file(s), {rows:,} staged rows.")
    else:
        console.print(
            f"Pruned {len(result.pruned)} source file(s): {result.rows_deleted:,} staged rows dropped, "
            f"{result.bytes_freed / 1e6:,.1f} MB freed."
        )
        if result.vacuumed:
            console.print(f"Vacuumed {', '.join(result.vacuumed)}.")
        if result.busy:
            console.print(f"Left alone (being staged now): source files {', '.join(map(str, result.busy))}.")
