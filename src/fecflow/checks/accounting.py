"""Accounting checks: every line and every dollar is somewhere, and exactly once.

Staging gate, per staged source file (:func:`check_staging_accounting`):

* ``accounting.lines_balance``: the lines the loader read (``lines_read`` of the file's succeeded,
  not superseded ``stage`` batches) = rows in ``staging.<type>`` + staging's rejects of the file in
  ``ops.rejected_row`` (rows normalize rejected, reason ``normalize: ...``, are staged lines and are
  not counted again). Exact.
* ``accounting.audit_counts``: the audits' ``rows_loaded`` / ``rows_rejected`` equal those two counts.
  Exact.
* ``accounting.line_numbers``: staged and rejected line numbers run from 1 to ``lines_read`` (a
  truncated or partly lost load leaves a gap or a short tail). Exact.
* ``accounting.reject_rate``: rejected / lines <= ``reject_rate``.

Normalize gate, per normalized snapshot (:func:`check_core_accounting`), transaction files
(indiv, pas2, oth):

* ``accounting.core_rows``: every staged row has a live (``deleted_at IS NULL``) ``core.contribution``
  row with its SUB_ID, whatever its ``source`` (pas2 SUB_IDs are in oth too; the pas2 row owns them),
  except the rows normalize rejected (``ops.rejected_row``, reason ``normalize: ...``: no SUB_ID, an
  amount that is not a number, no CMTE_ID), which are counted and reported. Exact.
* ``accounting.stale_core_rows``: every live core row of this source and cycle is in the snapshot
  (rows that disappeared from the newer snapshot must be soft-deleted). Exact.
* ``accounting.amounts_by_committee``: per filing committee (the staged CMTE_ID; the recipient for
  indiv), staged dollars = core dollars of the same SUB_IDs, within ``amount_committee_abs``.
  Core ``amount`` is the reported amount (sign and refund flags live in the counting rule), so the
  comparison is raw against raw. Rows normalize rejected are left out on both sides.
* ``accounting.amount_total``: the same over the whole file, within ``amount_total_abs``.

  These four are decided first by a multiset test without a join (``_same_rows``: row counts,
  dollars and a sum of per-row hashes of SUB_ID and amount on each side); when staging and core hold
  the same rows, all four pass with what the full comparison would say. Otherwise the full
  comparison (staging LEFT JOIN core, and the stale-row scan) decides and names examples. At 2M
  rows: 1.4 s instead of 8.3 s (2026-12-05).

Master files (cm, cn, ccl): ``accounting.core_entities``: every staged id has its current core row
(a non-placeholder committee / candidate, an open candidate-committee link). Exact.

Per cycle: ``accounting.unique_sub_id``: no SUB_ID has two live core rows (the database can only
enforce ``(sub_id, transaction_date)``; see docs/data/schema.md). Exact.
``accounting.provenance``: every ``source_file_id``, ``first_run_id``, ``last_run_id`` and
``deleted_by_run_id`` of the cycle's core rows (live or deleted) names an existing ``ops`` row (these
columns carry no foreign keys: see migration 0004). Exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from fecflow.catalog import TRANSACTION_FILE_TYPES
from fecflow.checks.result import CheckResult, at_most, exactly, share
from fecflow.checks.schema import (
    NORMALIZE_REJECT_PREFIX,
    STAGING_REJECTS,
    SourceFileInfo,
    nonempty,
    source_file_info,
    staging_table,
    valid_amount,
    valid_bigint_id,
)
from fecflow.checks.tolerances import Tolerances
from fecflow.db import ops
from fecflow.db.statements import every, local_settings, one

SAMPLE = 5  # example SUB_IDs / committees quoted in a message
DETAIL_ROWS = 10  # committees listed in details

_SUB = sql.Identifier("s", "sub_id")
_SUB_BIGINT = sql.SQL("(CASE WHEN {v} THEN {c}::bigint END)").format(v=valid_bigint_id(_SUB), c=_SUB)


# --- staging gate -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineExtent:
    """How many lines of a source file ended in one place (staging, or rejected), and their numbers."""

    rows: int
    first: int | None
    last: int | None


def _line_extents(conn: psycopg.Connection, info: SourceFileInfo) -> tuple[LineExtent, LineExtent]:
    """The file's lines in its staging table and among staging's rejects."""
    queries = (
        sql.SQL(
            "SELECT count(*) AS rows, min(_line_number) AS first, max(_line_number) AS last FROM {} "
            "WHERE _source_file_id = %(sfid)s"
        ).format(staging_table(info.spec)),
        sql.SQL(
            "SELECT count(*) AS rows, min(line_number) AS first, max(line_number) AS last FROM ops.rejected_row "
            "WHERE source_file_id = %(sfid)s AND {}"
        ).format(STAGING_REJECTS),
    )
    extents = []
    with conn.cursor(row_factory=dict_row) as cur:
        for query in queries:
            row = cur.execute(query, {"sfid": info.source_file_id}).fetchone()
            assert row is not None
            extents.append(LineExtent(int(row["rows"]), row["first"], row["last"]))
    return extents[0], extents[1]


def check_staging_accounting(
    conn: psycopg.Connection, source_file_id: int, tolerances: Tolerances
) -> list[CheckResult]:
    """Lines balance, audit counts, line numbers and reject rate of one staged source file."""
    info = source_file_info(conn, source_file_id)
    audit = ops.batch_totals(conn, source_file_id)
    staged, rejected = _line_extents(conn, info)
    counted = staged.rows + rejected.rows
    details: dict[str, Any] = {
        "stage_audits": audit.batches,
        "audit_lines_read": audit.lines_read,
        "audit_rows_loaded": audit.rows_loaded,
        "audit_rows_rejected": audit.rows_rejected,
        "staged_rows": staged.rows,
        "rejected_rows": rejected.rows,
    }
    results = _line_balance(info.scope, audit, staged, rejected, details)
    results.append(
        at_most(
            "accounting.reject_rate",
            info.scope,
            share(rejected.rows, counted),
            tolerances.reject_rate,
            f"{rejected.rows:,} of {counted:,} lines rejected",
            details={"rejected_rows": rejected.rows, "lines": counted},
        )
    )
    return results


def _line_balance(
    scope: str, audit: ops.BatchTotals, staged: LineExtent, rejected: LineExtent, details: dict[str, Any]
) -> list[CheckResult]:
    """Every line the loader read is staged or rejected, as its audits say, numbered 1..lines_read."""
    n_staged, n_rejected, lines_read = staged.rows, rejected.rows, audit.lines_read
    counted = n_staged + n_rejected
    if audit.batches == 0 or lines_read is None:
        why = "no succeeded stage audit" if audit.batches == 0 else "the stage audits carry no lines_read"
        return [
            CheckResult(
                "accounting.lines_balance",
                scope,
                counted,
                None,
                None,
                "failed",
                f"{why} for this file, so its lines cannot be accounted for",
                details,
            )
        ]
    numbers = [v for v in (staged.first, staged.last, rejected.first, rejected.last) if v is not None]
    first, last = (min(numbers), max(numbers)) if numbers else (None, None)
    expected_span = {"first": 1, "last": lines_read} if lines_read else {"first": None, "last": None}
    return [
        exactly(
            "accounting.lines_balance",
            scope,
            counted,
            lines_read,
            f"staged {n_staged:,} + rejected {n_rejected:,} = {counted:,} rows; the loader read "
            f"{lines_read:,} lines",
            details=details,
        ),
        exactly(
            "accounting.audit_counts",
            scope,
            {"staged": n_staged, "rejected": n_rejected},
            {"staged": audit.rows_loaded, "rejected": audit.rows_rejected},
            f"rows in staging / ops.rejected_row vs the audits' rows_loaded / rows_rejected "
            f"({n_staged:,}/{n_rejected:,} vs {audit.rows_loaded}/{audit.rows_rejected})",
            details=details,
        ),
        exactly(
            "accounting.line_numbers",
            scope,
            {"first": first, "last": last},
            expected_span,
            f"line numbers run {first}..{last}; the file has {lines_read:,} lines",
            details=details,
        ),
    ]


# --- normalize gate -----------------------------------------------------------------------------------------
def check_core_accounting(
    conn: psycopg.Connection, source_file_id: int, tolerances: Tolerances
) -> list[CheckResult]:
    """Staging vs core for one normalized snapshot (transaction or master file)."""
    info = source_file_info(conn, source_file_id)
    if info.file_type in TRANSACTION_FILE_TYPES:
        return _check_contributions(conn, info, tolerances)
    if info.file_type in _ENTITY_KEYS:
        return [_check_entities(conn, info)]
    return []


def _contributions_query(info: SourceFileInfo) -> sql.Composed:
    """Per committee (and a grand total first): staged vs core dollars, rows staged, set aside by
    normalize, missing from core, and examples of the missing SUB_IDs; committees only when off by
    more than the per-committee tolerance."""
    table = staging_table(info.spec)
    amount = sql.Identifier("s", "transaction_amt")
    diff = sql.SQL("abs(coalesce(sum(j.amount), 0) - coalesce(sum(j.core_amount), 0))")
    missing = sql.SQL("NOT j.excluded AND NOT j.found")
    query = sql.SQL(
        "WITH s AS (SELECT s.cmte_id, s._line_number, CASE WHEN {va} THEN {a}::numeric END AS amount, {k} AS sub_id, "
        "r.line_number IS NOT NULL AS excluded FROM {t} s "
        "LEFT JOIN ops.rejected_row r ON r.source_file_id = s._source_file_id AND r.line_number = s._line_number "
        "AND starts_with(r.reason, {nr}) WHERE s._source_file_id = %(sfid)s), "
        "j AS (SELECT s.cmte_id, s._line_number, s.sub_id, s.excluded, "
        "CASE WHEN NOT s.excluded THEN s.amount END AS amount, "
        "c.amount AS core_amount, c.sub_id IS NOT NULL AS found "
        "FROM s LEFT JOIN core.contribution c ON c.sub_id = s.sub_id AND c.deleted_at IS NULL) "
        "SELECT j.cmte_id, GROUPING(j.cmte_id) = 1 AS is_total, coalesce(sum(j.amount), 0) AS staged_amount, "
        "coalesce(sum(j.core_amount), 0) AS core_amount, count(*) AS staged_rows, "
        "count(*) FILTER (WHERE j.excluded) AS excluded, count(*) FILTER (WHERE {m}) AS missing, "
        "count(DISTINCT j.cmte_id) AS committees, "
        "(array_agg(coalesce(j.sub_id::text, 'line ' || j._line_number) ORDER BY j._line_number) "
        "FILTER (WHERE {m}))[1:{n}] AS examples "
        "FROM j GROUP BY GROUPING SETS ((j.cmte_id), ()) "
        "HAVING GROUPING(j.cmte_id) = 1 OR {d} > %(tol)s "
        "ORDER BY GROUPING(j.cmte_id) DESC, {d} DESC"
    ).format(
        va=valid_amount(amount),
        a=amount,
        k=_SUB_BIGINT,
        t=table,
        nr=sql.Literal(NORMALIZE_REJECT_PREFIX),
        m=missing,
        d=diff,
        n=sql.Literal(SAMPLE),
    )
    return query


#: Planner settings for the staging-to-core queries, for those queries only. No nested loops:
#: without statistics on core.contribution as a whole (PostgreSQL < 17 never has them now that the
#: normalize step no longer re-analyzes every partition through the parent) the planner probed every
#: partition's index once per staged row (300k rows: 4.4 s instead of ~1 s, measured). A 128 MB
#: work_mem was tried against temp-file spills and measured no gain at 2M rows (2026-12-05).
_JOIN_SETTINGS = {"enable_nestloop": "off"}


def _check_contributions(
    conn: psycopg.Connection, info: SourceFileInfo, tol: Tolerances
) -> list[CheckResult]:
    """Staging vs core for one transaction snapshot.

    First :func:`_same_rows`, two aggregate scans without a join; it vouches for the snapshot only
    when staging and core hold exactly the same rows, and then every check below passes with zero
    missing, zero stale and equal dollars. Otherwise (something is off, or the rows need the typed
    comparison: a SUB_ID with leading zeros, a pas2-owned SUB_ID in oth) the full comparison runs:
    one pass over staging LEFT JOIN core (presence and dollars together), one over core (stale rows),
    with examples.
    """
    same = _same_rows(conn, info)
    if same is not None:
        total: dict[str, Any] = same
        over: list[dict[str, Any]] = []
        stale = _stale_result(info, 0, [])
    else:
        query = _contributions_query(info)
        with local_settings(conn, _JOIN_SETTINGS):
            rows = every(
                conn, query, {"sfid": info.source_file_id, "tol": Decimal(str(tol.amount_committee_abs))}
            )
        total, over = rows[0], rows[1:]
        assert total["is_total"], "the grand total row comes first"
        stale = _stale_rows(conn, info)
    staged_rows, excluded, n_missing = (
        int(total["staged_rows"]),
        int(total["excluded"]),
        int(total["missing"]),
    )
    examples = [str(v) for v in (total["examples"] or [])]
    expected = staged_rows - excluded
    message = f"{expected - n_missing:,} of {expected:,} staged rows have a live core row"
    if excluded:
        message += f" ({excluded:,} more were rejected by normalize, see ops.rejected_row)"
    if n_missing:
        message += f"; missing e.g. SUB_ID {', '.join(examples)}"
    scope = info.scope
    results = [
        exactly(
            "accounting.core_rows",
            scope,
            n_missing,
            0,
            message,
            details={
                "staged_rows": staged_rows,
                "rejected_by_normalize": excluded,
                "missing": n_missing,
                "examples": examples,
            },
        ),
        stale,
    ]
    results.extend(_amount_results(info, tol, total, over))
    return results


# The multiset test. Each side sums, per row, a 64-bit hash of (SUB_ID as text, amount in cents):
# equal row counts, dollar sums and hash sums mean the same rows, up to a hash-sum coincidence
# (about 2^-64 for rows that differ). Staged SUB_IDs are hashed as text, so a non-canonical one
# ('0123', ' 123') differs from core's and sends the snapshot to the full comparison; staged amounts
# are cast unvalidated, which is safe because a row that is not excluded passed normalize's amount
# rule, except an amount with surrounding blanks (normalize trims it, the full comparison does not),
# counted in ``irregular``; a cast that fails sends the snapshot to the full comparison too.
_STAGED_ROW_HASH = (
    "hashtextextended(s.sub_id, 0) # hashint8extended((s.transaction_amt::numeric * 100)::bigint, 1)"
)
_CORE_ROW_HASH = "hashtextextended(c.sub_id::text, 0) # hashint8extended((c.amount * 100)::bigint, 1)"

_SAME_ROWS_STAGED = (
    "WITH s AS (SELECT s.cmte_id, s.sub_id, s.transaction_amt, r.line_number IS NOT NULL AS excluded "
    "FROM {t} s LEFT JOIN ops.rejected_row r ON r.source_file_id = s._source_file_id "
    "AND r.line_number = s._line_number AND starts_with(r.reason, {nr}) WHERE s._source_file_id = %(sfid)s), "
    "per AS (SELECT s.cmte_id, count(*) AS staged_rows, count(*) FILTER (WHERE s.excluded) AS excluded, "
    "count(*) FILTER (WHERE NOT s.excluded AND (s.sub_id IS NULL OR s.transaction_amt IS NULL "
    "OR s.transaction_amt <> btrim(s.transaction_amt))) AS irregular, "
    "sum(s.transaction_amt::numeric) FILTER (WHERE NOT s.excluded) AS amount, "
    "sum({h}) FILTER (WHERE NOT s.excluded) AS row_hash FROM s GROUP BY s.cmte_id) "
    "SELECT count(*) AS committees, coalesce(sum(staged_rows), 0) AS staged_rows, "
    "coalesce(sum(excluded), 0) AS excluded, coalesce(sum(irregular), 0) AS irregular, "
    "coalesce(sum(amount), 0) AS amount, coalesce(sum(row_hash), 0) AS row_hash FROM per"
)
_SAME_ROWS_CORE = (
    "SELECT count(*) AS rows, coalesce(sum(c.amount), 0) AS amount, "
    "coalesce(sum({h}), 0) AS row_hash "
    "FROM core.contribution c WHERE c.source = %(source)s AND c.cycle = %(cycle)s AND c.deleted_at IS NULL"
)


def _same_rows(conn: psycopg.Connection, info: SourceFileInfo) -> dict[str, Any] | None:
    """The grand-total row of :func:`_contributions_query` when the snapshot's rows that normalize did
    not reject and the live core rows of its source and cycle are the same (SUB_ID, amount) rows;
    None when they are not, or cannot be compared this way (then the full comparison decides)."""
    staged_query = sql.SQL(_SAME_ROWS_STAGED).format(
        t=staging_table(info.spec), nr=sql.Literal(NORMALIZE_REJECT_PREFIX), h=sql.SQL(_STAGED_ROW_HASH)
    )
    core_query = sql.SQL(_SAME_ROWS_CORE).format(h=sql.SQL(_CORE_ROW_HASH))
    try:
        with conn.transaction():
            staged = one(conn, staged_query, {"sfid": info.source_file_id})
    except (psycopg.errors.InvalidTextRepresentation, psycopg.errors.NumericValueOutOfRange):
        return None  # an amount that is no number reached core's side of the question: compare fully
    core = one(conn, core_query, {"source": info.file_type, "cycle": info.cycle})
    assert staged is not None and core is not None
    kept = int(staged["staged_rows"]) - int(staged["excluded"])
    same = (
        int(staged["irregular"]) == 0
        and kept == int(core["rows"])
        and Decimal(staged["amount"]) == Decimal(core["amount"])
        and Decimal(staged["row_hash"]) == Decimal(core["row_hash"])
    )
    if not same:
        return None
    return {
        "is_total": True,
        "staged_amount": staged["amount"],
        "core_amount": core["amount"],
        "staged_rows": staged["staged_rows"],
        "excluded": staged["excluded"],
        "missing": 0,
        "committees": staged["committees"],
        "examples": None,
    }


def _stale_rows(conn: psycopg.Connection, info: SourceFileInfo) -> CheckResult:
    # EXCEPT (a hashed set operation), not NOT EXISTS: with the text/bigint cast the planner picked a
    # nested loop that ran for over 13 minutes on 2M rows.
    query = sql.SQL(
        "WITH stale AS (SELECT c.sub_id::text AS k FROM core.contribution c "
        "WHERE c.source = %(source)s AND c.cycle = %(cycle)s AND c.deleted_at IS NULL "
        "EXCEPT SELECT s.sub_id FROM {t} s WHERE s._source_file_id = %(sfid)s) "
        "SELECT count(*) AS stale, (array_agg(k::bigint ORDER BY k::bigint))[1:{n}] AS examples FROM stale"
    ).format(t=staging_table(info.spec), n=sql.Literal(SAMPLE))
    with local_settings(conn, _JOIN_SETTINGS):
        row = one(conn, query, {"source": info.file_type, "cycle": info.cycle, "sfid": info.source_file_id})
    assert row is not None
    return _stale_result(info, int(row["stale"]), [str(v) for v in (row["examples"] or [])])


def _stale_result(info: SourceFileInfo, stale: int, examples: list[str]) -> CheckResult:
    message = (
        f"{stale:,} live core rows of source {info.file_type}, cycle {info.cycle} are not in this snapshot"
    )
    if stale:
        message += f" (e.g. SUB_ID {', '.join(examples)}); rows gone from a snapshot must be soft-deleted"
    return exactly(
        "accounting.stale_core_rows",
        info.scope,
        stale,
        0,
        message,
        details={"stale": stale, "examples": examples},
    )


def _amount_results(
    info: SourceFileInfo, tol: Tolerances, total: dict[str, Any], over: list[dict[str, Any]]
) -> list[CheckResult]:
    staged_total, core_total = Decimal(total["staged_amount"]), Decimal(total["core_amount"])
    n_committees = int(total["committees"])
    worst = [
        {
            "committee_id": r["cmte_id"],
            "staged": Decimal(r["staged_amount"]),
            "core": Decimal(r["core_amount"]),
            "difference": Decimal(r["core_amount"]) - Decimal(r["staged_amount"]),
        }
        for r in over[:DETAIL_ROWS]
    ]
    message = (
        f"{len(over):,} of {n_committees:,} committees differ by more than ${tol.amount_committee_abs:,.2f}"
    )
    if over:
        message += "; e.g. " + ", ".join(
            f"{w['committee_id']} staged ${w['staged']:,.2f} vs core ${w['core']:,.2f}"
            for w in worst[:SAMPLE]
        )
    difference = core_total - staged_total
    return [
        CheckResult(
            "accounting.amounts_by_committee",
            info.scope,
            len(over),
            0,
            tol.amount_committee_abs,
            "failed" if over else "passed",
            message,
            {"committees": n_committees, "over_tolerance": len(over), "worst": worst},
        ),
        CheckResult(
            "accounting.amount_total",
            info.scope,
            core_total,
            staged_total,
            tol.amount_total_abs,
            "failed" if abs(difference) > Decimal(str(tol.amount_total_abs)) else "passed",
            f"core ${core_total:,.2f} vs staged ${staged_total:,.2f} (difference ${difference:,.2f})",
            {"difference": difference},
        ),
    ]


# file type -> (staging key column, "does the current core row exist" for a staged key s.<column>)
_ENTITY_KEYS: dict[str, tuple[str, str]] = {
    "cm": (
        "cmte_id",
        "SELECT 1 FROM core.committee e WHERE e.committee_id = s.cmte_id AND NOT e.is_placeholder",
    ),
    "cn": (
        "cand_id",
        "SELECT 1 FROM core.candidate e WHERE e.candidate_id = s.cand_id AND NOT e.is_placeholder",
    ),
    "ccl": (
        "linkage_id",
        "SELECT 1 FROM core.candidate_committee_link e WHERE e.linkage_id = s.linkage_id AND e.valid_to IS NULL",
    ),
}


def _check_entities(conn: psycopg.Connection, info: SourceFileInfo) -> CheckResult:
    key_column, exists = _ENTITY_KEYS[info.file_type]
    key = sql.Identifier("s", key_column)
    usable: sql.Composable
    value: sql.Composable
    if info.file_type == "ccl":  # LINKAGE_ID is a number in core
        usable, value = valid_bigint_id(key), sql.SQL("{}::bigint").format(key)
    else:
        usable, value = nonempty(key), key
    missing = sql.SQL("NOT EXISTS ({})").format(sql.SQL(exists))  # fixed text from _ENTITY_KEYS
    query = sql.SQL(
        "WITH s AS (SELECT DISTINCT {v} AS {n} FROM {t} s WHERE s._source_file_id = %(sfid)s AND {u}) "
        "SELECT count(*) AS total, count(*) FILTER (WHERE {m}) AS missing, "
        "(array_agg(s.{n} ORDER BY s.{n}) FILTER (WHERE {m}))[1:{sample}] AS examples FROM s"
    ).format(
        v=value,
        n=sql.Identifier(key_column),
        t=staging_table(info.spec),
        u=usable,
        m=missing,
        sample=sql.Literal(SAMPLE),
    )
    row = one(conn, query, {"sfid": info.source_file_id})
    assert row is not None
    total, n_missing = int(row["total"]), int(row["missing"])
    examples = [str(e) for e in (row["examples"] or [])]
    what = {"cm": "committees", "cn": "candidates", "ccl": "candidate-committee links"}[info.file_type]
    message = f"{total - n_missing:,} of {total:,} staged {what} have their current core row"
    if n_missing:
        message += f"; missing e.g. {', '.join(examples)}"
    return exactly(
        "accounting.core_entities",
        info.scope,
        n_missing,
        0,
        message,
        details={"staged_ids": total, "missing": n_missing, "examples": examples},
    )


def check_unique_sub_ids(conn: psycopg.Connection, cycle: int) -> CheckResult:
    """No SUB_ID has two live core rows in ``cycle``.

    ``count(*) = count(DISTINCT ...)`` first (a sort: 2M rows 0.4 s, where ``GROUP BY ... HAVING``
    hashes for over 1 s); the duplicates themselves are only looked for when there are some.
    """
    live = sql.SQL("FROM core.contribution WHERE cycle = %(cycle)s AND deleted_at IS NULL")
    params = {"cycle": cycle, "sample": SAMPLE}
    dupes, examples = 0, []
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            sql.SQL("SELECT count(*) = count(DISTINCT sub_id) AS all_unique {}").format(live), params
        ).fetchone()
        assert row is not None
        if not row["all_unique"]:
            row = cur.execute(
                sql.SQL(
                    "SELECT count(*) AS dupes, (array_agg(sub_id ORDER BY sub_id))[1:%(sample)s] AS examples "
                    "FROM (SELECT sub_id {} GROUP BY sub_id HAVING count(*) > 1) d"
                ).format(live),
                params,
            ).fetchone()
            assert row is not None
            dupes, examples = int(row["dupes"]), [str(v) for v in (row["examples"] or [])]
    return exactly(
        "accounting.unique_sub_id",
        f"cycle:{cycle}",
        dupes,
        0,
        f"{dupes:,} SUB_IDs have more than one live core row"
        + (f" (e.g. {', '.join(examples)})" if dupes else ""),
        details={"duplicated_sub_ids": dupes, "examples": examples},
    )


def check_provenance(conn: psycopg.Connection, cycle: int) -> CheckResult:
    """Every provenance column of the cycle's core rows names an existing ops row.

    One scan of the cycle's rows, grouped by their (few) distinct provenance values, which are then
    looked up in ``ops``.
    """
    row = one(
        conn,
        """
        WITH refs AS (
            SELECT source_file_id, first_run_id, last_run_id, deleted_by_run_id, count(*) AS n
            FROM core.contribution WHERE cycle = %(cycle)s
            GROUP BY 1, 2, 3, 4
        ), runs AS (SELECT run_id FROM ops.ingest_run), files AS (SELECT source_file_id FROM ops.source_file)
        SELECT coalesce(sum(n), 0) AS dangling,
               (array_agg(DISTINCT bad) FILTER (WHERE bad IS NOT NULL))[1:%(sample)s] AS examples
        FROM refs
        CROSS JOIN LATERAL (VALUES
            (CASE WHEN source_file_id NOT IN (SELECT source_file_id FROM files)
                  THEN 'source_file_id ' || source_file_id END),
            (CASE WHEN first_run_id NOT IN (SELECT run_id FROM runs) THEN 'first_run_id ' || first_run_id END),
            (CASE WHEN last_run_id NOT IN (SELECT run_id FROM runs) THEN 'last_run_id ' || last_run_id END),
            (CASE WHEN deleted_by_run_id NOT IN (SELECT run_id FROM runs)
                  THEN 'deleted_by_run_id ' || deleted_by_run_id END)
        ) v(bad)
        WHERE bad IS NOT NULL
        """,
        {"cycle": cycle, "sample": SAMPLE},
    )
    assert row is not None
    dangling, examples = int(row["dangling"]), [str(v) for v in (row["examples"] or [])]
    return exactly(
        "accounting.provenance",
        f"cycle:{cycle}",
        dangling,
        0,
        f"{dangling:,} core references to runs or source files that do not exist"
        + (f" ({', '.join(examples)})" if dangling else ""),
        details={"dangling_references": dangling, "examples": examples},
    )
