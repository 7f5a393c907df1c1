"""Score checks over the real scores of the 2020 sample (compute_scores), and each way a row can be wrong."""

from __future__ import annotations

import pytest

from fecflow.checks.scores import ScoreSlot, check_scores
from fecflow.checks.tolerances import Tolerances
from integration.checks.checks_helpers import failed_names, only
from integration.checks.sample_db import SCORES_AS_OF, Sample

pytestmark = pytest.mark.integration


def slot(sample: Sample) -> tuple[ScoreSlot]:
    return (ScoreSlot(sample.ids.scores_method, SCORES_AS_OF),)


def scored_rows(sample: Sample, count: int = 1, entity_type: str = "committee") -> list[int]:
    rows = sample.conn.execute(
        "SELECT score_id FROM scores.leaning_score WHERE valid_to IS NULL AND score IS NOT NULL "
        "AND entity_type = %s AND score < 0.9 ORDER BY score_id LIMIT %s",
        (entity_type, count),
    ).fetchall()
    assert len(rows) == count
    return [int(r[0]) for r in rows]


def a_scored_row(sample: Sample) -> int:
    return scored_rows(sample)[0]


def test_real_scores_pass(sample: Sample, tolerances: Tolerances) -> None:
    results = check_scores(sample.conn, tolerances, slot(sample))
    assert [r.status for r in results] == ["passed"] * 5, [r.describe() for r in results]
    details = only(results, "scores.range").details
    assert details["scored"] > 100 and details["null_scores"] > 100  # real data has both
    assert not failed_names(check_scores(sample.conn, tolerances))  # every current row


def test_interval_not_around_the_score_fails(sample: Sample, tolerances: Tolerances) -> None:
    score_id = a_scored_row(sample)
    sample.execute("UPDATE scores.leaning_score SET ci_low = score + 0.01 WHERE score_id = %s", (score_id,))
    results = check_scores(sample.conn, tolerances, slot(sample))
    assert failed_names(results) == {"scores.interval"}
    assert only(results, "scores.interval").observed == 1


def test_second_open_row_fails(sample: Sample, tolerances: Tolerances) -> None:
    score_id = a_scored_row(sample)
    columns = (
        "entity_type, candidate_key, committee_key, employer_key, industry_key, method_version, as_of, "
        "window_start, window_end, valid_from, valid_to, score, ci_low, ci_high, dem_amount, rep_amount, "
        "other_amount, n_contributions, n_donors, reason, run_id"
    )
    sample.execute(
        f"INSERT INTO scores.leaning_score ({columns}) SELECT {columns} FROM scores.leaning_score "  # noqa: S608
        "WHERE score_id = %s",
        (score_id,),
    )
    results = check_scores(sample.conn, tolerances, slot(sample))
    assert failed_names(results) == {"scores.one_open_row"}


def test_score_without_enough_support_fails(sample: Sample, tolerances: Tolerances) -> None:
    few, no_money = scored_rows(sample, 2)
    # committees need min_contributions (scores.method.params) contributions, and net partisan money
    sample.execute("UPDATE scores.leaning_score SET n_contributions = 0 WHERE score_id = %s", (few,))
    sample.execute(
        "UPDATE scores.leaning_score SET dem_amount = 0, rep_amount = 0 WHERE score_id = %s", (no_money,)
    )
    results = check_scores(sample.conn, tolerances, slot(sample))
    assert failed_names(results) == {"scores.support"}
    assert only(results, "scores.support").observed == 2


def test_rows_the_schema_would_refuse_fail_too(sample: Sample, tolerances: Tolerances) -> None:
    """Out-of-range scores and NULL scores without reason (the table's check constraints, dropped here)."""
    for name in ("ck_leaning_score_score_range", "ck_leaning_score_null_has_reason"):
        sample.execute(f"ALTER TABLE scores.leaning_score DROP CONSTRAINT {name}")
    sample.execute(
        "UPDATE scores.leaning_score SET score = 1.2, ci_high = 1.3 WHERE score_id = %s",
        (a_scored_row(sample),),
    )
    sample.execute(
        "UPDATE scores.leaning_score SET reason = NULL WHERE score_id = ("
        "SELECT min(score_id) FROM scores.leaning_score WHERE score IS NULL AND valid_to IS NULL)"
    )
    results = check_scores(sample.conn, tolerances, slot(sample))
    assert failed_names(results) == {"scores.range", "scores.null_reason"}
