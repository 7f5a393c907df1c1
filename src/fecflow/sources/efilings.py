"""FEC electronic filings: plan the downloads (daily archives, single filings) and read filings out of
what was downloaded. No database here (see :mod:`fecflow.pipeline.efilings`).

Downloads go through the same code as the bulk files (:func:`fecflow.sources.bulk.fetch_bulk_file`:
retries, resumes, conditional GET against the previous version, sha256, zip integrity and safety
checks, content-addressed raw storage); only the target and its storage key differ.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fecflow.catalog.efilings import (
    DAILY_FILE_TYPE,
    FILING_FILE_TYPE,
    daily_archive_url,
    filing_url,
)
from fecflow.errors import ConfigError, DataError
from fecflow.sources.archive import check_zip, open_member
from fecflow.sources.bulk import BulkTarget

#: The most days one ``--date`` range may name (a cycle), so a typo cannot plan a decade of requests.
MAX_DAYS = 731
#: The largest filing read into memory for staging (the biggest conduit reports exceed this: they fail
#: with a clear error instead of exhausting memory; see docs/data/efilings.md).
MAX_FILING_BYTES = 512 * 1024 * 1024
#: Filing ids are stored as BIGINT.
MAX_FILING_ID = 2**63 - 1


@dataclass(frozen=True)
class EfilingTarget(BulkTarget):
    """A daily archive or a single filing to download; stored under ``efiling/...``."""

    day: dt.date | None = None
    filing_id: int | None = None

    def storage_key(self, sha256: str) -> str:
        folder = "daily" if self.file_type == DAILY_FILE_TYPE else "filings"
        return f"efiling/{folder}/{self.file_name}/{sha256[:16].lower()}-{self.file_name}"


def parse_day_range(text: str) -> list[dt.date]:
    """``2018-06-16`` or ``2018-06-14..2018-06-16`` -> the days, in order (ConfigError otherwise)."""
    first, sep, last = text.strip().partition("..")
    try:
        start = dt.date.fromisoformat(first.strip())
        end = dt.date.fromisoformat(last.strip()) if sep else start
    except ValueError as exc:
        raise ConfigError(
            f"Invalid --date {text!r}: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD.",
            hint="For example --date 2018-06-16 or --date 2018-06-14..2018-06-16.",
        ) from exc
    if end < start:
        raise ConfigError(f"Invalid --date {text!r}: the range ends before it starts.")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ConfigError(f"--date {text!r} names {days} days; at most {MAX_DAYS} at a time.")
    return [start + dt.timedelta(days=i) for i in range(days)]


def plan_efiling_downloads(
    days: Sequence[dt.date],
    filing_ids: Sequence[int],
    *,
    daily_base_url: str,
    filing_base_url: str,
) -> list[EfilingTarget]:
    """One target per day (its archive) and per filing id, deduplicated, in the given order."""
    if not days and not filing_ids:
        raise ConfigError("No day and no filing id given.", hint="Pass --date YYYY-MM-DD or --filing-id N.")
    targets: list[EfilingTarget] = []
    for day in dict.fromkeys(days):
        name = f"{day:%Y%m%d}.zip"
        targets.append(
            EfilingTarget(DAILY_FILE_TYPE, None, daily_archive_url(daily_base_url, day), name, day=day)
        )
    for filing_id in dict.fromkeys(filing_ids):
        if isinstance(filing_id, bool) or not 0 < filing_id <= MAX_FILING_ID:
            raise ConfigError(f"Invalid filing id {filing_id!r}: a positive integer (the .fec file name).")
        name = f"{filing_id}.fec"
        targets.append(
            EfilingTarget(
                FILING_FILE_TYPE, None, filing_url(filing_base_url, filing_id), name, filing_id=filing_id
            )
        )
    return targets


def with_member(target: EfilingTarget, member: str | None) -> EfilingTarget:
    return dataclasses.replace(target, member=member)


@dataclass(frozen=True)
class FilingPayload:
    filing_id: int
    member: str | None  # the archive member, None for a single filing
    data: bytes


def iter_filings(
    stream: IO[bytes], *, file_type: str, file_name: str, label: str
) -> Iterator[FilingPayload]:
    """The filings of a stored download: each ``NNN.fec`` member of a daily archive, or the filing.

    Archives are checked first (path traversal, links, encryption, zip-bomb sizes and ratios); a
    member that is not ``<digits>.fec`` is an error, never silently skipped.
    """
    if file_type == FILING_FILE_TYPE:
        filing_id = filing_id_from_name(file_name)
        if filing_id is None:
            raise DataError(f"{label}: {file_name!r} is not named FILING_ID.fec.")
        data = stream.read(MAX_FILING_BYTES + 1)
        _check_size(len(data), label)
        yield FilingPayload(filing_id, None, data)
        return
    if file_type != DAILY_FILE_TYPE:
        raise DataError(f"{label}: file type {file_type!r} is not an e-filing download.")
    members = [m for m in check_zip(stream, label=label) if not m.is_dir]
    for info in members:
        filing_id = filing_id_from_name(info.name)
        if filing_id is None:
            raise DataError(f"{label}: member {info.name!r} is not named FILING_ID.fec.")
        _check_size(info.file_size, f"{label}:{info.name}")
        stream.seek(0)
        with open_member(stream, info.name, check=False, label=label) as fh:
            data = fh.read(MAX_FILING_BYTES + 1)
        _check_size(len(data), f"{label}:{info.name}")
        yield FilingPayload(filing_id, info.name, data)


def _check_size(size: int, label: str) -> None:
    if size > MAX_FILING_BYTES:
        raise DataError(
            f"{label} is larger than {MAX_FILING_BYTES:,} bytes; fecflow stages filings in memory.",
            hint="See docs/data/efilings.md, 'What is left'.",
        )


def filing_id_from_name(name: str) -> int | None:
    """``1238371.fec`` (maybe in a folder) -> 1238371; any other name None."""
    base = Path(name).name
    stem, dot, ext = base.partition(".")
    if not (dot and ext.lower() == "fec" and stem.isdigit() and stem.isascii()):
        return None
    filing_id = int(stem)
    return filing_id if 0 < filing_id <= MAX_FILING_ID else None
