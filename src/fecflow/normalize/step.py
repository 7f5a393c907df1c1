"""The normalize step: the current staged snapshots of one cycle -> core, one file type at a time.

Order: candidates (cn), committees (cm), links (ccl), then the transactions (indiv, pas2, oth), so
transactions find the dimension rows of the same cycle. Each file type is one unit of work in one
transaction with one ``ops.ingest_run_audits`` row (``stage='normalize'``, ``scope='<type>:<cycle>'``,
``source_file_id`` = the snapshot): a failure rolls the unit back completely and marks its audit
failed. A unit whose snapshot was already normalized successfully, with the same counting-rule and
normalizer versions, is skipped (audit status ``skipped``): a rerun changes nothing in core.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from fecflow.catalog import NORMALIZED_FILE_TYPES, TRANSACTION_FILE_TYPES
from fecflow.db import ops
from fecflow.errors import UnknownFileType
from fecflow.normalize.contributions import normalize_contributions
from fecflow.normalize.dimensions import CANDIDATES, COMMITTEES, Counts, normalize_dimension, normalize_links
from fecflow.normalize.employer_map import EMPLOYER_MAP_SCOPE, employer_map_is_stale, refresh_employer_map
from fecflow.normalize.employers import EMPLOYER_MAP_VERSION
from fecflow.normalize.guards import ShrinkPolicy, check_not_older, check_removals
from fecflow.normalize.reference import load_reference
from fecflow.normalize.rules import RULE_VERSION
from fecflow.normalize.snapshot import (
    Snapshot,
    current_snapshot,
    last_normalized,
    normalize_scope,
)
from fecflow.normalize.sponsors import link_sponsors

log = logging.getLogger(__name__)

#: Bump when normalization changes what it writes for the same input: snapshots are normalized again.
NORMALIZER_VERSION = 1
NORMALIZE_ORDER = NORMALIZED_FILE_TYPES  # the catalog's normalize_order: dimensions first


@dataclass(frozen=True)
class UnitResult:
    """One (cycle, file type): what was normalized, or why not."""

    file_type: str
    cycle: int
    status: str  # normalized | skipped | missing | remapped (the employer map, not a file type)
    reason: str
    source_file_id: int | None
    tables: Counts
    seconds: float
    audit_id: int | None


@dataclass
class NormalizeResult:
    cycle: int
    units: list[UnitResult] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when some unit was normalized or the employer map refreshed (skipped / missing: no change)."""
        return any(u.status in ("normalized", "remapped") for u in self.units)

    def table_counts(self) -> dict[str, dict[str, int]]:
        """Counts per core table, summed over the units (``snapshot`` line counts left out)."""
        totals: dict[str, dict[str, int]] = {}
        for unit in self.units:
            for table, counts in unit.tables.items():
                if table == "snapshot":
                    continue
                bucket = totals.setdefault(table, {})
                for name, value in counts.items():
                    bucket[name] = bucket.get(name, 0) + int(value)
        return totals


def _fingerprint(file_type: str) -> dict[str, Any]:
    """What, besides the snapshot, decides the result: a change here means normalize again."""
    fingerprint: dict[str, Any] = {"normalizer_version": NORMALIZER_VERSION}
    if file_type in TRANSACTION_FILE_TYPES:
        fingerprint["rule_version"] = RULE_VERSION
    return fingerprint


def ensure_reference(conn: psycopg.Connection) -> bool:
    """Load the ``ref`` tables when the current counting rules are not there yet; True if loaded."""
    row = conn.execute("SELECT count(*) FROM ref.counting_rule WHERE rule_version = %s", (RULE_VERSION,)).fetchone()
    if row and row[0]:
        conn.commit()
        return False
    load_reference(conn)
    conn.commit()
    log.info("loaded reference data (counting rules %s)", RULE_VERSION)
    return True


