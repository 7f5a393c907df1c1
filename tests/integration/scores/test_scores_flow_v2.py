"""lean-2026.2 on small, controlled core rows: flows through committees computed by hand.

Expected values are worked out here from the documented formulas (docs/data/leaning-score.md,
"lean-2026.2"), step by step, not read back from the engine.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import psycopg
import pytest

from fecflow.normalize.sponsors import link_sponsors
from fecflow.scores import compute_scores
from fecflow.scores.beta import beta_interval
from fecflow.scores.explain import explain_entity
from fecflow.scores.export import export_scores
from fecflow.scores.method import METHOD_V1, METHOD_V2
from integration.scores.core_rows import CoreRows

pytestmark = pytest.mark.integration

AS_OF = dt.date(2019, 3, 31)
K, P0 = 2.0, 0.5  # lean-2026.2 prior


def _q(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.00001"), rounding=ROUND_HALF_EVEN)


def _beta(mean: float, var: float) -> tuple[Decimal, Decimal, Decimal]:
    kappa = mean * (1 - mean) / var - 1
    low, high = beta_interval(mean * kappa, (1 - mean) * kappa, 0.95)
    return _q(mean), _q(low), _q(high)


def _shrunk(n: float, share: float) -> float:
    return (n * share + K * P0) / (n + K)


def row(conn: psycopg.Connection, entity_type: str, key: int, method: str = METHOD_V2) -> dict:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT score, ci_low, ci_high, dem_amount, rep_amount, other_amount, n_contributions, n_donors, "  # noqa: S608 - fixed names
            "reason, n_effective, direct_amount, flowed_amount, own_pac_amount, own_pac_committee_key "
            f"FROM scores.leaning_score WHERE {entity_type}_key = %s AND method_version = %s AND valid_to IS NULL",
            (key, method),
        )
        names = [d.name for d in cur.description or ()]
        rows = cur.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


@pytest.fixture
def world(core: CoreRows) -> CoreRows:
    core.campaign("H8DEM0001", "DEM", "C00000001")
    core.campaign("H8REP0001", "REP", "C00000003")
    core.committee("C00000010", committee_type="Y", party="DEM")
    core.committee("C00401224", committee_type="V", name="ACTBLUE")
    for pac in ("C00000020", "C00000021", "C00000022", "C00000023", "C00000024", "C00000025", "C00000040"):
        core.committee(pac, committee_type="Q")
    core.committee("C00000030", committee_type="N", designation="J", name="VICTORY JFC")
    core.committee("C00000031", committee_type="N", designation="J", name="TRANSFER JFC")
    core.commit()
    return core


def _compute(core: CoreRows, method: str = METHOD_V2) -> None:
    compute_scores(core.conn, run_id=core.run(), as_of=AS_OF, method_version=method)


def test_pac_to_pac_to_candidates_passes_money_in_proportion(
    world: CoreRows, conn: psycopg.Connection
) -> None:
    # PAC A gives $100 to PAC B and $100 to R; PAC B gives $300 to D and $100 to R.
    world.give("C00000021", 100, "2018-03-01", source="oth", contributor="C00000020")
    world.give("C00000003", 100, "2018-03-02", source="pas2", contributor="C00000020", candidate="H8REP0001")
    world.give("C00000001", 300, "2018-03-03", source="pas2", contributor="C00000021", candidate="H8DEM0001")
    world.give("C00000003", 100, "2018-03-04", source="pas2", contributor="C00000021", candidate="H8REP0001")
    world.employer("ACME")
    world.give("C00000020", 50, "2018-04-01", donor="X", employer="ACME")
    world.commit()
    _compute(world)

    # B: deciders D $300, R $100 -> S = 0.25, Kish n = 400^2 / (300^2 + 100^2) = 1.6.
    m_b = _shrunk(1.6, 0.25)
    v_b = m_b * (1 - m_b) / (1.6 + K + 1)
    # A: deciders R $100 and B once ($100, share m_b) -> n = 2.
    m_a = _shrunk(2.0, (100 + 100 * m_b) / 200)
    v_a = m_a * (1 - m_a) / (2 + K + 1) + 0.5**2 * v_b
    # ACME: one decider (PAC A) -> n = 1; A's variance passes on whole.
    m_e = _shrunk(1.0, m_a)
    v_e = m_e * (1 - m_e) / (1 + K + 1) + v_a

    b = row(conn, "committee", world.committees["C00000021"])
    assert (b["score"], b["ci_low"], b["ci_high"]) == _beta(m_b, v_b)
    a = row(conn, "committee", world.committees["C00000020"])
    assert (a["score"], a["ci_low"], a["ci_high"]) == _beta(m_a, v_a)
    # A dollar to A ends 0.5 at R directly and 0.5 * (0.75 D, 0.25 R) through B.
    assert (a["dem_amount"], a["rep_amount"], a["other_amount"]) == (Decimal("75.00"), Decimal("125.00"), 0)
    assert (a["direct_amount"], a["flowed_amount"]) == (Decimal("100.00"), Decimal("100.00"))
    e = row(conn, "employer", world.employers["ACME"])
    assert (e["score"], e["ci_low"], e["ci_high"]) == _beta(m_e, v_e)
    assert (e["dem_amount"], e["rep_amount"]) == (Decimal("18.75"), Decimal("31.25"))
    assert (e["direct_amount"], e["flowed_amount"]) == (0, Decimal("50.00"))
    assert e["ci_high"] - e["ci_low"] >= a["ci_high"] - a["ci_low"]  # never narrower than A's


def test_cycle_between_two_committees_converges_and_a_closed_cycle_is_reported(
    world: CoreRows, conn: psycopg.Connection
) -> None:
    # C22 -> C23 $100; C23 -> C22 $50 and -> R $50: every dollar ends at R after the loop.
    world.give("C00000023", 100, "2018-03-01", source="oth", contributor="C00000022")
    world.give("C00000022", 50, "2018-03-02", source="oth", contributor="C00000023")
    world.give("C00000003", 50, "2018-03-03", source="pas2", contributor="C00000023", candidate="H8REP0001")
    # C24 <-> C25 only: no partisan destination.
    world.give("C00000025", 70, "2018-03-01", source="oth", contributor="C00000024")
    world.give("C00000024", 70, "2018-03-02", source="oth", contributor="C00000025")
    world.commit()
    _compute(world)

    # Means: m22 = shrunk(1, m23); m23 = shrunk(2, (50 + 50 m22) / 100)  =>  m22 = 6 / 11.
    m22 = 6 / 11
    m23 = _shrunk(2.0, (50 + 50 * m22) / 100)
    assert abs(m22 - _shrunk(1.0, m23)) < 1e-12
    c22 = row(conn, "committee", world.committees["C00000022"])
    assert c22["score"] == _q(m22)
    assert (c22["dem_amount"], c22["rep_amount"], c22["other_amount"]) == (0, Decimal("100.00"), 0)
    assert row(conn, "committee", world.committees["C00000023"])["score"] == _q(m23)
    for pac in ("C00000024", "C00000025"):
        closed = row(conn, "committee", world.committees[pac])
        assert closed["score"] is None and closed["reason"].startswith("closed_cycle:")


def test_jfc_money_follows_15j_memos_else_transfers(world: CoreRows, conn: psycopg.Connection) -> None:
    world.employer("ACME")
    world.employer("GLOBEX")
    # Y gives $1,000 to the JFC; its participants report 15J memos of $600 (D) and $400 (R).
    world.give("C00000030", 1000, "2018-05-01", donor="Y", employer="ACME")
    world.give("C00000001", 600, "2018-05-02", donor="Y", source="oth", transaction_type="15J", counts=False)
    world.give("C00000003", 400, "2018-05-02", donor="Y", source="oth", transaction_type="15J", counts=False)
    # The transfer JFC has no memos: its 24G transfers (3/4 to the D party, 1/4 to R) decide.
    world.give("C00000031", 200, "2018-05-01", donor="Z", employer="GLOBEX")
    for recipient, amount in (("C00000010", 150), ("C00000003", 50)):
        world.give(
            recipient, amount, "2018-05-10", source="oth", contributor="C00000031",
            transaction_type="24G", counts=False, category="transfer",
        )  # fmt: skip
    world.commit()
    _compute(world)

    acme = row(conn, "employer", world.employers["ACME"])
    assert (acme["dem_amount"], acme["rep_amount"]) == (Decimal("600.00"), Decimal("400.00"))
    jfc = row(conn, "committee", world.committees["C00000030"])
    assert jfc["score"] == _q(_shrunk(1000**2 / (600**2 + 400**2), 0.4))
    assert jfc["n_contributions"] == 2  # the two memos it rests on
    globex = row(conn, "employer", world.employers["GLOBEX"])
    assert (globex["dem_amount"], globex["rep_amount"]) == (Decimal("150.00"), Decimal("50.00"))


def test_a_donor_to_two_jfcs_does_not_lend_one_jfcs_memos_to_the_other(
    world: CoreRows, conn: psycopg.Connection
) -> None:
    """Memos without the JFC's id: a donor to two JFCs matches each JFC only to its own participants
    (those its transfers reached), not to both JFCs' memos."""
    world.employer("ACME")
    world.employer("GLOBEX")
    world.give("C00000030", 100, "2018-05-01", donor="W", employer="ACME")
    world.give("C00000031", 100, "2018-05-01", donor="W", employer="GLOBEX")
    world.give("C00000001", 100, "2018-05-02", donor="W", source="oth", transaction_type="15J", counts=False)
    world.give("C00000003", 100, "2018-05-02", donor="W", source="oth", transaction_type="15J", counts=False)
    for jfc, participant in (("C00000030", "C00000001"), ("C00000031", "C00000003")):
        world.give(
            participant, 100, "2018-05-10", source="oth", contributor=jfc,
            transaction_type="24G", counts=False, category="transfer",
        )  # fmt: skip
    world.commit()
    _compute(world)

    acme, globex = (
        row(conn, "employer", world.employers["ACME"]),
        row(conn, "employer", world.employers["GLOBEX"]),
    )
    assert (acme["dem_amount"], acme["rep_amount"]) == (Decimal("100.00"), 0)  # JFC 30's participant: D
    assert (globex["dem_amount"], globex["rep_amount"]) == (0, Decimal("100.00"))  # JFC 31's: R


