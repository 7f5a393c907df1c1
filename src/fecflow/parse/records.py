"""What the line parser hands out: :class:`Block`, :class:`RejectedLine`, :class:`ParseStats`.

See :mod:`fecflow.parse.lines` for the contract these types carry (placeholder rows, line numbers,
fidelity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

#: First field of a placeholder row. ``\x02`` never occurs in an accepted line (such lines are
#: rejected as ``control_char``), so no real row can start with this marker.
PLACEHOLDER_MARKER = b"\x02REJECTED"


def placeholder_row(field_count: int) -> bytes:
    """The COPY row standing in for a rejected line: marker, then ``field_count - 1`` empty fields, LF."""
    if field_count < 1:
        raise ValueError(f"field_count must be >= 1, got {field_count}")
    return PLACEHOLDER_MARKER + b"|" * (field_count - 1) + b"\n"


class RejectReason(StrEnum):
    """Why a line was rejected. The values are stable: they are stored in the rejects table."""

    FIELD_COUNT = "field_count"  # number of `|`-separated fields differs from the file's
    NUL_BYTE = "nul_byte"  # contains \x00 (PostgreSQL text cannot hold it)
    CONTROL_CHAR = "control_char"  # contains \x01 (our COPY quote char) or \x02 (placeholder marker)
    BARE_CR = "bare_cr"  # contains a CR not followed by LF (COPY would read it as a line end)
    EMPTY_LINE = "empty_line"  # nothing between two line ends
    LINE_TOO_LONG = "line_too_long"  # more than ``max_line_bytes`` bytes before the LF


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """One line that did not make it into ``Block.data`` (a placeholder row stands in its place).

    ``raw`` is the line exactly as in the file without its LF: a CR before the LF, if any, is kept.
    Only for ``line_too_long`` is ``raw`` cut to the first ``max_line_bytes`` bytes; ``raw_size`` is
    always the full length, so ``raw_size != len(raw)`` says the raw bytes were truncated.
    """

    line_number: int
    reason: RejectReason
    message: str
    raw: bytes
    raw_size: int


@dataclass(frozen=True, slots=True)
class Block:
    """A run of consecutive physical lines, ready for ``COPY ... FROM STDIN``.

    ``data`` holds exactly ``line_count`` rows, each ending in LF: row *k* (0-based) is line
    ``first_line + k``, either the accepted line or a placeholder row for a rejected one.
    """

    data: bytes
    first_line: int
    last_line: int
    line_count: int
    rejects: list[RejectedLine]
    #: Line numbers whose row in ``data`` was re-encoded from the cp1252/latin-1 fallback to UTF-8.
    recoded: list[int]
    #: ``(line_number, raw bytes without the line terminator)`` for every recoded line.
    recoded_raw: list[tuple[int, bytes]]
    #: Line numbers of accepted lines that ended in CRLF; their CR is not in ``data``.
    crlf: list[int]
    #: Bytes of the input this block covers, line terminators included.
    raw_bytes: int

    @property
    def loaded_count(self) -> int:
        """Rows of ``data`` that are real lines (not placeholders)."""
        return self.line_count - len(self.rejects)


@dataclass(slots=True)
class ParseStats:
    """Running totals of one :func:`~fecflow.parse.lines.iter_blocks` pass.

    Pass a fresh instance to ``iter_blocks(..., stats=...)``; it is updated as blocks are yielded.
    ``sha256`` (hex digest of every raw input byte) is set and ``complete`` becomes True only when
    the iterator is exhausted; after that ``lines == loaded + rejected`` and ``bytes_read`` is the
    size of the input.
    """

    lines: int = 0
    loaded: int = 0
    rejected: int = 0
    recoded: int = 0
    crlf_lines: int = 0
    bytes_read: int = 0
    blocks: int = 0
    missing_final_newline: bool = False
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    sha256: str | None = None
    complete: bool = False

    def add_block(self, block: Block) -> None:
        self.blocks += 1
        self.lines += block.line_count
        self.rejected += len(block.rejects)
        self.loaded += block.loaded_count
        self.recoded += len(block.recoded)
        self.crlf_lines += len(block.crlf)
        for reject in block.rejects:
            key = str(reject.reason)
            self.rejects_by_reason[key] = self.rejects_by_reason.get(key, 0) + 1
