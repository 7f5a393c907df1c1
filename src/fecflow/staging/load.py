"""Load one raw FEC payload into ``staging.<type>``: COPY in batches, each audited and atomic.

A *batch* is a contiguous line range of one source file, loaded in ONE transaction on its own
connection. Its ``ops.ingest_run_audits`` row (``stage='stage'``, ``scope`` = file type) is written and
committed *before* the work on a separate autocommit connection; the finish of that row (status
``succeeded``, counts, payload sha256, window) is written in the same transaction as the data, so data
and "succeeded" become visible together. On error the batch is rolled back and its audit is marked
``failed`` with the error. Hence: every staged row belongs to a succeeded batch, and a crash leaves
nothing of the batch it interrupted.

Per block of :func:`~fecflow.parse.iter_blocks` the Python work is C-level only (no bytecode per row):
prefix every row with ``{source_file_id}|{batch_id}|{line_number}|`` (split/join) and hand the block
to a writer thread (a queue of :data:`COPY_QUEUE_BLOCKS` blocks, so parsing overlaps sending)::

    COPY staging.<t> (_source_file_id, _batch_id, _line_number, <raw columns in catalog order>)
    FROM STDIN (FORMAT csv, DELIMITER '|', QUOTE E'\\x01', NULL '')

The placeholder rows of rejected lines (see :mod:`fecflow.parse.lines`) are left out of the COPY data
(only blocks with rejects pay for that), so they never reach the table and no DELETE has to find them.
A batch is written as several COPY statements (:data:`ROWS_PER_COPY` rows each, bounding the server's
per-statement memory and our side buffers). After each statement, in the same transaction, the
rejects go to ``ops.rejected_row`` (line number, reason, message, raw bytes) and the original bytes of
re-encoded (non-UTF-8) and CRLF lines go to ``staging.raw_line``, so :mod:`fecflow.staging.export`
rebuilds the file byte for byte.

For transaction files the raw TRANSACTION_DT values of the batch are counted while its blocks stream
by (``map``/``rsplit``/``Counter`` over the rows, :class:`_DateCounter`); the distinct values are parsed
strictly in Python (MMDDYYYY, a real date, year 1975 .. next year) for ``window_start/window_end``, and
invalid and blank dates are counted. (A ``GROUP BY`` over the staged rows after the COPY was measured
slower: it runs on the critical path, and the BRIN index cannot narrow it: parallel batches
interleave their pages, and ranges not yet summarized are always scanned.)

Foreign keys: every row of a batch references the same ``ops.source_file`` and audit rows. The
staging tables carry no per-row foreign keys (they cost about 4x the COPY throughput; migration 0002
dropped them); instead each batch locks both parent rows ``FOR KEY SHARE`` once, which is what each
per-row check would do, and commits its rows together with its audit row.

Before commit, checked in code against what the server reported: ``lines = loaded + rejected``, the
rows COPYed into staging are the loaded lines, and the rows COPYed into ``ops.rejected_row`` the
rejected ones.

The audit ``counts`` of a batch hold ``first_line``/``last_line`` and ``first_byte``/``end_byte``
(its range in the payload), ``eof`` (the range runs to the end of the payload),
``missing_final_newline``, ``recoded``, ``crlf``, ``rejects_by_reason``, ``dates_invalid``,
``dates_blank``, ``seconds`` and the payload description. ``sha256``/``bytes`` are those of the whole
payload (the text file, i.e. the zip *member*), measured by the batch that reads it all.

Idempotence and resume (:func:`stage_source_file`)
--------------------------------------------------
* A source file whose lines are all covered by succeeded stage batches is skipped.
* **Same sha256: skip.** A source file whose ``ops.source_file`` sha256, file type and member equal
  those of another, fully staged source file is skipped (``duplicate_of`` names that one): its rows
  would be identical.
* Otherwise only the missing line ranges are loaded (after a crash, the batches that did not commit).
* ``replace=True`` deletes the file's staging rows, rejects and raw lines, marks its earlier succeeded
  batches superseded (``counts.superseded_by_run_id``; they no longer count as coverage) and reloads.
* Skips leave a ``skipped`` audit row with the reason. Stage batches left ``running`` by a dead
  process are marked ``failed`` when the file is staged again.

Parallel loads: ``workers=N`` cuts the payload into N byte ranges at line boundaries (see
:mod:`fecflow.staging.payload`), loaded on N connections in N threads, each its own batch. A worker
that starts inside the payload reads the bytes before its range counting LFs (decompressing them for
zip/gzip) to learn its first line number; the last worker also hashes the whole payload. If one
worker fails, the others stop at their next block and roll back. Memory stays bounded: payloads are
streamed block by block, never read whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter, methodcaller
from typing import Any, BinaryIO, cast

import psycopg
from psycopg import sql
from psycopg.copy import LibpqWriter
from psycopg.rows import dict_row

from fecflow.catalog import FileSpec
from fecflow.db import ops
from fecflow.db.engine import connect as connect_url
from fecflow.db.models import STAGING_META_COLUMNS
from fecflow.errors import DataError, LockHeld
from fecflow.parse import PLACEHOLDER_MARKER, Block, ParseStats, iter_blocks
from fecflow.staging.payload import ByteStream, Payload, limit_to_boundary, limit_to_offset, open_payload

log = logging.getLogger(__name__)

STAGE = "stage"
COPY_OPTIONS = sql.SQL("(FORMAT csv, DELIMITER '|', QUOTE E'\\x01', NULL '')")
#: Rows per COPY statement inside a batch (the side tables are written between statements).
ROWS_PER_COPY = 1_000_000
#: Buffered rejected / raw-line bytes that end a COPY statement early.
SIDE_BYTES_PER_COPY = 32 * 1024 * 1024
#: Bytes per block read from the payload. 1 MiB parses as fast as 4 MiB, keeps memory lower and the
#: GIL-holding C calls short, so the COPY writer thread gets its turns.
STAGE_BLOCK_SIZE = 1024 * 1024
#: Blocks a COPY writer thread may hold queued (bounds memory: about this many x block_size).
COPY_QUEUE_BLOCKS = 4
#: Payloads are split between workers only into parts of at least this many bytes.
MIN_PART_BYTES = 256 * 1024
#: Check the staging rows' two parents once per batch (lock both rows FOR KEY SHARE); the staging
#: tables have no per-row foreign keys (migration 0002).
#: Per-row checks cut COPY throughput about 4x (measured; see bench/run.py --staging-without-fks).
FK_CHECKS_PER_BATCH = True
#: Class of the session advisory lock ``(STAGE_LOCK_CLASS, source_file_id)`` held while staging a file.
STAGE_LOCK_CLASS = 0x0FEC5
FIRST_VALID_YEAR = 1975
SUPERSEDED_KEY = "superseded_by_run_id"

ConnectionFactory = Callable[[], psycopg.Connection]
ProgressCallback = Callable[[int, int], None]


class StageAborted(DataError):
    """A batch stopped because another batch of the same file failed."""


@dataclass(frozen=True)
class StageResult:
    """What :func:`stage_source_file` did. For a skipped file, the counts describe what is staged."""

    source_file_id: int
    file_type: str
    batches: int
    lines: int
    loaded: int
    rejected: int
    recoded: int
    sha256: str | None
    bytes: int | None
    window_start: dt.date | None
    window_end: dt.date | None
    skipped: bool
    skip_reason: str | None
    seconds: float
    crlf: int = 0
    duplicate_of: int | None = None
    audit_ids: tuple[int, ...] = ()


# --- plan: which line ranges to load ----------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
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
class _Covered:
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
class _Coverage:
    ranges: list[_Covered]
    complete: bool
    gaps: list[_Segment] | None  # None: the ranges are inconsistent, only a replace can fix it


def _coverage(conn: psycopg.Connection, source_file_id: int) -> _Coverage:
    rows = conn.execute(
        "SELECT audit_id, counts, lines_read, rows_loaded, rows_rejected, sha256, bytes, window_start, "
        "window_end FROM ops.ingest_run_audits WHERE stage = %s AND source_file_id = %s "
        "AND status = 'succeeded' AND NOT (counts ? %s)",
        (STAGE, source_file_id, SUPERSEDED_KEY),
    ).fetchall()
    ranges: list[_Covered] = []
    for audit_id, counts, lines, loaded, rejected, sha256, size, start, end in rows:
        try:
            ranges.append(
                _Covered(
                    audit_id,
                    int(counts["first_line"]),
                    int(counts["last_line"]),
                    int(counts["first_byte"]),
                    int(counts["end_byte"]),
                    bool(counts["eof"]),
                    int(lines or 0),
                    int(loaded or 0),
                    int(rejected or 0),
                    int(counts.get("recoded", 0)),
                    sha256,
                    size,
                    start,
                    end,
                )
            )
        except (KeyError, TypeError, ValueError):
            return _Coverage([], False, None)
    ranges.sort(key=lambda r: (r.first_line, r.first_byte, r.last_line))
    gaps: list[_Segment] = []
    next_line, next_byte = 1, 0
    for covered in ranges:
        if covered.first_line < next_line or covered.first_byte < next_byte:
            return _Coverage(ranges, False, None)  # overlapping batches
        if covered.first_line > next_line and covered.first_byte > next_byte:
            gaps.append(_Segment(next_byte, next_line, covered.first_byte))
        elif covered.first_line != next_line or covered.first_byte != next_byte:
            return _Coverage(ranges, False, None)  # lines and bytes disagree
        next_line, next_byte = covered.last_line + 1, covered.end_byte
    reaches_end = bool(ranges) and ranges[-1].eof
    if not reaches_end:
        gaps.append(_Segment(next_byte, next_line, None, hashes_payload=next_byte == 0))
    return _Coverage(ranges, reaches_end and not gaps, gaps)


def _fresh_plan(payload: Payload, workers: int) -> list[_Segment]:
    parts = max(1, min(workers, payload.size // MIN_PART_BYTES))
    if parts == 1:
        return [_Segment(0, 1, None, hashes_payload=True)]
    hints = [payload.size * i // parts for i in range(1, parts)]
    segments = [_Segment(0, 1, hints[0], end_exact=False)]
    for i, hint in enumerate(hints):
        end = hints[i + 1] if i + 1 < len(hints) else None
        segments.append(_Segment(hint, None, end, end_exact=False, hashes_payload=end is None))
    return segments


# --- per-block work: prefix rows, collect side rows -------------------------------------------------


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
class _SideRows:
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


class _DateCounter:
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
class _Window:
    start: dt.date | None
    end: dt.date | None
    invalid: int
    blank: int


def _date_window(values: list[tuple[str | None, int]]) -> _Window:
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
    return _Window(min(valid, default=None), max(valid, default=None), invalid, blank)


# --- one batch --------------------------------------------------------------------------------------


class _Shared:
    """State shared by the batches of one :func:`stage_source_file` call."""

    def __init__(
        self,
        *,
        factory: ConnectionFactory,
        ops_conn: psycopg.Connection,
        payload: Payload,
        spec: FileSpec,
        source_file_id: int,
        progress: ProgressCallback | None,
        block_size: int,
        known_payload: tuple[str | None, int | None],
        workers: int,
        has_hasher: bool,
        fk_checks_per_batch: bool,
    ) -> None:
        self.factory = factory
        self.fk_checks_per_batch = fk_checks_per_batch
        self.ops_conn = ops_conn
        self.payload = payload
        self.spec = spec
        self.source_file_id = source_file_id
        self.block_size = block_size
        self.workers = workers
        self.abort = threading.Event()
        #: Set by _run_batches when all batches run at once: they commit together (see
        #: _wait_for_sibling_batches); aborted when one of them fails.
        self.commit_barrier: threading.Barrier | None = None
        self.payload_digest: Future[tuple[str | None, int | None]] = Future()
        self.known_payload = known_payload
        self.has_hasher = has_hasher  # some batch of this call reads the whole payload
        self._progress = progress
        self._lock = threading.Lock()
        self._lines = 0
        self._bytes = 0
        table = sql.Identifier("staging", spec.staging_table)
        names = [*STAGING_META_COLUMNS, *(c.staging_name for c in spec.columns)]
        self.copy_sql = sql.SQL("COPY {} ({}) FROM STDIN {}").format(
            table, sql.SQL(", ").join(map(sql.Identifier, names)), COPY_OPTIONS
        )

    def report(self, lines: int, size: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            self._lines += lines
            self._bytes += size
            lines_done, bytes_done = self._lines, self._bytes
        self._progress(lines_done, bytes_done)


@dataclass(frozen=True)
class _BatchResult:
    audit_id: int
    stats: ParseStats
    first_line: int
    window: _Window | None
    sha256: str | None
    bytes: int | None


class _HashingStream:
    """Feeds every byte read from ``stream`` to ``hasher``."""

    def __init__(self, stream: ByteStream, hasher: Any) -> None:
        self._stream = stream
        self._hasher = hasher

    def read(self, size: int = -1, /) -> bytes:
        chunk = self._stream.read(size)
        self._hasher.update(chunk)
        return chunk

    def close(self) -> None:
        self._stream.close()


def _open_segment(shared: _Shared, segment: _Segment, hasher: Any | None) -> tuple[ByteStream, int, int]:
    """The segment's byte stream, its first byte offset and its first line number."""
    payload = shared.payload
    if segment.start_line is not None:
        stream, start, first_line = payload.open_at(segment.start), segment.start, segment.start_line
    else:
        stream, start, before = payload.open_after(segment.start, hasher=hasher)
        first_line = before + 1
    if segment.end is not None:
        stream = (
            limit_to_offset(stream, start, segment.end)
            if segment.end_exact
            else limit_to_boundary(stream, start, segment.end)
        )
    return stream, start, first_line


