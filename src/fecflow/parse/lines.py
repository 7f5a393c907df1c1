"""Split an FEC bulk file into COPY-ready blocks of lines; bad lines become data, never exceptions.

:func:`iter_blocks` reads a binary stream (a plain file, a ``gzip.open`` stream, a zip member opened
with ``zipfile``) in blocks of about ``block_size`` bytes, cut at line ends, and yields a
:class:`~fecflow.parse.records.Block` per block. ``Block.data`` goes straight into::

    COPY staging.<type> (...) FROM STDIN (FORMAT csv, DELIMITER '|', QUOTE E'\\x01', NULL '')

The contract with the staging layer
-----------------------------------
* **One row per physical line, in order.** Row *k* (0-based) of ``Block.data`` is line
  ``Block.first_line + k``; blocks are consecutive, so row *n* (0-based) of the whole COPY stream is
  line ``start_line + n``. A table column filled from a sequence therefore gives every row its exact
  file line number without per-row Python work.
* **A rejected line is replaced, not removed:** its row is a placeholder (:func:`placeholder_row`)
  whose first field is :data:`PLACEHOLDER_MARKER` (``\\x02REJECTED``) and whose other fields are
  empty (NULL with ``NULL ''``, so staging columns must be nullable). The line itself, with its
  line number, reason and raw bytes, is in ``Block.rejects``. Staging deletes the placeholder rows
  in the same transaction and writes the rejects table. No accepted row can start with the marker
  (``\\x02`` anywhere in a line is a reject).
* **Fidelity.** For an accepted line, its row in ``data`` minus the LF is byte-for-byte the line in
  the file, except in two recorded cases:

  - *CRLF*: the CR before the LF is dropped (``Block.crlf`` lists those line numbers);
  - *not UTF-8*: the line is decoded byte by byte with a fallback (each byte that is not part of
    valid UTF-8 is read as cp1252, or latin-1 for the five bytes cp1252 leaves undefined; valid
    UTF-8 in the same line is kept) and re-encoded as UTF-8. ``Block.recoded`` lists those line
    numbers and ``Block.recoded_raw`` keeps their original bytes.

  So the file is rebuilt exactly from: accepted rows, ``recoded_raw``, a CR for every ``crlf``
  line, ``RejectedLine.raw`` for rejects, an LF after every line except the last when
  ``ParseStats.missing_final_newline`` is set. ``ParseStats.sha256`` checks the result.

Per-line rules (first match wins)
---------------------------------
A line is the bytes before an LF (or before the end of the input for a last line without LF).
A final CR is a CRLF line end and is stripped; any other CR is a ``bare_cr`` reject (FEC files have
none, and COPY in CSV mode would take a bare CR for a line end, silently splitting the row).

1. ``line_too_long``: more than ``max_line_bytes`` (1 MiB) bytes before the LF; ``raw`` keeps the first
   ``max_line_bytes`` bytes and ``raw_size`` the full length (memory stays bounded on a file with no
   line ends at all);
2. ``empty_line``; 3. ``nul_byte``; 4. ``control_char`` (``\\x01`` is our COPY quote character,
   ``\\x02`` the placeholder marker); 5. ``bare_cr``;
6. ``field_count``: the number of ``|`` must be ``field_count - 1`` (FEC fields are never quoted).

An input without a final LF is accepted (``ParseStats.missing_final_newline``); a trailing CR without
LF at the very end is a bare CR. A line ``\\.`` (COPY's end-of-data marker) can never be accepted
for a file with more than one field.

How it is fast
--------------
Per block the checks are a handful of C-level passes over the bytes: ``in`` for CR/NUL/``\\x01``/
``\\x02``, ``isascii()`` (or a UTF-8 decode), and an exact per-line field count from
``bytes.translate`` (delete everything but ``|`` and LF, then compare with ``("|" * (n-1) + "\\n") * lines``).
A clean block is yielded as the very bytes read. Only when a block check fails are its lines split
and the offending lines found (again with C-level ``map``/``count``); Python touches just those
lines, then ``b"\\n".join`` rebuilds the block.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import logging
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import BinaryIO

from fecflow.catalog.model import FileSpec
from fecflow.errors import IntegrityError
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
    "iter_blocks",
    "placeholder_row",
]

log = logging.getLogger(__name__)

DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024

_ENCODING_FALLBACK = "fecflow.cp1252_fallback"


def _fallback_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81 0x8D 0x8F 0x90 0x9D are undefined in cp1252
        return bytes([byte]).decode("latin-1")


_FALLBACK_CHARS = tuple(_fallback_char(b) for b in range(256))


def _decode_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each undecodable byte becomes its cp1252 (else latin-1) character."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(_FALLBACK_CHARS[b] for b in bad), exc.end


codecs.register_error(_ENCODING_FALLBACK, _decode_fallback)

# Errors a decompressing stream raises on a damaged archive.
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile)


def iter_blocks(
    stream: BinaryIO,
    spec_or_field_count: FileSpec | int,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    start_line: int = 1,
    stats: ParseStats | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[Block]:
    """Yield COPY-ready :class:`Block` s covering every line of ``stream``, in order.

    ``start_line`` is the number of the stream's first line (when resuming inside a file, position
    the stream at that line). ``stats`` (a fresh :class:`ParseStats`) is updated per block and gets
    the input's sha256 when the iterator is exhausted. A damaged archive stream raises
    :class:`~fecflow.errors.IntegrityError`; bad lines never raise.
    """
    field_count = (
        spec_or_field_count.field_count if isinstance(spec_or_field_count, FileSpec) else spec_or_field_count
    )
    if field_count < 1:
        raise ValueError(f"field_count must be >= 1, got {field_count}")
    if block_size < 1 or max_line_bytes < 1 or start_line < 1:
        raise ValueError("block_size, max_line_bytes and start_line must be >= 1")
    if stats is None:
        stats = ParseStats()
    parser = _LineRules(field_count, max_line_bytes)
    hasher = hashlib.sha256()

    def on_read(chunk: bytes) -> None:
        hasher.update(chunk)
        stats.bytes_read += len(chunk)

    line_number = start_line
    for segment in _iter_segments(stream, block_size, max_line_bytes, on_read):
        if isinstance(segment, bytes):
            block = parser.parse_body(segment, line_number)
        elif isinstance(segment, _LongLine):
            if not segment.terminated:
                stats.missing_final_newline = True
            block = parser.long_line_block(segment, line_number)
        else:
            stats.missing_final_newline = True
            block = parser.tail_block(segment.raw, line_number)
        line_number = block.last_line + 1
        stats.add_block(block)
        yield block
    stats.sha256 = hasher.hexdigest()
    stats.complete = True
    log.debug("parsed %d lines (%d rejected, %d recoded) in %d blocks, sha256 %s",
              stats.lines, stats.rejected, stats.recoded, stats.blocks, stats.sha256)


# --- reading: cut the stream at line ends -------------------------------------------------------


@dataclass(slots=True)
class _LongLine:
    """A line longer than max_line_bytes: its first max_line_bytes bytes and its full size."""

    prefix: bytes
    size: int  # bytes before the LF (or before end of input)
    terminated: bool  # False when the input ended inside the line


@dataclass(slots=True)
class _Tail:
    """The last line of an input that does not end in LF."""

    raw: bytes


def _read(stream: BinaryIO, size: int, offset: int) -> bytes:
    try:
        return stream.read(size)
    except _ARCHIVE_ERRORS as exc:
        raise IntegrityError(
            f"Could not read the input after {offset} bytes: {exc}",
            hint="The archive is damaged; download it again (it will be re-verified).",
        ) from exc


def _iter_segments(
    stream: BinaryIO, block_size: int, max_line_bytes: int, on_read: Callable[[bytes], None]
) -> Iterator[bytes | _LongLine | _Tail]:
    """Yield bodies of complete lines (each ending in LF), over-long lines, and a final unterminated line."""
    pending: list[bytes] = []  # start of a line whose LF has not been read yet
    pending_size = 0
    long_line: _LongLine | None = None
    offset = 0
    while True:
        chunk = _read(stream, block_size, offset)
        if not chunk:
            break
        offset += len(chunk)
        on_read(chunk)
        if long_line is not None:  # skipping to the end of an over-long line
            newline = chunk.find(b"\n")
            if newline < 0:
                long_line.size += len(chunk)
                continue
            long_line.size += newline
            long_line.terminated = True
            yield long_line
            long_line = None
            chunk = chunk[newline + 1 :]
            if not chunk:
                continue
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            pending.append(chunk)
            pending_size += len(chunk)
        else:
            if pending:
                pending.append(chunk)
                data = b"".join(pending)
                cut += pending_size
                pending.clear()
            else:
                data = chunk
            if cut == len(data):
                yield data
                pending_size = 0
                continue
            yield data[:cut]
            rest = data[cut:]
            pending.append(rest)
            pending_size = len(rest)
        if pending_size > max_line_bytes:
            head = b"".join(pending)
            long_line = _LongLine(prefix=head[:max_line_bytes], size=len(head), terminated=False)
            pending.clear()
            pending_size = 0
    if long_line is not None:
        yield long_line
    elif pending_size:
        yield _Tail(b"".join(pending))


# --- checking: the per-line rules, applied per block ---------------------------------------------

_LineOutcome = RejectedLine | tuple[bytes, bool, bool]  # (row bytes, had CRLF, was recoded)


class _LineRules:
    def __init__(self, field_count: int, max_line_bytes: int) -> None:
        self.field_count = field_count
        self.max_line_bytes = max_line_bytes
        self._pipes = field_count - 1
        self._unit = b"|" * self._pipes + b"\n"
        self._placeholder = placeholder_row(field_count)[:-1]  # without its LF, for join
        self._window = max_line_bytes // 2 + 1
        self._not_structure = bytes(b for b in range(256) if b not in b"|\n")

    # blocks ------------------------------------------------------------------------------------

    def parse_body(self, body: bytes, first_line: int) -> Block:
        """A block from ``body``: complete lines, each ending in LF."""
        maybe_long = self._may_have_long_line(body)
        if b"\r" in body:
            lines = body.count(b"\n")
            if body.count(b"\r\n") == lines == body.count(b"\r"):  # every line ends in CRLF
                return self._parse_lf(body.replace(b"\r\n", b"\n"), first_line, len(body), maybe_long, True)
        return self._parse_lf(body, first_line, len(body), maybe_long, False)

    def long_line_block(self, line: _LongLine, line_number: int) -> Block:
        reject = self._too_long(line_number, line.prefix, line.size)
        return Block(
            data=self._placeholder + b"\n",
            first_line=line_number,
            last_line=line_number,
            line_count=1,
            rejects=[reject],
            recoded=[],
            recoded_raw=[],
            crlf=[],
            raw_bytes=line.size + (1 if line.terminated else 0),
        )

    def tail_block(self, raw: bytes, line_number: int) -> Block:
        """A one-line block for the last line of an input without a final LF."""
        outcome = self._classify(raw, line_number, allow_crlf=False)
        rejects: list[RejectedLine] = []
        recoded_raw: list[tuple[int, bytes]] = []
        if isinstance(outcome, RejectedLine):
            rejects.append(outcome)
            row = self._placeholder
        else:
            row, _, was_recoded = outcome
            if was_recoded:
                recoded_raw.append((line_number, raw))
        return Block(
            data=row + b"\n",
            first_line=line_number,
            last_line=line_number,
            line_count=1,
            rejects=rejects,
            recoded=[n for n, _ in recoded_raw],
            recoded_raw=recoded_raw,
            crlf=[],
            raw_bytes=len(raw),
        )

    def _parse_lf(
        self, body: bytes, first_line: int, raw_bytes: int, maybe_long: bool, all_crlf: bool
    ) -> Block:
        lines = -1 if maybe_long else self._count_if_clean(body)
        if lines >= 0:
            return Block(
                data=body,
                first_line=first_line,
                last_line=first_line + lines - 1,
                line_count=lines,
                rejects=[],
                recoded=[],
                recoded_raw=[],
                crlf=list(range(first_line, first_line + lines)) if all_crlf else [],
                raw_bytes=raw_bytes,
            )
        return self._parse_slow(body, first_line, raw_bytes, maybe_long, all_crlf)

    def _count_if_clean(self, body: bytes) -> int:
        """Number of lines when every line of ``body`` is accepted as is, else -1."""
        if b"\r" in body or b"\x00" in body or b"\x01" in body or b"\x02" in body:
            return -1
        if not body.isascii():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                return -1
        structure = body.translate(None, self._not_structure)  # only the `|` and LF bytes, in order
        lines = structure.count(b"\n")
        if structure != self._unit * lines:  # exact: each line has field_count - 1 pipes
            return -1
        if self._pipes == 0 and (body.startswith(b"\n") or b"\n\n" in body):  # empty lines
            return -1
        return lines

    def _may_have_long_line(self, body: bytes) -> bool:
        """False only if no line of ``body`` is longer than max_line_bytes (cheap, no false negatives).

        A line of more than L bytes fully contains one of the aligned windows of L // 2 + 1 bytes,
        and such a window has no LF.
        """
        if len(body) <= self.max_line_bytes:
            return False
        find, window = body.find, self._window
        return any(find(b"\n", start, start + window) < 0 for start in range(0, len(body), window))

    def _parse_slow(
        self, body: bytes, first_line: int, raw_bytes: int, maybe_long: bool, all_crlf: bool
    ) -> Block:
        lines = body.split(b"\n")
        lines.pop()  # body ends in LF
        suspects = self._find_suspects(body, lines, maybe_long, all_crlf)
        rejects: list[RejectedLine] = []
        recoded: list[int] = []
        recoded_raw: list[tuple[int, bytes]] = []
        crlf: list[int] = []
        rejected_lines: set[int] = set()
        for index in sorted(suspects):
            line_number = first_line + index
            raw = lines[index] + b"\r" if all_crlf else lines[index]
            outcome = self._classify(raw, line_number, allow_crlf=True)
            if isinstance(outcome, RejectedLine):
                rejects.append(outcome)
                rejected_lines.add(line_number)
                lines[index] = self._placeholder
                continue
            row, had_crlf, was_recoded = outcome
            lines[index] = row
            if had_crlf and not all_crlf:
                crlf.append(line_number)
            if was_recoded:
                recoded.append(line_number)
                recoded_raw.append((line_number, raw[:-1] if had_crlf else raw))
        count = len(lines)
        if all_crlf:
            crlf = [n for n in range(first_line, first_line + count) if n not in rejected_lines]
        return Block(
            data=b"\n".join(lines) + b"\n" if suspects else body,
            first_line=first_line,
            last_line=first_line + count - 1,
            line_count=count,
            rejects=rejects,
            recoded=recoded,
            recoded_raw=recoded_raw,
            crlf=crlf,
            raw_bytes=raw_bytes,
        )

    def _find_suspects(self, body: bytes, lines: list[bytes], maybe_long: bool, all_crlf: bool) -> set[int]:
        """Indexes of the lines that need a closer look (a superset of rejected and recoded lines)."""
        suspects: set[int] = set()
        for byte in (b"\r", b"\x00", b"\x01", b"\x02"):
            if byte in body:
                suspects.update(i for i, line in enumerate(lines) if byte in line)
        counts = list(map(bytes.count, lines, repeat(b"|")))
        if counts.count(self._pipes) != len(lines):
            suspects.update(i for i, n in enumerate(counts) if n != self._pipes)
        if self._pipes == 0:
            suspects.update(i for i, line in enumerate(lines) if not line)
        if not body.isascii():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                suspects.update(i for i, line in enumerate(lines) if not line.isascii())
        if maybe_long:
            limit = self.max_line_bytes - all_crlf  # with all_crlf each line lost its CR
            suspects.update(i for i, line in enumerate(lines) if len(line) > limit)
        return suspects

    # one line ----------------------------------------------------------------------------------

    def _classify(self, raw: bytes, line_number: int, *, allow_crlf: bool) -> _LineOutcome:
        """Apply the per-line rules to ``raw`` (the line without its LF)."""
        if len(raw) > self.max_line_bytes:
            return self._too_long(line_number, raw[: self.max_line_bytes], len(raw))
        had_crlf = allow_crlf and raw.endswith(b"\r")
        line = raw[:-1] if had_crlf else raw
        reason: RejectReason | None = None
        if not line:
            reason, message = RejectReason.EMPTY_LINE, "empty line"
        elif (at := line.find(b"\x00")) >= 0:
            reason, message = RejectReason.NUL_BYTE, f"NUL byte at offset {at}"
        elif (at := _find_any(line, b"\x01", b"\x02")) >= 0:
            reason, message = RejectReason.CONTROL_CHAR, f"control byte 0x{line[at]:02x} at offset {at}"
        elif (at := line.find(b"\r")) >= 0:
            reason, message = RejectReason.BARE_CR, f"CR not followed by LF at offset {at}"
        elif (pipes := line.count(b"|")) != self._pipes:
            reason, message = RejectReason.FIELD_COUNT, f"expected {self.field_count} fields, got {pipes + 1}"
        if reason is not None:
            return RejectedLine(line_number, reason, message, raw, len(raw))
        if line.isascii():
            return line, had_crlf, False
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return line.decode("utf-8", _ENCODING_FALLBACK).encode("utf-8"), had_crlf, True
        return line, had_crlf, False

    def _too_long(self, line_number: int, prefix: bytes, size: int) -> RejectedLine:
        message = (
            f"line is {size} bytes, over the {self.max_line_bytes}-byte limit "
            f"(raw bytes kept: the first {len(prefix)})"
        )
        return RejectedLine(line_number, RejectReason.LINE_TOO_LONG, message, prefix, size)


def _find_any(line: bytes, first: bytes, second: bytes) -> int:
    """Offset of the first occurrence of either byte, or -1."""
    a, b = line.find(first), line.find(second)
    if a < 0:
        return b
    return a if b < 0 else min(a, b)
