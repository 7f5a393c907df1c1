"""The checks agree with the modules they mirror."""

from __future__ import annotations

import pytest

from fecflow.checks.schema import NORMALIZED_FILE_TYPES, TRANSACTION_FILE_TYPES


def test_file_type_lists_match_normalize() -> None:
    step = pytest.importorskip("fecflow.normalize.step", reason="fecflow.normalize is not importable yet")
    contributions = pytest.importorskip("fecflow.normalize.contributions")
    assert NORMALIZED_FILE_TYPES == step.NORMALIZE_ORDER
    assert TRANSACTION_FILE_TYPES == contributions.TRANSACTION_FILE_TYPES


def test_gate_uses_the_stage_names_of_the_steps() -> None:
    from fecflow.checks import gate
    from fecflow.normalize.snapshot import NORMALIZE_STAGE
    from fecflow.scores.engine import AUDIT_STAGE
    from fecflow.staging.load import STAGE

    assert (gate.STAGE, gate.NORMALIZE_STAGE, gate.SCORES_STAGE) == (STAGE, NORMALIZE_STAGE, AUDIT_STAGE)
