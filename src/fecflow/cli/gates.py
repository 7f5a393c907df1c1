"""The validation gate after a single-step command: the ``--skip-gates`` option and its summary line.

A step validates wherever it runs: ``fecflow stage``, ``normalize`` and ``scores compute`` run the
gate the flows run after the same step (``validate-staging``, ``validate-normalize``,
``validate-scores``), recorded in the same run, exit code 5 when a check fails.
"""

from __future__ import annotations

import psycopg
import typer
from rich.console import Console

from fecflow.config import Settings
from fecflow.pipeline import steps
from fecflow.pipeline.steps import GateName, GateScope


def skip_gates_option() -> bool:
    return typer.Option(
        False,
        "--skip-gates",
        help="Do not run the validation gate after the step (`fecflow validate --run RUN_ID` runs it later).",
    )


def run_gate_after(
    console: Console,
    conn: psycopg.Connection,
    settings: Settings,
    *,
    run_id: int,
    gate: GateName,
    scope: GateScope | None,
) -> None:
    """Run ``gate`` over ``scope`` (nothing to check: None) and print one line, as the flows record it."""
    if scope is None:
        return
    counts = steps.gate_counts(steps.validate(conn, settings, run_id=run_id, gate=gate, scope=scope))
    console.print(
        f"validate-{gate}: {counts['checks']} checks, {counts['failed']} failed, {counts['warnings']} warnings."
    )
