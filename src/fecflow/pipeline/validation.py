"""``fecflow validate --run RUN_ID``: the gates again, over what a past run touched.

The gate after each step runs in :func:`fecflow.pipeline.steps.validate`; this module checks a whole
past run later, with the current tolerances, as a new ``validate`` run, and decides once at the end.
"""

from __future__ import annotations

import psycopg

from fecflow.checks.gate import check_gate, fail_if_any_failed, scope_of_run
from fecflow.checks.result import CheckResult, count_by_status, fmt
from fecflow.checks.tolerances import Tolerances, load_tolerances
from fecflow.db import ops
from fecflow.pipeline.history import get_run

__all__ = [
    "CheckResult",
    "Tolerances",
    "count_by_status",
    "fmt",
    "fail_if_any_failed",
    "load_tolerances",
    "resumed_runs",
    "revalidate_run",
]


def resumed_runs(conn: psycopg.Connection, run: int) -> list[int]:
    """The runs ``run`` resumed (transitively), newest first; DataError when there is no such run."""
    get_run(conn, run)
    return ops.resume_chain(conn, run)[1:]


def revalidate_run(
    conn: psycopg.Connection, *, run: int, run_id: int, tolerances: Tolerances
) -> dict[str, list[CheckResult]]:
    """Run every gate that applies to what ``run`` (and the runs it resumed) staged, normalized and
    scored, recorded in ``run_id``; empty when it touched nothing."""
    return {
        gate: check_gate(conn, run_id=run_id, gate=gate, scope=scope, tolerances=tolerances)
        for gate, scope in scope_of_run(conn, run).items()
    }
