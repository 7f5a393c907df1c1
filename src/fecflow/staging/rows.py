"""The per-block work of a staging batch: rows to COPY with their prefixes, side rows, raw dates.

Everything here is C-level per block (``split``/``join``/``map``, no bytecode per row): see
:mod:`fecflow.staging.load` for how a batch uses it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter, methodcaller

from fecflow.catalog import FileSpec
from fecflow.errors import DataError
from fecflow.parse import PLACEHOLDER_MARKER, Block

FIRST_VALID_YEAR = 1975


def split_rows(data: bytes) -> list[bytes]:
    """The rows of ``Block.data`` (each ends in LF), without their LF."""
    rows = data.split(b"\n")
    rows.pop()
    return rows


def block_rows(block: Block) -> tuple[list[bytes], range | list[int]]:
    """The rows of ``block`` to COPY and their line numbers: placeholders of rejected lines left out."""
    rows = split_rows(block.data)
    numbers = range(block.first_line, block.first_line + block.line_count)
    if not block.rejects:
        return rows, numbers
    rejected = {r.line_number for r in block.rejects}
    kept = [(n, row) for n, row in zip(numbers, rows, strict=True) if n not in rejected]
    dropped = [rows[n - block.first_line] for n in rejected]
    if not all(row.startswith(PLACEHOLDER_MARKER) for row in dropped):
        raise DataError(f"Block at line {block.first_line}: a rejected line has no placeholder row.")
    return [row for _, row in kept], [n for n, _ in kept]


def prefix_rows(rows: list[bytes], numbers: range | list[int], head: str) -> bytes:
    """The COPY data for ``rows``: ``{head}{number}|{row}\n`` for each row and its line number.

    ``head`` is ``"{source_file_id}|{batch_id}|"``. C-level only: one join of the numbers, one split,
    one join of the interleaved parts.
    """
    count = len(rows)
    if count == 0:
        return b""
    numbers_text = map(str, numbers)
    # "\x00" never occurs in numbers or head: split on it and keep the LF at the start of each prefix.
    prefixes = (head + ("|\x00\n" + head).join(numbers_text) + "|").encode().split(b"\x00")
    parts: list[bytes] = [b""] * (2 * count)
    parts[0::2] = prefixes
    parts[1::2] = rows
    parts.append(b"\n")
    return b"".join(parts)


@dataclass
class SideRows:
    """Rows for the side tables, collected from the blocks of one COPY statement."""

    rejects: list[tuple[int, str, str, bytes]] = field(default_factory=list)
    raw_lines: list[tuple[int, str, bytes]] = field(default_factory=list)
    size: int = 0

    def add(self, block: Block) -> None:
        for reject in block.rejects:
            self.rejects.append((reject.line_number, str(reject.reason), reject.message, reject.raw))
            self.size += len(reject.raw) + 64
        if not block.recoded_raw and not block.crlf:
            return
        recoded = dict(block.recoded_raw)
        if block.crlf:
            rows = block.data.split(b"\n")
            for line_number in block.crlf:
                original = recoded.pop(line_number, None)
                if original is None:
                    raw, reason = rows[line_number - block.first_line] + b"\r", "crlf"
                else:
                    raw, reason = original + b"\r", "recoded,crlf"
                self.raw_lines.append((line_number, reason, raw))
                self.size += len(raw) + 32
        for line_number, raw in recoded.items():
            self.raw_lines.append((line_number, "recoded", raw))
            self.size += len(raw) + 32


class DateCounter:
    """Counts of the raw date column's values over the rows of a batch (C-level, no per-row bytecode).

    Every accepted row has exactly ``field_count - 1`` pipes, so field *i* is piece 1 of
    ``row.rsplit(b"|", pipes - i + 1)`` (or piece *i* of ``row.split(b"|", i + 1)``: whichever makes
    fewer pieces).
    """

    def __init__(self, spec: FileSpec) -> None:
        assert spec.date_column is not None
        index = [c.raw for c in spec.columns].index(spec.date_column)
        pipes = spec.field_count - 1
        if index == 0:
            self._split, self._pick = methodcaller("split", b"|", 1), itemgetter(0)
        elif pipes - index < index:
            self._split, self._pick = methodcaller("rsplit", b"|", pipes - index + 1), itemgetter(1)
        else:
            self._split, self._pick = methodcaller("split", b"|", index + 1), itemgetter(index)
        self.counts: Counter[bytes] = Counter()

    def add(self, rows: list[bytes]) -> None:
        self.counts.update(map(self._pick, map(self._split, rows)))

    def values(self) -> list[tuple[str | None, int]]:
        return [(v.decode("utf-8") if v else None, n) for v, n in self.counts.items() if n]


# --- dates ------------------------------------------------------------------------------------------


def parse_fec_date(value: str | None, *, last_year: int | None = None) -> dt.date | None:
    """A strict MMDDYYYY date (a real calendar date, year 1975 .. next year), else None."""
    if value is None or len(value) != 8 or not value.isascii() or not value.isdigit():
        return None
    year = int(value[4:])
    if year < FIRST_VALID_YEAR or year > (last_year or dt.date.today().year + 1):
        return None
    try:
        return dt.date(year, int(value[:2]), int(value[2:4]))
    except ValueError:
        return None


@dataclass(frozen=True)
class Window:
    start: dt.date | None
    end: dt.date | None
    invalid: int
    blank: int


def date_window(values: list[tuple[str | None, int]]) -> Window:
    last_year = dt.date.today().year + 1
    valid: list[dt.date] = []
    invalid = blank = 0
    for value, count in values:
        if value is None or not value.strip():
            blank += count
            continue
        parsed = parse_fec_date(value, last_year=last_year)
        if parsed is None:
            invalid += count
        else:
            valid.append(parsed)
    return Window(min(valid, default=None), max(valid, default=None), invalid, blank)