class _QueuedCopyWriter(LibpqWriter):
    """Sends COPY data from a thread, so parsing the next block overlaps sending this one.

    The queue holds at most :data:`COPY_QUEUE_BLOCKS` blocks: memory stays bounded when the server is
    slower than the parser.
    """

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        super().__init__(cursor)
        self._queue: queue.Queue[memoryview | None] = queue.Queue(maxsize=COPY_QUEUE_BLOCKS)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _send(self) -> None:
        try:
            while (data := self._queue.get()) is not None:
                super().write(data)
        except BaseException as exc:  # handed to the loading thread
            self._error = exc
            while self._queue.get() is not None:  # keep draining: write() must never block forever
                pass

    def write(self, data: Any) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._thread = threading.Thread(target=self._send, name="fecflow-copy-writer", daemon=True)
            self._thread.start()
        self._queue.put(memoryview(data))

    def finish(self, exc: BaseException | None = None) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None and exc is None:
            raise self._error
        super().finish(exc)


def _load_batch(shared: _Shared, segment: _Segment, audit_id: int) -> _BatchResult:
    started = time.perf_counter()
    stats = ParseStats()
    first_line = segment.start_line or 0
    stream: ByteStream | None = None
    try:
        # From byte 0 iter_blocks' own sha256 is the payload's; from inside, hash the skipped bytes too.
        own_hasher = hashlib.sha256() if segment.hashes_payload and segment.start != 0 else None
        stream, first_byte, first_line = _open_segment(shared, segment, own_hasher)
        reader: ByteStream = _HashingStream(stream, own_hasher) if own_hasher is not None else stream
        with shared.factory() as conn:
            try:
                copied = _copy_batch(shared, conn, audit_id, reader, stats, first_line)
                result = _finish_batch(
                    shared,
                    conn,
                    segment,
                    audit_id,
                    stats,
                    first_line,
                    first_byte,
                    started,
                    copied,
                    own_hasher,
                )
            except BaseException:
                conn.rollback()
                raise
    except BaseException as exc:
        shared.abort.set()
        if shared.commit_barrier is not None:
            shared.commit_barrier.abort()
        if segment.hashes_payload and not shared.payload_digest.done():
            shared.payload_digest.set_exception(
                StageAborted(f"the batch reading the whole payload failed: {exc}")
            )
        _mark_failed(shared, audit_id, exc, stats, first_line)
        raise
    finally:
        if stream is not None:
            stream.close()
    seconds = time.perf_counter() - started
    log.info(
        "staged %s lines %d-%d of source file %d (batch %d): %d loaded, %d rejected, %d recoded in %.1fs "
        "(%.0f lines/s)",
        shared.spec.file_type,
        first_line,
        first_line + stats.lines - 1,
        shared.source_file_id,
        audit_id,
        stats.loaded,
        stats.rejected,
        stats.recoded,
        seconds,
        stats.lines / seconds if seconds > 0 else 0.0,
        extra={"stage": STAGE, "source_file_id": shared.source_file_id, "file_type": shared.spec.file_type},
    )
    return result


