"""lean-2026.2 candidate base: the interval widens for the donors the score does not see (issue #16, item 9)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fecflow.scores.engine_v2 import selection_bounds

D = Decimal


def test_every_dollar_seen_keeps_the_sampled_interval() -> None:
    assert selection_bounds(D("0.30000"), D("0.70000"), 1.0) == (D("0.30000"), D("0.70000"))


def test_half_the_dollars_seen_leaves_half_the_scale_open() -> None:
    # The unseen half may lean anywhere: [0.5 * 0.3, 0.5 * 0.7 + 0.5].
    assert selection_bounds(D("0.30000"), D("0.70000"), 0.5) == (D("0.15000"), D("0.85000"))


def test_at_the_minimum_share_the_interval_is_at_least_080_wide() -> None:
    low, high = selection_bounds(D("0.50000"), D("0.50000"), 0.2)
    assert high - low >= D("0.8")


@given(
    st.decimals(min_value=0, max_value=1, places=5),
    st.decimals(min_value=0, max_value=1, places=5),
    st.decimals(min_value=0, max_value=1, places=5),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_the_bounds_contain_the_sampled_interval_and_stay_on_the_scale(
    a: Decimal, b: Decimal, c: Decimal, share: float
) -> None:
    low, mid, high = sorted((a, b, c))
    wide_low, wide_high = selection_bounds(low, high, share)
    assert D(0) <= wide_low <= low <= mid <= high <= wide_high <= D(1)
    assert wide_high - wide_low >= (1 - D(repr(share))) - D("0.00002")


@pytest.mark.parametrize("share", [0.2, 0.5, 0.9])
def test_more_unseen_dollars_never_narrow_the_interval(share: float) -> None:
    narrow = selection_bounds(D("0.40000"), D("0.60000"), share)
    wider = selection_bounds(D("0.40000"), D("0.60000"), share - 0.1)
    assert wider[0] <= narrow[0] and wider[1] >= narrow[1]