def test_conduit_earmark_counts_once_at_the_final_recipient(
    world: CoreRows, conn: psycopg.Connection
) -> None:
    world.employer("ACME")
    world.give(
        "C00000003",
        200,
        "2018-05-01",
        donor="W",
        employer="ACME",
        transaction_type="15E",
        contributor="C00401224",
    )
    world.give(
        "C00000003", 200, "2018-05-02", source="oth", contributor="C00401224",
        transaction_type="24T", counts=False, category="conduit_passthrough",
    )  # fmt: skip
    world.give(
        "C00401224", 35, "2018-05-01", donor="W", employer="ACME"
    )  # to the conduit itself: never counted
    world.commit()
    _compute(world)
    acme = row(conn, "employer", world.employers["ACME"])
    assert (acme["dem_amount"], acme["rep_amount"], acme["other_amount"]) == (0, Decimal("200.00"), 0)
    assert (acme["direct_amount"], acme["flowed_amount"]) == (Decimal("200.00"), 0)
    assert conn.execute(
        "SELECT count(*) FROM scores.leaning_score WHERE committee_key = %s", (world.committees["C00401224"],)
    ).fetchone() == (0,)


def test_gifts_to_the_employers_own_pac_are_reported_apart(world: CoreRows, conn: psycopg.Connection) -> None:
    world.conn.execute(
        "UPDATE core.committee SET organization_type = 'C', connected_organization = 'ACME CORPORATION' "
        "WHERE committee_id = 'C00000040'"
    )
    assert link_sponsors(world.conn, run_id=world.run()) == {"opened": 1, "closed": 0}
    world.employer("ACME")
    for day in ("2018-03-01", "2018-03-02", "2018-03-03"):  # three R gifts: derived R under lean-2026.1
        world.give("C00000003", 100, day, source="pas2", contributor="C00000040", candidate="H8REP0001")
    for donor in ("P1", "P2", "P3"):  # payroll gifts to the own PAC
        world.give("C00000040", 500, "2018-04-01", donor=donor, employer="ACME")
    world.give("C00000001", 100, "2018-04-02", donor="P4", employer="ACME")  # an employee's own choice
    world.commit()
    _compute(world)
    acme = row(conn, "employer", world.employers["ACME"])
    assert acme["own_pac_amount"] == Decimal("1500.00")
    assert acme["own_pac_committee_key"] == world.committees["C00000040"]
    assert (acme["dem_amount"], acme["rep_amount"], acme["flowed_amount"]) == (Decimal("100.00"), 0, 0)
    assert acme["score"] == _q(_shrunk(1.0, 0.0))
    # lean-2026.1 side by side: the payroll money decides its score (the PAC is derived R).
    _compute(world, METHOD_V1)
    old = row(conn, "employer", world.employers["ACME"], METHOD_V1)
    assert old["rep_amount"] == Decimal("1500.00") and old["own_pac_amount"] is None


