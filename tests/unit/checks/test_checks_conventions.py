"""The checks agree with the modules they mirror."""

from __future__ import annotations


def test_gate_uses_the_stage_names_of_the_steps() -> None:
    from fecflow.checks import gate
    from fecflow.normalize.snapshot import NORMALIZE_STAGE
    from fecflow.scores.engine import AUDIT_STAGE
    from fecflow.staging.load import STAGE

    assert (gate.STAGE, gate.NORMALIZE_STAGE, gate.SCORES_STAGE) == (STAGE, NORMALIZE_STAGE, AUDIT_STAGE)
