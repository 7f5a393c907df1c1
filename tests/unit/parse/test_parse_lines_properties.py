"""Property tests: hostile lines against an independent, line-by-line model of the rules.

The model below re-states the rules of :mod:`fecflow.parse.lines` in the simplest possible way
(one line at a time, no blocks, no fast path); iter_blocks must agree with it for any input, any
block size and any line-length limit.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fecflow.parse import PLACEHOLDER_MARKER, ParseStats, iter_blocks, placeholder_row

# --- the model -------------------------------------------------------------------------------------


def fallback_decode(raw: bytes) -> str:
    """Valid UTF-8 characters stay; every other byte is read as cp1252 (latin-1 if undefined)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        for size in (1, 2, 3, 4):
            try:
                out.append(raw[i : i + size].decode("utf-8"))
            except UnicodeDecodeError:
                continue
            i += size
            break
        else:
            try:
                out.append(raw[i : i + 1].decode("cp1252"))
            except UnicodeDecodeError:
                out.append(raw[i : i + 1].decode("latin-1"))
            i += 1
    return "".join(out)


@dataclass
class Expected:
    line_number: int
    raw: bytes  # the line as in the file, without LF
    row: bytes | None  # the row in data, None when rejected
    reason: str | None = None
    crlf: bool = False
    recoded: bool = False


def model(content: bytes, field_count: int, max_line: int, start_line: int) -> list[Expected]:
    pieces = content.split(b"\n")
    tail = pieces.pop()  # b"" when the input ends in LF (or is empty)
    lines = [(p, True) for p in pieces] + ([(tail, False)] if tail else [])
    result = []
    for offset, (raw, terminated) in enumerate(lines):
        number = start_line + offset
        if len(raw) > max_line:
            result.append(Expected(number, raw, None, "line_too_long"))
            continue
        crlf = terminated and raw.endswith(b"\r")
        line = raw[:-1] if crlf else raw
        reason = None
        if line == b"":
            reason = "empty_line"
        elif b"\x00" in line:
            reason = "nul_byte"
        elif b"\x01" in line or b"\x02" in line:
            reason = "control_char"
        elif b"\r" in line:
            reason = "bare_cr"
        elif line.count(b"|") != field_count - 1:
            reason = "field_count"
        if reason:
            result.append(Expected(number, raw, None, reason))
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            result.append(Expected(number, raw, fallback_decode(line).encode(), crlf=crlf, recoded=True))
        else:
            result.append(Expected(number, raw, line, crlf=crlf))
    return result


# --- hostile input ---------------------------------------------------------------------------------

TRICKY_FIELDS = [
    b"", b'"', b'""', b'ROBERT E "BUD" JR', b"\\", b"N\\A", b"ACME CORP\\", b"\\.", b"\\N", b"NULL",
    b"'", b"a,b", b"\t", b" ", b"JULI\xc3\x81N", b"\xe2\x80\x99", b"\xf0\x9f\x98\x80", b"C00401224",
    b"15E", b"01022019", b"-50", b"4031220191640716017",
]
BAD_BYTES = [b"\x92", b"\xe9", b"\x81", b"\x9d", b"\xc3", b"\xed\xa0\x80", b"\xff\xfe", b"\xe2\x80"]
INSERTS = [b"\x00", b"\x01", b"\x02", b"\r", b"\r\r"]

plain_text = st.text(
    alphabet=st.characters(blacklist_characters="|\n\r\x00\x01\x02", blacklist_categories=("Cs",)),
    max_size=12,
).map(lambda s: s.encode("utf-8"))
field_value = st.one_of(st.sampled_from(TRICKY_FIELDS), plain_text)


