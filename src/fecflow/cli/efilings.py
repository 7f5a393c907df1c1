"""``fecflow fetch-efilings`` (same-day FEC electronic filings) and ``fecflow staging export-efiling``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from fecflow.cli.context import AppState, open_run
from fecflow.db.engine import connect, require_schema, resolve_database_url
from fecflow.errors import ConfigError, DataError
from fecflow.pipeline.efilings import (
    MAX_FILING_ID,
    RawStorage,
    RetryPolicy,
    atomic_output,
    build_http_client,
    check_output_target,
    export_filing,
    ingest_efilings,
    parse_day_range,
    summary_rows,
)

console = Console(highlight=False)


def fetch_efilings(
    ctx: typer.Context,
    date: str = typer.Option(
        None, "--date", help="A day (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD) of the FEC's daily archives."
    ),
    filing_id: list[int] = typer.Option(
        None, "--filing-id", min=1, max=MAX_FILING_ID, help="A single filing by its id (repeatable)."
    ),
    stage: bool = typer.Option(
        True, "--stage/--no-stage", help="Stage, record and reconcile what was fetched (default) or only fetch."
    ),
) -> None:
    """Download FEC electronic filings (.fec) and stage every line of every filing.

    Daily archives come from FECFLOW_EFILING_BASE_URL/YYYYMMDD.zip, single filings from
    FECFLOW_EFILING_FILING_BASE_URL/FILING_ID.fec (file:// mirrors work). Each download is verified,
    kept in raw storage and recorded in ops.source_file; each filing gets an audit row (lines = parsed
    + quarantined), a core.efiling record (amendments resolved to the latest) and, for F3/F3X/F3P, a
    reconciliation of its itemized rows with its summary page and its schedule A/B/E rows as
    preliminary rows (core.efiling_transaction) until the processed bulk row of the same transaction
    supersedes them. Exits 5 when a report does not add up.
    """
    state: AppState = ctx.obj
    days = parse_day_range(date) if date else []
    ids = list(filing_id or [])
    if not days and not ids:
        raise ConfigError("Nothing to fetch.", hint="Pass --date YYYY-MM-DD[..YYYY-MM-DD] and/or --filing-id N.")
    settings = state.settings
    args = {"date": date, "filing_ids": ids, "stage": stage}
    with open_run(state, "fetch-efilings", args) as (conn, run_id):
        with build_http_client(settings) as client:
            result = ingest_efilings(
                conn, settings, run_id=run_id, days=days, filing_ids=ids, client=client,
                storage=RawStorage.from_settings(settings), policy=RetryPolicy.from_settings(settings), stage=stage,
            )
        reconciliation = summary_rows(conn, [s.filing_id for s in result.staged]) if stage else []
    fetched = Table("file", "status", "reason", "bytes", "sha256", title="fetch-efilings")
    for f in result.fetched:
        fetched.add_row(f.target.file_name, f.status, f.reason, f"{f.bytes or 0:,}", (f.sha256 or "")[:12])
    console.print(fetched)
    if not stage:
        console.print(f"{len(result.fetched)} file(s) fetched, not staged (run {run_id}).")
        return
    staged = Table("filing", "version", "status", "lines", "parsed", "quarantined", title="staged filings")
    for s in result.staged:
        staged.add_row(str(s.filing_id), s.version or "-", s.status, str(s.lines), str(s.parsed), str(s.rejected))
    console.print(staged)
    if reconciliation:
        recon = Table("filing", "form", "line", "summary", "itemized", "rows", "status", title="reconciliation")
        for r in reconciliation:
            recon.add_row(
                str(r["filing_id"]), r["form_type"], r["line"], str(r["summary_amount"]),
                "-" if r["itemized_amount"] is None else str(r["itemized_amount"]),
                "-" if r["itemized_rows"] is None else str(r["itemized_rows"]), r["status"],
            )
        console.print(recon)
    quarantined = sum(1 for s in result.staged if s.status == "quarantined")
    console.print(
        f"{len(result.staged)} filing(s): {quarantined} quarantined, {result.recorded} recorded in core.efiling; "
        f"{result.preliminary} preliminary row(s) written, {result.superseded} superseded by bulk rows (run {run_id})."
    )


def export_efiling(
    ctx: typer.Context,
    filing_id: int = typer.Option(..., "--filing-id", min=1, max=MAX_FILING_ID, help="The staged e-filing to rebuild."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the rebuilt .fec file."),
) -> None:
    """Rebuild a staged e-filing byte for byte from its staged and quarantined lines.

    Prints the sha256 of the result and whether it matches the sha256 recorded at staging; exits 1
    when it does not.
    """
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    output = check_output_target(output)
    with connect(resolve_database_url(state.settings)) as conn:
        require_schema(conn)
        conn.commit()
        with atomic_output(output) as partial, partial.open("wb") as out:
            result = export_filing(conn, filing_id, out)
    console.print(f"Wrote {output} ({result.bytes:,} bytes, {result.lines:,} lines).")
    console.print(f"sha256 {result.sha256}")
    if not result.matches:
        raise DataError(
            f"The export differs from the staged filing (sha256 {result.staged_sha256}).",
            hint="See docs/runbooks/ingest.md, 'A filing failed'.",
        )
    console.print("matches the sha256 recorded at staging: the staged filing is byte-identical.")
