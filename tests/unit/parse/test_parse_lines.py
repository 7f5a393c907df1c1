"""iter_blocks, rule by rule: one example per reject reason, line ends, encodings, reading."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import pytest

from fecflow.catalog import get_file_spec
from fecflow.errors import IntegrityError
from fecflow.parse import (
    PLACEHOLDER_MARKER,
    Block,
    ParseStats,
    RejectReason,
    iter_blocks,
    placeholder_row,
)

GOOD = b"C00401224|N|M3|P|201903049145608160|15E|IND|ROBERT E \"BUD\" JR|N\\A|DC|20008|ACME CORP\\|" \
       b"\\|04082019|62||SA11AI.10659|1318236|||4031220191640716017"


def parse(content: bytes, field_count: int = 21, **kwargs) -> tuple[list[Block], ParseStats]:
    stats = ParseStats()
    blocks = list(iter_blocks(io.BytesIO(content), field_count, stats=stats, **kwargs))
    return blocks, stats


def rows(blocks: list[Block]) -> list[bytes]:
    return b"".join(b.data for b in blocks).split(b"\n")[:-1]


def test_placeholder_row_has_the_marker_and_empty_fields():
    assert PLACEHOLDER_MARKER == b"\x02REJECTED"
    assert placeholder_row(21) == b"\x02REJECTED" + b"|" * 20 + b"\n"
    assert placeholder_row(1) == b"\x02REJECTED\n"
    with pytest.raises(ValueError):
        placeholder_row(0)


def test_hostile_but_valid_line_is_kept_byte_for_byte():
    assert GOOD.count(b"|") == 20
    blocks, stats = parse(GOOD + b"\n")
    assert rows(blocks) == [GOOD]
    assert stats.loaded == 1 and stats.rejected == 0


@pytest.mark.parametrize(
    ("line", "reason", "message"),
    [
        (GOOD.replace(b"|", b"", 1), RejectReason.FIELD_COUNT, "expected 21 fields, got 20"),
        (GOOD + b"|", RejectReason.FIELD_COUNT, "expected 21 fields, got 22"),
        (b"", RejectReason.EMPTY_LINE, "empty line"),
        (b"C00\x00401224" + GOOD[9:], RejectReason.NUL_BYTE, "NUL byte at offset 3"),
        (b"C\x01" + GOOD[2:], RejectReason.CONTROL_CHAR, "control byte 0x01 at offset 1"),
        (b"\x02REJECTED" + b"|" * 20, RejectReason.CONTROL_CHAR, "control byte 0x02 at offset 0"),
        (b"C00401224\r" + GOOD[9:], RejectReason.BARE_CR, "CR not followed by LF at offset 9"),
        (GOOD + b"\r\r", RejectReason.BARE_CR, f"CR not followed by LF at offset {len(GOOD)}"),
    ],
)
def test_each_reject_reason(line, reason, message):
    content = GOOD + b"\n" + line + b"\n" + GOOD + b"\n"
    blocks, stats = parse(content)
    [reject] = [r for b in blocks for r in b.rejects]
    assert (reject.line_number, reject.reason, reject.message, reject.raw) == (2, reason, message, line)
    assert reject.raw_size == len(line)
    assert rows(blocks) == [GOOD, placeholder_row(21)[:-1], GOOD]
    assert stats.rejects_by_reason == {str(reason): 1}
    assert stats.lines == 3 == stats.loaded + stats.rejected


def test_line_too_long_keeps_a_bounded_prefix_and_the_full_size():
    long_line = GOOD + b"x" * 5000
    content = GOOD + b"\n" + long_line + b"\n" + GOOD + b"\n"
    for block_size in (64, 1000, 1 << 20):  # the long line fits in a block, or spans many
        blocks, stats = parse(content, block_size=block_size, max_line_bytes=1000)
        [reject] = [r for b in blocks for r in b.rejects]
        assert reject.reason == RejectReason.LINE_TOO_LONG
        assert (reject.line_number, reject.raw, reject.raw_size) == (2, long_line[:1000], len(long_line))
        assert reject.message == f"line is {len(long_line)} bytes, over the 1000-byte limit " \
                                 "(raw bytes kept: the first 1000)"
        assert rows(blocks) == [GOOD, placeholder_row(21)[:-1], GOOD]
        assert stats.bytes_read == len(content) and stats.sha256 == hashlib.sha256(content).hexdigest()


def test_input_without_any_line_end_is_one_long_rejected_line():
    content = b"\x00binary junk|" * 100_000
    blocks, stats = parse(content, block_size=4096, max_line_bytes=10_000)
    assert [(r.line_number, r.reason, r.raw_size) for b in blocks for r in b.rejects] == [
        (1, RejectReason.LINE_TOO_LONG, len(content))
    ]
    assert stats.missing_final_newline and stats.lines == 1


def test_every_alignment_of_a_line_just_over_the_limit_is_caught():
    """Exhaustive over small limits: the block-level long-line screen has no blind spot."""
    for limit in range(1, 17):
        for start in range(0, 3 * limit + 2):
            if start % 2 and (start < 3 or limit < 2):
                continue  # odd offsets need a 2-byte line in the prefix (no empty lines)
            prefix = (b"xx\n" + b"x\n" * ((start - 3) // 2)) if start % 2 else b"x\n" * (start // 2)
            for size in range(max(limit - 1, 1), limit + 4):
                content = prefix + b"y" * size + b"\n" + b"x\n" * limit
                blocks, _ = parse(content, 1, max_line_bytes=limit)
                rejected = [(r.line_number, r.raw_size) for b in blocks for r in b.rejects]
                expected = [(prefix.count(b"\n") + 1, size)] if size > limit else []
                assert rejected == expected, (limit, start, size)


def test_crlf_lines_are_stripped_and_listed():
    content = GOOD + b"\r\n" + GOOD + b"\r\n"
    blocks, stats = parse(content)
    assert rows(blocks) == [GOOD, GOOD]
    assert [n for b in blocks for n in b.crlf] == [1, 2]
    assert stats.crlf_lines == 2 and stats.rejected == 0


def test_mixed_line_ends():
    content = GOOD + b"\n" + GOOD + b"\r\n" + GOOD + b"\n"
    blocks, stats = parse(content)
    assert rows(blocks) == [GOOD, GOOD, GOOD]
    assert [n for b in blocks for n in b.crlf] == [2]
    assert stats.crlf_lines == 1


def test_final_line_without_newline_is_accepted_and_noted():
    blocks, stats = parse(GOOD + b"\n" + GOOD)
    assert rows(blocks) == [GOOD, GOOD]
    assert blocks[-1].data.endswith(b"\n")
    assert stats.missing_final_newline and stats.lines == 2
    assert stats.bytes_read == 2 * len(GOOD) + 1


def test_final_cr_without_lf_is_a_bare_cr():
    blocks, stats = parse(GOOD + b"\n" + GOOD + b"\r")
    assert [(r.line_number, r.reason, r.raw) for b in blocks for r in b.rejects] == [
        (2, RejectReason.BARE_CR, GOOD + b"\r")
    ]
    assert stats.missing_final_newline


def test_cp1252_byte_is_recoded_and_its_raw_bytes_kept():
    line = GOOD.replace(b"ROBERT E", b"O\x92BRIEN JULI\xc3\x81N")  # cp1252 apostrophe next to real UTF-8
    blocks, stats = parse(GOOD + b"\n" + line + b"\n")
    [block] = blocks
    assert block.recoded == [2] and block.recoded_raw == [(2, line)]
    assert rows(blocks)[1] == GOOD.replace(b"ROBERT E", "O\u2019BRIEN JULIÁN".encode())
    assert stats.recoded == 1 and stats.rejected == 0 and stats.loaded == 2


def test_bytes_undefined_in_cp1252_fall_back_to_latin1():
    line = b"A\x81B|\xff"
    blocks, _ = parse(line + b"\n", 2)
    assert rows(blocks) == ["A\u0081B|\u00ff".encode()]
    assert blocks[0].recoded_raw == [(1, line)]


def test_start_line_and_file_spec():
    blocks, stats = parse(GOOD + b"\n" + b"bad\n", get_file_spec("indiv"), start_line=101)
    assert (blocks[0].first_line, blocks[-1].last_line) == (101, 102)
    assert [r.line_number for b in blocks for r in b.rejects] == [102]


def test_empty_input():
    blocks, stats = parse(b"")
    assert blocks == []
    assert stats.complete and stats.lines == 0 and stats.bytes_read == 0
    assert stats.sha256 == hashlib.sha256(b"").hexdigest()
    assert not stats.missing_final_newline


def test_stats_are_final_only_when_the_iterator_is_exhausted():
    stats = ParseStats()
    iterator = iter_blocks(io.BytesIO((GOOD + b"\n") * 100), 21, block_size=len(GOOD) * 10, stats=stats)
    first = next(iterator)
    assert not stats.complete and stats.sha256 is None and stats.lines == first.line_count
    for _ in iterator:
        pass
    assert stats.complete and stats.lines == 100


@pytest.mark.parametrize("kwargs", [{"block_size": 0}, {"max_line_bytes": 0}, {"start_line": 0}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        parse(GOOD, **kwargs)
    with pytest.raises(ValueError):
        parse(GOOD, 0)


def test_truncated_gzip_is_an_integrity_error():
    compressed = gzip.compress((GOOD + b"\n") * 2000)
    with gzip.open(io.BytesIO(compressed[: len(compressed) // 2]), "rb") as fh:
        with pytest.raises(IntegrityError):
            list(iter_blocks(fh, 21, block_size=4096))


def test_zip_member_with_bad_crc_is_an_integrity_error():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("itcont.txt", (GOOD + b"\n") * 50)
    damaged = bytearray(buffer.getvalue())
    damaged[damaged.index(b"ROBERT")] = ord("X")  # stored data changed, CRC not
    with zipfile.ZipFile(io.BytesIO(bytes(damaged))) as zf, zf.open("itcont.txt") as member:
        with pytest.raises(IntegrityError):
            list(iter_blocks(member, 21))
