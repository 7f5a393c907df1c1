"""`fecflow scores compute --from --to --every`: the as-of dates of a series."""

from __future__ import annotations

import datetime as dt

import pytest

from fecflow.errors import ConfigError
from fecflow.scores.windows import as_of_series

D = dt.date


def test_month_ends_then_the_last_day() -> None:
    assert as_of_series(D(2019, 1, 15), D(2019, 4, 10), "month") == [
        D(2019, 1, 31),
        D(2019, 2, 28),
        D(2019, 3, 31),
        D(2019, 4, 10),
    ]


def test_quarter_ends_across_a_year() -> None:
    assert as_of_series(D(2018, 11, 1), D(2019, 6, 30), "quarter") == [
        D(2018, 12, 31),
        D(2019, 3, 31),
        D(2019, 6, 30),
    ]


def test_one_day() -> None:
    assert as_of_series(D(2019, 3, 31), D(2019, 3, 31), "month") == [D(2019, 3, 31)]


@pytest.mark.parametrize(
    ("first", "last", "every"),
    [
        (D(2019, 2, 1), D(2019, 1, 1), "month"),
        (D(2019, 1, 1), D(2019, 2, 1), "week"),
        (D(1900, 1, 1), D(2019, 1, 1), "month"),
    ],
)
def test_refused_with_a_hint(first: dt.date, last: dt.date, every: str) -> None:
    with pytest.raises(ConfigError) as caught:
        as_of_series(first, last, every)
    assert caught.value.hint
