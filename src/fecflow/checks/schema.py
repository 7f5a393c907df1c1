"""Schema checks on one staged source file (staging gate): do the raw fields look like FEC data?

All counts come from one SQL pass over the file's staging rows (``_source_file_id = X``) plus a count
of its rejected lines; Python only compares the numbers with the tolerances.

* ``schema.field_count_rejects``: lines rejected for a wrong number of ``|`` fields / all lines
  (a changed file layout shows up here first).
* ``schema.required_fields``: for each required column (the file spec's ``required``), the share of rows where it
  is non-empty; the worst column is reported.
* ``schema.valid_dates`` / ``schema.valid_amounts`` / ``schema.valid_ids``: among non-empty values,
  the share that parse: calendar dates in MMDDYYYY (MM/DD/YYYY in summary files), numbers, and ids
  matching the file spec's id patterns (:mod:`fecflow.catalog.ids`: SUB_ID 19 digits, CMTE_ID ``C`` + 8 digits, ...). Blank values are
  not counted here (a blank date is legal; a blank required field is the previous check's business).

The SQL expressions for "valid date / amount / SUB_ID" live here and are reused by the accounting
checks, so both gates agree on what parses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from fecflow.catalog import FILES, FileSpec
from fecflow.catalog.ids import CANDIDATE_ID, CANDIDATE_OR_COMMITTEE_ID, COMMITTEE_ID, LINKAGE_ID, SUB_ID
from fecflow.catalog.model import Column
from fecflow.checks.result import CheckResult, at_least, at_most, share
from fecflow.checks.tolerances import Tolerances
from fecflow.db.statements import one
from fecflow.errors import DataError
from fecflow.parse.records import RejectReason

# The ID patterns as PostgreSQL runs them: bounded repetition ({8}, {1,19}) costs its regex engine
# 2-4x more than '+' plus a length test (2M SUB_IDs: 1.6 vs 0.6 s), so each id pattern has an
# equivalent form (pattern with '+', shortest and longest length); tests/unit/checks prove them equal.
UNBOUNDED_FORMS: dict[str, tuple[str, int, int]] = {
    COMMITTEE_ID: (r"^C[0-9]+$", 9, 9),
    CANDIDATE_ID: (r"^[HSP][0-9][A-Z0-9]+$", 9, 9),
    CANDIDATE_OR_COMMITTEE_ID: (r"^([HSP][0-9][A-Z0-9]+|C[0-9]+)$", 9, 9),
    SUB_ID: (r"^[0-9]+$", 19, 19),
    LINKAGE_ID: (r"^[0-9]+$", 1, 19),
}

_MMDDYYYY = r"^(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{4}$"
_MM_DD_YYYY = r"^(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])/[0-9]{4}$"
_AMOUNT = r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
BIGINT_MAX = "9223372036854775807"
# ops.rejected_row also holds rows normalize could not type ("normalize: invalid SUB_ID", ...): those
# lines ARE staged. Staging's own rejects are the others.
NORMALIZE_REJECT_PREFIX = "normalize:"
STAGING_REJECTS = sql.SQL("NOT starts_with(reason, {})").format(sql.Literal(NORMALIZE_REJECT_PREFIX))


# --- SQL expressions (shared with accounting) -----------------------------------------------------------
def nonempty(col: sql.Composable) -> sql.Composable:
    return sql.SQL("nullif(btrim({}), '') IS NOT NULL").format(col)


def valid_amount(col: sql.Composable) -> sql.Composable:
    """True when ``col`` is a plain decimal number (as FEC writes amounts)."""
    return sql.SQL("({} ~ {})").format(col, sql.Literal(_AMOUNT))


def valid_bigint_id(col: sql.Composable) -> sql.Composable:
    """True when ``col`` is 1-19 digits that fit a BIGINT (safe to cast with ``::bigint``)."""
    return sql.SQL("({m} AND (length({c}) < 19 OR {c} <= {x}))").format(
        m=matches(col, r"^[0-9]{1,19}$"), c=col, x=sql.Literal(BIGINT_MAX)
    )


def matches(col: sql.Composable, pattern: str) -> sql.Composable:
    """``col ~ pattern``, in the faster equivalent form of :data:`UNBOUNDED_FORMS` when there is one."""
    if pattern in UNBOUNDED_FORMS:
        regex, shortest, longest = UNBOUNDED_FORMS[pattern]
        length = (
            sql.SQL("length({}) = {}").format(col, sql.Literal(shortest))
            if shortest == longest
            else sql.SQL("length({}) BETWEEN {} AND {}").format(
                col, sql.Literal(shortest), sql.Literal(longest)
            )
        )
        return sql.SQL("({} AND {} ~ {})").format(length, col, sql.Literal(regex))
    return sql.SQL("({} ~ {})").format(col, sql.Literal(pattern))


#: Every day of these years, written as the file writes dates, is looked up in a hashed set before the
#: pattern and calendar test run: at 2M rows the test alone took 1.1 s, the lookup 0.2 s (2026-12-05).
#: Dates outside the range are decided by the test, so the result is the same.
COMMON_DATE_YEARS = (1900, 2099)


def valid_date(col: sql.Composable, column_type: str = "date_mmddyyyy") -> sql.Composable:
    """True when ``col`` is a real calendar date (Feb 30 is not); never raises."""
    compact: sql.Composable
    if column_type == "date_mm_dd_yyyy":
        pattern, compact, written = _MM_DD_YYYY, sql.SQL("replace({}, '/', '')").format(col), "MM/DD/YYYY"
    else:
        pattern, compact, written = _MMDDYYYY, col, "MMDDYYYY"
    first, last = COMMON_DATE_YEARS
    return sql.SQL(
        "(CASE WHEN {c} IN (SELECT to_char(g, {w}) FROM generate_series(make_date({y0}, 1, 1), "
        "make_date({y1}, 12, 31), interval '1 day') g) THEN true "
        "WHEN {c} ~ {p} AND substr({d}, 5, 4) <> '0000' THEN "
        "substr({d}, 3, 2)::int <= extract(day FROM make_date(substr({d}, 5, 4)::int, substr({d}, 1, 2)::int, 1)"
        " + interval '1 month - 1 day') ELSE false END)"
    ).format(
        c=col,
        p=sql.Literal(pattern),
        d=compact,
        w=sql.Literal(written),
        y0=sql.Literal(first),
        y1=sql.Literal(last),
    )


# --- source files -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceFileInfo:
    source_file_id: int
    file_type: str
    cycle: int | None

    @property
    def spec(self) -> FileSpec:
        return FILES[self.file_type]

    @property
    def scope(self) -> str:
        return f"{self.file_type}:{self.cycle if self.cycle is not None else '-'} source_file={self.source_file_id}"


def source_file_info(conn: psycopg.Connection, source_file_id: int) -> SourceFileInfo:
    row = one(
        conn, "SELECT file_type, cycle FROM ops.source_file WHERE source_file_id = %s", (source_file_id,)
    )
    if row is None:
        raise DataError(f"There is no source file {source_file_id} in ops.source_file.")
    if row["file_type"] not in FILES:
        raise DataError(
            f"Source file {source_file_id} has file type {row['file_type']!r}, which is not a bulk file type."
        )
    return SourceFileInfo(source_file_id, str(row["file_type"]), row["cycle"])


def staging_table(spec: FileSpec) -> sql.Composable:
    return sql.Identifier("staging", spec.staging_table)


# --- the checks -------------------------------------------------------------------------------------------
def check_schema(conn: psycopg.Connection, source_file_id: int, tolerances: Tolerances) -> list[CheckResult]:
    """All schema checks for one staged source file."""
    info = source_file_info(conn, source_file_id)
    spec = info.spec
    required = [spec.column(raw) for raw in spec.required]
    dates = [c for c in spec.columns if c.type in ("date_mmddyyyy", "date_mm_dd_yyyy")]
    amounts = [c for c in spec.columns if c.type == "amount"]
    ids = [c for c in spec.columns if spec.id_pattern(c.raw)]

    counts = _field_counts(conn, info, required, dates, amounts, ids)
    rejected_all, rejected_field_count = _staging_rejects(conn, source_file_id)

    scope = info.scope
    rows = counts["rows"]
    lines = rows + rejected_all
    results = [
        at_most(
            "schema.field_count_rejects",
            scope,
            share(rejected_field_count, lines),
            tolerances.field_count_reject_rate,
            f"{rejected_field_count:,} of {lines:,} lines rejected for a wrong field count "
            f"(expected {spec.field_count} fields)",
            details={"rejected_field_count": rejected_field_count, "lines": lines},
        )
    ]
    results.append(
        _worst(
            "schema.required_fields",
            scope,
            {c.raw: (counts[f"nonempty:{c.raw}"], rows) for c in required},
            tolerances.required_share,
            "rows with {col} non-empty",
        )
    )
    return results + _validity(scope, counts, tolerances, dates=dates, amounts=amounts, ids=ids)


def _validity(
    scope: str,
    counts: dict[str, int],
    tolerances: Tolerances,
    *,
    dates: list[Column],
    amounts: list[Column],
    ids: list[Column],
) -> list[CheckResult]:
    """Among non-empty values, the worst column's share that parses: dates, amounts, ids."""
    kinds = (
        (
            "schema.valid_dates",
            dates,
            tolerances.date_valid_share,
            "non-empty {col} values that are calendar dates",
        ),
        (
            "schema.valid_amounts",
            amounts,
            tolerances.amount_valid_share,
            "non-empty {col} values that are numbers",
        ),
        (
            "schema.valid_ids",
            ids,
            tolerances.id_valid_share,
            "non-empty {col} values that are well-formed ids",
        ),
    )
    return [
        _worst(
            name,
            scope,
            {c.raw: (counts[f"valid:{c.raw}"], counts[f"nonempty:{c.raw}"]) for c in cols},
            limit,
            what,
        )
        for name, cols, limit, what in kinds
    ]


