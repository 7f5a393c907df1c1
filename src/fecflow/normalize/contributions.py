"""Itemized transactions: staging (indiv, pas2, oth) -> ``core.contribution``, as snapshot diffs.

One staged snapshot of one (cycle, file type) is typed by one ``SELECT``
(:func:`~fecflow.normalize.typed_rows.snapshot_select`) and compared with the rows of the same cycle
and source already in core:

* **typed**: SUB_ID bigint; amount numeric(14,2); TRANSACTION_DT parsed strictly (MMDDYYYY, a real
  calendar date, year 1975 .. next year: a join with a table of every valid date string) and
  NULL otherwise, with the raw text kept in ``transaction_date_raw`` (those rows go to the default
  partition; never dropped); FILE_NUM bigint where numeric; ``zip5`` = the first 5 characters when
  they are digits; ``donor_key`` = normalized name (upper case, punctuation but commas removed,
  whitespace collapsed) ``|`` zip5.
* **linked**: ``recipient_committee_key`` = the filer (CMTE_ID); ``contributor_committee_key`` =
  OTHER_ID when it is a committee id (pas2, oth); ``candidate_key`` = CAND_ID (pas2);
  ``conduit_committee_id`` = OTHER_ID on 15E earmarks; ``employer_key`` via ``core.employer_alias``
  (:mod:`fecflow.normalize.employer_links`). Unknown committees / candidates get placeholders first
  (:mod:`fecflow.normalize.dimensions`).
* **rules**: ``rule_version``, ``category``, ``counts_as_contribution``, ``is_refund``, ``filer_side`` from
  ``ref.counting_rule`` on (TRANSACTION_TP, MEMO_CD = 'X') for :data:`RULE_VERSION`; a type the table
  does not know is ``other`` (``memo`` when memo-coded, as :func:`~fecflow.normalize.rules.rule_for`)
  and never counts.
* **diffed** by SUB_ID (:mod:`fecflow.normalize.diff`): new rows inserted, changed rows updated,
  missing rows soft-deleted, returning rows restored; every change of a later snapshot is one
  ``core.contribution_history`` row.
* **first loads** of an ``indiv`` scope skip the diff: :mod:`fecflow.normalize.bulk` types them in
  parallel into per-year tables and attaches those as partitions.

Rows that cannot be typed (no SUB_ID, an amount that is not a number, no CMTE_ID) go to
``ops.rejected_row`` with reason ``normalize: ...``; the run does not fail on them. Everything runs
in the caller's one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

from fecflow.catalog import FILES, TRANSACTION_FILE_TYPES
from fecflow.db import ops
from fecflow.db.partitions import ensure_year_partitions, staging_leaves
from fecflow.db.statements import execute, scalar
from fecflow.normalize.bulk import SnapshotProfile, bulk_first_load, profile_snapshot
from fecflow.normalize.diff import apply_diff as _apply_diff
from fecflow.normalize.diff import no_history, snapshot_old
from fecflow.normalize.diff import resolve_overlaps as _resolve_overlaps
from fecflow.normalize.dimensions import (
    COMMITTEE_ID_RE,
    Counts,
    create_candidate_placeholders,
    create_committee_placeholders,
)
from fecflow.normalize.employer_links import link_employers
from fecflow.normalize.rules import RULE_VERSION
from fecflow.normalize.snapshot import normalize_scope
from fecflow.normalize.typed_rows import (
    CONTENT_COLUMNS,
    FIRST_VALID_YEAR,
    create_valid_dates,
    drop_valid_dates,
    reject_untyped,
    snapshot_keys_select,
    snapshot_select,
)

__all__ = [
    "BULK_FILE_TYPES",
    "CONTENT_COLUMNS",
    "FIRST_VALID_YEAR",
    "link_employers",
    "normalize_contributions",
]

log = logging.getLogger(__name__)

# First loads of these go through the bulk path (pas2/oth share SUB_IDs and need the regular one).
BULK_FILE_TYPES = ("indiv",)
WORK_MEM = "256MB"
MAINTENANCE_WORK_MEM = "512MB"  # index builds when partitions are attached


def _create_placeholders(
    conn: psycopg.Connection, file_type: str, source_file_id: int, profile: SnapshotProfile | None = None
) -> Counts:
    staging = sql.Identifier("staging", FILES[file_type].staging_table)
    params: dict[str, Any] = {"sf": source_file_id, "cmte_re": COMMITTEE_ID_RE}
    ids: sql.Composable
    if profile is not None:  # indiv: the filers are known from the profile pass
        ids = sql.SQL("SELECT unnest(%(ids)s::text[])")
        params["ids"] = profile.committee_ids
    elif file_type in ("pas2", "oth"):
        ids = sql.SQL(
            "SELECT unnest(ARRAY[s.cmte_id, CASE WHEN s.other_id ~ %(cmte_re)s THEN s.other_id END]) "
            "FROM {} s WHERE s._source_file_id = %(sf)s"
        ).format(staging)
    else:
        ids = sql.SQL("SELECT s.cmte_id FROM {} s WHERE s._source_file_id = %(sf)s").format(staging)
    committees = create_committee_placeholders(conn, ids, params)
    candidates = 0
    if file_type == "pas2":
        candidates = create_candidate_placeholders(
            conn,
            sql.SQL("SELECT s.cand_id FROM {} s WHERE s._source_file_id = %(sf)s").format(staging),
            params,
        )
    counts: Counts = {"core.committee": {"placeholders_created": committees}}
    if file_type == "pas2":
        counts["core.candidate"] = {"placeholders_created": candidates}
    return counts


def _diff_snapshot(
    conn: psycopg.Connection, file_type: str, params: dict[str, Any], *, scope_empty: bool, audit_id: int | None
) -> Counts:
    """Type the snapshot's lines (all, or only the changed ones), diff them into core.contribution."""
    if scope_empty:
        typed = _type_all_lines(conn, file_type, params, audit_id)
    else:
        typed = _type_changed_lines(conn, file_type, params, audit_id)
    years = [
        int(r[0])
        for r in conn.execute(
            "SELECT DISTINCT extract(year FROM transaction_date)::int FROM _snap WHERE transaction_date IS NOT NULL"
        )
    ]
    created_partitions = ensure_year_partitions(conn, years)
    diff = _apply_diff(
        conn,
        params,
        snap_rows=typed.rows - typed.overlap.get("owned_by_pas2", 0),
        scope_rows=typed.scope_rows,
        gone=typed.gone,
    )
    counts: Counts = {}
    counts["core.contribution"] = {
        **diff["contribution"],
        **typed.overlap,
        "rejected": typed.rejected,
        "duplicate_sub_id_lines": typed.duplicates,
        "undated": typed.undated,
        "unknown_transaction_type": typed.rule_missing,
        "partitions_created": len(created_partitions),
    }
    counts["core.contribution_history"] = diff["history"]
    counts["snapshot"] = {"lines": typed.lines, "records": typed.rows}
    execute(conn, "DROP TABLE _snap")
    if typed.gone is not None:
        execute(conn, sql.SQL("DROP TABLE _keys, {}").format(sql.Identifier(typed.gone)))
    return counts


