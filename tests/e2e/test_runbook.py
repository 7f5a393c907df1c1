"""docs/runbooks/ingest.md works as written.

A real backfill of the bundled 2020 sample is made to fail at the normalize gate (a checks file with
an impossible tolerance: no reconciled committee may exceed its summary, and the sample has 2 of
951 that do). Then every line starting with ``fecflow `` in the runbook's ```sh blocks is run as a
subprocess against that database, with RUN_ID replaced by the failed run's id and YYYY-MM-DD by
today's date, and must exit 0, or with the code its trailing ``# exits N`` comment names. Finally,
with the tolerance fixed, ``fecflow runs resume RUN_ID`` succeeds.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import psycopg
import pytest

from support.cli import run_fecflow

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "runbooks" / "ingest.md"
MIRROR = f"file://{ROOT / 'tests' / 'fixtures' / 'bulk'}"
# The backfill `make demo` runs (the runbook's `backfill ... --resume` line repeats these arguments).
BACKFILL = (
    "backfill",
    "--cycles",
    "2020",
    "--files",
    "cm,cn,ccl,indiv,pas2,oth,weball,webk,webl",
    "--as-of",
    "2019-03-31",
)
IMPOSSIBLE_TOLERANCE = "[checks]\nreconciliation_max_share_over = 0\n"

SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXPECTED_EXIT = re.compile(r"\s#\s*exits\s+(\d+)\b[^\"']*$")  # a trailing comment, outside quotes
SHELL_SYNTAX = {"|", "||", "&&", ";", ">", ">>", "<", "&"}


def runbook_commands(text: str) -> list[tuple[str, list[str], int]]:
    """(line, argv after `fecflow`, expected exit code) for each `fecflow` line of the sh blocks."""
    commands = []
    for block in SH_BLOCK.findall(text):
        for line in block.splitlines():
            stripped = line.strip()
            if not stripped.startswith("fecflow "):
                continue
            argv = shlex.split(stripped, comments=True)
            assert not SHELL_SYNTAX.intersection(argv), f"keep runbook commands free of shell syntax: {line}"
            match = EXPECTED_EXIT.search(stripped)
            expected = int(match.group(1)) if match else 0
            commands.append((stripped, argv[1:], expected))
    return commands


def substitute(argv: list[str], run_id: int, today: str) -> list[str]:
    return [arg.replace("RUN_ID", str(run_id)).replace("YYYY-MM-DD", today) for arg in argv]


def test_runbook_command_extraction() -> None:
    text = (
        "```sh\nfecflow runs\nfecflow runs show RUN_ID   # exits 5 while failing\n"
        "echo no\n```\n```text\nfecflow not-run\n```\n"
        '```sh\n  fecflow db psql -c "SELECT 1 # not a comment"\n```\n'
    )
    assert runbook_commands(text) == [
        ("fecflow runs", ["runs"], 0),
        ("fecflow runs show RUN_ID   # exits 5 while failing", ["runs", "show", "RUN_ID"], 5),
        (
            'fecflow db psql -c "SELECT 1 # not a comment"',
            ["db", "psql", "-c", "SELECT 1 # not a comment"],
            0,
        ),
    ]
    assert substitute(["replay-range", "--start", "YYYY-MM-DD", "--run", "RUN_ID"], 7, "2026-01-02") == [
        "replay-range",
        "--start",
        "2026-01-02",
        "--run",
        "7",
    ]


def test_every_runbook_command_runs_against_a_run_that_failed_validation(db_url: str, tmp_path: Path) -> None:
    commands = runbook_commands(RUNBOOK.read_text())
    written = {" ".join(argv[:2]) for _, argv, _ in commands}
    for essential in (
        "runs show",
        "runs resume",
        "validate --run",
        "replay-range --start",
        "backfill --cycles",
    ):
        assert essential in written, f"the runbook lost its `fecflow {essential}` command"

    home = tmp_path / "home"
    home.mkdir()
    checks = tmp_path / "impossible.toml"
    checks.write_text(IMPOSSIBLE_TOLERANCE)
    env = {
        "FECFLOW_DATABASE_URL": db_url,
        "FECFLOW_BULK_BASE_URL": MIRROR,
        "FECFLOW_CHECKS_FILE": str(checks),
    }

    failed = run_fecflow(home, *BACKFILL, env=env)
    assert failed.returncode == 5, failed.stdout + failed.stderr
    assert "reconciliation.committees_over_summary" in failed.stderr
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT run_id, status FROM ops.ingest_run WHERE command = 'backfill' ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        today_row = conn.execute("SELECT current_date::text").fetchone()  # the day the files were fetched
    assert row is not None and row[1] == "failed"
    assert today_row is not None
    run_id, today = int(row[0]), str(today_row[0])
    assert f"fecflow runs show {run_id}" in failed.stderr  # the hint the user starts from

    problems = []
    for line, argv, expected in commands:
        result = run_fecflow(home, *substitute(argv, run_id, today), env=env)
        if result.returncode != expected:
            problems.append(
                f"`{line}` exited {result.returncode}, the runbook says {expected}:\n"
                f"{result.stdout[-1500:]}\n{result.stderr[-1500:]}"
            )
    assert not problems, "\n\n".join(problems)

    # Once the cause is fixed (here: the impossible tolerance dropped), the runbook's resume succeeds.
    fixed = {k: v for k, v in env.items() if k != "FECFLOW_CHECKS_FILE"}
    resumed = run_fecflow(home, "runs", "resume", str(run_id), env=fixed)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming run {run_id}" in resumed.stdout