def _field_counts(
    conn: psycopg.Connection,
    info: SourceFileInfo,
    required: list[Column],
    dates: list[Column],
    amounts: list[Column],
    ids: list[Column],
) -> dict[str, int]:
    """One pass over the file's staged rows: ``rows``, ``nonempty:<COL>`` and ``valid:<COL>`` counts."""
    spec = info.spec
    measures: list[sql.Composable] = [sql.SQL("count(*)")]
    names: list[str] = ["rows"]

    def add(name: str, condition: sql.Composable) -> None:
        names.append(name)
        measures.append(sql.SQL("count(*) FILTER (WHERE {})").format(condition))

    for col in {c.raw: c for c in (*required, *dates, *amounts, *ids)}.values():
        add(f"nonempty:{col.raw}", nonempty(_ident(col)))
    for col in dates:
        add(f"valid:{col.raw}", valid_date(_ident(col), col.type))
    for col in amounts:
        add(f"valid:{col.raw}", valid_amount(_ident(col)))
    for col in ids:
        pattern = spec.id_pattern(col.raw)
        assert pattern is not None
        add(f"valid:{col.raw}", matches(_ident(col), pattern))

    query = sql.SQL("SELECT {} FROM {} WHERE _source_file_id = %(sfid)s").format(
        sql.SQL(", ").join(measures), staging_table(spec)
    )
    row = conn.execute(query, {"sfid": info.source_file_id}).fetchone()
    assert row is not None
    return dict(zip(names, (int(v) for v in row), strict=True))