def normalize_contributions(
    conn: psycopg.Connection,
    file_type: str,
    *,
    source_file_id: int,
    cycle: int,
    run_id: int,
    audit_id: int | None = None,
    today: dt.date | None = None,
) -> Counts:
    """Diff one staged transaction snapshot into core.contribution; return counts per table.

    Runs inside the caller's transaction (the caller commits or rolls back).
    """
    if file_type not in TRANSACTION_FILE_TYPES:
        raise ValueError(f"not a transaction file type: {file_type}")
    execute(conn, sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(WORK_MEM)))
    execute(conn, sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(MAINTENANCE_WORK_MEM)))
    _analyze_if_stale(conn, file_type, source_file_id)
    params: dict[str, Any] = {
        "sf": source_file_id,
        "rv": RULE_VERSION,
        "cmte_re": COMMITTEE_ID_RE,
        "cycle": cycle,
        "source": file_type,
        "run_id": run_id,
    }
    create_valid_dates(conn, (today or dt.date.today()).year + 1)
    # A first load of a bulk file type profiles the snapshot first (years, lines, filers: one pass).
    scope_empty = _scope_is_empty(conn, params)
    profile = None
    if file_type in BULK_FILE_TYPES and scope_empty:
        profile = profile_snapshot(conn, file_type, params)
    counts: Counts = {}
    for table, values in _create_placeholders(conn, file_type, source_file_id, profile).items():
        counts.setdefault(table, {}).update(values)
    for table, values in link_employers(conn, file_type, source_file_id).items():
        counts.setdefault(table, {}).update(values)

    if profile is not None:
        bulk = bulk_first_load(conn, file_type, params, profile, audit_id)
        if bulk is not None:
            counts["core.contribution"] = bulk["contribution"]
            counts["core.contribution_history"] = no_history()
            counts["snapshot"] = bulk["snapshot"]
            drop_valid_dates(conn)
            return counts
    counts.update(_diff_snapshot(conn, file_type, params, scope_empty=scope_empty, audit_id=audit_id))
    drop_valid_dates(conn)
    return counts


