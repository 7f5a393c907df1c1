"""The real 2020 sample loads to exactly the recorded data: per-column digests of core.contribution.

Issue #18 asks for speed-ups of staging and normalize "with identical loaded data". The digests in
``tests/fixtures/digests/core_contribution_2020_sample.json`` were recorded at a9d06c3 (main,
2026-12-05) from this test's database: the shared 2020 sample staged and normalized as
``test_scores_real_sample`` does. A change that alters any loaded value, row set or grouping of a
surrogate key fails here, column by column. When a change of the loaded data is intended, rewrite
the file with ``FECFLOW_WRITE_DIGESTS=1 pytest tests/integration/normalize/test_core_digests.py``
(the test then fails once, saying so) and say why in the commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest

from fecflow.checks.digests import contribution_digests
from integration.scores.test_scores_real_sample import sample_db  # noqa: F401 - the module's database

pytestmark = pytest.mark.integration

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "digests" / "core_contribution_2020_sample.json"


def test_the_sample_loads_to_the_recorded_digests(sample_db: str) -> None:  # noqa: F811 - the imported fixture
    with psycopg.connect(sample_db) as conn:
        digests = contribution_digests(conn)
        rows = conn.execute("SELECT count(*) FROM core.contribution").fetchone()
    got = {"rows": rows[0] if rows else 0, "columns": digests}
    if os.environ.get("FECFLOW_WRITE_DIGESTS") == "1":
        RECORDED.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
        pytest.fail(f"wrote {RECORDED}; commit it and run again without FECFLOW_WRITE_DIGESTS")
    recorded = json.loads(RECORDED.read_text())
    assert got["rows"] == recorded["rows"]
    changed = sorted(c for c in recorded["columns"].keys() | digests.keys() if recorded["columns"].get(c) != digests.get(c))
    assert changed == [], f"loaded data differs from the recorded digests in: {', '.join(changed)}"
