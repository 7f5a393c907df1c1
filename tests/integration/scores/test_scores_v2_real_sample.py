"""lean-2026.2 properties on the real 2020 sample (as of 2019-03-31), beside lean-2026.1.

The sample database comes from ``test_scores_real_sample`` (staged, normalized, scored with
lean-2026.1); this module adds lean-2026.2 scores to its own copy. Run with ``-s`` to see the four
cases of issue #16 printed (the figures in docs/data/leaning-score.md come from that print).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from fecflow.checks.scores import ScoreSlot, check_scores
from fecflow.checks.tolerances import Tolerances
from fecflow.db import ops
from fecflow.scores import compute_scores
from fecflow.scores.engine_v2 import build_graph_tables
from fecflow.scores.method import METHOD_V1, METHOD_V2
from fecflow.scores.windows import window_ending
from integration.scores.test_scores_real_sample import sample_db  # noqa: F401 - the module's database

pytestmark = pytest.mark.integration

AS_OF = dt.date(2019, 3, 31)
CASES = ("MICROSOFT", "PRICEWATERHOUSECOOPERS", "FEDERAL AVIATION ADMINISTRATION", "GOOGLE")
DOMINANT = 0.8


@pytest.fixture(scope="module")
def v2_db(sample_db: str) -> Iterator[str]:  # noqa: F811 - the imported fixture
    with psycopg.connect(sample_db) as conn:
        compute_scores(conn, run_id=ops.start_run(conn, "test v2", {}), as_of=AS_OF, method_version=METHOD_V2)
    yield sample_db


def _employer_rows(conn: psycopg.Connection, method: str) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT e.canonical_name, s.score, s.ci_low, s.ci_high, s.dem_amount, s.rep_amount, s.n_donors, "
            "s.n_effective, s.own_pac_amount, s.reason FROM scores.leaning_score s JOIN core.employer e "
            "USING (employer_key) WHERE s.method_version = %s AND s.valid_to IS NULL AND s.as_of = %s",
            (method, AS_OF),
        )
    }


def test_both_methods_are_stored_side_by_side(v2_db: str) -> None:
    with psycopg.connect(v2_db) as conn:
        counts = dict(
            conn.execute(
                "SELECT method_version, count(*) FILTER (WHERE score IS NOT NULL) FROM scores.leaning_score "
                "WHERE valid_to IS NULL GROUP BY 1"
            ).fetchall()
        )
    assert counts[METHOD_V1] > 500 and counts[METHOD_V2] > 500, counts


def test_the_score_checks_pass_on_lean_2026_2_rows(v2_db: str) -> None:
    with psycopg.connect(v2_db) as conn:
        results = check_scores(conn, Tolerances(), [ScoreSlot(METHOD_V2, AS_OF)])
    failed = [r for r in results if r.failed]
    assert results and failed == []


def test_no_employer_through_one_committee_is_surer_than_that_committee(v2_db: str) -> None:
    window = window_ending(AS_OF)
    with psycopg.connect(v2_db) as conn:
        build_graph_tables(conn, window)
        dominant = conn.execute(
            "WITH via AS ("
            " SELECT f.employer_key, fl.committee_key, sum(f.net * fl.partisan) AS u FROM _sc_fact f"
            " JOIN _sc_flow fl ON f.side IS NULL AND fl.committee_key = f.payee_key"
            " JOIN core.employer e ON e.employer_key = f.employer_key AND NOT e.is_generic"
            " WHERE f.source = 'indiv' AND NOT EXISTS (SELECT 1 FROM _sc_own_pac o"
            "  WHERE o.employer_key = f.employer_key AND o.committee_key = f.payee_key)"
            " GROUP BY 1, 2"
            ") SELECT v.employer_key, v.committee_key, v.u / (s.direct_amount + s.flowed_amount),"
            " s.ci_high - s.ci_low, c.ci_high - c.ci_low FROM via v"
            " JOIN scores.leaning_score s ON s.employer_key = v.employer_key AND s.method_version = %(m)s"
            " AND s.valid_to IS NULL AND s.score IS NOT NULL"
            " JOIN scores.leaning_score c ON c.committee_key = v.committee_key AND c.method_version = %(m)s"
            " AND c.valid_to IS NULL AND c.score IS NOT NULL"
            " WHERE v.u >= %(dominant)s * (s.direct_amount + s.flowed_amount)",
            {"m": METHOD_V2, "dominant": DOMINANT},
        ).fetchall()
        conn.rollback()
    print(f"\n{len(dominant)} employers with >= {DOMINANT:.0%} of their partisan money through one committee")
    assert len(dominant) >= 5  # the property is exercised, not vacuous
    narrower = [r for r in dominant if r[3] < r[4]]
    assert narrower == []


def test_payroll_gifts_to_the_own_pac_are_absent_from_the_employer_score(v2_db: str) -> None:
    """Deleting every gift to an employer's own PAC leaves its score exactly as it was."""
    with psycopg.connect(v2_db) as conn:
        before = _employer_rows(conn, METHOD_V2)
        own = {name: row for name, row in before.items() if row[7] and row[7] > 0}
        print(f"\n{len(own)} employers whose people gave to their own PAC in the window")
        assert len(own) >= 5
        conn.execute(
            "UPDATE core.contribution c SET deleted_at = now() FROM core.committee_sponsor s "
            "JOIN core.employer e ON e.canonical_name = s.sponsor_name "
            "WHERE s.valid_to IS NULL AND c.employer_key = e.employer_key AND c.source = 'indiv' "
            "AND c.recipient_committee_key = s.committee_key AND c.deleted_at IS NULL"
        )
        conn.commit()
        try:
            compute_scores(
                conn, run_id=ops.start_run(conn, "test v2", {}), as_of=AS_OF, method_version=METHOD_V2
            )
            after = _employer_rows(conn, METHOD_V2)
        finally:
            conn.execute("UPDATE core.contribution SET deleted_at = NULL WHERE deleted_at IS NOT NULL")
            conn.commit()
            compute_scores(
                conn, run_id=ops.start_run(conn, "test v2", {}), as_of=AS_OF, method_version=METHOD_V2
            )
    for name, row in own.items():
        if name not in after:  # every counted gift went to the own PAC: nothing was scored before either
            assert row[0] is None and row[3] == row[4] == 0, name
            continue
        assert after[name][:7] == row[:7], name  # score, interval, money, donors, n_effective


