"""One staging batch: a line range of a payload COPYed on its own connection, in one transaction.

See :mod:`fecflow.staging.load` for the contract (audits, atomicity, parallel batches). A
:class:`BatchContext` is shared by the batches of one :func:`~fecflow.staging.load.stage_source_file`
call; :func:`load_batch` loads one :class:`~fecflow.staging.coverage.Segment`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import psycopg
from psycopg import sql
from psycopg.copy import LibpqWriter

from fecflow.catalog import FileSpec
from fecflow.db import ops
from fecflow.db.models import STAGING_META_COLUMNS
from fecflow.db.partitions import attach_staging_leaf, create_staging_leaf
from fecflow.errors import DataError, StageAborted
from fecflow.parse import ParseStats, iter_blocks
from fecflow.staging.coverage import Segment
from fecflow.staging.payload import ByteStream, Payload, limit_to_boundary, limit_to_offset
from fecflow.staging.rows import DateCounter, SideRows, Window, block_rows, date_window, prefix_rows

log = logging.getLogger(__name__)

#: FREEZE: the rows go to the batch's own leaf, created in the same transaction (see copy_sql).
COPY_OPTIONS = sql.SQL("(FORMAT csv, DELIMITER '|', QUOTE E'\\x01', NULL '', FREEZE)")
#: Rows per COPY statement inside a batch (the side tables are written between statements).
ROWS_PER_COPY = 1_000_000
#: Buffered rejected / raw-line bytes that end a COPY statement early.
SIDE_BYTES_PER_COPY = 32 * 1024 * 1024
#: Blocks a COPY writer thread may hold queued (bounds memory: about this many x block_size).
COPY_QUEUE_BLOCKS = 4

ConnectionFactory = Callable[[], psycopg.Connection]
ProgressCallback = Callable[[int, int], None]


class BatchContext:
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
        self._columns = sql.SQL(", ").join(
            map(sql.Identifier, [*STAGING_META_COLUMNS, *(c.staging_name for c in spec.columns)])
        )

    def copy_sql(self, leaf: sql.Identifier) -> sql.Composed:
        """COPY into a batch's leaf: ``FREEZE`` is allowed because the batch created it in its transaction."""
        return sql.SQL("COPY {} ({}) FROM STDIN {}").format(leaf, self._columns, COPY_OPTIONS)

    def report(self, lines: int, size: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            self._lines += lines
            self._bytes += size
            lines_done, bytes_done = self._lines, self._bytes
        self._progress(lines_done, bytes_done)


@dataclass(frozen=True)
class BatchResult:
    audit_id: int
    stats: ParseStats
    first_line: int
    window: Window | None
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


def _open_segment(shared: BatchContext, segment: Segment, hasher: Any | None) -> tuple[ByteStream, int, int]:
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


def load_batch(shared: BatchContext, segment: Segment, audit_id: int) -> BatchResult:
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
        extra={"stage": ops.Stage.STAGE, "source_file_id": shared.source_file_id, "file_type": shared.spec.file_type},
    )
    return result


@dataclass(frozen=True)
class _Copied:
    rows: int  # COPYed into the staging table, as the server counted them
    rejects: int  # COPYed into ops.rejected_row
    statements: int
    dates: DateCounter | None


def check_parents_once(conn: psycopg.Connection, source_file_id: int, audit_id: int) -> None:
    """Do the batch's foreign-key checks once instead of once per row (see :data:`FK_CHECKS_PER_BATCH`).

    Every row of the batch references the same two parent rows; locking them ``FOR KEY SHARE`` is what
    each per-row check would do, so the guarantee is the same (the staging tables have no per-row FKs).
    """
    if not ops.lock_batch_parents(conn, source_file_id, audit_id):
        raise DataError(f"Source file {source_file_id} or stage batch {audit_id} does not exist.")


def _copy_batch(
    shared: BatchContext,
    conn: psycopg.Connection,
    audit_id: int,
    reader: ByteStream,
    stats: ParseStats,
    first_line: int,
) -> _Copied:
    """COPY the segment's rows in statements of up to ROWS_PER_COPY rows, side rows after each."""
    head = f"{shared.source_file_id}|{audit_id}|"
    if shared.fk_checks_per_batch:
        check_parents_once(conn, shared.source_file_id, audit_id)
    leaf = create_staging_leaf(conn, shared.spec.staging_table, shared.source_file_id, audit_id)
    copy_sql = shared.copy_sql(leaf)
    copied = rejects = statements = 0
    dates = DateCounter(shared.spec) if shared.spec.date_column else None
    blocks = iter_blocks(
        cast(BinaryIO, reader), shared.spec, block_size=shared.block_size, start_line=first_line, stats=stats
    )
    with conn.cursor() as cur:
        more = True
        while more:
            more = False
            side = SideRows()
            rows = 0
            with cur.copy(copy_sql, writer=_QueuedCopyWriter(cur)) as copy:
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


def _wait_for_sibling_batches(shared: BatchContext) -> None:
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
    shared: BatchContext,
    conn: psycopg.Connection,
    segment: Segment,
    audit_id: int,
    stats: ParseStats,
    first_line: int,
    first_byte: int,
    started: float,
    copied: _Copied,
    own_hasher: Any | None,
) -> BatchResult:
    """Window, checks, payload digest, then the audit finish that commits the batch."""
    if segment.hashes_payload:
        digest = own_hasher.hexdigest() if own_hasher is not None else stats.sha256
        total = first_byte + stats.bytes_read if segment.end is None else None
        shared.payload_digest.set_result((digest, total))
    window = date_window(copied.dates.values()) if copied.dates is not None else None
    _check_balance(stats, copied)
    sha256, payload_bytes = _payload_digest(shared)
    counts = _batch_counts(shared, segment, stats, first_line, first_byte, window, copied.statements)
    counts["seconds"] = round(time.perf_counter() - started, 3)
    _wait_for_sibling_batches(shared)
    # After the barrier: siblings attach one after the other (the attach's lock is held to commit).
    attach_staging_leaf(conn, shared.spec.staging_table, shared.source_file_id, audit_id)
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
    return BatchResult(audit_id, stats, first_line, window, sha256, payload_bytes)


def _write_side_rows(cur: psycopg.Cursor[Any], shared: BatchContext, audit_id: int, side: SideRows) -> int:
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


def _payload_digest(shared: BatchContext) -> tuple[str | None, int | None]:
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
    shared: BatchContext,
    segment: Segment,
    stats: ParseStats,
    first_line: int,
    first_byte: int,
    window: Window | None,
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
    shared: BatchContext, audit_id: int, exc: BaseException, stats: ParseStats, first_line: int
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
    except psycopg.Error as db_exc:  # the server is gone too: the resume marks the batch failed later
        log.warning("could not mark stage batch %d failed: %s", audit_id, str(db_exc).strip().splitlines()[0])
        log.debug("could not mark stage batch %d failed", audit_id, exc_info=True)
    log.warning("stage batch %d of source file %d failed: %s", audit_id, shared.source_file_id, message)
