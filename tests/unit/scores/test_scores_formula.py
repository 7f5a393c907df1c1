"""The leaning formula: hand-computed values, tie-breakers, shrinkage, intervals, monotonicity."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fecflow.scores.formula import Support, assess, partisan_share, posterior, round_score

D = Decimal


def support(dem: float, rep: float, n: int, other: float = 0, donors: int | None = None) -> Support:
    return Support(D(str(dem)), D(str(rep)), D(str(other)), n, n if donors is None else donors)


def test_hand_computed_score() -> None:
    # D 150, R 300 over 3 donors: share 2/3 -> Beta(3*2/3 + 1, 3*1/3 + 1) = Beta(3, 2): mean 3/5.
    lean = assess(support(150, 300, 3), "employer")
    assert lean.score == D("0.60000") and lean.reason is None
    assert (lean.ci_low, lean.ci_high) == (D("0.19412"), D("0.93241"))


def test_equal_money_is_exactly_half() -> None:
    for n in (3, 4, 17, 1000):
        lean = assess(support(1234.56, 1234.56, n), "employer")
        assert lean.score == D("0.50000")
        assert lean.ci_low is not None and lean.ci_high is not None
        assert lean.ci_low + lean.ci_high == 1
    assert partisan_share(D("0.01"), D("0.01")) == 0.5


def test_no_partisan_money_is_null_with_a_reason_never_half() -> None:
    lean = assess(support(0, 0, 0, other=500, donors=0), "employer")
    assert lean.score is None and lean.reason is not None and lean.reason.startswith("no_partisan_money:")
    assert "$500.00" in lean.reason
    cand = assess(support(0, 0, 0, other=80, donors=0), "candidate")
    assert (
        cand.score is None
        and cand.reason is not None
        and cand.reason.startswith("no_donor_partisan_elsewhere:")
    )
    refunded = assess(support(-50, 0, 3), "employer")
    assert refunded.score is None and refunded.reason is not None
    assert refunded.reason.startswith("no_net_partisan_money:")


def test_minimum_support() -> None:
    thin = assess(support(0, 500, 2), "employer")
    assert thin.score is None and thin.reason is not None and thin.reason.startswith("insufficient_support:")
    # committees: one contribution is enough (the evidence unit is contributions)
    assert assess(support(0, 500, 1), "committee").score == D("0.66667")


def test_shrinkage_toward_half_fades_with_evidence() -> None:
    scores = [assess(support(0, 100, n), "employer").score for n in (3, 10, 100, 10_000)]
    assert scores == [D("0.80000"), D("0.91667"), D("0.99020"), D("0.99990")]
    assert assess(support(100, 0, 3), "employer").score == D("0.20000")


def test_negative_side_is_floored_at_zero() -> None:
    # refunds leave D at -20: treated as 0, so the share is all R
    assert assess(support(-20, 300, 3), "employer").score == assess(support(0, 300, 3), "employer").score


def test_posterior_parameters() -> None:
    assert posterior(0.25, 8) == (3.0, 7.0)


def test_rounding_is_half_even_on_the_exact_value() -> None:
    assert round_score(0.123455) == D("0.12345") or round_score(0.123455) == D("0.12346")
    assert round_score(0.5) == D("0.50000") and round_score(1.0) == D("1.00000")


@given(
    dem=st.integers(min_value=0, max_value=10**9),
    rep=st.integers(min_value=0, max_value=10**9),
    n=st.integers(min_value=3, max_value=10**6),
)
def test_interval_contains_score_and_mirrors(dem: int, rep: int, n: int) -> None:
    lean = assess(support(dem / 100, rep / 100, n), "employer")
    if dem == rep == 0:
        assert lean.score is None
        return
    assert lean.score is not None and lean.ci_low is not None and lean.ci_high is not None
    assert 0 <= lean.ci_low <= lean.score <= lean.ci_high <= 1
    mirror = assess(support(rep / 100, dem / 100, n), "employer")
    assert mirror.score is not None
    assert abs(lean.score + mirror.score - 1) <= D("0.00001")


@given(
    dem=st.integers(min_value=1, max_value=10**7),
    rep=st.integers(min_value=0, max_value=10**7),
    extra=st.integers(min_value=1, max_value=10**7),
    n=st.integers(min_value=3, max_value=5000),
)
def test_more_republican_money_never_lowers_the_score(dem: int, rep: int, extra: int, n: int) -> None:
    base = assess(support(dem, rep, n), "employer").score
    more = assess(support(dem, rep + extra, n), "employer").score
    assert base is not None and more is not None and more >= base


@pytest.mark.parametrize("entity_type", ["candidate", "committee", "employer", "industry"])
def test_every_entity_type_has_parameters(entity_type: str) -> None:
    assert assess(support(100, 100, 5), entity_type).score == D("0.50000")
