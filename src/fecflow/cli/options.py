"""Argument parsing shared by commands: cycles and file-type lists."""

from __future__ import annotations

import datetime as dt

from fecflow.catalog import FILES
from fecflow.errors import ConfigError

DEFAULT_FILES = ("cm", "cn", "ccl", "indiv", "pas2", "oth")
FIRST_CYCLE = 1980  # the FEC's bulk files start with the 1979-1980 cycle


def last_cycle(today: dt.date | None = None) -> int:
    """The newest cycle that can have files: the one after the current (early filings for it)."""
    year = (today or dt.date.today()).year
    return year + (year % 2) + 2


def _check_bounds(part: str, *years: int) -> None:
    high = last_cycle()
    if any(y < FIRST_CYCLE or y > high for y in years):
        raise ConfigError(
            f"Cycle {part!r} is outside {FIRST_CYCLE}-{high}: FEC bulk files exist from the {FIRST_CYCLE} "
            "cycle to the next one.",
            hint="For example --cycles 2020 (covers 2019-2020) or 2016-2020.",
        )


def parse_cycles(text: str) -> list[int]:
    """``2020``, ``2016,2018`` or ``2016-2020`` (even years only, inclusive range, 1980 to the next cycle)."""
    cycles: list[int] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            if "-" in part:
                start_s, end_s = part.split("-", 1)
                start, end = int(start_s), int(end_s)
                if start > end:
                    raise ConfigError(f"Cycle range {part!r} runs backwards.", hint="Write it as 2016-2020.")
                _check_bounds(part, start, end)
                cycles.extend(y for y in range(start, end + 1) if y % 2 == 0)
            else:
                _check_bounds(part, int(part))
                cycles.append(int(part))
        except ValueError:
            raise ConfigError(
                f"Invalid cycle {part!r}.", hint="Use even years: --cycles 2020, 2018,2020 or 2016-2020."
            ) from None
    bad = [c for c in cycles if c % 2 or c < 1980]
    if bad or not cycles:
        raise ConfigError(
            f"Invalid cycles {bad or text!r}: a cycle is an even year >= 1980 (the year that ends it).",
            hint="For example --cycles 2020 (covers 2019-2020).",
        )
    return sorted(set(cycles))


#: Dates a command accepts: the FEC's data start in the 1970s; nothing is dated after 2100.
EARLIEST_DATE = dt.date(1975, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def parse_date(text: str, option: str = "--as-of") -> dt.date:
    """A YYYY-MM-DD date between 1975 and 2100, or a ConfigError naming the option."""
    try:
        day = dt.date.fromisoformat(text.strip())
        if len(text.strip()) != 10:
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"Invalid date {text!r} for {option}.", hint=f"Write dates as YYYY-MM-DD, e.g. {option} 2019-03-31."
        ) from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ConfigError(
            f"Date {day} for {option} is outside {EARLIEST_DATE}..{LATEST_DATE}.",
            hint=f"FEC data start in the 1970s; for example {option} 2019-03-31.",
        )
    return day


def parse_files(text: str | None) -> list[str]:
    if not text:
        return list(DEFAULT_FILES)
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in FILES]
    if unknown:
        raise ConfigError(f"Unknown file types: {', '.join(unknown)}.", hint=f"Known: {', '.join(FILES)}.")
    return names
