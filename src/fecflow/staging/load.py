"""Load one raw FEC payload into ``staging.<type>``: COPY in batches, each audited and atomic.

The code is in four modules: this one (the entry point :func:`stage_source_file`: locks, skips,
replace, running the batches), :mod:`~fecflow.staging.coverage` (which line ranges are staged, the
plan of the ones to load), :mod:`~fecflow.staging.batch` (one batch: COPY, side rows, checks, audit
finish) and :mod:`~fecflow.staging.rows` (the per-block work: row prefixes, side rows, raw dates).

A *batch* is a contiguous line range of one source file, loaded in ONE transaction on its own
connection, into its own partition of ``staging.<type>`` (``staging.<t>_s<file>_b<batch>``, see
:mod:`fecflow.db.partitions`): the batch creates it, COPYs into it with ``FREEZE`` and attaches it
just before its commit. Its ``ops.ingest_run_audits`` row (``stage='stage'``, ``scope`` = file type) is written and
committed *before* the work on a separate autocommit connection; the finish of that row (status
``succeeded``, counts, payload sha256, window) is written in the same transaction as the data, so data
and "succeeded" become visible together. On error the batch is rolled back and its audit is marked
``failed`` with the error. Hence: every staged row belongs to a succeeded batch, and a crash leaves
nothing of the batch it interrupted.

Per block of :func:`~fecflow.parse.iter_blocks` the Python work is C-level only (no bytecode per row):
prefix every row with ``{source_file_id}|{batch_id}|{line_number}|`` (split/join) and hand the block
to a writer thread (a queue of :data:`COPY_QUEUE_BLOCKS` blocks, so parsing overlaps sending)::

    COPY staging.<t>_s<file>_b<batch> (_source_file_id, _batch_id, _line_number, <raw columns>)
    FROM STDIN (FORMAT csv, DELIMITER '|', QUOTE E'\\x01', NULL '', FREEZE)

The placeholder rows of rejected lines (see :mod:`fecflow.parse.lines`) are left out of the COPY data
(only blocks with rejects pay for that), so they never reach the table and no DELETE has to find them.
A batch is written as several COPY statements (:data:`ROWS_PER_COPY` rows each, bounding the server's
per-statement memory and our side buffers). After each statement, in the same transaction, the
rejects go to ``ops.rejected_row`` (line number, reason, message, raw bytes) and the original bytes of
re-encoded (non-UTF-8) and CRLF lines go to ``staging.raw_line``, so :mod:`fecflow.staging.export`
rebuilds the file byte for byte.

For transaction files the raw TRANSACTION_DT values of the batch are counted while its blocks stream
by (``map``/``rsplit``/``Counter`` over the rows, :class:`DateCounter`); the distinct values are parsed
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
* ``replace=True`` drops the file's staging partitions, deletes its rejects and raw lines, marks its earlier succeeded
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

import dataclasses
import datetime as dt
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg

from fecflow.catalog import FileSpec
from fecflow.db import ops
from fecflow.db.engine import connect as connect_url
from fecflow.db.partitions import drop_staging_leaves
from fecflow.errors import DataError, LockHeld, StageAborted
from fecflow.staging.batch import (
    BatchContext,
    BatchResult,
    ConnectionFactory,
    ProgressCallback,
    load_batch,
)
from fecflow.staging.coverage import Coverage, Segment, coverage_of, fresh_plan
from fecflow.staging.payload import Payload, open_payload
from fecflow.staging.rows import parse_fec_date

__all__ = [
    "STAGE_LOCK_CLASS",
    "StageAborted",
    "StageResult",
    "Unstaged",
    "connection_factory",
    "parse_fec_date",
    "stage_source_file",
    "unstage_source_file",
]

log = logging.getLogger(__name__)

#: Bytes per block read from the payload. 1 MiB parses as fast as 4 MiB, keeps memory lower and the
#: GIL-holding C calls short, so the COPY writer thread gets its turns.
STAGE_BLOCK_SIZE = 1024 * 1024
#: Check the staging rows' two parents once per batch (lock both rows FOR KEY SHARE); the staging
#: tables have no per-row foreign keys (migration 0002).
#: Per-row checks cut COPY throughput about 4x (measured; see bench/run.py --staging-without-fks).
FK_CHECKS_PER_BATCH = True
#: Class of the session advisory lock ``(STAGE_LOCK_CLASS, source_file_id)`` held while staging a file.
STAGE_LOCK_CLASS = 0x0FEC5


@dataclasses.dataclass(frozen=True)
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


@dataclasses.dataclass(frozen=True)
class Unstaged:
    """What :func:`unstage_source_file` removed: staged rows, and the bytes their leaves held."""

    rows: int
    bytes: int


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
        coverage = Coverage([], False, [])
    else:
        coverage = coverage_of(ops_conn, source_file_id)
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
    segments, known = _segments_to_load(payload, coverage, workers, source_file_id)
    shared = BatchContext(
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
        ops.start_audit(
            ops_conn, run_id, ops.Stage.STAGE, scope=ops.FileScope(spec.file_type), source_file_id=source_file_id
        )
        for _ in segments
    ]
    results = _run_batches(shared, segments, audit_ids, workers)
    return _summarize(spec, source_file_id, results, coverage, started)


def _segments_to_load(
    payload: Payload, coverage: Coverage, workers: int, source_file_id: int
) -> tuple[list[Segment], tuple[str | None, int | None]]:
    """The gaps of a partly staged file (and the payload sha256/size its batches recorded), or a fresh
    plan of ``workers`` byte ranges."""
    if not coverage.ranges:
        return fresh_plan(payload, workers), (None, None)
    segments = list(coverage.gaps or [])
    known = next(((r.sha256, r.bytes) for r in coverage.ranges if r.sha256), (None, None))
    log.info(
        "resuming source file %d: %d line ranges already staged, %d to load",
        source_file_id,
        len(coverage.ranges),
        len(segments),
    )
    return segments, known


def _run_batches(
    shared: BatchContext, segments: list[Segment], audit_ids: list[int], workers: int
) -> list[BatchResult]:
    if len(segments) == 1 or (workers == 1 and not shared.has_hasher):
        return [load_batch(shared, s, a) for s, a in zip(segments, audit_ids, strict=True)]
    # Batches wait for the one hashing the whole payload: then all must run at once.
    threads = len(segments) if shared.has_hasher else min(workers, len(segments))
    if threads == len(segments):
        shared.commit_barrier = threading.Barrier(threads)
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fecflow-stage")
    futures = [pool.submit(load_batch, shared, s, a) for s, a in zip(segments, audit_ids, strict=True)]
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
    spec: FileSpec, source_file_id: int, results: list[BatchResult], coverage: Coverage, started: float
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
    coverage: Coverage,
    reason: str,
    duplicate_of: int | None,
    started: float,
) -> StageResult:
    audit_id = ops.start_audit(
            ops_conn, run_id, ops.Stage.STAGE, scope=ops.FileScope(spec.file_type), source_file_id=source_file_id
        )
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
    failed = ops.fail_running_batches(conn, source_file_id)
    if failed:
        log.warning("marked %d interrupted stage batches of source file %d failed", failed, source_file_id)


def _staged_duplicate(
    conn: psycopg.Connection, source_file_id: int, file_type: str, sha256: str, member: str | None
) -> tuple[int, Coverage] | None:
    for candidate in ops.staged_with_sha256(
        conn, sha256=sha256, file_type=file_type, member=member, other_than=source_file_id
    ):
        coverage = coverage_of(conn, candidate)
        if coverage.complete:
            return candidate, coverage
    return None


def _delete_staged(factory: ConnectionFactory, spec: FileSpec, source_file_id: int, run_id: int) -> None:
    """One transaction: drop the file's staged rows, rejects and raw lines; supersede its batches."""
    with factory() as conn:
        unstaged = unstage_source_file(conn, spec, source_file_id, run_id)
        conn.commit()
    log.info(
        "replace: dropped the %d staged rows of source file %d (%.1f MB)",
        unstaged.rows,
        source_file_id,
        unstaged.bytes / 1e6,
    )