def _run_unit(conn: psycopg.Connection, snapshot: Snapshot, *, run_id: int, audit_id: int) -> Counts:
    common: dict[str, Any] = {"source_file_id": snapshot.source_file_id, "cycle": snapshot.cycle, "run_id": run_id}
    if snapshot.file_type == "cn":
        return normalize_dimension(conn, CANDIDATES, snapshot_at=snapshot.fetched_at, **common)
    if snapshot.file_type == "cm":
        counts = normalize_dimension(conn, COMMITTEES, snapshot_at=snapshot.fetched_at, **common)
        return counts | {"core.committee_sponsor": link_sponsors(conn, run_id=run_id)}
    if snapshot.file_type == "ccl":
        return normalize_links(conn, snapshot_at=snapshot.fetched_at, **common)
    return normalize_contributions(conn, snapshot.file_type, audit_id=audit_id, **common)


def _summary(tables: Counts) -> str:
    parts = []
    for table, counts in tables.items():
        if table == "snapshot":
            continue
        shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        if shown:
            parts.append(f"{table}: {shown}")
    return "; ".join(parts) or "no changes"


def _audited(
    conn: psycopg.Connection, audit_id: int, what: str, work: Callable[[], Counts], counts: dict[str, Any]
) -> tuple[Counts, float]:
    """Run one unit's ``work`` in the open transaction and commit it with its audit row (``counts``
    plus the tables and seconds); on any failure roll back, mark the audit failed and re-raise."""
    started = time.perf_counter()
    try:
        tables = work()
        seconds = time.perf_counter() - started
        ops.finish_audit(  # commits the unit's work together with its audit row
            conn,
            audit_id,
            "succeeded",
            rows_loaded=tables.get("snapshot", {}).get("records"),
            counts={**counts, "tables": tables, "seconds": round(seconds, 3)},
        )
    except BaseException as exc:
        conn.rollback()
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        ops.finish_audit(conn, audit_id, "failed", error=message[:4000])
        log.error("%s: failed: %s", what, message)
        raise
    return tables, seconds


def normalize_file(
    conn: psycopg.Connection,
    *,
    run_id: int,
    cycle: int,
    file_type: str,
    force: bool = False,
    shrink: ShrinkPolicy | None = None,
) -> UnitResult:
    """Normalize the current snapshot of one cycle and file type (one transaction, one audit row).

    Refuses (SnapshotRefused, audit failed, core unchanged) a snapshot older than the one core holds
    and one that removes more live rows than ``shrink`` allows (see :mod:`fecflow.normalize.guards`).
    """
    scope = normalize_scope(file_type, cycle)
    policy = shrink or ShrinkPolicy()
    snapshot = current_snapshot(conn, cycle=cycle, file_type=file_type)
    if snapshot is None:
        audit_id = ops.start_audit(conn, run_id, ops.Stage.NORMALIZE, scope=scope)
        reason = "no staged snapshot"
        ops.finish_audit(conn, audit_id, "skipped", counts={"reason": reason})
        log.info("normalize %s: skipped (%s)", scope, reason)
        return UnitResult(file_type, cycle, "missing", reason, None, {}, 0.0, audit_id)
    fingerprint = _fingerprint(file_type)
    mark = last_normalized(conn, cycle=cycle, file_type=file_type)
    if (
        not force
        and mark is not None
        and mark.source_file_id == snapshot.source_file_id
        and all(mark.counts.get(k) == v for k, v in fingerprint.items())
    ):
        audit_id = ops.start_audit(
            conn, run_id, ops.Stage.NORMALIZE, scope=scope, source_file_id=snapshot.source_file_id
        )
        reason = f"source file {snapshot.source_file_id} already normalized (audit {mark.audit_id})"
        ops.finish_audit(conn, audit_id, "skipped", counts={"reason": reason, **fingerprint})
        log.info("normalize %s: skipped (%s)", scope, reason)
        return UnitResult(file_type, cycle, "skipped", reason, snapshot.source_file_id, {}, 0.0, audit_id)

    audit_id = ops.start_audit(conn, run_id, ops.Stage.NORMALIZE, scope=scope, source_file_id=snapshot.source_file_id)
    counts = {**fingerprint, "snapshot_fetched_at": snapshot.fetched_at.isoformat()}

    def work() -> Counts:
        if mark is not None:
            check_not_older(
                str(scope),
                current_id=snapshot.source_file_id,
                current_fetched_at=snapshot.fetched_at,
                held_id=mark.source_file_id,
                held_fetched_at=mark.fetched_at,
            )
        tables = _run_unit(conn, snapshot, run_id=run_id, audit_id=audit_id)
        counts["removals"] = check_removals(str(scope), tables, policy)
        return tables

    tables, seconds = _audited(conn, audit_id, f"normalize {scope}", work, counts)
    log.info(
        "normalize %s: source file %d in %.1fs: %s",
        scope,
        snapshot.source_file_id,
        seconds,
        _summary(tables),
        extra={"run_id": run_id, "stage": ops.Stage.NORMALIZE, "counts": tables, "duration_s": round(seconds, 3)},
    )
    return UnitResult(file_type, cycle, "normalized", "", snapshot.source_file_id, tables, seconds, audit_id)


