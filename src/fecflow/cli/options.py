"""Argument parsing shared by commands: cycles and file-type lists."""

from __future__ import annotations

import datetime as dt

from fecflow.catalog import FILES
from fecflow.errors import ConfigError

DEFAULT_FILES = ("cm", "cn", "ccl", "indiv", "pas2", "oth")


def parse_cycles(text: str) -> list[int]:
    """``2020``, ``2016,2018`` or ``2016-2020`` (even years only, inclusive range)."""
    cycles: list[int] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            if "-" in part:
                start_s, end_s = part.split("-", 1)
                start, end = int(start_s), int(end_s)
                if start > end:
                    raise ConfigError(f"Cycle range {part!r} runs backwards.", hint="Write it as 2016-2020.")
                cycles.extend(y for y in range(start, end + 1) if y % 2 == 0)
            else:
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


def parse_files(text: str | None) -> list[str]:
    if not text:
        return list(DEFAULT_FILES)
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in FILES]
    if unknown:
        raise ConfigError(f"Unknown file types: {', '.join(unknown)}.", hint=f"Known: {', '.join(FILES)}.")
    return names


def parse_date(text: str, option: str = "--as-of") -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"Invalid date {text!r}.", hint=f"Write dates as YYYY-MM-DD, e.g. {option} 2019-03-31."
        ) from None
