"""Rolling windows: inclusive bounds, month ends, clamping."""

from __future__ import annotations

import datetime as dt

import pytest

from fecflow.errors import ConfigError
from fecflow.scores.windows import months_before, window_ending

d = dt.date


@pytest.mark.parametrize(
    ("as_of", "months", "start"),
    [
        (d(2019, 3, 31), 24, d(2017, 4, 1)),
        (d(2019, 3, 15), 12, d(2018, 3, 16)),
        (d(2019, 2, 28), 12, d(2018, 3, 1)),
        (d(2020, 2, 29), 12, d(2019, 3, 1)),
        (d(2019, 4, 30), 1, d(2019, 4, 1)),
        (d(2019, 3, 30), 1, d(2019, 3, 1)),  # Feb has no 30th: clamped to the 28th, + 1 day
        (d(2020, 12, 31), 24, d(2019, 1, 1)),
        (d(2019, 1, 1), 1, d(2018, 12, 2)),
    ],
)
def test_window_start(as_of: dt.date, months: int, start: dt.date) -> None:
    window = window_ending(as_of, months)
    assert (window.start, window.end) == (start, as_of)
    assert window.start in window and as_of in window
    assert window.start - dt.timedelta(days=1) not in window and as_of + dt.timedelta(days=1) not in window


def test_months_before_keeps_month_ends() -> None:
    assert months_before(d(2019, 4, 30), 1) == d(2019, 3, 31)
    assert months_before(d(2019, 3, 31), 1) == d(2019, 2, 28)
    assert months_before(d(2019, 1, 15), 13) == d(2017, 12, 15)


@pytest.mark.parametrize("months", [0, -1, 601])
def test_invalid_lookback(months: int) -> None:
    with pytest.raises(ConfigError):
        window_ending(d(2019, 3, 31), months)