def test_same_rows_in_another_load_order_give_identical_scores(
    world: CoreRows, conn: psycopg.Connection
) -> None:
    world.employer("ACME")
    gifts = [
        ("C00000021", 100, "2018-03-01", {"source": "oth", "contributor": "C00000020"}),
        (
            "C00000003",
            70,
            "2018-03-02",
            {"source": "pas2", "contributor": "C00000020", "candidate": "H8REP0001"},
        ),
        (
            "C00000001",
            30,
            "2018-03-03",
            {"source": "pas2", "contributor": "C00000021", "candidate": "H8DEM0001"},
        ),
        ("C00000020", 20, "2018-03-05", {"source": "oth", "contributor": "C00000021"}),
        ("C00000020", 40, "2018-04-01", {"donor": "A", "employer": "ACME"}),
        ("C00000001", 25, "2018-04-02", {"donor": "B", "employer": "ACME"}),
        ("C00000003", 60, "2018-04-03", {"donor": "C", "employer": "ACME"}),
    ]
    results = []
    for order in (gifts, gifts[::-1]):
        world.conn.execute("DELETE FROM scores.leaning_score")
        world.conn.execute("DELETE FROM core.contribution")
        for recipient, amount, day, kw in order:
            world.give(recipient, amount, day, **kw)
        world.commit()
        _compute(world)
        results.append(
            conn.execute(
                "SELECT entity_type, coalesce(committee_key, employer_key, candidate_key, industry_key), score, "
                "ci_low, ci_high, dem_amount, rep_amount, n_effective FROM scores.leaning_score ORDER BY 1, 2"
            ).fetchall()
        )
    assert results[0] == results[1]
    assert len(results[0]) >= 4


