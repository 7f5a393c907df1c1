"""Itemized contributions vs the FEC summary files of the same (real, March 2019) snapshot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fecflow.checks.reconciliation import check_reconciliation, reconcile_committees
from fecflow.checks.tolerances import Tolerances
from integration.checks.checks_helpers import failed_names, only
from integration.checks.sample_db import CYCLE, Sample

pytestmark = pytest.mark.integration


def test_real_sample_differences_are_explained(sample: Sample, tolerances: Tolerances) -> None:
    results = check_reconciliation(sample.conn, CYCLE, tolerances)
    assert not failed_names(results), [r.describe() for r in results]
    total = only(results, "reconciliation.itemized_vs_summary_total")
    # itemized is a third of the summaries: the rest is unitemized money, only in weball/webk
    assert total.status == "warning"
    assert (total.observed, total.expected) == (Decimal("27300885.00"), Decimal("79608747.52"))
    assert "unitemized" in total.message
    over = only(results, "reconciliation.committees_over_summary")
    assert over.status == "warning" and over.details["over"] == 2 and over.details["reconciled"] == 951
    committees = {r.scope.split()[0] for r in results if r.name == "reconciliation.committee"}
    assert committees == {"committee:C00653659", "committee:C00032995"}
    assert all(r.status == "warning" for r in results if r.name == "reconciliation.committee")
    # type 10 (Super PAC / non-contribution account) money is not in INDV_CONTRIB: set aside, reported
    other = only(results, "reconciliation.other_summary_lines")
    assert other.status == "warning" and other.observed == Decimal("2326384.00")


def test_candidate_committees_come_from_weball(sample: Sample) -> None:
    committees, snapshots = reconcile_committees(sample.conn, CYCLE)
    assert snapshots["weball"] == sample.sfid("weball") and snapshots["webk"] == sample.sfid("webk")
    by_id = {c.committee_id: c for c in committees}
    # EPSTEIN, LENA ROSE is in weball twice (House and Senate) with one committee: counted once
    lena = by_id["C00641498"]
    assert (lena.summary_file, lena.summary_refunds, lena.itemized_refunds) == (
        "weball",
        Decimal("-5550"),
        Decimal("-5550.00"),
    )


def test_refunds_counted_as_contributions_fail(sample: Sample, tolerances: Tolerances) -> None:
    """A counting-rule bug: 22Y refunds stamped as contributions push committees over their summary."""
    changed = sample.execute("UPDATE core.contribution SET is_refund = false WHERE transaction_type = '22Y'")
    assert changed > 4000
    results = check_reconciliation(sample.conn, CYCLE, tolerances)
    over = only(results, "reconciliation.committees_over_summary")
    assert over.status == "failed"
    assert over.observed == pytest.approx(15 / 951)
    assert "C00650077 (weball): contributions $60,048.00 > summary $0.00" in over.message
    lenient = tolerances.with_values({"reconciliation_max_share_over": 0.05}, origin="test")
    assert (
        only(
            check_reconciliation(sample.conn, CYCLE, lenient), "reconciliation.committees_over_summary"
        ).status
        == "warning"
    )


def test_stale_summaries_fail_the_total(sample: Sample, tolerances: Tolerances) -> None:
    for table, column in (("webk", "indv_contrib"), ("weball", "ttl_indiv_contrib")):
        sample.execute(
            f"UPDATE staging.{table} SET {column} = ({column}::numeric / 10)::text "  # noqa: S608
            f"WHERE {column} ~ '^[0-9.]+$'"
        )
    results = check_reconciliation(sample.conn, CYCLE, tolerances)
    assert failed_names(results) == {
        "reconciliation.committees_over_summary",
        "reconciliation.itemized_vs_summary_total",
    }
    total = only(results, "reconciliation.itemized_vs_summary_total")
    assert (
        total.observed == Decimal("27300885.00") and "counted twice or summaries are stale" in total.message
    )


def test_without_summary_files_nothing_is_reconciled(sample: Sample, tolerances: Tolerances) -> None:
    sample.execute(
        "UPDATE ops.ingest_run_audits SET status = 'failed' WHERE stage = 'stage' AND source_file_id = ANY(%s)",
        ([sample.sfid("webk"), sample.sfid("weball")],),
    )
    (result,) = check_reconciliation(sample.conn, CYCLE, tolerances)
    assert (result.name, result.status) == ("reconciliation.summary_files", "warning")
