"""Rolling score windows: ``lookback_months`` calendar months ending at ``as_of``, both ends inclusive.

``window_start = as_of - lookback_months months + 1 day``. When ``as_of`` is the last day of its
month, "minus N months" lands on the last day of the target month, so month-end windows cover whole
calendar months (2019-03-31, 24 months: 2017-04-01 .. 2019-03-31). Otherwise the day of month is kept
(clamped to the target month's length): 2019-03-15, 12 months: 2018-03-16 .. 2019-03-15.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from fecflow.errors import ConfigError

DEFAULT_LOOKBACK_MONTHS = 24
MAX_LOOKBACK_MONTHS = 600


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def months_before(day: dt.date, months: int) -> dt.date:
    """``day`` minus ``months`` calendar months (month ends map to month ends)."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    last = _last_day(year, month)
    if day.day == _last_day(day.year, day.month):
        return dt.date(year, month, last)
    return dt.date(year, month, min(day.day, last))


def window_ending(as_of: dt.date, lookback_months: int = DEFAULT_LOOKBACK_MONTHS) -> Window:
    """The inclusive window of ``lookback_months`` months that ends on ``as_of``."""
    if not 1 <= lookback_months <= MAX_LOOKBACK_MONTHS:
        raise ConfigError(
            f"lookback_months must be between 1 and {MAX_LOOKBACK_MONTHS}, got {lookback_months}.",
            hint="For example --lookback-months 24 (two years ending at --as-of).",
        )
    start = months_before(as_of, lookback_months) + dt.timedelta(days=1)
    return Window(start, as_of)


SERIES_STEPS = {"month": 1, "quarter": 3}
MAX_SERIES = 240


def as_of_series(first: dt.date, last: dt.date, every: str) -> list[dt.date]:
    """Month-end (or quarter-end) as-of dates from ``first`` to ``last``, both ends inclusive.

    The first date is the month end (quarter end) on or after ``first``; ``last`` itself is always
    included, so ``--to`` names the newest window even when it is not a month end.
    """
    if every not in SERIES_STEPS:
        raise ConfigError(f"Unknown --every {every!r}.", hint=f"Use one of: {', '.join(SERIES_STEPS)}.")
    if last < first:
        raise ConfigError(f"--from {first} is after --to {last}.", hint="Give --from on or before --to.")
    step = SERIES_STEPS[every]
    month = first.month + (-first.month) % step if every == "quarter" else first.month
    day = dt.date(first.year, month, _last_day(first.year, month))
    days: list[dt.date] = []
    while day < last:
        days.append(day)
        day = months_before(day, -step)
    days.append(last)
    if len(days) > MAX_SERIES:
        raise ConfigError(
            f"{len(days)} as-of dates from {first} to {last} every {every}; at most {MAX_SERIES} per run.",
            hint="Use --every quarter, or split the range into several runs.",
        )
    return days
