"""Beta quantiles and the regularized incomplete beta against reference values (mpmath, 30 digits)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fecflow.scores.beta import beta_interval, beta_quantile, regularized_incomplete_beta

# (p, a, b, quantile) computed with mpmath.betainc at 30 significant digits, bisection to 1e-33.
REFERENCE_QUANTILES = [
    (0.025, 2, 5, 0.043271868292741679),
    (0.975, 2, 5, 0.64123457899767479),
    (0.025, 0.5, 0.5, 0.0015413331334360121),
    (0.05, 10, 3, 0.56189456488468865),
    (0.95, 10, 3, 0.92812974445773016),
    (0.025, 1.9375, 3.0625, 0.061806350947242021),
    (0.975, 1.9375, 3.0625, 0.79574576659514614),
    (0.025, 101, 51, 0.58773172218179633),
    (0.975, 101, 51, 0.73711565777164481),
    (0.001, 0.3, 7, 1.0476309301387116e-11),
    (0.5, 2, 3, 0.38572756813238955),
    (0.025, 251.5, 750.5, 0.2246441601652306),
]


@pytest.mark.parametrize(("p", "a", "b", "expected"), REFERENCE_QUANTILES)
def test_quantile_matches_reference(p: float, a: float, b: float, expected: float) -> None:
    assert beta_quantile(p, a, b) == pytest.approx(expected, rel=1e-10, abs=1e-13)


def test_incomplete_beta_matches_reference() -> None:
    assert regularized_incomplete_beta(0.3, 2.5, 3.5) == pytest.approx(0.29675298929566638, abs=1e-14)
    assert regularized_incomplete_beta(0.45, 40, 60) == pytest.approx(0.84622479768139871, abs=1e-13)
    assert regularized_incomplete_beta(0.0, 2, 3) == 0.0 and regularized_incomplete_beta(1.0, 2, 3) == 1.0


def test_closed_forms() -> None:
    assert beta_quantile(0.3, 1, 1) == 0.3
    assert beta_quantile(0.025, 4, 1) == pytest.approx(0.025**0.25, abs=1e-15)
    assert beta_quantile(0.975, 1, 4) == pytest.approx(1 - 0.025**0.25, abs=1e-15)
    # Beta(3, 2): I_x = 4x^3 - 3x^4
    x = beta_quantile(0.025, 3, 2)
    assert 4 * x**3 - 3 * x**4 == pytest.approx(0.025, abs=1e-13)


def test_large_parameters_converge() -> None:
    for a, b in ((2e5, 1e5), (1e6, 3.0), (3.5, 1e6)):
        for p in (0.025, 0.975):
            x = beta_quantile(p, a, b)
            assert regularized_incomplete_beta(x, a, b) == pytest.approx(p, abs=1e-9)
    mean = 2e5 / 3e5
    sd = math.sqrt(mean * (1 - mean) / (3e5 + 1))
    assert beta_quantile(0.025, 2e5, 1e5) == pytest.approx(mean - 1.959964 * sd, abs=1e-5)


def test_interval_is_mirrored_exactly() -> None:
    low, high = beta_interval(3.25, 1.75, 0.95)
    mirror_low, mirror_high = beta_interval(1.75, 3.25, 0.95)
    assert (low, high) == (1 - mirror_high, 1 - mirror_low)
    low, high = beta_interval(2.5, 2.5, 0.95)
    assert low + high == 1.0


@given(
    st.floats(min_value=0.001, max_value=0.999),
    st.floats(min_value=0.2, max_value=500),
    st.floats(min_value=0.2, max_value=500),
)
def test_quantile_inverts_the_cdf(p: float, a: float, b: float) -> None:
    x = beta_quantile(p, a, b)
    assert 0.0 <= x <= 1.0
    if regularized_incomplete_beta(x, a, b) == pytest.approx(p, abs=1e-9):
        return
    # Where the CDF is steeper than 1e-9 per float step (b < 1 near x = 1, a < 1 near 0), no double
    # hits p that closely: then p must lie between the CDF at the neighbouring representable x.
    below, above = x, x
    for _ in range(4):
        below, above = math.nextafter(below, 0.0), math.nextafter(above, 1.0)
    assert regularized_incomplete_beta(below, a, b) - 1e-9 <= p <= regularized_incomplete_beta(above, a, b) + 1e-9


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        beta_quantile(1.5, 1, 1)
    with pytest.raises(ValueError):
        beta_quantile(0.5, 0, 1)
