"""``fecflow fetch`` and ``fecflow fetch-api``: download bulk files / pull OpenFEC pages."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from fecflow.cli.context import AppState, open_run
from fecflow.cli.options import parse_cycles, parse_files
from fecflow.errors import ConfigError
from fecflow.pipeline import steps
from fecflow.pipeline.args import ApiPullArgs, FetchArgs, to_json
from fecflow.pipeline.fetch import FetchRecord
from fecflow.pipeline.steps import OPENFEC_ENDPOINTS

console = Console(highlight=False)


def fetch(
    ctx: typer.Context,
    cycles: str = typer.Option(..., "--cycles", help="Cycles: 2020, 2018,2020 or 2016-2020 (even years)."),
    files: str = typer.Option(
        None,
        "--files",
        help="Comma-separated file types (default cm,cn,ccl,indiv,pas2,oth; see docs/data/files).",
    ),
    headers: bool = typer.Option(False, "--headers", help="Also fetch each file type's FEC header file."),
) -> None:
    """Download FEC bulk files (verified, checksummed, recorded in ops.source_file).

    Files whose ETag/Last-Modified or sha256 did not change since the last fetch are not stored again;
    the table says why.
    """
    state: AppState = ctx.obj
    args = FetchArgs(tuple(parse_cycles(cycles)), tuple(parse_files(files)), include_headers=headers)
    table = Table("file", "cycle", "status", "reason", "bytes", "sha256", "seconds", title="fetch")

    def show(rec: FetchRecord) -> None:
        table.add_row(
            rec.target.file_name,
            str(rec.target.cycle or "-"),
            rec.status,
            rec.reason,
            f"{rec.bytes:,}" if rec.bytes is not None else "-",
            (rec.sha256 or "")[:12],
            f"{rec.seconds:.1f}",
        )

    with open_run(state, "fetch", to_json(args)) as (conn, run_id):
        records = steps.fetch(conn, state.settings, run_id=run_id, args=args, on_file=show)
    console.print(table)
    changed = sum(1 for r in records if r.status != "unchanged")
    console.print(f"{changed} file(s) downloaded, {len(records) - changed} unchanged (run {run_id}).")


def fetch_api(
    ctx: typer.Context,
    endpoint: str = typer.Argument(..., help=f"OpenFEC endpoint: {', '.join(OPENFEC_ENDPOINTS)}."),
    committee_id: list[str] = typer.Option(
        None, "--committee-id", help="Filter by committee id (repeatable)."
    ),
    cycle: int = typer.Option(None, "--cycle", help="Two-year period (two_year_transaction_period / cycle)."),
    min_date: str = typer.Option(
        None, "--min-date", help="schedule_a: earliest contribution date (YYYY-MM-DD)."
    ),
    max_date: str = typer.Option(
        None, "--max-date", help="schedule_a: latest contribution date (YYYY-MM-DD)."
    ),
    min_load_date: str = typer.Option(
        None, "--min-load-date", help="schedule_a: rows loaded by FEC since this date."
    ),
    restart: bool = typer.Option(
        False, "--restart", help="Start a new pull instead of resuming an unfinished one."
    ),
    max_pages: int = typer.Option(
        None, "--max-pages", help="Stop after this many pages (the pull stays resumable)."
    ),
    backfill: bool = typer.Option(False, "--backfill", help="A large historical pull: refuses DEMO_KEY."),
    per_page: int = typer.Option(
        100, "--per-page", min=1, max=100, help="Rows per request (OpenFEC allows 100)."
    ),
) -> None:
    """Pull an OpenFEC endpoint page by page into staging.openfec_payload (resumable).

    Needs FECFLOW_OPENFEC_API_KEY. An unfinished pull with the same filters is resumed after its last
    stored page; schedule_a uses keyset paging (and a second pass for rows with no date).
    """
    state: AppState = ctx.obj
    if endpoint not in OPENFEC_ENDPOINTS:
        raise ConfigError(
            f"Unknown OpenFEC endpoint {endpoint!r}.", hint=f"Known: {', '.join(OPENFEC_ENDPOINTS)}."
        )
    params: dict[str, object] = {}
    if committee_id:
        params["committee_id"] = list(committee_id)
    if cycle is not None:
        params["two_year_transaction_period" if endpoint == "schedule_a" else "cycle"] = cycle
    for key, value in (("min_date", min_date), ("max_date", max_date), ("min_load_date", min_load_date)):
        if value:
            params[key] = value
    args = ApiPullArgs(endpoint, params, restart, max_pages, per_page, backfill)
    with open_run(state, "fetch-api", {"endpoint": endpoint, **params}) as (conn, run_id):
        result = steps.pull_api(conn, state.settings, run_id=run_id, args=args)
    verb = "resumed" if result.resumed else "started"
    state_text = "complete" if result.done else "not finished (run the same command again to resume)"
    console.print(
        f"Pull {result.pull_id} ({verb}): {result.pages} page(s), {result.rows} row(s) stored now; "
        f"{result.total_pages} page(s), {result.total_rows} row(s) in total; {state_text}."
    )
