"""Shared helpers for the parser tests: rebuild a file from blocks, split COPY rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from fecflow.parse import Block, ParseStats, placeholder_row


def rebuild_file(blocks: Iterable[Block], stats: ParseStats, field_count: int) -> bytes:
    """The original input, rebuilt only from what the parser hands out (the fidelity contract)."""
    placeholder = placeholder_row(field_count)[:-1]
    out: list[bytes] = []
    for block in blocks:
        rejects = {r.line_number: r.raw for r in block.rejects}
        recoded = dict(block.recoded_raw)
        crlf = set(block.crlf)
        rows = block.data.split(b"\n")
        assert rows.pop() == b""
        for offset, row in enumerate(rows):
            line_number = block.first_line + offset
            if line_number in rejects:
                assert row == placeholder
                out.append(rejects[line_number])
            else:
                line = recoded.get(line_number, row)
                out.append(line + b"\r" if line_number in crlf else line)
    text = b"\n".join(out)
    if out and not stats.missing_final_newline:
        text += b"\n"
    return text


@pytest.fixture(scope="session")
def rebuild() -> Callable[[Iterable[Block], ParseStats, int], bytes]:
    return rebuild_file
