"""Which line ranges of a payload to load: the coverage left by earlier stage batches, and the plan.

A batch's audit row (``stage='stage'``, status ``succeeded``, not superseded) records the line range
and byte range it loaded (``counts.first_line/last_line/first_byte/end_byte/eof``). :func:`coverage_of`
reads them back: complete (the ranges run from line 1 to the end of the payload without a gap), the
gaps to load (after a crash), or inconsistent (overlaps: only ``--replace`` fixes it).
:func:`fresh_plan` cuts a payload not staged yet into ``workers`` byte ranges cut at line boundaries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg

from fecflow.db import ops
from fecflow.staging.payload import Payload

#: Payloads are split between workers only into parts of at least this many bytes.
MIN_PART_BYTES = 256 * 1024


@dataclass(frozen=True)
class Segment:
    """A byte range of the payload to load as one batch.

    ``start`` is exact (a line start, ``start_line`` known) or, with ``start_line`` None, a hint (the
    range starts at ``boundary(start)``). ``end`` is None (to the end of the payload), an exact offset
    (``end_exact``) or a hint.
    """

    start: int
    start_line: int | None
    end: int | None
    end_exact: bool = True
    hashes_payload: bool = False  # reads every payload byte: its sha256 is the payload's


@dataclass(frozen=True)
class Covered:
    audit_id: int
    first_line: int
    last_line: int
    first_byte: int
    end_byte: int
    eof: bool
    lines: int
    loaded: int
    rejected: int
    recoded: int
    sha256: str | None
    bytes: int | None
    window_start: dt.date | None
    window_end: dt.date | None


@dataclass(frozen=True)
class Coverage:
    ranges: list[Covered]
    complete: bool
    gaps: list[Segment] | None  # None: the ranges are inconsistent, only a replace can fix it


def coverage_of(conn: psycopg.Connection, source_file_id: int) -> Coverage:
    ranges: list[Covered] = []
    for batch in ops.current_batches(conn, source_file_id):
        counts = batch.counts
        try:
            ranges.append(
                Covered(
                    batch.audit_id,
                    int(counts["first_line"]),
                    int(counts["last_line"]),
                    int(counts["first_byte"]),
                    int(counts["end_byte"]),
                    bool(counts["eof"]),
                    int(batch.lines_read or 0),
                    int(batch.rows_loaded or 0),
                    int(batch.rows_rejected or 0),
                    int(counts.get("recoded", 0)),
                    batch.sha256,
                    batch.bytes,
                    batch.window_start,
                    batch.window_end,
                )
            )
        except (KeyError, TypeError, ValueError):
            return Coverage([], False, None)
    ranges.sort(key=lambda r: (r.first_line, r.first_byte, r.last_line))
    gaps: list[Segment] = []
    next_line, next_byte = 1, 0
    for covered in ranges:
        if covered.first_line < next_line or covered.first_byte < next_byte:
            return Coverage(ranges, False, None)  # overlapping batches
        if covered.first_line > next_line and covered.first_byte > next_byte:
            gaps.append(Segment(next_byte, next_line, covered.first_byte))
        elif covered.first_line != next_line or covered.first_byte != next_byte:
            return Coverage(ranges, False, None)  # lines and bytes disagree
        next_line, next_byte = covered.last_line + 1, covered.end_byte
    reaches_end = bool(ranges) and ranges[-1].eof
    if not reaches_end:
        gaps.append(Segment(next_byte, next_line, None, hashes_payload=next_byte == 0))
    return Coverage(ranges, reaches_end and not gaps, gaps)


def fresh_plan(payload: Payload, workers: int) -> list[Segment]:
    parts = max(1, min(workers, payload.size // MIN_PART_BYTES))
    if parts == 1:
        return [Segment(0, 1, None, hashes_payload=True)]
    hints = [payload.size * i // parts for i in range(1, parts)]
    segments = [Segment(0, 1, hints[0], end_exact=False)]
    for i, hint in enumerate(hints):
        end = hints[i + 1] if i + 1 < len(hints) else None
        segments.append(Segment(hint, None, end, end_exact=False, hashes_payload=end is None))
    return segments