def test_explain_and_export_show_what_the_score_rests_on(
    world: CoreRows, conn: psycopg.Connection, tmp_path: Path
) -> None:
    world.conn.execute(
        "UPDATE core.committee SET organization_type = 'C', connected_organization = 'ACME CORP' "
        "WHERE committee_id = 'C00000040'"
    )
    link_sponsors(world.conn, run_id=world.run())
    world.employer("ACME")
    world.give("C00000003", 300, "2018-03-01", source="pas2", contributor="C00000040", candidate="H8REP0001")
    world.give("C00000001", 100, "2018-03-01", source="pas2", contributor="C00000020", candidate="H8DEM0001")
    world.give("C00000003", 100, "2018-03-02", source="pas2", contributor="C00000020", candidate="H8REP0001")
    world.give("C00000040", 900, "2018-04-01", donor="P1", employer="ACME")  # own PAC: apart
    world.give("C00000020", 80, "2018-04-01", donor="A", employer="ACME")  # through PAC C20: half R
    world.give("C00000003", 20, "2018-04-02", donor="B", employer="ACME")  # direct R
    world.commit()
    _compute(world)

    ex = explain_entity(conn, "employer", "ACME", as_of=AS_OF, method_version=METHOD_V2)
    conn.rollback()
    assert (ex.score["direct_amount"], ex.score["flowed_amount"]) == (Decimal("20.00"), Decimal("80.00"))
    assert [(f.committee_id, f.partisan_amount, f.share) for f in ex.flows] == [
        ("C00000020", Decimal("80.00"), Decimal("0.800"))
    ]
    c20 = row(conn, "committee", world.committees["C00000020"])
    assert (ex.flows[0].score, ex.flows[0].ci_low, ex.flows[0].ci_high) == (
        c20["score"],
        c20["ci_low"],
        c20["ci_high"],
    )
    assert ex.own_pac is not None and ex.own_pac["committee_id"] == "C00000040"
    # Kish over two deciders ($20 direct, $80 through C20): n = 100^2 / (20^2 + 80^2) = 1.47.
    assert ex.score["n_effective"] == Decimal("1.47") and ex.score["n_donors"] == 2

    result = export_scores(conn, as_of=AS_OF, output=tmp_path / "v2.csv", method_version=METHOD_V2)
    with result.path.open(encoding="utf-8") as fh:
        acme = next(r for r in csv.DictReader(fh) if r["entity_id"] == "ACME")
    pac = row(conn, "committee", world.committees["C00000040"])
    assert (acme["own_pac_amount"], acme["own_pac_committee_id"]) == ("900.00", "C00000040")
    assert (acme["own_pac_score"], acme["own_pac_ci_low"]) == (str(pac["score"]), str(pac["ci_low"]))
    assert acme["n_effective"] == str(ex.score["n_effective"])


def test_a_party_committee_keeps_its_party_when_linked_to_a_candidate(
    world: CoreRows, conn: psycopg.Connection
) -> None:
    """cm/ccl can link a party committee to a candidate (the 2020 sample: the Republican Party of Texas,
    C00143743, to S2TX00106). lean-2026.2 keeps the party's side and says so; lean-2026.1 is unchanged."""
    world.committee("C00000050", committee_type="Y", party="REP", candidate_id="H8DEM0001", name="GOP OF X")
    world.employer("ACME")
    for donor in ("A", "B", "C"):
        world.give("C00000050", 100, "2018-04-01", donor=donor, employer="ACME")
    world.commit()
    _compute(world)
    _compute(world, METHOD_V1)

    new, old = (
        row(conn, "employer", world.employers["ACME"]),
        row(conn, "employer", world.employers["ACME"], METHOD_V1),
    )
    assert (new["dem_amount"], new["rep_amount"]) == (0, Decimal("300.00"))  # the party's side: R
    assert (old["dem_amount"], old["rep_amount"]) == (Decimal("300.00"), 0)  # lean-2026.1 as before: the link
    ex = explain_entity(conn, "employer", "ACME", as_of=AS_OF)
    assert [(line.recipient_id, line.side, line.basis) for line in ex.recipients] == [
        ("C00000050", "R", "party")
    ]