def unstage_source_file(
    conn: psycopg.Connection,
    spec: FileSpec,
    source_file_id: int,
    run_id: int,
    *,
    note: dict[str, Any] | None = None,
    keep_normalize_rejects: bool = False,
) -> Unstaged:
    """Delete what is staged from a source file (rows, rejects, raw lines) and mark its batches superseded.

    Runs in the caller's transaction; returns the staging rows removed and the bytes freed (the
    file's leaves are dropped, see :func:`~fecflow.db.partitions.drop_staging_leaves`; their rows are
    what its current batches loaded). Superseded batches (``counts.superseded_by_run_id`` = ``run_id``, plus ``note``)
    no longer count as coverage, so the file can be staged again from its payload. The batches'
    audit rows and counts stay as history. With ``keep_normalize_rejects`` the rows normalization
    rejected (reason ``normalize: ...``) stay in ops.rejected_row: they are the record of what core
    left out of that snapshot.
    """
    staged = sum(int(batch.rows_loaded or 0) for batch in ops.current_batches(conn, source_file_id))
    freed = drop_staging_leaves(conn, spec.staging_table, source_file_id)
    conn.execute(
        "DELETE FROM ops.rejected_row WHERE source_file_id = %s AND (NOT %s OR reason NOT LIKE 'normalize:%%')",
        (source_file_id, keep_normalize_rejects),
    )
    conn.execute("DELETE FROM staging.raw_line WHERE source_file_id = %s", (source_file_id,))
    ops.supersede_batches(conn, source_file_id, run_id, note)
    return Unstaged(staged, freed)
