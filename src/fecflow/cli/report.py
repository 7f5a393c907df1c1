"""``fecflow report``: industry mapping coverage and the pipeline summary."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from fecflow.cli.context import AppState
from fecflow.db.engine import connect, require_schema, resolve_database_url
from fecflow.log import json_log_path
from fecflow.pipeline.reports import mapping_report, staged_files, top_leaning

app = typer.Typer(
    help="Reports: industry mapping coverage, pipeline summary.", no_args_is_help=True, rich_markup_mode=None
)
console = Console(highlight=False)

CLASS_LABELS = {
    "industry": "employer mapped to an industry (NAICS)",
    "employer_unmapped": "employer not mapped (unknown industry)",
    "bucket": "generic bucket (retired, self-employed, not employed, ...)",
    "no_employer": "no employer given",
}


@app.command("mapping")
def mapping(
    ctx: typer.Context,
    cycle: int = typer.Option(None, "--cycle", help="Only this cycle (default: all loaded)."),
) -> None:
    """Share of itemized individual dollars mapped to an industry, to a generic bucket, and unmapped."""
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    with connect(resolve_database_url(state.settings)) as conn:
        require_schema(conn)
        report = mapping_report(conn, cycle)
    table = Table("class", "dollars", "share", "rows", title="industry mapping of counted individual dollars")
    for cls, label in CLASS_LABELS.items():
        dollars, rows = report.by_class.get(cls, (0.0, 0))
        table.add_row(label, f"${dollars:,.0f}", f"{report.share(cls):.1%}", f"{rows:,}")
    console.print(table)
    console.print(
        f"Dollars from donors with a real employer that are mapped to at least a NAICS sector: "
        f"{report.real_employer_coverage:.1%}"
    )


def _leaning_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table("name", "score", "interval", "D $", "R $", "donors", title=title)
    for r in rows:
        table.add_row(
            str(r["name"]),
            f"{r['score']:.3f}",
            f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
            f"{r['dem']:,.0f}",
            f"{r['rep']:,.0f}",
            str(r["n_donors"]),
        )
    return table


@app.command("summary")
def summary(
    ctx: typer.Context,
    top: int = typer.Option(5, "--top", min=1, max=1000, help="How many entities to list each way."),
) -> None:
    """Files staged (lines, loaded, rejected), top-leaning employers and industries each way, log location."""
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    with connect(resolve_database_url(state.settings)) as conn:
        require_schema(conn)
        files = staged_files(conn)
        tops = {
            (entity, rep): top_leaning(conn, entity, republican=rep, limit=top)
            for entity in ("employer", "industry")
            for rep in (False, True)
        }
    table = Table("file", "cycle", "lines", "loaded", "rejected", "window", title="staged files")
    for f in files:
        window = f"{f['window_start']}..{f['window_end']}" if f["window_start"] else ""
        table.add_row(
            f["file_type"],
            str(f["cycle"]),
            f"{f['lines']:,}",
            f"{f['loaded']:,}",
            f"{f['rejected']:,}",
            window,
        )
    console.print(table)
    for (entity, rep), rows in tops.items():
        side = "Republican" if rep else "Democratic"
        plural = {"employer": "employers", "industry": "industries"}[entity]
        console.print(_leaning_table(f"most {side}-leaning {plural} (0 = all D, 1 = all R)", rows))
    console.print(f"JSON logs: {json_log_path(state.settings.log_dir).parent}/")
