"""Pure streaming parsers: bytes in, COPY-ready blocks and rejected lines out. No database, no network.

See :mod:`fecflow.parse.lines` for the block contract (placeholder rows, line numbers, fidelity).
"""

from fecflow.parse.header import check_header_matches, read_header_file
from fecflow.parse.lines import DEFAULT_BLOCK_SIZE, MAX_LINE_BYTES, iter_blocks
from fecflow.parse.records import (
    PLACEHOLDER_MARKER,
    Block,
    ParseStats,
    RejectedLine,
    RejectReason,
    placeholder_row,
)

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "MAX_LINE_BYTES",
    "PLACEHOLDER_MARKER",
    "Block",
    "ParseStats",
    "RejectReason",
    "RejectedLine",
    "check_header_matches",
    "iter_blocks",
    "placeholder_row",
    "read_header_file",
]
