"""``fecflow stage`` (raw payloads into staging.*) and ``fecflow staging export`` (the fidelity check)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from fecflow.cli.context import AppState, open_run
from fecflow.cli.gates import run_gate_after, skip_gates_option
from fecflow.cli.options import parse_cycles, parse_files
from fecflow.db.engine import connect, require_schema, resolve_database_url
from fecflow.errors import ConfigError, DataError
from fecflow.pipeline import steps
from fecflow.pipeline.args import StageArgs, to_json
from fecflow.pipeline.reports import atomic_output, check_output_target, export_source_file
from fecflow.pipeline.steps import StagedFile

console = Console(highlight=False)

staging_app = typer.Typer(
    help="Manage staged payloads: rebuild a source file from staging (fidelity check), prune old snapshots.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def stage(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        None,
        help="Local files to stage (zip, .gz or text). Default: the newest downloaded file of each "
        "--cycles x --files.",
        show_default=False,
    ),
    cycles: str = typer.Option(
        None, "--cycles", help="Cycles: 2020, 2018,2020 or 2016-2020 (needed without PATHs)."
    ),
    files: str = typer.Option(
        None,
        "--files",
        help="Comma-separated file types (default cm,cn,ccl,indiv,pas2,oth). With PATHs: force the "
        "type instead of reading it from the file name (one type, or one per PATH).",
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=16, help="Load each file as this many parallel batches (connections)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Delete what is staged from these source files and load them again."
    ),
    skip_gates: bool = skip_gates_option(),
) -> None:
    """COPY raw FEC payloads into staging.* in audited batches (lines = loaded + rejected).

    Files already staged, or with the same sha256 as a staged file, are skipped (the table says why);
    a file interrupted earlier is completed. Bad lines go to ops.rejected_row, never abort the load.
    Then the staging gate checks the staged files, as in `fecflow backfill` (exit code 5 when a
    check fails).
    """
    state: AppState = ctx.obj
    cycle_list = parse_cycles(cycles) if cycles else []
    if not paths and not cycle_list:
        raise ConfigError(
            "Give --cycles (to stage downloaded files) or file PATHs.", hint="fecflow stage --cycles 2020"
        )
    file_list = parse_files(files) if (files or not paths) else []
    args = StageArgs(
        tuple(cycle_list), tuple(file_list), tuple(str(p) for p in paths or []), workers, replace
    )
    report = _StageReport()
    try:
        with open_run(state, "stage", to_json(args)) as (conn, run_id):
            with _progress() as track:
                steps.stage(
                    conn,
                    state.settings,
                    db_url=resolve_database_url(state.settings),
                    run_id=run_id,
                    args=args,
                    progress=track,
                    on_file=report.add,
                )
            report.print_table()
            if not skip_gates:
                scope = steps.staging_scope(conn, args, report.staged)
                run_gate_after(console, conn, state.settings, run_id=run_id, gate="staging", scope=scope)
    finally:
        report.print_table()  # also what a failed load staged before it failed
    report.print_summary(run_id)


class _StageReport:
    """The table of staged files (printed once: after the loads, or when a load failed) and the total."""

    def __init__(self) -> None:
        self.staged: list[StagedFile] = []
        self.printed = False
        columns = ("file", "source file", "lines", "loaded", "rejected", "recoded", "window", "seconds")
        self.table = Table(*columns, "skipped", title="stage")

    def add(self, file: StagedFile) -> None:
        self.staged.append(file)
        self.table.add_row(*_row(file))

    def print_table(self) -> None:
        if self.staged and not self.printed:
            self.printed = True
            console.print(self.table)

    def print_summary(self, run_id: int) -> None:
        loads = [s.result for s in self.staged]
        skipped = sum(r.skipped for r in loads)
        console.print(
            f"{len(loads) - skipped} file(s) staged, {skipped} skipped; "
            f"{sum(r.loaded for r in loads if not r.skipped):,} rows loaded, "
            f"{sum(r.rejected for r in loads if not r.skipped):,} rejected (run {run_id})."
        )


def _row(file: StagedFile) -> list[str]:
    r = file.result
    window = f"{r.window_start:%Y-%m-%d}..{r.window_end:%Y-%m-%d}" if r.window_start and r.window_end else "-"
    return [
        file.target.label,
        str(r.source_file_id),
        f"{r.lines:,}",
        f"{r.loaded:,}",
        f"{r.rejected:,}",
        f"{r.recoded:,}",
        window,
        f"{r.seconds:.1f}",
        r.skip_reason or "",
    ]


@contextmanager
def _progress() -> Iterator[Callable[[str, int], Callable[[int, int], None] | None]]:
    """A factory of per-file progress callbacks: a rich bar on a terminal, nothing otherwise."""
    if not console.is_terminal:
        yield lambda _label, _total: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[lines]:>12,} lines"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:

        def track(label: str, total: int) -> Callable[[int, int], None]:
            task = bar.add_task(label, total=total or None, lines=0)

            def update(lines: int, size: int) -> None:
                bar.update(task, completed=size, lines=lines)

            return update

        yield track


@staging_app.command("export")
def export(
    ctx: typer.Context,
    source_file: int = typer.Option(..., "--source-file", help="ops.source_file id of a staged file."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the rebuilt payload."),
) -> None:
    """Rebuild a staged source file byte for byte from staging, rejects and raw lines.

    Prints the sha256 of the result and whether it matches the recorded payload sha256; exits 1 when
    it does not.
    """
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    url = resolve_database_url(state.settings)
    output = check_output_target(output)
    with connect(url) as conn:
        require_schema(conn)
        conn.commit()
        with atomic_output(output) as partial, partial.open("wb") as out:
            result = export_source_file(conn, source_file, out)
    console.print(f"Wrote {output} ({result.bytes:,} bytes, {result.lines:,} lines).")
    console.print(f"sha256 {result.sha256}")
    expected = result.payload_sha256 or result.source_file_sha256
    if result.truncated_lines:
        console.print(
            f"{result.truncated_lines} rejected line(s) were longer than the kept limit: "
            "their raw bytes are truncated, the export cannot be exact."
        )
    if expected is None:
        console.print("No sha256 was recorded for this payload: nothing to compare with.")
        return
    if result.matches:
        console.print("matches the recorded payload sha256: the staged file is byte-identical.")
        return
    raise DataError(
        f"The export differs from the recorded payload (sha256 {expected}).",
        hint=f"Restage it: fecflow stage --replace ... (source file {source_file}).",
    )