def refresh_employers(conn: psycopg.Connection, *, run_id: int, cycle: int) -> UnitResult | None:
    """Map again what an older employer map decided (one transaction, one audit row); None if current."""
    if not employer_map_is_stale(conn):
        conn.commit()
        return None
    audit_id = ops.start_audit(conn, run_id, ops.Stage.NORMALIZE, scope=ops.NamedScope(EMPLOYER_MAP_SCOPE))
    tables, seconds = _audited(
        conn,
        audit_id,
        "employer map refresh",
        lambda: refresh_employer_map(conn, run_id=run_id),
        {"employer_map_version": EMPLOYER_MAP_VERSION},
    )
    log.info(
        "employer map %s: %s in %.1fs",
        EMPLOYER_MAP_VERSION,
        _summary(tables),
        seconds,
        extra={"run_id": run_id, "stage": ops.Stage.NORMALIZE, "counts": tables, "duration_s": round(seconds, 3)},
    )
    reason = f"employer map {EMPLOYER_MAP_VERSION}"
    return UnitResult("employers", cycle, "remapped", reason, None, tables, seconds, audit_id)


def normalize_cycle(
    conn: psycopg.Connection,
    *,
    run_id: int,
    cycle: int,
    file_types: Sequence[str] | None = None,
    force: bool = False,
    shrink: ShrinkPolicy | None = None,
) -> NormalizeResult:
    """Normalize the current staged snapshots of ``cycle`` (default: every file type, dimensions first).

    ``conn`` must not be in autocommit mode: each file type is one transaction, committed with its
    audit row. ``force`` normalizes snapshots again even when they were normalized already; ``shrink``
    bounds what one snapshot may remove (default: :class:`ShrinkPolicy`).
    """
    if conn.autocommit:
        raise ValueError("normalize_cycle needs a connection outside autocommit mode")
    wanted = list(file_types) if file_types else list(NORMALIZE_ORDER)
    unknown = [ft for ft in wanted if ft not in NORMALIZE_ORDER]
    if unknown:
        raise UnknownFileType(
            f"Cannot normalize file types {', '.join(unknown)}.",
            hint=f"Normalized file types: {', '.join(NORMALIZE_ORDER)}.",
        )
    ensure_reference(conn)
    result = NormalizeResult(cycle)
    remap = refresh_employers(conn, run_id=run_id, cycle=cycle)
    if remap is not None:
        result.units.append(remap)
    for file_type in (ft for ft in NORMALIZE_ORDER if ft in wanted):
        unit = normalize_file(conn, run_id=run_id, cycle=cycle, file_type=file_type, force=force, shrink=shrink)
        result.units.append(unit)
    return result
