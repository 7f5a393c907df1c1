"""``fecflow runs``: what ran, per stage status, counts, durations and validations."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from fecflow.cli.context import AppState
from fecflow.config import redact_url
from fecflow.db.engine import connect, require_schema, resolve_database_url
from fecflow.pipeline.history import get_run, list_runs, run_audits

app = typer.Typer(
    help="List runs, show one run's stages and audits, resume a failed run.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
console = Console(highlight=False)


def _fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


@app.callback()
def runs(
    ctx: typer.Context,
    last: int = typer.Option(20, "--last", "-n", min=1, max=10000, help="How many recent runs to list."),
) -> None:
    """List the most recent runs (newest first). Subcommands: show, resume."""
    if ctx.invoked_subcommand is not None:
        return
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    with connect(resolve_database_url(state.settings)) as conn:
        require_schema(conn)
        rows = list_runs(conn, last)
    table = Table("run", "command", "status", "started", "duration", "resumed from", "error", title="runs")
    for r in rows:
        table.add_row(
            str(r.run_id),
            r.command,
            r.status,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            _fmt_seconds(r.seconds),
            str(r.resumed_from_run_id or ""),
            (r.error or "")[:200],
        )
    console.print(table)
    if not rows:
        console.print("No runs yet. Start with `fecflow backfill --cycles 2020` or `make demo`.")


@app.command("show")
def show(ctx: typer.Context, run_id: int = typer.Argument(..., help="The run to show.")) -> None:
    """Show one run: arguments, status, and every stage / batch audit with counts and validations."""
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    with connect(resolve_database_url(state.settings)) as conn:
        require_schema(conn)
        run = get_run(conn, run_id)
        audits = run_audits(conn, run_id)
    console.print(
        f"Run {run.run_id}: [bold]{run.command}[/] {json.dumps(run.args, sort_keys=True)} - {run.status}"
        f" ({_fmt_seconds(run.seconds)})"
    )
    if run.error:
        console.print(f"Error: {run.error}")
    table = Table(
        "stage", "scope", "status", "file", "lines", "loaded", "rejected", "window", "seconds", "details"
    )
    for a in audits:
        seconds = (a["finished_at"] - a["started_at"]).total_seconds() if a["finished_at"] else None
        window = f"{a['window_start']}..{a['window_end']}" if a["window_start"] else ""
        details = a["error"] or ""
        if a["validation"]:
            failed = [v.get("name") for v in a["validation"] if v.get("status") == "failed"]
            details = f"{len(a['validation'])} checks, failed: {', '.join(failed) or 'none'}"
        elif not details and a["counts"]:
            details = ", ".join(f"{k}={v}" for k, v in list(a["counts"].items())[:6])
        table.add_row(
            a["stage"],
            a["scope"],
            a["status"],
            redact_url(a["url"]).rsplit("/", 1)[-1] if a["url"] else "",
            "" if a["lines_read"] is None else f"{a['lines_read']:,}",
            "" if a["rows_loaded"] is None else f"{a['rows_loaded']:,}",
            "" if a["rows_rejected"] is None else f"{a['rows_rejected']:,}",
            window,
            _fmt_seconds(seconds),
            details[:240],
        )
    console.print(table)
