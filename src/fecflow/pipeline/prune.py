"""Prune staging: drop the rows of old snapshots that nothing reads any more.

FEC bulk files are full snapshots, and every staged snapshot stays in ``staging.*`` until pruned: a
current-cycle itcont is ~60 million rows (~14 GB staged), republished weekly. Normalization reads
one snapshot per (cycle, file type): the newest fully staged one (see
:mod:`fecflow.normalize.snapshot`). So, per (cycle, file type), :func:`plan_prune` keeps

* the ``keep`` newest fully staged snapshots (default 1);
* the snapshot core was last normalized from (until a newer one is normalized, it is what core
  holds);
* every source file newer than the oldest kept snapshot (a partly staged newer file is resumable);

and marks the older ones to prune. Nothing is pruned in a (cycle, file type) with fewer than
``keep`` fully staged snapshots.

:func:`prune_staging` unstages each file in its own transaction (its staging leaves dropped, its
staging rejects and raw lines deleted; its stage batches marked superseded, so coverage treats the
file as not staged and ``fecflow stage`` or ``replay-range`` can load it again from its raw file,
which is never touched), with a ``prune`` audit row committed together with the deletion. Rows normalization
rejected from the file stay in ``ops.rejected_row``. A file being staged right now (its stage lock
is held) is left alone. A file's staged rows are its own leaves of ``staging.<type>`` (one per stage
batch, :mod:`fecflow.db.partitions`): they are dropped, so their space goes back to the file system at
the commit. Afterwards a ``VACUUM (ANALYZE)`` of ``staging.raw_line`` and ``ops.rejected_row``,
whose rows of the pruned files were deleted, lets the next load reuse that space.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from fecflow.catalog import FILES
from fecflow.db import ops
from fecflow.db.statements import one
from fecflow.normalize.snapshot import current_snapshot, last_normalized
from fecflow.staging.coverage import coverage_of
from fecflow.staging.load import STAGE_LOCK_CLASS, Unstaged, unstage_source_file

log = logging.getLogger(__name__)

PRUNE_STAGE = ops.Stage.PRUNE
#: Tables whose rows of a pruned file are deleted (not dropped): VACUUMed after a prune.
SIDE_TABLES = (("ops", "rejected_row"), ("staging", "raw_line"))


@dataclass(frozen=True)
class StagedFile:
    source_file_id: int
    file_type: str
    cycle: int
    fetched_at: dt.datetime
    rows: int  # rows loaded by its current stage batches
    complete: bool


@dataclass(frozen=True)
class PruneDecision:
    file: StagedFile
    prune: bool
    reason: str


@dataclass
class PruneResult:
    decisions: list[PruneDecision]
    dry_run: bool
    pruned: list[int] = field(default_factory=list)  # source file ids unstaged
    rows_deleted: int = 0
    bytes_freed: int = 0  # what the dropped leaves held
    busy: list[int] = field(default_factory=list)  # being staged by another process: left alone
    vacuumed: list[str] = field(default_factory=list)

    @property
    def to_prune(self) -> list[PruneDecision]:
        return [d for d in self.decisions if d.prune]


def list_staged_files(
    conn: psycopg.Connection, *, cycles: Sequence[int] | None = None, file_types: Sequence[str] | None = None
) -> list[StagedFile]:
    """Source files with current (succeeded, not superseded) stage batches, newest first per group."""
    return [
        StagedFile(
            f.source_file_id,
            f.file_type,
            f.cycle,
            f.fetched_at,
            int(f.rows_loaded or 0),
            coverage_of(conn, f.source_file_id).complete,
        )
        for f in ops.staged_source_files(conn, cycles=cycles, file_types=file_types)
    ]


def plan_prune(
    conn: psycopg.Connection,
    *,
    keep: int = 1,
    cycles: Sequence[int] | None = None,
    file_types: Sequence[str] | None = None,
) -> list[PruneDecision]:
    """What :func:`prune_staging` would do: one decision per staged file, with its reason."""
    if keep < 1:
        raise ValueError("keep must be >= 1: the newest snapshot is what normalization reads")
    decisions: list[PruneDecision] = []
    groups: dict[tuple[int, str], list[StagedFile]] = {}
    for staged in list_staged_files(conn, cycles=cycles, file_types=file_types):
        groups.setdefault((staged.cycle, staged.file_type), []).append(staged)
    for (cycle, file_type), files in groups.items():  # files: newest first
        mark = last_normalized(conn, cycle=cycle, file_type=file_type)
        normalized_from = mark.source_file_id if mark else None
        # The newest fetch may be a duplicate of an older staged file (an upstream revert): keep that one.
        current = current_snapshot(conn, cycle=cycle, file_type=file_type)
        current_id = current.source_file_id if current else None
        complete = [i for i, f in enumerate(files) if f.complete]
        if len(complete) < keep:
            decisions.extend(
                PruneDecision(f, False, f"only {len(complete)} fully staged snapshot(s), keeping {keep}")
                for f in files
            )
            continue
        boundary = complete[keep - 1]
        for i, f in enumerate(files):
            if i < boundary and not f.complete:
                reason = "newer than the kept snapshots, partly staged (resumable)"
            elif i <= boundary:
                reason = f"one of the {keep} newest fully staged snapshot(s)"
            elif f.source_file_id == normalized_from:
                reason = "core was last normalized from it"
            elif f.source_file_id == current_id:
                reason = "the current snapshot: the newest fetch has its bytes"
            else:
                decisions.append(PruneDecision(f, True, "older snapshot: newer ones are staged"))
                continue
            decisions.append(PruneDecision(f, False, reason))
    return decisions


def _prune_one(
    ops_conn: psycopg.Connection,
    connect: Callable[[], psycopg.Connection],
    run_id: int,
    decision: PruneDecision,
    keep: int,
) -> Unstaged | None:
    """Unstage one snapshot in one transaction with its audit; None when it is being staged right now."""
    staged = decision.file
    with connect() as conn:
        got = one(
            conn,
            "SELECT pg_try_advisory_xact_lock(%(class)s, %(id)s) AS got",
            {"class": STAGE_LOCK_CLASS, "id": staged.source_file_id},
        )
        if not got or not got["got"]:
            conn.rollback()
            log.warning("source file %d is being staged: not pruned", staged.source_file_id)
            return None
        audit_id = ops.start_audit(
            ops_conn, run_id, PRUNE_STAGE, scope=ops.FileScope(staged.file_type), source_file_id=staged.source_file_id
        )
        try:
            unstaged = unstage_source_file(
                conn,
                FILES[staged.file_type],
                staged.source_file_id,
                run_id,
                note={"pruned": True},
                keep_normalize_rejects=True,
            )
            ops.finish_audit(  # commits the deletion and the audit together
                conn,
                audit_id,
                "succeeded",
                rows_loaded=0,
                counts={
                    "rows_deleted": unstaged.rows,
                    "bytes_freed": unstaged.bytes,
                    "reason": decision.reason,
                    "keep": keep,
                },
            )
        except BaseException as exc:
            conn.rollback()
            ops.finish_audit(ops_conn, audit_id, "failed", error=f"{type(exc).__name__}: {exc}"[:4000])
            raise
    log.info(
        "pruned %s source file %d (cycle %d): %d staged rows dropped (%.1f MB)",
        staged.file_type,
        staged.source_file_id,
        staged.cycle,
        unstaged.rows,
        unstaged.bytes / 1e6,
        extra={"stage": PRUNE_STAGE, "source_file_id": staged.source_file_id},
    )
    return unstaged


def prune_staging(
    ops_conn: psycopg.Connection,
    connect: Callable[[], psycopg.Connection],
    *,
    run_id: int,
    keep: int = 1,
    cycles: Sequence[int] | None = None,
    file_types: Sequence[str] | None = None,
    dry_run: bool = False,
    vacuum: bool = True,
    progress: Callable[[PruneDecision], None] | None = None,
) -> PruneResult:
    """Unstage the snapshots :func:`plan_prune` marks, one transaction each, then VACUUM the side tables.

    ``ops_conn`` writes the audit start rows (committed before the work); ``connect`` opens the
    connection each file is unstaged on (its audit finish commits with the deletion).
    """
    result = PruneResult(plan_prune(ops_conn, keep=keep, cycles=cycles, file_types=file_types), dry_run)
    if dry_run:
        return result
    for decision in result.to_prune:
        if progress is not None:
            progress(decision)
        staged = decision.file
        unstaged = _prune_one(ops_conn, connect, run_id, decision, keep)
        if unstaged is None:
            result.busy.append(staged.source_file_id)
            continue
        result.pruned.append(staged.source_file_id)
        result.rows_deleted += unstaged.rows
        result.bytes_freed += unstaged.bytes
    if vacuum and result.pruned:
        with connect() as conn:
            conn.autocommit = True
            for schema, table in SIDE_TABLES:
                conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, table)))
                result.vacuumed.append(f"{schema}.{table}")
    return result
