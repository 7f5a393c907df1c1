"""Gates on the real sample: recorded in ops, logged, one alert per failed run, and the run stops."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fecflow.checks.gate import GateScope, check_gate, run_gate, scope_of_run
from fecflow.checks.scores import ScoreSlot
from fecflow.checks.tolerances import Tolerances
from fecflow.config import Settings
from fecflow.db import ops
from fecflow.db.engine import connect
from fecflow.errors import ValidationFailed
from fecflow.log import configure_logging
from fecflow.pipeline.runner import Step, StepContext, run_steps
from integration.checks.faults import indiv_sub_ids, truncate_staged
from integration.checks.sample_db import CYCLE, EARLY_2020, EARLY_AT, SCORES_AS_OF, Sample
from support.staging_loader import stage_file
from unit.checks.webhook_server import TOKEN, WebhookServer

pytestmark = pytest.mark.integration


def settings(tmp_path: Path, webhook: str | None = None) -> Settings:
    return Settings(_env_file=None, alert_webhook=webhook, log_dir=tmp_path / "logs", home=tmp_path)


def validate_audits(sample: Sample, run_id: int) -> list[dict[str, Any]]:
    rows = sample.conn.execute(
        "SELECT scope, status, validation, counts FROM ops.ingest_run_audits WHERE run_id = %s AND stage = 'validate' "
        "ORDER BY audit_id",
        (run_id,),
    ).fetchall()
    sample.conn.commit()
    return [{"scope": r[0], "status": r[1], "validation": r[2], "counts": r[3]} for r in rows]


@pytest.fixture
def fecflow_logging(tmp_path: Path, webhook: WebhookServer) -> Iterator[Path]:
    """Logging set up the way the CLI does it (JSON log file, secrets redacted); undone afterwards."""
    log_dir = tmp_path / "logs"
    configure_logging(level="DEBUG", log_dir=log_dir, secrets=[webhook.url], rich_console=False)
    try:
        yield log_dir
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "_fecflow", False):
                root.removeHandler(handler)
                handler.close()


def test_passing_gates_are_recorded(sample_copy: Sample, tmp_path: Path, tolerances: Tolerances) -> None:
    sample = sample_copy
    # a byte-identical copy of cm.txt: staging skips it as a duplicate; the gate checks the staged original
    copy = shutil.copy(EARLY_2020 / "cm.txt", tmp_path / "cm.txt")
    duplicate = stage_file(
        sample.conn, sample.url, Path(copy), file_type="cm", cycle=CYCLE, fetched_at=EARLY_AT
    )
    run_id = sample.new_run()
    scopes = {
        "staging": GateScope(source_file_ids=(*sample.ids.source_files.values(), duplicate)),
        "normalize": GateScope(cycles=(CYCLE,)),
        "scores": GateScope(score_slots=(ScoreSlot(sample.ids.scores_method, SCORES_AS_OF),)),
    }
    for gate, scope in scopes.items():
        results = run_gate(
            sample.conn,
            run_id=run_id,
            gate=gate,
            scope=scope,
            tolerances=tolerances,
            settings=settings(tmp_path),
        )
        assert results and not any(r.failed for r in results)
    audits = validate_audits(sample, run_id)
    assert [(a["scope"], a["status"]) for a in audits] == [
        ("staging", "succeeded"),
        ("normalize", "succeeded"),
        ("scores", "succeeded"),
    ]
    staging = audits[0]
    assert len(staging["validation"]) == 8 * 9  # 8 files (the duplicate is cm) x 9 checks
    assert staging["counts"]["failed"] == 0
    assert {v["scope"].split()[0] for v in staging["validation"]} >= {"indiv:2020", "cm:2020"}
    # what `fecflow validate` would re-check for the sample's own run
    touched = scope_of_run(sample.conn, sample.ids.run_id)
    assert set(touched) == {"staging", "normalize", "scores"}
    assert touched["normalize"].cycles == (CYCLE,)
    assert set(touched["staging"].source_file_ids) == set(sample.ids.source_files.values())


def test_scope_of_a_resumed_run_includes_the_runs_it_resumed(sample_copy: Sample) -> None:
    sample = sample_copy
    first = sample.ids.run_id  # staged, normalized and scored the sample
    second = ops.start_run(sample.conn, "backfill", {}, resumed_from=first)
    third = ops.start_run(sample.conn, "backfill", {}, resumed_from=second)
    unrelated = sample.new_run("backfill")
    assert ops.resume_chain(sample.conn, third) == [third, second, first]
    assert scope_of_run(sample.conn, third) == scope_of_run(sample.conn, first)
    assert scope_of_run(sample.conn, unrelated) == {}


def test_failed_gate_records_logs_alerts_once_and_raises(
    sample_copy: Sample,
    tmp_path: Path,
    tolerances: Tolerances,
    webhook: WebhookServer,
    fecflow_logging: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sample = sample_copy
    gone = indiv_sub_ids(sample, 5)
    sample.execute("DELETE FROM core.contribution WHERE sub_id = ANY(%s)", (gone,))
    run_id = sample.new_run("ingest-daily")
    config = settings(tmp_path, webhook.url)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ValidationFailed) as err:
        run_gate(
            sample.conn,
            run_id=run_id,
            gate="normalize",
            scope=GateScope(cycles=(CYCLE,)),
            tolerances=tolerances,
            settings=config,
        )
    assert err.value.exit_code == 5
    assert "accounting.core_rows (indiv:2020" in err.value.message
    assert "observed 5, expected 0" in err.value.message
    assert err.value.hint is not None and f"fecflow runs show {run_id}" in err.value.hint

    (audit,) = validate_audits(sample, run_id)
    assert audit["status"] == "failed" and audit["counts"]["alert"] == "sent"
    failed = [v for v in audit["validation"] if v["status"] == "failed"]
    assert {v["name"] for v in failed} == {
        "accounting.core_rows",
        "accounting.amounts_by_committee",
        "accounting.amount_total",
    }
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("FAILED accounting.core_rows" in m and "observed 5, expected 0" in m for m in errors)

    # a second failing gate in the same run: still one alert
    with pytest.raises(ValidationFailed):
        run_gate(
            sample.conn,
            run_id=run_id,
            gate="normalize",
            scope=GateScope(cycles=(CYCLE,)),
            tolerances=tolerances,
            settings=config,
        )
    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert post.path == "/hooks/fecflow" and post.query == f"token={TOKEN}"
    assert post.body["run_id"] == run_id and post.body["gate"] == "normalize"
    assert post.body["hint"] == f"fecflow runs show {run_id}"
    assert {c["name"] for c in post.body["failed_checks"]} == {v["name"] for v in failed}
    core_rows = next(c for c in post.body["failed_checks"] if c["name"] == "accounting.core_rows")
    assert (core_rows["observed"], core_rows["expected"]) == (5, 0)

    # the token is in no log line: neither the records nor the JSON log file
    assert TOKEN not in caplog.text
    log_text = "".join(p.read_text() for p in fecflow_logging.rglob("*.json"))
    assert "validation alert for run" in log_text and TOKEN not in log_text
    assert any("sent to http://127.0.0.1:" in json.loads(line)["message"] for line in log_text.splitlines())


def test_broken_webhook_is_logged_not_raised(
    sample_copy: Sample, tmp_path: Path, tolerances: Tolerances, caplog: pytest.LogCaptureFixture
) -> None:
    sample = sample_copy
    truncate_staged(sample, "pas2", keep=3000)
    scope = GateScope(source_file_ids=(sample.sfid("pas2"),))
    with WebhookServer(status=500) as broken:
        run_id = sample.new_run()
        with pytest.raises(ValidationFailed, match="accounting.lines_balance"):
            run_gate(
                sample.conn,
                run_id=run_id,
                gate="staging",
                scope=scope,
                tolerances=tolerances,
                settings=settings(tmp_path, broken.url),
            )
        assert len(broken.posts) == 1
        url = broken.url
    assert validate_audits(sample, run_id)[0]["counts"]["alert"] == "failed"
    assert any("HTTP 500" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    # the server is gone now: connection refused, still only logged
    caplog.clear()
    run_id = sample.new_run()
    with pytest.raises(ValidationFailed):
        run_gate(
            sample.conn,
            run_id=run_id,
            gate="staging",
            scope=scope,
            tolerances=tolerances,
            settings=settings(tmp_path, url),
        )
    assert any("ConnectError" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert TOKEN not in caplog.text


def test_failed_gate_stops_the_run_before_the_next_step(
    sample_copy: Sample, tmp_path: Path, tolerances: Tolerances, webhook: WebhookServer
) -> None:
    """The tiny pipeline: stage (already done) -> staging gate -> normalize. The gate fails: normalize never runs."""
    sample = sample_copy
    truncate_staged(sample, "indiv", keep=70_000)
    config = settings(tmp_path, webhook.url)
    called: list[str] = []

    def staging_gate(ctx: StepContext) -> dict[str, object]:
        scope = GateScope(source_file_ids=tuple(sample.ids.source_files.values()))
        results = run_gate(
            ctx.conn, run_id=ctx.run_id, gate="staging", scope=scope, tolerances=tolerances, settings=config
        )
        return {"checks": len(results)}

    def normalize(ctx: StepContext) -> dict[str, object]:
        called.append("normalize")
        return {}

    steps = [Step("validate-staging", staging_gate), Step("normalize", normalize)]
    with pytest.raises(ValidationFailed):
        run_steps(sample.url, config, command="ingest-daily", args={}, steps=steps)
    assert called == []
    with connect(sample.url) as conn:
        run_id, status, error = conn.execute(
            "SELECT run_id, status, error FROM ops.ingest_run WHERE command = 'ingest-daily'"
        ).fetchone()
        stages = conn.execute(
            "SELECT stage, scope, status FROM ops.ingest_run_audits WHERE run_id = %s ORDER BY audit_id",
            (run_id,),
        ).fetchall()
    assert status == "failed" and "accounting.lines_balance" in error
    assert stages == [("validate-staging", "step", "failed"), ("validate", "staging", "failed")]
    assert [p.body["run_id"] for p in webhook.posts] == [run_id]


def test_check_gate_does_not_alert_or_raise(
    sample_copy: Sample, tmp_path: Path, tolerances: Tolerances
) -> None:
    sample = sample_copy
    truncate_staged(sample, "cn", keep=10)
    run_id = sample.new_run()
    results = check_gate(
        sample.conn,
        run_id=run_id,
        gate="staging",
        scope=GateScope(source_file_ids=(sample.sfid("cn"),)),
        tolerances=tolerances,
    )
    assert {r.name for r in results if r.failed} == {
        "accounting.lines_balance",
        "accounting.audit_counts",
        "accounting.line_numbers",
    }
    assert validate_audits(sample, run_id)[0]["status"] == "failed"
