"""`fecflow report mapping` (pipeline.reports.mapping_report) over the real 2020 sample: its classes
add up to the counted individual dollars, and each class is what its definition says."""

from __future__ import annotations

import pytest

from fecflow.pipeline.reports import mapping_report
from integration.checks.sample_db import Sample

pytestmark = pytest.mark.integration

COUNTED = "c.source = 'indiv' AND c.counts_as_contribution AND NOT c.is_refund AND c.deleted_at IS NULL"


def _dollars(sample: Sample, where: str) -> tuple[float, int]:
    row = sample.conn.execute(
        "SELECT coalesce(sum(c.amount), 0)::float8, count(*) FROM core.contribution c "  # noqa: S608 - test constants
        f"LEFT JOIN core.employer e USING (employer_key) WHERE {COUNTED} AND {where}"
    ).fetchone()
    assert row is not None
    return float(row[0]), int(row[1])


def test_classes_add_up_to_the_counted_individual_dollars(sample: Sample) -> None:
    report = mapping_report(sample.conn, cycle=2020)
    total, rows = _dollars(sample, "true")
    assert rows > 1000 and report.total_dollars == pytest.approx(total)
    assert sum(n for _, n in report.by_class.values()) == rows
    assert report.by_class["no_employer"] == pytest.approx(_dollars(sample, "c.employer_key IS NULL"))
    assert report.by_class["bucket"] == pytest.approx(_dollars(sample, "e.is_generic"))
    industry = "EXISTS (SELECT 1 FROM core.employer_industry i WHERE i.employer_key = c.employer_key)"
    assert report.by_class["industry"] == pytest.approx(_dollars(sample, f"NOT e.is_generic AND {industry}"))
    assert 0 < report.real_employer_coverage < 1
    assert mapping_report(sample.conn, cycle=1980).total_dollars == 0  # a cycle with nothing loaded
