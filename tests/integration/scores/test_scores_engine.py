"""compute_scores on small, controlled core rows with hand-computed expected scores."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from fecflow.errors import DataError
from fecflow.scores import METHOD_V1, compute_scores
from integration.scores.core_rows import CoreRows

pytestmark = pytest.mark.integration

AS_OF = dt.date(2019, 3, 31)  # 24-month window: 2017-04-01 .. 2019-03-31


def _beta_cdf_poly(x: float, a: int, b: int) -> float:
    """I_x(a, b) for integer a, b by the binomial sum (independent of fecflow.scores.beta)."""
    from math import comb

    n = a + b - 1
    return sum(comb(n, j) * x**j * (1 - x) ** (n - j) for j in range(a, n + 1))


def _quantile_by_bisection(p: float, a: int, b: int) -> Decimal:
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _beta_cdf_poly(mid, a, b) < p else (lo, mid)
    return Decimal(str(round((lo + hi) / 2, 5))).quantize(Decimal("0.00001"))


def score_row(conn: psycopg.Connection, entity_type: str, key: int) -> dict:
    column = f"{entity_type}_key"
    row = conn.execute(
        "SELECT score, ci_low, ci_high, dem_amount, rep_amount, other_amount, n_contributions, n_donors, reason, "  # noqa: S608 - fixed names
        f"window_start, window_end FROM scores.leaning_score WHERE {column} = %s AND valid_to IS NULL",
        (key,),
    ).fetchall()
    assert len(row) == 1, row
    names = (
        "score",
        "ci_low",
        "ci_high",
        "dem",
        "rep",
        "other",
        "n_contributions",
        "n_donors",
        "reason",
        "start",
        "end",
    )
    return dict(zip(names, row[0], strict=True))


@pytest.fixture
def world(core: CoreRows) -> CoreRows:
    """Two D and two R campaigns, a Green one, party committees, PACs and ActBlue."""
    core.campaign("H8DEM0001", "DEM", "C00000001")
    core.campaign("H8DEM0002", "DFL", "C00000002")  # DFL counts as D
    core.campaign("H8REP0001", "REP", "C00000003")
    core.campaign("S8REP0002", "REP", "C00000004")
    core.campaign("H8GRE0001", "GRE", "C00000005")
    core.committee("C00000010", committee_type="Y", party="DEM")
    core.committee("C00000011", committee_type="Y", party="REP")
    core.committee("C00401224", committee_type="V", name="ACTBLUE")
    for pac in ("C00000020", "C00000021", "C00000022", "C00000023"):
        core.committee(pac, committee_type="Q")
    core.commit()
    return core


def test_employer_score_counts_nets_and_shrinks(world: CoreRows, conn: psycopg.Connection) -> None:
    world.employer("ACME CORP")
    world.give("C00000001", 100, "2018-05-01", donor="A", employer="ACME CORP")
    world.give("C00000003", 300, "2018-06-01", donor="B", employer="ACME CORP")
    world.give("C00000010", 100, "2018-07-01", donor="C", employer="ACME CORP")
    world.give("C00000010", 50, "2018-08-01", donor="C", employer="ACME CORP", refund=True)  # 22Y nets D
    world.give("C00000005", 500, "2018-09-01", donor="D", employer="ACME CORP")  # Green: other
    world.give("C00401224", 25, "2018-09-01", donor="E", employer="ACME CORP")  # to the conduit: never
    world.give("C00000003", 1000, "2018-09-02", donor="E", employer="ACME CORP", memo=True)  # memo: never
    world.give("C00000003", 1000, "2018-09-03", donor="E", employer="ACME CORP", deleted=True)  # deleted
    world.give(
        "C00000003", 1000, "2018-09-04", donor="E", employer="ACME CORP", counts=False, category="other"
    )
    world.commit()

    result = compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)

    row = score_row(conn, "employer", world.employers["ACME CORP"])
    # D = 100 + 100 - 50 = 150, R = 300: share 2/3 over 3 donors; Beta(3*2/3 + 1, 3*1/3 + 1) = Beta(3, 2).
    assert (row["dem"], row["rep"], row["other"]) == (Decimal("150.00"), Decimal("300.00"), Decimal("500.00"))
    assert (row["n_contributions"], row["n_donors"]) == (3, 3)
    assert row["score"] == Decimal("0.60000")
    assert row["ci_low"] == _quantile_by_bisection(0.025, 3, 2) == Decimal("0.19412")
    assert row["ci_high"] == _quantile_by_bisection(0.975, 3, 2) == Decimal("0.93241")
    assert row["reason"] is None
    assert (row["start"], row["end"]) == (dt.date(2017, 4, 1), AS_OF)
    assert result.entities["employer"].scored == 1
    assert result.stored.opened == sum(c.total for c in result.entities.values())


def test_committee_giving_only_to_republicans_scores_near_one(
    world: CoreRows, conn: psycopg.Connection
) -> None:
    give = world.give
    give("C00000003", 1000, "2018-05-01", source="pas2", contributor="C00000020", candidate="H8REP0001")
    give("C00000004", 2000, "2018-05-02", source="pas2", contributor="C00000020", candidate="S8REP0002")
    give("C00000011", 500, "2018-05-03", source="oth", contributor="C00000020")
    give(
        None, 300, "2018-05-04", source="pas2", contributor="C00000020", candidate="S8REP0002"
    )  # OTHER_ID blank
    give("C00000003", 500, "2018-05-05", source="oth", contributor="C00000020", refund=True)  # 17R: netted
    give(
        "C00000001",
        700,
        "2018-05-06",
        source="pas2",
        contributor="C00000020",
        candidate="H8DEM0001",
        transaction_type="24A",
        counts=False,
        category="independent_expenditure_against",
    )  # IE: never
    give(
        "C00000020",
        900,
        "2018-05-07",
        source="oth",
        contributor="C00000001",
        transaction_type="18K",
        counts=False,
        category="transfer",
    )  # the mirror of someone's 24K: never
    world.commit()

    compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)

    row = score_row(conn, "committee", world.committees["C00000020"])
    # R = 1000 + 2000 + 500 + 300 - 500 = 3300 over 4 contributions (the refund is not evidence):
    # Beta(4 + 1, 0 + 1) -> score 5/6, interval p ** (1/5). Generally (n + 1) / (n + 2) -> 1.
    assert row["score"] == Decimal("0.83333")
    assert row["ci_low"] == Decimal(str(round(0.025**0.2, 5)))
    assert row["ci_high"] == Decimal(str(round(0.975**0.2, 5)))
    assert (row["dem"], row["rep"], row["n_contributions"], row["n_donors"]) == (
        Decimal("0.00"),
        Decimal("3300.00"),
        4,
        1,
    )
    # the giver-filed rows are stored with the giver as filer, as normalization does
    filer = conn.execute(
        "SELECT DISTINCT recipient_committee_key FROM core.contribution WHERE transaction_type = '24K'"
    ).fetchall()
    assert filer == [(world.committees["C00000020"],)]


def test_no_partisan_money_is_null_with_reason_never_half(world: CoreRows, conn: psycopg.Connection) -> None:
    world.employer("GREEN THINGS LLC")
    world.employer("TINY SHOP")
    world.employer("EVEN STEVENS INC")
    world.employer("RETIRED", generic=True)
    for donor in ("G1", "G2", "G3"):
        world.give("C00000005", 100, "2018-05-01", donor=donor, employer="GREEN THINGS LLC")
    world.give("C00000003", 100, "2018-05-01", donor="T1", employer="TINY SHOP")
    world.give("C00000003", 100, "2018-05-01", donor="T2", employer="TINY SHOP")
    for donor, recipient in (
        ("E1", "C00000001"),
        ("E2", "C00000001"),
        ("E3", "C00000003"),
        ("E4", "C00000004"),
    ):
        world.give(recipient, 250, "2018-05-01", donor=donor, employer="EVEN STEVENS INC")
    world.give("C00000003", 100, "2018-05-01", donor="R1", employer="RETIRED")
    world.commit()

    compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)

    green = score_row(conn, "employer", world.employers["GREEN THINGS LLC"])
    assert green["score"] is None and green["reason"].startswith("no_partisan_money:")
    assert green["other"] == Decimal("300.00")
    tiny = score_row(conn, "employer", world.employers["TINY SHOP"])
    assert tiny["score"] is None and tiny["reason"].startswith("insufficient_support:")
    even = score_row(conn, "employer", world.employers["EVEN STEVENS INC"])
    assert even["score"] == Decimal("0.50000") and even["reason"] is None
    assert even["ci_low"] + even["ci_high"] == Decimal(1)
    generic = conn.execute(
        "SELECT count(*) FROM scores.leaning_score WHERE employer_key = %s", (world.employers["RETIRED"],)
    ).fetchone()
    assert generic == (0,)


def test_window_bounds_are_inclusive(world: CoreRows, conn: psycopg.Connection) -> None:
    world.employer("EDGE LLP")
    world.give("C00000003", 100, "2017-04-01", donor="F", employer="EDGE LLP")  # first day: counts
    world.give("C00000003", 100, "2019-03-31", donor="L", employer="EDGE LLP")  # last day: counts
    world.give("C00000003", 100, "2017-03-31", donor="X1", employer="EDGE LLP")  # day before: no
    world.give("C00000001", 100, "2019-04-01", donor="X2", employer="EDGE LLP")  # day after: no
    world.give("C00000001", 100, "2019-04-01", donor="M", employer="EDGE LLP")
    world.give("C00000001", 100, "2017-03-31", donor="M", employer="EDGE LLP")
    world.commit()

    compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)

    row = score_row(conn, "employer", world.employers["EDGE LLP"])
    assert (row["rep"], row["dem"], row["n_contributions"], row["n_donors"]) == (
        Decimal("200.00"),
        Decimal("0.00"),
        2,
        2,
    )
    assert row["reason"].startswith("insufficient_support:")


def test_candidate_donor_base_is_leave_one_out(world: CoreRows, conn: psycopg.Connection) -> None:
    give = world.give
    give("C00000001", 100, "2018-05-01", donor="P")
    give("C00000003", 300, "2018-05-01", donor="P")
    give("C00000002", 100, "2018-05-01", donor="P")  # P elsewhere: 300 R / 400 -> 0.75
    give("C00000001", 200, "2018-05-01", donor="Q")
    give("C00000002", 50, "2018-05-01", donor="Q")  # Q elsewhere: all D -> 0
    give("C00000001", 100, "2018-05-01", donor="R")
    give("C00000004", 100, "2018-05-01", donor="R")
    give("C00000010", 100, "2018-05-01", donor="R")  # R elsewhere: 100 R / 200 -> 0.5
    give("C00000001", 500, "2018-05-01", donor="T")  # T gives nowhere else: excluded
    give("C00000001", 40, "2018-05-01", donor=None)  # no donor key: excluded
    world.commit()

    compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)

    row = score_row(conn, "candidate", world.candidates["H8DEM0001"])
    # rep = 100*0.75 + 200*0 + 100*0.5 = 125; dem = 25 + 200 + 50 = 275; share 0.3125 over 3 donors:
    # Beta(3*0.3125 + 1, 3*0.6875 + 1) = Beta(1.9375, 3.0625) -> mean 0.3875.
    assert (row["dem"], row["rep"], row["other"]) == (Decimal("275.00"), Decimal("125.00"), Decimal("500.00"))
    assert (row["n_donors"], row["n_contributions"]) == (3, 3)
    assert row["score"] == Decimal("0.38750")
    assert row["ci_low"] < row["score"] < row["ci_high"]
    # Without leave-one-out, each donor's own gifts to H8DEM0001 (D) would pull the score down further.
    rep_only = score_row(conn, "candidate", world.candidates["H8REP0001"])
    assert rep_only["reason"].startswith("insufficient_support:")  # only P gave there


def test_candidate_without_donors_elsewhere_is_null(world: CoreRows, conn: psycopg.Connection) -> None:
    world.give("C00000004", 100, "2018-05-01", donor="ONLY")
    world.commit()
    compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)
    row = score_row(conn, "candidate", world.candidates["S8REP0002"])
    assert row["score"] is None and row["reason"].startswith("no_donor_partisan_elsewhere:")
    assert row["other"] == Decimal("100.00")


def test_unaligned_committees_are_aligned_from_their_giving_to_a_fixed_point(
    world: CoreRows, conn: psycopg.Connection
) -> None:
    # C00000020 gives to R candidates (derived R); C00000022 gives only to C00000020 (R in step 2);
    # C00000023 gives only to C00000022 (R in step 3). C00000021 splits evenly: undetermined.
    for i, recipient in enumerate(("C00000003", "C00000004")):
        world.give(recipient, 1000, f"2018-05-0{i + 1}", source="pas2", contributor="C00000020")
    for i in range(2):
        world.give("C00000020", 5000, f"2018-06-0{i + 1}", source="oth", contributor="C00000022")
        world.give("C00000022", 5000, f"2018-07-0{i + 1}", source="oth", contributor="C00000023")
    world.give("C00000001", 1000, "2018-05-01", source="pas2", contributor="C00000021")
    world.give("C00000003", 1000, "2018-05-01", source="pas2", contributor="C00000021")
    world.employer("CHAIN INC")
    for donor in ("K1", "K2", "K3"):
        world.give("C00000023", 100, "2018-08-01", donor=donor, employer="CHAIN INC")
        world.give("C00000021", 100, "2018-08-01", donor=donor, employer="CHAIN INC")
    world.commit()

    result = compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)

    assert result.alignment.converged and result.alignment.iterations == 4
    assert result.alignment.committees["derived:R"] == 3
    assert result.alignment.committees["derived:-"] == 1
    chain = score_row(conn, "employer", world.employers["CHAIN INC"])
    assert (chain["rep"], chain["dem"], chain["other"]) == (
        Decimal("300.00"),
        Decimal("0.00"),
        Decimal("300.00"),
    )
    assert chain["score"] == Decimal("0.80000")  # Beta(3 + 1, 1)


def test_industry_scores_at_mapped_level_and_sector(world: CoreRows, conn: psycopg.Connection) -> None:
    world.industry("54")
    world.employer("SOFTCO")
    world.employer("LAWCO")
    world.map_employer("SOFTCO", "5415")
    world.map_employer("LAWCO", "5411")
    for donor in ("S1", "S2", "S3"):
        world.give("C00000003", 200, "2018-05-01", donor=donor, employer="SOFTCO")
    for donor in ("L1", "L2"):
        world.give("C00000001", 300, "2018-05-01", donor=donor, employer="LAWCO")
    world.give("C00000001", 100, "2018-05-02", donor="S1", employer="LAWCO")  # S1 lists both employers
    world.commit()

    compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)

    sector = score_row(conn, "industry", world.industries["54"])
    # D = 700, R = 600 over 5 distinct donors (S1 counted once).
    assert (sector["dem"], sector["rep"], sector["n_donors"], sector["n_contributions"]) == (
        Decimal("700.00"),
        Decimal("600.00"),
        5,
        6,
    )
    softco = score_row(conn, "industry", world.industries["5415"])
    assert softco["score"] == Decimal("0.80000")
    lawco = score_row(conn, "industry", world.industries["5411"])
    assert lawco["score"] == Decimal("0.20000") and lawco["n_donors"] == 3  # L1, L2 and S1, all D


def test_missing_party_reference_is_a_clear_error(core: CoreRows, conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM ref.party")
    conn.commit()
    with pytest.raises(DataError, match="ref.party"):
        compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V1)
    status = conn.execute("SELECT status FROM ops.ingest_run_audits WHERE stage = 'scores'").fetchone()
    assert status == ("failed",)


def test_method_row_and_audit_are_recorded(world: CoreRows, conn: psycopg.Connection) -> None:
    result = compute_scores(conn, run_id=world.run(), as_of=AS_OF, method_version=METHOD_V1)
    audit = conn.execute(
        "SELECT status, window_start, window_end, counts FROM ops.ingest_run_audits WHERE audit_id = %s",
        (result.audit_id,),
    ).fetchone()
    assert audit is not None and audit[:3] == ("succeeded", dt.date(2017, 4, 1), AS_OF)
    assert audit[3]["opened"] == result.stored.opened and "employer_scored" in audit[3]
    params = conn.execute(
        "SELECT params FROM scores.method WHERE method_version = %s", (METHOD_V1,)
    ).fetchone()
    assert params is not None and params[0]["prior_strength"] == 2.0 and params[0]["prior_mean"] == 0.5