class _Typed(NamedTuple):
    """What typing a snapshot into ``_snap`` found (before the diff)."""

    lines: int  # staged lines read
    rows: int  # typable lines, one per SUB_ID (before pas2/oth overlaps)
    rejected: int
    duplicates: int  # lines left out because a later line has their SUB_ID
    undated: int
    rule_missing: int
    overlap: dict[str, int]  # resolve_overlaps counts
    scope_rows: int  # the scope's core rows before (snapshot_old)
    gone: str | None  # None: the scope's live rows missing from _snap are gone; else a table of them


# A later snapshot types in full only its changed lines, unless more than this share of them changed.
KEYED_DIFF_MAX_SHARE = 0.5


def _keep_last_line(conn: psycopg.Connection, table: str) -> int:
    """Delete every line of ``table`` whose SUB_ID comes again on a later line; return how many.

    ``count(*) = count(DISTINCT ...)`` first: a sort, cheaper than the grouping when nothing repeats.
    """
    name = sql.Identifier(table)
    if scalar(conn, sql.SQL("SELECT count(*) = count(DISTINCT sub_id) FROM {}").format(name)):
        return 0
    return execute(
        conn,
        sql.SQL(
            "DELETE FROM {t} n USING (SELECT sub_id, max(line) AS keep FROM {t} GROUP BY sub_id "
            "HAVING count(*) > 1) d WHERE n.sub_id = d.sub_id AND n.line <> d.keep"
        ).format(t=name),
    )


def _type_all_lines(
    conn: psycopg.Connection, file_type: str, params: dict[str, Any], audit_id: int | None
) -> _Typed:
    """Type every line into ``_snap`` (first loads, repeated SUB_IDs): rejects out, last line per SUB_ID."""
    lines = execute(
        conn, "CREATE TEMP TABLE _snap ON COMMIT DROP AS " + snapshot_select(conn, file_type), params
    )
    rejected = reject_untyped(conn, file_type, params["sf"], audit_id)
    duplicates = _keep_last_line(conn, "_snap")
    execute(conn, "ANALYZE _snap")
    stats = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE transaction_date IS NULL), count(*) FILTER (WHERE rule_missing) "
        "FROM _snap"
    ).fetchone()
    assert stats is not None
    rows, undated, rule_missing = (int(x) for x in stats)
    overlap = _resolve_overlaps(conn, params)
    scope_rows = snapshot_old(conn, params)
    return _Typed(lines, rows, rejected, duplicates, undated, rule_missing, overlap, scope_rows, None)