@dataclass(frozen=True)
class _Copied:
    rows: int  # COPYed into the staging table, as the server counted them
    rejects: int  # COPYed into ops.rejected_row
    statements: int
    dates: _DateCounter | None


def _check_parents_once(conn: psycopg.Connection, source_file_id: int, audit_id: int) -> None:
    """Do the batch's foreign-key checks once instead of once per row (see :data:`FK_CHECKS_PER_BATCH`).

    Every row of the batch references the same two parent rows; locking them ``FOR KEY SHARE`` is what
    each per-row check would do, so the guarantee is the same (the staging tables have no per-row FKs).
    """
    found = conn.execute(
        "SELECT EXISTS (SELECT FROM ops.source_file WHERE source_file_id = %s FOR KEY SHARE), "
        "EXISTS (SELECT FROM ops.ingest_run_audits WHERE audit_id = %s FOR KEY SHARE)",
        (source_file_id, audit_id),
    ).fetchone()
    if found != (True, True):
        raise DataError(f"Source file {source_file_id} or stage batch {audit_id} does not exist.")


def _copy_batch(
    shared: _Shared,
    conn: psycopg.Connection,
    audit_id: int,
    reader: ByteStream,
    stats: ParseStats,
    first_line: int,
) -> _Copied:
    """COPY the segment's rows in statements of up to ROWS_PER_COPY rows, side rows after each."""
    head = f"{shared.source_file_id}|{audit_id}|"
    if shared.fk_checks_per_batch:
        _check_parents_once(conn, shared.source_file_id, audit_id)
    copied = rejects = statements = 0
    dates = _DateCounter(shared.spec) if shared.spec.date_column else None
    blocks = iter_blocks(
        cast(BinaryIO, reader), shared.spec, block_size=shared.block_size, start_line=first_line, stats=stats
    )
    with conn.cursor() as cur:
        more = True
        while more:
            more = False
            side = _SideRows()
            rows = 0
            with cur.copy(shared.copy_sql, writer=_QueuedCopyWriter(cur)) as copy:
                for block in blocks:
                    if shared.abort.is_set():
                        raise StageAborted("stopped: another batch of this file failed")
                    rows_of_block, numbers = block_rows(block)
                    copy.write(prefix_rows(rows_of_block, numbers, head))
                    side.add(block)
                    if dates is not None:
                        dates.add(rows_of_block)
                    rows += block.line_count
                    shared.report(block.line_count, block.raw_bytes)
                    if rows >= ROWS_PER_COPY or side.size >= SIDE_BYTES_PER_COPY:
                        more = True
                        break
            statements += 1
            copied += max(cur.rowcount, 0)
            rejects += _write_side_rows(cur, shared, audit_id, side)
    return _Copied(copied, rejects, statements, dates)


