"""Which staged source file is the current snapshot of a (cycle, file type), and was it normalized?

FEC bulk files are full snapshots, so normalization reads exactly one staged source file per cycle
and file type: the one the newest fetch (by ``fetched_at``, then id) of that cycle and type defines,
fully staged itself or a duplicate of a fully staged file (see :func:`current_snapshot`). Older
snapshots stay in staging for replay but are never mixed in.

Each normalization of a snapshot leaves one ``normalize`` audit (scope ``<file_type>:<cycle>``,
``source_file_id`` = the snapshot) whose ``counts`` record the rule and employer-map versions it
used; :func:`last_normalized` reads the newest succeeded one so a rerun can skip unchanged work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg

from fecflow.db import ops
from fecflow.db.ops import NormalizedMark
from fecflow.staging.coverage import coverage_of

__all__ = ["NormalizedMark", "Snapshot", "current_snapshot", "last_normalized", "normalize_scope"]


def normalize_scope(file_type: str, cycle: int) -> ops.UnitScope:
    return ops.UnitScope(file_type, cycle)


@dataclass(frozen=True)
class Snapshot:
    """``source_file_id`` holds the staged rows; ``fetched_at`` is the newest fetch that resolved to it."""

    source_file_id: int
    file_type: str
    cycle: int
    fetched_at: dt.datetime
    rows_loaded: int | None


def current_snapshot(conn: psycopg.Connection, *, cycle: int, file_type: str) -> Snapshot | None:
    """The snapshot the newest fetch of ``cycle`` / ``file_type`` defines, or None.

    The newest fetch wins, whatever its checksum's history: source files are tried newest first (by
    ``fetched_at``, then id), and the first one that is either fully staged itself or was skipped by
    staging as a duplicate (same sha256) of a fully staged file is the current snapshot. A duplicate
    resolves to the staged original, whose rows are identical, with the duplicate's ``fetched_at``:
    when the FEC publishes A, then A', then A again, A is current again (an upstream revert), not A'.

    Fully staged is staging's own definition (:func:`fecflow.staging.coverage.coverage_of`, which
    ``stage`` uses to plan a resume and ``staging prune`` to choose what to keep): its succeeded, not
    superseded ``stage`` batches cover the payload's lines and bytes from the start to the end of the
    file without a gap or an overlap. Only files with a batch that reached the end of the payload, or
    with a duplicate skip, are read at all.
    """
    for source_file_id, fetched_at, duplicate_of in ops.files_reaching_eof(conn, cycle=cycle, file_type=file_type):
        for staged_id in (source_file_id, duplicate_of):
            if staged_id is None:
                continue
            coverage = coverage_of(conn, staged_id)
            if coverage.complete:
                loaded = sum(r.loaded for r in coverage.ranges)
                return Snapshot(staged_id, file_type, cycle, fetched_at, loaded)
    return None


def last_normalized(conn: psycopg.Connection, *, cycle: int, file_type: str) -> NormalizedMark | None:
    """The newest succeeded normalization of this cycle and file type."""
    return ops.last_normalized(conn, normalize_scope(file_type, cycle))