def _type_changed_lines(
    conn: psycopg.Connection, file_type: str, params: dict[str, Any], audit_id: int | None
) -> _Typed:
    """A later snapshot of a scope with rows: type in full only what the diff will write.

    One narrow pass (``_keys``: SUB_ID, row hash, typable, undated, unknown type per line) gives the
    counts and, against the scope's hashes (``_old``), the lines whose SUB_ID is new, changed or
    restored; only those and the lines to reject are typed into ``_snap`` (all of them when more
    than :data:`KEYED_DIFF_MAX_SHARE` changed). Same rows, counts and rejects as typing every line:
    an unchanged hash under the same rule version types to the same values (committee, candidate and
    employer keys are stable; an employer map change is handled by ``employer_map``).
    """
    lines = execute(
        conn, "CREATE TEMP TABLE _keys ON COMMIT DROP AS " + snapshot_keys_select(conn, file_type), params
    )
    execute(conn, "CREATE TEMP TABLE _type_lines ON COMMIT DROP AS SELECT line FROM _keys WHERE NOT typed")
    if int(scalar(conn, "SELECT count(*) FROM _type_lines")):
        execute(conn, "DELETE FROM _keys WHERE NOT typed")
    duplicates = _keep_last_line(conn, "_keys")
    execute(conn, "ANALYZE _keys")
    stats = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE undated), count(*) FILTER (WHERE rule_missing) FROM _keys"
    ).fetchone()
    assert stats is not None
    rows, undated, rule_missing = (int(x) for x in stats)
    overlap = _resolve_overlaps(conn, params, snap="_keys")
    scope_rows = snapshot_old(conn, params)
    # One FULL JOIN: the lines to type (new, changed, restored SUB_IDs) and the SUB_IDs gone.
    execute(
        conn,
        "CREATE TEMP TABLE _cmp ON COMMIT DROP AS SELECT k.line, CASE WHEN k.line IS NULL THEN o.sub_id END AS gone "
        "FROM _keys k FULL JOIN _old o ON o.sub_id = k.sub_id "
        "WHERE (k.line IS NULL AND o.deleted_at IS NULL) OR o.sub_id IS NULL OR o.deleted_at IS NOT NULL "
        "OR o.row_hash <> k.row_hash OR o.rule_version <> %(rv)s",
        params,
    )
    execute(conn, "INSERT INTO _type_lines SELECT line FROM _cmp WHERE line IS NOT NULL")
    execute(
        conn,
        "CREATE TEMP TABLE _gone ON COMMIT DROP AS SELECT gone AS sub_id FROM _cmp WHERE gone IS NOT NULL",
    )
    changed = int(scalar(conn, "SELECT count(*) FROM _type_lines"))
    if changed > KEYED_DIFF_MAX_SHARE * max(lines, 1):
        where = ""  # most lines changed (a new rule version...): one parallel pass over everything
    else:
        execute(conn, "ANALYZE _type_lines")
        where = "s._line_number IN (SELECT line FROM _type_lines)"
    execute(
        conn, "CREATE TEMP TABLE _snap ON COMMIT DROP AS " + snapshot_select(conn, file_type, where), params
    )
    rejected = reject_untyped(conn, file_type, params["sf"], audit_id)
    if not where:  # every line typed: keep the kept line of each SUB_ID, nothing pas2 owns (as _keys)
        execute(conn, "DELETE FROM _snap n WHERE NOT EXISTS (SELECT 1 FROM _keys k WHERE k.line = n.line)")
    execute(conn, "ANALYZE _snap")
    log.debug("keyed diff of %s: %d of %d lines typed", file_type, changed, lines)
    execute(conn, "DROP TABLE _type_lines, _cmp")
    return _Typed(lines, rows, rejected, duplicates, undated, rule_missing, overlap, scope_rows, "_gone")


def _analyze_if_stale(conn: psycopg.Connection, file_type: str, source_file_id: int) -> bool:
    """ANALYZE the snapshot's staging leaves whose statistics are missing or stale; True if any.

    The pipeline analyzes after staging, but a caller that normalizes right after
    ``stage_source_file`` (the benchmark, a script) leaves the planner guessing: it then plans the
    typing of 2M rows as if they were a few thousand (Gather below the joins, the typing in the
    leader alone: 2x slower, measured). The snapshot's queries are pruned to its own leaves (one per
    stage batch, :mod:`fecflow.db.partitions`), so their statistics are the ones the planner reads.
    Stale means: never analyzed (or not yet in the cumulative statistics), or 10% of the rows
    changed since the last ANALYZE (autovacuum's rule). Sampling costs ~0.3 s per 2M rows; in the
    unit's transaction, a rollback restores the old statistics. Until the unit ends it holds the
    lock ANALYZE takes on those leaves (SHARE UPDATE EXCLUSIVE: it blocks a VACUUM or ANALYZE of
    them, not a staging load, whose batches write new leaves).
    """
    leaves = staging_leaves(conn, FILES[file_type].staging_table, source_file_id)
    stale = conn.execute(
        """
        SELECT l.name
        FROM unnest(%(leaves)s::text[]) AS l(name)
        LEFT JOIN pg_stat_user_tables s ON s.schemaname = 'staging' AND s.relname = l.name
        WHERE coalesce(s.last_analyze, s.last_autoanalyze) IS NULL
           OR s.n_mod_since_analyze > 0.1 * greatest(s.n_live_tup, 1000)
        """,
        {"leaves": leaves},
    ).fetchall()
    for (name,) in stale:
        execute(conn, sql.SQL("ANALYZE {}").format(sql.Identifier("staging", name)))
    return bool(stale)


def _scope_is_empty(conn: psycopg.Connection, params: dict[str, Any]) -> bool:
    """No core rows of this cycle and source yet: no normalization of the scope ever succeeded.

    Only a succeeded normalize unit writes rows of a scope (a failed one rolls back), so the audit
    trail answers without scanning every partition of core.contribution (there is no index on
    cycle/source).
    """
    unit = normalize_scope(params["source"], params["cycle"])
    return not ops.has_succeeded(conn, ops.Stage.NORMALIZE, unit)