def _wait_for_sibling_batches(shared: _Shared) -> None:
    """Batches of one call that run at once commit only when all of them got this far: otherwise a
    batch could commit while a sibling fails, and a failed call would leave part of the file staged."""
    barrier = shared.commit_barrier
    if barrier is None:
        return
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        raise StageAborted("stopped: another batch of this file failed") from None
    if shared.abort.is_set():
        raise StageAborted("stopped: another batch of this file failed")


def _finish_batch(
    shared: _Shared,
    conn: psycopg.Connection,
    segment: _Segment,
    audit_id: int,
    stats: ParseStats,
    first_line: int,
    first_byte: int,
    started: float,
    copied: _Copied,
    own_hasher: Any | None,
) -> _BatchResult:
    """Window, checks, payload digest, then the audit finish that commits the batch."""
    if segment.hashes_payload:
        digest = own_hasher.hexdigest() if own_hasher is not None else stats.sha256
        total = first_byte + stats.bytes_read if segment.end is None else None
        shared.payload_digest.set_result((digest, total))
    window = _date_window(copied.dates.values()) if copied.dates is not None else None
    _check_balance(stats, copied)
    sha256, payload_bytes = _payload_digest(shared)
    counts = _batch_counts(shared, segment, stats, first_line, first_byte, window, copied.statements)
    counts["seconds"] = round(time.perf_counter() - started, 3)
    _wait_for_sibling_batches(shared)
    ops.finish_audit(  # commits the data and "succeeded" together
        conn,
        audit_id,
        "succeeded",
        lines_read=stats.lines,
        rows_loaded=stats.loaded,
        rows_rejected=stats.rejected,
        sha256=sha256,
        bytes=payload_bytes,
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        counts=counts,
    )
    return _BatchResult(audit_id, stats, first_line, window, sha256, payload_bytes)