@st.composite
def hostile_line(draw: st.DrawFn, field_count: int) -> bytes:
    kind = draw(st.sampled_from(["good"] * 8 + ["count", "insert", "encoding", "empty", "long"]))
    count = field_count
    if kind == "count":
        count = draw(st.integers(1, field_count + 3).filter(lambda n: n != field_count))
    fields = draw(st.lists(field_value, min_size=count, max_size=count))
    line = b"|".join(fields)
    if kind in ("insert", "encoding"):
        at = draw(st.integers(0, len(line)))
        what = draw(st.sampled_from(INSERTS if kind == "insert" else BAD_BYTES))
        line = line[:at] + what + line[at:]
    elif kind == "empty":
        line = b""
    elif kind == "long":
        line += draw(st.sampled_from([b"x" * 70, b"\xc3\x81" * 40, b"y" * 400]))
    return line


@st.composite
def hostile_file(draw: st.DrawFn) -> tuple[bytes, int]:
    field_count = draw(st.sampled_from([1, 2, 3, 7, 21]))
    lines = draw(st.lists(hostile_line(field_count), max_size=40))
    ending = draw(st.sampled_from(["lf", "lf", "crlf", "mixed"]))
    if ending == "lf":
        ends = [b"\n"] * len(lines)
    elif ending == "crlf":
        ends = [b"\r\n"] * len(lines)
    else:
        ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=len(lines), max_size=len(lines)))
    content = b"".join(line + end for line, end in zip(lines, ends, strict=True))
    if lines and draw(st.booleans()):  # drop the final line end
        content = content[: -len(ends[-1])]
    return content, field_count


# --- the property ----------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    file=hostile_file(),
    block_size=st.sampled_from([1, 2, 3, 7, 16, 64, 257, 4096, 4 * 1024 * 1024]),
    max_line=st.sampled_from([1, 60, 300, 1024 * 1024]),
    start_line=st.sampled_from([1, 2, 1000]),
)
def test_every_line_is_loaded_exactly_or_rejected_with_its_raw_bytes(file, block_size, max_line, start_line,
                                                                    rebuild):
    content, field_count = file
    expected = model(content, field_count, max_line, start_line)
    stats = ParseStats()
    blocks = list(iter_blocks(io.BytesIO(content), field_count, block_size=block_size,
                              max_line_bytes=max_line, start_line=start_line, stats=stats))

    # blocks are contiguous, each a whole number of LF-terminated rows
    next_line = start_line
    for block in blocks:
        assert block.line_count >= 1
        assert block.first_line == next_line
        assert block.last_line == block.first_line + block.line_count - 1
        assert block.data.count(b"\n") == block.line_count and block.data.endswith(b"\n")
        assert all(block.first_line <= n <= block.last_line for n in block.recoded + block.crlf)
        assert all(block.first_line <= r.line_number <= block.last_line for r in block.rejects)
        next_line = block.last_line + 1
    assert sum(b.raw_bytes for b in blocks) == len(content)

    # row n of the COPY stream is line start_line + n: the line itself, or a placeholder
    data = b"".join(b.data for b in blocks)
    rows = data.split(b"\n")
    assert rows.pop() == b""
    assert len(rows) == len(expected)
    placeholder = placeholder_row(field_count)[:-1]
    for row, exp in zip(rows, expected, strict=True):
        assert row == (placeholder if exp.row is None else exp.row), exp

    # rejects: right lines, reasons and raw bytes (cut to max_line only for line_too_long)
    rejects = [r for b in blocks for r in b.rejects]
    want = [e for e in expected if e.reason]
    assert [(r.line_number, str(r.reason)) for r in rejects] == [(e.line_number, e.reason) for e in want]
    for reject, exp in zip(rejects, want, strict=True):
        assert reject.raw_size == len(exp.raw)
        assert reject.raw == (exp.raw[:max_line] if exp.reason == "line_too_long" else exp.raw)
        assert reject.message
        if exp.reason == "field_count":
            assert reject.message == f"expected {field_count} fields, got {exp.raw.count(b'|') + 1}"

    # recoded and CRLF lines are listed, with the raw bytes of recoded lines
    assert [n for b in blocks for n in b.recoded] == [e.line_number for e in expected if e.recoded]
    assert [x for b in blocks for x in b.recoded_raw] == [
        (e.line_number, e.raw[:-1] if e.crlf else e.raw) for e in expected if e.recoded
    ]
    assert [n for b in blocks for n in b.crlf] == [e.line_number for e in expected if e.crlf and e.row is not None]

    # the COPY payload is safe: valid UTF-8, no CR/NUL/\x01, \x02 only as the placeholder marker
    data.decode("utf-8")
    assert b"\r" not in data and b"\x00" not in data and b"\x01" not in data
    assert data.count(b"\x02") == data.count(PLACEHOLDER_MARKER) == len(rejects)

    # stats: lines = loaded + rejected, checksum of the raw input
    assert stats.complete
    assert stats.lines == len(expected) == stats.loaded + stats.rejected
    assert stats.rejected == len(rejects)
    assert stats.bytes_read == len(content)
    assert stats.sha256 == hashlib.sha256(content).hexdigest()
    assert stats.missing_final_newline == (content != b"" and not content.endswith(b"\n"))
    assert stats.recoded == sum(e.recoded for e in expected)
    assert sum(stats.rejects_by_reason.values()) == stats.rejected

    # fidelity: the file comes back from rows + recoded_raw + crlf + rejects (unless raw was cut)
    if not any(e.reason == "line_too_long" for e in expected):
        assert rebuild(blocks, stats, field_count) == content


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.lists(field_value, min_size=21, max_size=21).map(b"|".join), min_size=1, max_size=60),
    block_size=st.sampled_from([1, 5, 64, 1000, 4 * 1024 * 1024]),
)
def test_clean_input_comes_out_as_the_same_bytes(lines, block_size):
    content = b"\n".join(lines) + b"\n"
    stats = ParseStats()
    data = b"".join(b.data for b in iter_blocks(io.BytesIO(content), 21, block_size=block_size, stats=stats))
    assert data == content
    assert stats.lines == len(lines) == stats.loaded


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.sampled_from([19, 20, 20, 20, 20, 21, 22]), min_size=1, max_size=50),
    block_size=st.sampled_from([64, 1000, 4 * 1024 * 1024]),
)
def test_field_count_is_checked_per_line_even_when_errors_cancel_out(counts, block_size):
    """Blocks whose only defects are pipe counts (a short and a long line sum to the right total)."""
    lines = [b"|".join(b"F%d" % i for i in range(pipes + 1)) for pipes in counts]
    content = b"\n".join(lines) + b"\n"
    expected = model(content, 21, 1024 * 1024, 1)
    blocks = list(iter_blocks(io.BytesIO(content), 21, block_size=block_size))
    rejected = [r.line_number for b in blocks for r in b.rejects]
    assert rejected == [e.line_number for e in expected if e.reason]
    assert rejected == [n for n, pipes in enumerate(counts, 1) if pipes != 20]


