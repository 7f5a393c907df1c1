"""``fecflow scores compute|export`` and ``fecflow explain``: leaning scores in and out.

Registered in ``cli/app.py`` with::

    app.add_typer(scores_commands.app, name="scores")
    app.command("explain")(scores_commands.explain)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from fecflow.cli.context import AppState, open_run
from fecflow.cli.gates import run_gate_after, skip_gates_option
from fecflow.cli.options import parse_date
from fecflow.db.engine import connect, require_schema, resolve_database_url
from fecflow.pipeline import steps
from fecflow.pipeline.args import (
    DEFAULT_LOOKBACK_MONTHS,
    MAX_LOOKBACK_MONTHS,
    SERIES_STEPS,
    ScoreArgs,
    as_of_series,
)
from fecflow.pipeline.reports import (
    ENTITY_TYPES,
    METHOD_DEFAULT,
    METHOD_VERSIONS,
    Explanation,
    check_output_target,
    explain_entity,
    export_scores,
    preliminary_note,
)
from fecflow.pipeline.reports import SCORE_FORMATS as FORMATS
from fecflow.pipeline.steps import ScoreResult

app = typer.Typer(
    help="Partisan leaning scores (0 = all Democratic, 1 = all Republican): compute and export.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
console = Console(highlight=False)

SIDE_LABEL = {"D": "D", "R": "R", "O": "other party", None: "undetermined"}




def _lookback_option() -> int:
    return typer.Option(
        DEFAULT_LOOKBACK_MONTHS,
        "--lookback-months",
        min=1,
        max=MAX_LOOKBACK_MONTHS,
        help="Window length in months, ending at --as-of (both ends inclusive).",
    )


def _method_option() -> str:
    return typer.Option(
        METHOD_DEFAULT,
        "--method",
        help=f"Leaning method version: {' or '.join(METHOD_VERSIONS)} (docs/data/leaning-score.md).",
    )


@contextmanager
def _read_connection(ctx: typer.Context) -> Iterator[psycopg.Connection]:
    """A connection for read-only commands (no ops.ingest_run; temp tables are rolled back)."""
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    with connect(resolve_database_url(state.settings)) as conn:
        require_schema(conn)
        try:
            yield conn
        finally:
            conn.rollback()


@app.command("compute")
def compute(
    ctx: typer.Context,
    as_of: str = typer.Option(None, "--as-of", help="Last day of the window (YYYY-MM-DD)."),
    first: str = typer.Option(
        None, "--from", help="A series of as-of dates instead: the first (YYYY-MM-DD; month ends from there)."
    ),
    last: str = typer.Option(None, "--to", help="The last as-of date of the series (YYYY-MM-DD), included."),
    every: str = typer.Option(
        "month", "--every", help=f"Step of the series: {' or '.join(SERIES_STEPS)} (month or quarter ends)."
    ),
    lookback_months: int = _lookback_option(),
    skip_gates: bool = skip_gates_option(),
    method: str = _method_option(),
    include_preliminary: bool = typer.Option(
        None,
        "--include-preliminary/--no-include-preliminary",
        help="Also count e-filed rows the FEC has not processed yet (core.efiling_preliminary); each score "
        "then says how many of its dollars came from them. Default: FECFLOW_SCORES_INCLUDE_PRELIMINARY, "
        "else off (e-filed rows are the filer's report as sent; the processed rows may differ).",
        show_default=False,
    ),
) -> None:
    """Compute leaning scores for candidates, committees, employers and industries.

    Changed scores close the previous row (valid_to) and open a new one; unchanged rows stay as they
    are. Then the scores gate checks the rows, as in `fecflow backfill`. With --from/--to, one run
    computes every month end (or quarter end, --every quarter) from --from to --to, and --to itself,
    for the explorer's trend charts. Method: docs/data/leaning-score.md.
    """
    state: AppState = ctx.obj
    if (first is None) != (last is None) or (as_of is None) == (first is None):
        raise typer.BadParameter(
            "give either --as-of, or both --from and --to", param_hint="--as-of/--from/--to"
        )
    if as_of is not None:
        days = [parse_date(as_of, "--as-of")]
    else:
        days = as_of_series(parse_date(first, "--from"), parse_date(last, "--to"), every.lower())
    if include_preliminary is None:
        include_preliminary = state.settings.scores_include_preliminary
    recorded: dict[str, object] = {
        "lookback_months": lookback_months,
        "method_version": method,
        "include_preliminary": include_preliminary,
    }
    if as_of is not None:
        recorded["as_of"] = days[0].isoformat()
    else:
        recorded |= {"from": days[0].isoformat(), "to": days[-1].isoformat(), "every": every.lower()}
    with open_run(state, "scores compute", recorded) as (conn, run_id):
        for day in days:
            args = ScoreArgs(day, lookback_months, method_version=method, include_preliminary=include_preliminary)
            _print_computed(steps.score(conn, run_id=run_id, args=args), run_id)
        if not skip_gates:
            scope = steps.scores_scope(conn, run_id)
            run_gate_after(console, conn, state.settings, run_id=run_id, gate="scores", scope=scope)


def _print_computed(result: ScoreResult, run_id: int) -> None:
    table = Table(
        "entity type", "scored", "no score", "total", title=f"leaning scores {result.method_version}"
    )
    for entity_type, counts in result.entities.items():
        table.add_row(entity_type, f"{counts.scored:,}", f"{counts.unscored:,}", f"{counts.total:,}")
    console.print(table)
    stored = result.stored
    console.print(
        f"Window {result.window.start}..{result.window.end}: {result.fact_rows:,} counted contribution rows. "
        f"Rows opened {stored.opened:,}, closed {stored.closed:,}, unchanged {stored.unchanged:,} "
        f"(run {run_id}, {result.seconds:.1f}s)."
    )


@app.command("export")
def export(
    ctx: typer.Context,
    as_of: str = typer.Option(
        ..., "--as-of", help="The as-of date the scores were computed for (YYYY-MM-DD)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="File to write."),
    fmt: str = typer.Option(
        "csv",
        "--format",
        help=f"Output format: {' or '.join(FORMATS)} (parquet: pip install 'fecflow[parquet]').",
    ),
    lookback_months: int = _lookback_option(),
    method: str = _method_option(),
) -> None:
    """Export the current scores of one as-of date, one row per entity (unscored ones with a reason)."""
    day = parse_date(as_of, "--as-of")
    output = check_output_target(output)  # before connecting: a bad target is the first error
    with _read_connection(ctx) as conn:
        result = export_scores(
            conn,
            as_of=day,
            output=output,
            fmt=fmt.lower(),
            lookback_months=lookback_months,
            method_version=method,
        )
    console.print(
        f"Wrote {result.rows:,} rows ({result.scored:,} scored) for {result.window.start}..{result.window.end} "
        f"to {result.path} ({result.format})."
    )


def _money(value: object) -> str:
    return f"${value:,.2f}" if value is not None else "-"


def _print_explanation(ex: Explanation) -> None:
    row, entity = ex.score, ex.entity
    party = f" ({entity.party})" if entity.party else ""
    console.print(f"{entity.entity_type} {entity.entity_id}: {entity.name or ''}{party}")
    console.print(
        f"method {ex.method_version}, as of {ex.as_of}, window {ex.window.start}..{ex.window.end} "
        f"(computed {row['valid_from']:%Y-%m-%d %H:%M}, run {row['run_id']})"
    )
    if row["score"] is None:
        console.print(f"score: none ({row['reason']})")
    else:
        console.print(
            f"score: {row['score']} (95% interval {row['ci_low']}..{row['ci_high']}; "
            "0 = all Democratic, 1 = all Republican)"
        )
    console.print(
        f"support: D {_money(row['dem_amount'])}, R {_money(row['rep_amount'])}, "
        f"other {_money(row['other_amount'])}; {row['n_contributions']:,} partisan contributions "
        f"from {row['n_donors']:,} donor(s)"
    )
    console.print(preliminary_note(row))
    table = Table(
        "recipient", "name", "side", "basis", "amount", "contributions", "donors", title=ex.recipients_title
    )
    passed_on = {f.committee_id for f in ex.flows}  # lean-2026.2: committees that pass money on
    for line in ex.recipients:
        table.add_row(
            line.recipient_id,
            line.recipient_name or "",
            "passed on" if line.recipient_id in passed_on else SIDE_LABEL.get(line.side, line.side or ""),
            line.basis or "-",
            _money(line.amount),
            f"{line.n_contributions:,}",
            f"{line.n_donors:,}",
        )
    console.print(table)
    _print_flows(ex)
    _print_strings(ex)


def _print_strings(ex: Explanation, shown: int = 25) -> None:
    """Employers: the raw EMPLOYER strings merged into this one, with their rows and how each joined."""
    if not ex.strings:
        return
    table = Table(
        "raw EMPLOYER string",
        "joined by",
        "score",
        "evidence",
        "rows",
        title=f"Strings merged into this employer ({len(ex.strings):,}; the {min(shown, len(ex.strings))} with most rows)",
    )
    for item in ex.strings[:shown]:
        table.add_row(
            item.raw_employer,
            item.method,
            "-" if item.score is None else str(item.score),
            item.kind or "-",
            f"{item.rows:,}",
        )
    console.print(table)


def _print_flows(ex: Explanation) -> None:
    """lean-2026.2 only: evidence, direct vs flowed money, own PAC, committees the money went through."""
    row = ex.score
    if row.get("direct_amount") is not None:
        console.print(
            f"partisan money: direct {_money(row['direct_amount'])}, through committees "
            f"{_money(row['flowed_amount'])}; effective independent deciders {row['n_effective'] or '-'} "
            f"(raw donors {row['n_donors']:,})"
        )
    if row.get("base_donor_share") is not None:
        console.print(
            f"donor base: the score rests on {row['base_donor_share']:.1%} of the donors and "
            f"{row['base_dollar_share']:.1%} of the dollars (those who also gave elsewhere)"
        )
    if ex.own_pac is not None:
        pac = ex.own_pac
        pac_score = (
            f"{pac['score']} [{pac['ci_low']}, {pac['ci_high']}]" if pac["score"] is not None else "no score"
        )
        console.print(
            f"own PAC {pac['committee_id']} {pac['name'] or ''}: {_money(row['own_pac_amount'])} from its people "
            f"(not in the score above); the PAC's own score {pac_score}"
        )
    if ex.flows:
        table = Table(
            "committee", "name", "partisan out", "share", "donors", "its score", "its interval",
            title="Money through committees (each committee's own lean and uncertainty passes on)",
        )  # fmt: skip
        for line in ex.flows:
            table.add_row(
                line.committee_id,
                line.name or "",
                _money(line.partisan_amount),
                f"{line.share:.1%}" if line.share is not None else "-",
                f"{line.n_donors:,}",
                str(line.score) if line.score is not None else "-",
                f"{line.ci_low}..{line.ci_high}" if line.score is not None else "-",
            )
        console.print(table)


def explain(
    ctx: typer.Context,
    entity_type: str = typer.Argument(..., help=f"One of: {', '.join(ENTITY_TYPES)}."),
    entity_id: str = typer.Argument(
        ..., help="Candidate or committee FEC id, canonical employer name, or NAICS code."
    ),
    as_of: str = typer.Option(
        None, "--as-of", help="As-of date of the score (default: the latest computed)."
    ),
    lookback_months: int = _lookback_option(),
    top: int = typer.Option(10, "--top", min=1, max=1000, help="How many recipients to list."),
    method: str = _method_option(),
) -> None:
    """Explain a leaning score: interval, support and the top recipients with their alignment.

    Example: fecflow explain employer MICROSOFT
    """
    day = parse_date(as_of, "--as-of") if as_of else None
    with _read_connection(ctx) as conn:
        explanation = explain_entity(
            conn,
            entity_type.lower(),
            entity_id,
            as_of=day,
            lookback_months=lookback_months,
            method_version=method,
            top=top,
        )
    _print_explanation(explanation)