def _write_side_rows(cur: psycopg.Cursor[Any], shared: _Shared, audit_id: int, side: _SideRows) -> int:
    """Write one statement's rejects and raw lines; return the rejects the server took."""
    taken = 0
    if side.rejects:
        with cur.copy(
            "COPY ops.rejected_row (source_file_id, audit_id, line_number, reason, detail, raw) FROM STDIN"
        ) as copy:
            copy.set_types(["int8", "int8", "int8", "text", "text", "bytea"])
            for line_number, reason, message, raw in side.rejects:
                copy.write_row((shared.source_file_id, audit_id, line_number, reason, message, raw))
        taken = cur.rowcount
    if side.raw_lines:
        with cur.copy("COPY staging.raw_line (source_file_id, line_number, reason, raw) FROM STDIN") as copy:
            copy.set_types(["int8", "int8", "text", "bytea"])
            for line_number, reason, raw in side.raw_lines:
                copy.write_row((shared.source_file_id, line_number, reason, raw))
    return taken


def _check_balance(stats: ParseStats, copied: _Copied) -> None:
    """The batch's books balance, checked against what the database reported."""
    problems = []
    if stats.lines != stats.loaded + stats.rejected:
        problems.append(f"lines {stats.lines} != loaded {stats.loaded} + rejected {stats.rejected}")
    if copied.rows != stats.loaded:
        problems.append(f"COPY took {copied.rows} rows for {stats.loaded} loaded lines")
    if copied.rejects != stats.rejected:
        problems.append(f"ops.rejected_row took {copied.rejects} rows for {stats.rejected} rejected lines")
    if problems:
        raise DataError("Staging batch does not balance: " + "; ".join(problems))


