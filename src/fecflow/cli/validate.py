"""``fecflow validate --run RUN_ID``: re-run the validation checks for what a run touched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fecflow.cli.context import AppState, open_run
from fecflow.pipeline.validation import (
    CheckResult,
    count_by_status,
    fail_if_any_failed,
    fmt,
    load_tolerances,
    resumed_runs,
    revalidate_run,
)

console = Console(highlight=False)

STATUS_STYLE = {"passed": "green", "warning": "yellow", "failed": "bold red"}
ORDER = {"failed": 0, "warning": 1, "passed": 2}


def validate(
    ctx: typer.Context,
    run: int = typer.Option(
        ...,
        "--run",
        metavar="RUN_ID",
        help="The run whose source files, cycles and scores to check again.",
    ),
    tolerance: list[str] = typer.Option(
        [],
        "--tolerance",
        metavar="NAME=VALUE",
        help="Override a tolerance, NAME=VALUE (repeatable), e.g. --tolerance reject_rate=0.05. "
        "Defaults and names: docs/data/validation.md.",
    ),
) -> None:
    """Check again the source files, cycles and scores a run staged, normalized or scored.

    A resumed run is checked together with the runs it resumed (`fecflow runs resume`).

    Runs the staging, normalize and scores gates for that run's scope with the current tolerances
    (defaults, then FECFLOW_CHECKS_FILE or ./fecflow.toml, then --tolerance), records the results as a
    new `validate` run, prints a summary table, and exits with code 5 when a check fails.
    """
    state: AppState = ctx.obj
    settings = state.settings
    tolerances = load_tolerances(settings, tolerance)
    with open_run(state, "validate", {"run": run, "tolerance": list(tolerance)}) as (conn, run_id):
        earlier = resumed_runs(conn, run)  # DataError when there is no such run
        if earlier:
            console.print(
                f"Run {run} resumed run(s) {', '.join(map(str, earlier))}: checking what all of them touched."
            )
        results_by_gate = revalidate_run(conn, run=run, run_id=run_id, tolerances=tolerances)
        if not results_by_gate:
            console.print(f"Run {run} staged, normalized and scored nothing: there is nothing to validate.")
            return
        console.print(summary_table(run, results_by_gate))
        problems = problem_table(results_by_gate)
        if problems is not None:
            console.print(problems)
        counts = count_by_status(r for results in results_by_gate.values() for r in results)
        console.print(
            f"Run {run}: {sum(counts.values())} checks, {counts['passed']} passed, {counts['warning']} warnings, "
            f"{counts['failed']} failed (recorded as run {run_id}; details: fecflow runs show {run_id})."
        )
        fail_if_any_failed(conn, settings, run_id=run_id, results_by_gate=results_by_gate)


def summary_table(run: int, results_by_gate: Mapping[str, Sequence[CheckResult]]) -> Table:
    """One row per gate and check: how many scopes passed, warned, failed."""
    table = Table("gate", "check", "passed", "warnings", "failed", title=f"validation of run {run}")
    for gate, results in results_by_gate.items():
        by_name: dict[str, list[CheckResult]] = {}
        for r in results:
            by_name.setdefault(r.name, []).append(r)
        for name, group in by_name.items():
            counts = count_by_status(group)
            table.add_row(
                gate,
                name,
                str(counts["passed"]),
                Text(str(counts["warning"]), style=STATUS_STYLE["warning"] if counts["warning"] else ""),
                Text(str(counts["failed"]), style=STATUS_STYLE["failed"] if counts["failed"] else ""),
            )
    return table


def problem_table(results_by_gate: Mapping[str, Sequence[CheckResult]]) -> Table | None:
    """The failed checks, then the warnings, with their numbers; None when every check passed."""
    problems = [(g, r) for g, results in results_by_gate.items() for r in results if r.status != "passed"]
    if not problems:
        return None
    table = Table(
        "status", "check", "scope", "observed", "expected", "message", title="failed checks and warnings"
    )
    for _, r in sorted(problems, key=lambda p: ORDER[p[1].status]):
        table.add_row(  # Text: FEC values in messages may contain [brackets], never markup
            Text(r.status, style=STATUS_STYLE[r.status]),
            r.name,
            Text(r.scope),
            Text(fmt(r.observed)),
            Text(fmt(r.expected)),
            Text(r.message[:300]),
        )
    return table