def _staging_rejects(conn: psycopg.Connection, source_file_id: int) -> tuple[int, int]:
    """The file's lines staging rejected: all of them, and those with a wrong field count."""
    rejected = one(
        conn,
        sql.SQL(
            "SELECT count(*) AS lines, count(*) FILTER (WHERE reason = %(reason)s) AS field_count "
            "FROM ops.rejected_row WHERE source_file_id = %(sfid)s AND {}"
        ).format(STAGING_REJECTS),
        {"reason": str(RejectReason.FIELD_COUNT), "sfid": source_file_id},
    )
    assert rejected is not None
    return int(rejected["lines"]), int(rejected["field_count"])


def _ident(col: Column) -> sql.Composable:
    return sql.Identifier(col.staging_name)


def _worst(name: str, scope: str, parts: dict[str, tuple[int, int]], limit: float, what: str) -> CheckResult:
    """One result for a family of columns: the column with the lowest share decides."""
    shares = {col: share(good, total) for col, (good, total) in parts.items()}
    measured = {col: s for col, s in shares.items() if s is not None}
    details: dict[str, Any] = {
        col: {"ok": good, "of": total, "share": shares[col]} for col, (good, total) in parts.items()
    }
    if not measured:
        reason = "no such columns in this file" if not parts else "no non-empty values to check"
        return at_least(name, scope, None, limit, reason, details=details)
    worst_col = min(measured, key=lambda c: measured[c])
    good, total = parts[worst_col]
    message = f"{good:,} of {total:,} " + what.format(col=worst_col)
    if len(parts) > 1:
        message += f" (the worst of {len(parts)} columns)"
    return at_least(name, scope, measured[worst_col], limit, message, details=details)