def _payload_digest(shared: _Shared) -> tuple[str | None, int | None]:
    """The payload's sha256 and size: measured by the batch that reads it all (waits for it)."""
    if shared.known_payload[0] is not None:
        return shared.known_payload
    if not shared.has_hasher:
        return None, shared.payload.size if shared.payload.size_exact else None
    sha256, size = shared.payload_digest.result()
    if size is None and shared.payload.size_exact:
        size = shared.payload.size
    return sha256, size


def _batch_counts(
    shared: _Shared,
    segment: _Segment,
    stats: ParseStats,
    first_line: int,
    first_byte: int,
    window: _Window | None,
    statements: int,
) -> dict[str, Any]:
    payload = shared.payload
    counts: dict[str, Any] = {
        "first_line": first_line,
        "last_line": first_line + stats.lines - 1,
        "first_byte": first_byte,
        "end_byte": first_byte + stats.bytes_read,
        "eof": segment.end is None,
        "missing_final_newline": stats.missing_final_newline,
        "recoded": stats.recoded,
        "crlf": stats.crlf_lines,
        "rejects_by_reason": dict(sorted(stats.rejects_by_reason.items())),
        "range_sha256": stats.sha256,
        "blocks": stats.blocks,
        "copy_statements": statements,
        "workers": shared.workers,
        "payload": {"kind": payload.kind, "member": payload.member, "label": os.path.basename(payload.label)},
    }
    if window is not None:
        counts["dates_invalid"] = window.invalid
        counts["dates_blank"] = window.blank
    return counts


def _mark_failed(
    shared: _Shared, audit_id: int, exc: BaseException, stats: ParseStats, first_line: int
) -> None:
    message = f"{type(exc).__name__}: {exc}"[:4000] if str(exc) else type(exc).__name__
    try:
        ops.finish_audit(
            shared.ops_conn,
            audit_id,
            "failed",
            error=message,
            counts={
                "first_line": first_line,
                "lines_read_before_failure": stats.lines,
                "workers": shared.workers,
            },
        )
    except psycopg.Error:
        log.exception("could not mark stage batch %d failed", audit_id)
    log.warning("stage batch %d of source file %d failed: %s", audit_id, shared.source_file_id, message)


# --- the public entry point -------------------------------------------------------------------------


def connection_factory(url: str) -> ConnectionFactory:
    """A factory opening fresh connections to ``url`` (one per batch, one for the ops writes)."""
    return lambda: connect_url(url)