@st.composite
def lengths_near_limit(draw: st.DrawFn) -> tuple[int, list[int]]:
    max_line = draw(st.integers(1, 60))
    lengths = draw(st.lists(st.integers(0, 2 * max_line + 2), min_size=1, max_size=40))
    return max_line, lengths


@settings(max_examples=300, deadline=None)
@given(
    case=lengths_near_limit(),
    block_size=st.sampled_from([7, 300, 4 * 1024 * 1024]),
    crlf=st.booleans(),
)
def test_line_length_limit_is_exact_on_otherwise_clean_blocks(case, block_size, crlf):
    """Lines around the limit, no other defect: the cheap long-line screen must never miss one."""
    max_line, lengths = case
    lines = [b"a|" + b"x" * max(n - 2, 0) if n >= 2 else b"a|" for n in lengths]
    end = b"\r\n" if crlf else b"\n"
    content = end.join(lines) + end
    expected = model(content, 2, max_line, 1)
    blocks = list(iter_blocks(io.BytesIO(content), 2, block_size=block_size, max_line_bytes=max_line))
    assert [(r.line_number, str(r.reason), r.raw_size) for b in blocks for r in b.rejects] == [
        (e.line_number, e.reason, len(e.raw)) for e in expected if e.reason
    ]
    rows = b"".join(b.data for b in blocks).split(b"\n")[:-1]
    assert [r for r in rows if not r.startswith(PLACEHOLDER_MARKER)] == [e.row for e in expected if e.row]
