"""`fecflow validate --run RUN_ID` end to end, in a subprocess, on a copy of the real sample."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from integration.checks.faults import add_field_count_rejects, indiv_sub_ids
from integration.checks.sample_db import Sample
from support.cli import run_fecflow
from unit.checks.webhook_server import TOKEN, WebhookServer

pytestmark = pytest.mark.integration

def fecflow_validate(
    sample: Sample, home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_fecflow(
        home,
        "validate",
        *args,
        env={"FECFLOW_DATABASE_URL": sample.url, "COLUMNS": "250", **(env or {})},
        timeout=180,
    )


def runs(sample: Sample) -> list[tuple[int, str, str]]:
    rows = sample.conn.execute(
        "SELECT run_id, command, status FROM ops.ingest_run ORDER BY run_id"
    ).fetchall()
    sample.conn.commit()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def test_validate_passes_then_fails_with_exit_code_5_and_one_alert(
    sample_copy: Sample, tmp_path: Path
) -> None:
    sample = sample_copy
    run = str(sample.ids.run_id)
    ok = fecflow_validate(sample, tmp_path, "--run", run)
    assert ok.returncode == 0, ok.stderr
    assert f"validation of run {run}" in ok.stdout
    assert "accounting.lines_balance" in ok.stdout and "reconciliation.itemized_vs_summary_total" in ok.stdout
    assert " 0 failed" in ok.stdout
    assert runs(sample)[-1][1:] == ("validate", "succeeded")

    sample.execute("DELETE FROM core.contribution WHERE sub_id = ANY(%s)", (indiv_sub_ids(sample, 5),))
    with WebhookServer() as webhook:
        bad = fecflow_validate(sample, tmp_path, "--run", run, env={"FECFLOW_ALERT_WEBHOOK": webhook.url})
        posts = list(webhook.posts)
    assert bad.returncode == 5, bad.stderr
    validate_run = runs(sample)[-1]
    assert validate_run[1:] == ("validate", "failed")
    assert "Error:" in bad.stderr and "accounting.core_rows (indiv:2020" in bad.stderr
    assert f"fecflow runs show {validate_run[0]}" in bad.stderr
    assert "failed" in bad.stdout and "accounting.core_rows" in bad.stdout
    assert len(posts) == 1 and posts[0].body["run_id"] == validate_run[0]
    logs = "".join(p.read_text() for p in (tmp_path / "logs").rglob("*.json"))
    assert "FAILED accounting.core_rows" in logs
    assert TOKEN not in logs + bad.stdout + bad.stderr


def test_tolerances_from_toml_file_and_command_line(sample_copy: Sample, tmp_path: Path) -> None:
    sample = sample_copy
    add_field_count_rejects(sample, "indiv", 100)  # reject rate 0.0014 > 0.001
    run = str(sample.ids.run_id)
    relaxed = tmp_path / "checks.toml"
    relaxed.write_text("[checks]\nreject_rate = 0.01\nfield_count_reject_rate = 0.01\n")

    from_file = fecflow_validate(sample, tmp_path, "--run", run, env={"FECFLOW_CHECKS_FILE": str(relaxed)})
    assert from_file.returncode == 0, from_file.stdout + from_file.stderr

    cli_wins = fecflow_validate(
        sample,
        tmp_path,
        "--run",
        run,
        "--tolerance",
        "reject_rate=0.001",
        env={"FECFLOW_CHECKS_FILE": str(relaxed)},
    )
    assert cli_wins.returncode == 5
    assert "accounting.reject_rate" in cli_wins.stderr and "schema.field_count_rejects" not in cli_wins.stderr

    (tmp_path / "fecflow.toml").write_text("[checks]\nreject_rat = 0.01\n")  # ./fecflow.toml, with a typo
    typo = fecflow_validate(sample, tmp_path, "--run", run)
    assert typo.returncode == 2 and "Unknown tolerance 'reject_rat'" in typo.stderr