def stage_source_file(
    connect: ConnectionFactory | str,
    *,
    run_id: int,
    source_file_id: int,
    spec: FileSpec,
    path: str | os.PathLike[str] | Payload,
    member: str | None = None,
    workers: int = 1,
    replace: bool = False,
    progress: ProgressCallback | None = None,
    block_size: int = STAGE_BLOCK_SIZE,
) -> StageResult:
    """Load the payload of ``source_file_id`` (at ``path``) into ``staging.<spec.file_type>``.

    ``connect`` is a database URL or a factory of new connections (one per batch plus one for the
    audit rows). ``progress(lines_done, bytes_done)`` is called after every block (from worker
    threads when ``workers > 1``). See the module docstring for batches, skips and resume.
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    factory = connection_factory(connect) if isinstance(connect, str) else connect
    started = time.perf_counter()
    ops_conn = factory()
    ops_conn.autocommit = True
    with ops_conn:
        _lock_source_file(ops_conn, source_file_id)
        try:
            return _stage_locked(
                factory,
                ops_conn,
                run_id=run_id,
                source_file_id=source_file_id,
                spec=spec,
                path=path,
                member=member,
                workers=workers,
                replace=replace,
                progress=progress,
                block_size=block_size,
                started=started,
            )
        finally:
            try:
                ops_conn.execute("SELECT pg_advisory_unlock(%s, %s)", (STAGE_LOCK_CLASS, source_file_id))
            except psycopg.Error:  # the lock ends with the session anyway
                log.debug("could not release the stage lock of source file %d", source_file_id)


def _stage_locked(
    factory: ConnectionFactory,
    ops_conn: psycopg.Connection,
    *,
    run_id: int,
    source_file_id: int,
    spec: FileSpec,
    path: str | os.PathLike[str] | Payload,
    member: str | None,
    workers: int,
    replace: bool,
    progress: ProgressCallback | None,
    block_size: int,
    started: float,
) -> StageResult:
    record = ops_conn.execute(
        "SELECT file_type, sha256, member FROM ops.source_file WHERE source_file_id = %s", (source_file_id,)
    ).fetchone()
    if record is None:
        raise DataError(f"Source file {source_file_id} is not recorded in ops.source_file.")
    file_type, file_sha256, file_member = record
    if file_type != spec.file_type:
        raise DataError(f"Source file {source_file_id} is a {file_type} file, not {spec.file_type}.")
    _fail_stale_batches(ops_conn, source_file_id)

    if replace:
        _delete_staged(factory, spec, source_file_id, run_id)
        coverage = _Coverage([], False, [])
    else:
        coverage = _coverage(ops_conn, source_file_id)
        if coverage.complete:
            return _skip(ops_conn, run_id, spec, source_file_id, coverage, "already staged", None, started)
        if not coverage.ranges and file_sha256:
            duplicate = _staged_duplicate(ops_conn, source_file_id, spec.file_type, file_sha256, file_member)
            if duplicate is not None:
                dup_id, dup_coverage = duplicate
                reason = f"same sha256 as source file {dup_id}, already staged"
                return _skip(ops_conn, run_id, spec, source_file_id, dup_coverage, reason, dup_id, started)
        if coverage.gaps is None:
            raise DataError(
                f"The stage batches of source file {source_file_id} do not form consecutive line ranges.",
                hint="Stage it again from scratch with --replace.",
            )

    payload = (
        path if isinstance(path, Payload) else open_payload(path, member=member or file_member, spec=spec)
    )
    if coverage.ranges:
        segments = list(coverage.gaps or [])
        known = next(((r.sha256, r.bytes) for r in coverage.ranges if r.sha256), (None, None))
        log.info(
            "resuming source file %d: %d line ranges already staged, %d to load",
            source_file_id,
            len(coverage.ranges),
            len(segments),
        )
    else:
        segments = _fresh_plan(payload, workers)
        known = (None, None)
    shared = _Shared(
        factory=factory,
        ops_conn=ops_conn,
        payload=payload,
        spec=spec,
        source_file_id=source_file_id,
        progress=progress,
        block_size=block_size,
        known_payload=known,
        workers=len(segments),
        has_hasher=any(s.hashes_payload for s in segments),
        fk_checks_per_batch=FK_CHECKS_PER_BATCH,
    )
    audit_ids = [
        ops.start_audit(ops_conn, run_id, STAGE, scope=spec.file_type, source_file_id=source_file_id)
        for _ in segments
    ]
    results = _run_batches(shared, segments, audit_ids, workers)
    return _summarize(spec, source_file_id, results, coverage, started)


def _run_batches(
    shared: _Shared, segments: list[_Segment], audit_ids: list[int], workers: int
) -> list[_BatchResult]:
    if len(segments) == 1 or (workers == 1 and not shared.has_hasher):
        return [_load_batch(shared, s, a) for s, a in zip(segments, audit_ids, strict=True)]
    # Batches wait for the one hashing the whole payload: then all must run at once.
    threads = len(segments) if shared.has_hasher else min(workers, len(segments))
    if threads == len(segments):
        shared.commit_barrier = threading.Barrier(threads)
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fecflow-stage")
    futures = [pool.submit(_load_batch, shared, s, a) for s, a in zip(segments, audit_ids, strict=True)]
    try:
        results = []
        first_error: BaseException | None = None
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as exc:  # keep waiting: every batch must roll back before we return
                shared.abort.set()
                if first_error is None or isinstance(first_error, StageAborted):
                    first_error = exc
        if first_error is not None:
            raise first_error
        return results
    except BaseException:
        shared.abort.set()
        raise
    finally:
        pool.shutdown(wait=True)


def _summarize(
    spec: FileSpec, source_file_id: int, results: list[_BatchResult], coverage: _Coverage, started: float
) -> StageResult:
    starts = [r.window.start for r in results if r.window and r.window.start]
    ends = [r.window.end for r in results if r.window and r.window.end]
    sha256 = next((r.sha256 for r in results if r.sha256), None)
    size = next((r.bytes for r in results if r.bytes is not None), None)
    return StageResult(
        source_file_id=source_file_id,
        file_type=spec.file_type,
        batches=len(results),
        lines=sum(r.stats.lines for r in results),
        loaded=sum(r.stats.loaded for r in results),
        rejected=sum(r.stats.rejected for r in results),
        recoded=sum(r.stats.recoded for r in results),
        crlf=sum(r.stats.crlf_lines for r in results),
        sha256=sha256,
        bytes=size,
        window_start=min(starts, default=None),
        window_end=max(ends, default=None),
        skipped=False,
        skip_reason=None,
        seconds=time.perf_counter() - started,
        audit_ids=tuple(r.audit_id for r in results),
    )


def _skip(
    ops_conn: psycopg.Connection,
    run_id: int,
    spec: FileSpec,
    source_file_id: int,
    coverage: _Coverage,
    reason: str,
    duplicate_of: int | None,
    started: float,
) -> StageResult:
    audit_id = ops.start_audit(ops_conn, run_id, STAGE, scope=spec.file_type, source_file_id=source_file_id)
    counts: dict[str, Any] = {"reason": reason}
    if duplicate_of is not None:
        counts["duplicate_of"] = duplicate_of
    ops.finish_audit(ops_conn, audit_id, "skipped", counts=counts)
    log.info("skipped %s source file %d: %s", spec.file_type, source_file_id, reason)
    ranges = coverage.ranges
    return StageResult(
        source_file_id=source_file_id,
        file_type=spec.file_type,
        batches=0,
        lines=sum(r.lines for r in ranges),
        loaded=sum(r.loaded for r in ranges),
        rejected=sum(r.rejected for r in ranges),
        recoded=sum(r.recoded for r in ranges),
        sha256=next((r.sha256 for r in ranges if r.sha256), None),
        bytes=next((r.bytes for r in ranges if r.bytes is not None), None),
        window_start=min((r.window_start for r in ranges if r.window_start), default=None),
        window_end=max((r.window_end for r in ranges if r.window_end), default=None),
        skipped=True,
        skip_reason=reason,
        seconds=time.perf_counter() - started,
        duplicate_of=duplicate_of,
        audit_ids=(audit_id,),
    )


# --- bookkeeping ------------------------------------------------------------------------------------


def _lock_source_file(conn: psycopg.Connection, source_file_id: int) -> None:
    got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (STAGE_LOCK_CLASS, source_file_id)).fetchone()
    if not got or not got[0]:
        raise LockHeld(
            f"Source file {source_file_id} is being staged by another process.",
            hint="Wait for it to finish, or inspect it with `fecflow runs`.",
        )


def _fail_stale_batches(conn: psycopg.Connection, source_file_id: int) -> None:
    """Batches still 'running' while we hold the file's lock belong to a process that died."""
    cur = conn.execute(
        "UPDATE ops.ingest_run_audits SET status = 'failed', finished_at = now(), "
        "error = 'interrupted: the staging process ended before this batch finished' "
        "WHERE stage = %s AND source_file_id = %s AND status = 'running'",
        (STAGE, source_file_id),
    )
    if cur.rowcount:
        log.warning(
            "marked %d interrupted stage batches of source file %d failed", cur.rowcount, source_file_id
        )


