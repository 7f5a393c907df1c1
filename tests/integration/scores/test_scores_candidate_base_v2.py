"""lean-2026.2 candidate donor base: it says what it rests on, and declines when that is a sliver."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from fecflow.scores import compute_scores
from fecflow.scores.method import DEFAULT_PARAMS_V2, METHOD_V1, METHOD_V2
from integration.scores.core_rows import CoreRows

pytestmark = pytest.mark.integration

AS_OF = dt.date(2019, 3, 31)

_MANY_DONORS_SQL = (
    "INSERT INTO core.contribution (sub_id, source, cycle, recipient_committee_key, donor_key, entity_type, "
    "transaction_type, transaction_date, transaction_date_raw, amount, rule_version, category, "
    "counts_as_contribution, is_refund, filer_side, row_hash) "
    "SELECT 2000000000000000000 + g, 'indiv', 2018, %(committee)s, 'D' || g, 'IND', '15', DATE '2018-06-01', "
    "'06012018', 50, 'test', 'contribution', true, false, 'recipient', 'hd' || g FROM generate_series(1, %(n)s) g"
)


def _candidate(conn: psycopg.Connection, key: int, method: str) -> tuple:
    row = conn.execute(
        "SELECT score, reason, n_donors, base_donor_share, base_dollar_share FROM scores.leaning_score "
        "WHERE candidate_key = %s AND method_version = %s AND valid_to IS NULL",
        (key, method),
    ).fetchone()
    assert row is not None
    return row


def test_a_base_of_11_donors_out_of_190000_gets_no_score(core: CoreRows, conn: psycopg.Connection) -> None:
    core.campaign("P8DEM0001", "DEM", "C00000001")
    core.campaign("P8REP0001", "REP", "C00000003")
    core.conn.execute(_MANY_DONORS_SQL, {"committee": core.committees["C00000001"], "n": 190_000})
    for i in range(1, 12):  # 11 of them also gave to the Republican
        core.give("C00000003", 100, "2018-07-01", donor=f"D{i}")
    core.commit()
    for method in (METHOD_V1, METHOD_V2):
        compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=method)

    key = core.candidates["P8DEM0001"]
    old_score, _, old_donors, _, _ = _candidate(conn, key, METHOD_V1)
    assert old_score is not None and old_score > 0.5 and old_donors == 11  # confidently inverted
    score, reason, n_donors, donor_share, dollar_share = _candidate(conn, key, METHOD_V2)
    assert score is None and reason.startswith("unrepresentative_base:")
    assert n_donors == 11
    assert float(donor_share) == pytest.approx(11 / 190_000, abs=1e-5)
    assert float(dollar_share) == pytest.approx(11 / 190_000, abs=1e-5)


def test_a_base_above_the_minimum_share_is_scored(core: CoreRows, conn: psycopg.Connection) -> None:
    core.campaign("P8DEM0001", "DEM", "C00000001")
    core.campaign("P8REP0001", "REP", "C00000003")
    core.campaign("P8DEM0002", "DEM", "C00000002")
    for i in range(10):
        core.give("C00000001", 100, "2018-06-01", donor=f"D{i}")
    for i in range(3):  # 30% of the donors (and dollars) also gave elsewhere: D, D, R
        core.give("C00000002" if i < 2 else "C00000003", 100, "2018-07-01", donor=f"D{i}")
    core.commit()
    compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V2)
    score, reason, n_donors, donor_share, dollar_share = _candidate(conn, core.candidates["P8DEM0001"], METHOD_V2)
    assert DEFAULT_PARAMS_V2.min_base_donor_share <= 0.3
    assert reason is None and n_donors == 3
    assert (float(donor_share), float(dollar_share)) == (0.3, 0.3)
    # Three equal deciders, shares 0, 0, 1: n = 3, S = 1/3, shrunk with k = 2 toward 0.5.
    assert float(score) == pytest.approx((3 * (1 / 3) + 1) / 5, abs=1e-5)
    # 70% of the dollars are unseen: the interval leaves at least 0.7 of the scale open.
    low, high = conn.execute(
        "SELECT ci_low, ci_high FROM scores.leaning_score WHERE entity_type = 'candidate' AND candidate_key = %s "
        "AND method_version = %s AND valid_to IS NULL",
        (core.candidates["P8DEM0001"], METHOD_V2),
    ).fetchone()
    assert low <= score <= high and float(high - low) >= 0.7