def test_the_four_cases_of_issue_16(v2_db: str) -> None:
    with psycopg.connect(v2_db) as conn:
        old, new = _employer_rows(conn, METHOD_V1), _employer_rows(conn, METHOD_V2)
        linked = conn.execute(
            "SELECT count(DISTINCT e.employer_key), count(DISTINCT s.committee_key) FROM core.committee_sponsor s "
            "JOIN core.employer e ON e.canonical_name = s.sponsor_name AND NOT e.is_generic WHERE s.valid_to IS NULL"
        ).fetchone()
        sponsors = conn.execute(
            "SELECT count(*) FROM core.committee_sponsor WHERE valid_to IS NULL"
        ).fetchone()
    print(
        f"\nsponsor links: {sponsors[0]} PACs; {linked[0]} employers (of the scored ones' table) have a linked PAC"
    )
    print("| employer | lean-2026.1 | lean-2026.2 | own-PAC money (2026.2) | donors | effective deciders |")
    for name in CASES:
        o, n = old[name], new[name]
        print(
            f"| {name} | {o[0]} [{o[1]}, {o[2]}] | {n[0]} [{n[1]}, {n[2]}] | ${n[7]:,} | {n[5]} | {n[6]} |"
            if n[0] is not None
            else f"| {name} | {o[0]} [{o[1]}, {o[2]}] | none ({n[8]}) | ${n[7]:,} | {n[5]} | - |"
        )
    assert linked is not None and linked[0] >= 5
    for name in ("MICROSOFT", "PRICEWATERHOUSECOOPERS"):  # both gave mostly through their own PAC
        assert new[name][7] > 0, name
        assert new[name][0] is None or (new[name][2] - new[name][1]) > (old[name][2] - old[name][1]), name