def _staged_duplicate(
    conn: psycopg.Connection, source_file_id: int, file_type: str, sha256: str, member: str | None
) -> tuple[int, _Coverage] | None:
    candidates = conn.execute(
        "SELECT DISTINCT s.source_file_id FROM ops.source_file s JOIN ops.ingest_run_audits a "
        "ON a.source_file_id = s.source_file_id AND a.stage = %s AND a.status = 'succeeded' "
        "WHERE s.sha256 = %s AND s.file_type = %s AND s.member IS NOT DISTINCT FROM %s "
        "AND s.source_file_id <> %s ORDER BY 1",
        (STAGE, sha256, file_type, member, source_file_id),
    ).fetchall()
    for (candidate,) in candidates:
        coverage = _coverage(conn, candidate)
        if coverage.complete:
            return int(candidate), coverage
    return None


def _delete_staged(factory: ConnectionFactory, spec: FileSpec, source_file_id: int, run_id: int) -> None:
    """One transaction: drop the file's staged rows, rejects and raw lines; supersede its batches."""
    with factory() as conn:
        table = sql.Identifier("staging", spec.staging_table)
        staged = conn.execute(
            sql.SQL("DELETE FROM {} WHERE _source_file_id = %s").format(table), (source_file_id,)
        ).rowcount
        conn.execute("DELETE FROM ops.rejected_row WHERE source_file_id = %s", (source_file_id,))
        conn.execute("DELETE FROM staging.raw_line WHERE source_file_id = %s", (source_file_id,))
        conn.execute(
            "UPDATE ops.ingest_run_audits SET counts = counts || jsonb_build_object(%s::text, %s::bigint) "
            "WHERE stage = %s AND source_file_id = %s AND status = 'succeeded' AND NOT (counts ? %s)",
            (SUPERSEDED_KEY, run_id, STAGE, source_file_id, SUPERSEDED_KEY),
        )
        conn.commit()
    log.info("replace: deleted %d staged rows of source file %d", staged, source_file_id)


def iter_staged_audits(conn: psycopg.Connection, source_file_id: int) -> Iterator[dict[str, Any]]:
    """The succeeded, current stage batches of a source file (their audit rows), in line order."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT * FROM ops.ingest_run_audits WHERE stage = %s AND source_file_id = %s "
            "AND status = 'succeeded' AND NOT (counts ? %s) ORDER BY (counts->>'first_line')::bigint",
            (STAGE, source_file_id, SUPERSEDED_KEY),
        )
        yield from cur
