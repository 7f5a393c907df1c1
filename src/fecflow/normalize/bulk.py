"""First load of a (cycle, indiv) scope: typed in parallel into one table per year, then attached.

Row-by-row index maintenance and foreign-key triggers dominate a plain ``INSERT`` into
``core.contribution``, and an ``INSERT ... SELECT`` never runs in parallel. So a first load, inside
the unit's one transaction:

1. **Profile** (:func:`profile_snapshot`, one parallel pass over staging, run by the caller before
   the placeholders): rows per valid year, lines, unknown transaction types, the distinct filers.
2. **Type** each *bulk year* -- a year with no core partition yet holding at least
   ``min(BULK_MIN_ROWS, BULK_MIN_SHARE * lines)`` rows -- with ``CREATE TABLE core._load_<type>_<sf>_y<year>
   AS SELECT ...`` (:func:`~fecflow.normalize.typed_rows.snapshot_select` filtered to that year).
   ``CREATE TABLE AS`` is the one write PostgreSQL plans in parallel: workers run the typing
   expressions and joins, the leader numbers and writes the rows. The columns are those of
   ``core.contribution``, in its order, with its types. The other rows (years core already has, small
   years, undated rows) go to the temp table ``_rest`` the same way.
3. ``contribution_id`` is a block of the identity sequence claimed once, as long as the snapshot's
   last line number (``nextval`` per row costs seconds per million; the pipeline lock keeps other
   writers away): a row's id is the block's first id plus its line number minus one. Lines that do
   not become rows (rejected, or repeated in a rolled-back attempt) leave gaps, as any sequence
   does; no window function numbers the rows, so the workers compute every column.
4. A SUB_ID seen twice anywhere rolls all of it back to a savepoint and returns None: the regular
   path then keeps the last line. Untyped rows go to ``ops.rejected_row``.
5. ``_rest`` is inserted into ``core.contribution`` (missing year partitions created first).
6. Each year table gets the NOT NULL and CHECK constraints of ``core.contribution`` plus a CHECK
   equal to its partition bound (one scan for all of them), is renamed ``contribution_yYYYY`` and
   attached: thanks to that CHECK PostgreSQL skips its own validation scan, builds the indexes in bulk
   (with parallel workers) and validates each foreign key with one query. The bound CHECK is then
   dropped (the partition looks like any other).

All of it is DDL inside the caller's transaction, so a failure leaves nothing. See
``docs/data/normalization.md`` ("Speed") for the measured cost of each step.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from fecflow.catalog import FILES
from fecflow.db.partitions import ensure_year_partitions, partition_name
from fecflow.db.statements import every, execute, scalar
from fecflow.normalize.diff import first_load_counts
from fecflow.normalize.typed_rows import (
    CONTENT_COLUMNS,
    TYPED,
    UNTYPED,
    VALID_DATES,
    reject_untyped,
    snapshot_select,
)

log = logging.getLogger(__name__)

# A year gets its own bulk-attached partition from this many rows (or this share of the snapshot's
# lines, for small files); fewer rows cost less through a plain INSERT than a scan of staging.
BULK_MIN_ROWS = 10_000
BULK_MIN_SHARE = 0.01
# The temporary CHECK constraint that lets ATTACH PARTITION skip its validation scan.
BOUND_CHECK = "fecflow_bulk_partition_bound"
# Planner settings for the typing statements only. parallel_tuple_cost: the default (0.1) prices
# moving a row between processes far above what typing it costs (regexes, md5, joins: microseconds
# per row), which keeps the typing serial. enable_nestloop: when the planner underestimates what a
# year filter keeps, it joins by nested loops above a Gather of the bare scan (the typing then runs
# in the leader alone); hash joins keep the joins and the typing in the workers.
TYPING_PLANNER_SETTINGS = (("parallel_tuple_cost", "0.001"), ("enable_nestloop", "off"))


@dataclass(frozen=True)
class SnapshotProfile:
    """What one pass over the staged snapshot tells before typing it."""

    lines: int
    last_line: int  # the highest staged line number (line numbers start at 1; rejected lines leave gaps)
    rows_by_year: dict[int | None, int]  # None: no valid date
    unknown_types: int  # rows whose (type, memo) has no counting rule
    committee_ids: list[str]  # distinct CMTE_IDs (not NULL)


_PROFILE_SQL = sql.SQL(
    """
    SELECT vd.y, s.cmte_id, count(*) AS n, count(*) FILTER (WHERE r.transaction_type IS NULL) AS unknown,
           max(s._line_number) AS last_line
    FROM {staging} s
    LEFT JOIN {valid_dates} vd ON vd.raw = s.transaction_dt
    LEFT JOIN ref.counting_rule r
           ON r.rule_version = %(rv)s AND r.transaction_type = upper(btrim(s.transaction_tp))
          AND r.memo = (upper(btrim(coalesce(s.memo_cd, ''))) = 'X')
    WHERE s._source_file_id = %(sf)s
    GROUP BY vd.y, s.cmte_id
    """
)


def profile_snapshot(conn: psycopg.Connection, file_type: str, params: dict[str, Any]) -> SnapshotProfile:
    """Rows per valid year, unknown transaction types and the filers: one parallel pass over staging."""
    rows = every(
        conn,
        _PROFILE_SQL.format(
            staging=sql.Identifier("staging", FILES[file_type].staging_table),
            valid_dates=sql.Identifier(*VALID_DATES.split(".")),
        ),
        params,
    )
    by_year: dict[int | None, int] = {}
    for r in rows:
        key = int(r["y"]) if r["y"] is not None else None
        by_year[key] = by_year.get(key, 0) + int(r["n"])
    return SnapshotProfile(
        lines=sum(by_year.values()),
        last_line=max((int(r["last_line"]) for r in rows), default=0),
        rows_by_year=by_year,
        unknown_types=sum(int(r["unknown"]) for r in rows),
        committee_ids=sorted({r["cmte_id"] for r in rows if r["cmte_id"] is not None}),
    )


def existing_partition_years(conn: psycopg.Connection) -> set[int]:
    names = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'core.contribution'::regclass"
    ).fetchall()
    return {int(n[len("contribution_y") :]) for (n,) in names if n.startswith("contribution_y")}


def _core_columns(conn: psycopg.Connection) -> list[tuple[str, str, str | None]]:
    """(name, SQL type, default expression) of every column of core.contribution, in table order."""
    return [
        (str(name), str(typ), default)
        for name, typ, default in conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = 'core.contribution'::regclass AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum"
        ).fetchall()
    ]


def _typed_rows_query(conn: psycopg.Connection, file_type: str, where: str) -> sql.Composed:
    """``SELECT`` of the typed rows matching ``where``, as core.contribution columns (order and types).

    The typing runs in an ``OFFSET 0`` subquery: flattened, the planner would push the ``TYPED`` test
    (SUB_ID and amount parsing) into the scan, ahead of the year filter, for every staged row
    (measured: the rest of a 2M-row file 0.3 -> 0.9 s). A core column the snapshot does not fill gets
    its default.
    Parameters: sf, rv, cmte_re, base (the id of line 1), source, cycle, run_id.
    """
    values = {
        "contribution_id": "%(base)s::bigint + n.line - 1",
        "source": "%(source)s::text",
        "cycle": "%(cycle)s::int",
        "source_file_id": "%(sf)s::bigint",
        "first_run_id": "%(run_id)s::bigint",
        "last_run_id": "%(run_id)s::bigint",
        **{c: f"n.{c}" for c in CONTENT_COLUMNS},
    }
    columns = sql.SQL(", ").join(
        sql.SQL("CAST({} AS {}) AS {}").format(
            sql.SQL(values.get(name) or (default or "NULL").replace("%", "%%")), sql.SQL(typ), sql.Identifier(name)
        )
        for name, typ, default in _core_columns(conn)
    )
    return sql.SQL("SELECT {columns} FROM ({select} OFFSET 0) n WHERE {typed}").format(
        columns=columns, select=sql.SQL(snapshot_select(conn, file_type, where)), typed=sql.SQL(TYPED)
    )


def _core_constraints(conn: psycopg.Connection) -> sql.Composed:
    """``ALTER TABLE`` actions giving a table the NOT NULL and CHECK constraints of core.contribution.

    Named as the parent's (PostgreSQL 18 catalogs NOT NULL constraints with names; before it,
    ``SET NOT NULL``), so the attached partition looks like one created by ``PARTITION OF``.
    """
    named_not_null = conn.execute(
        "SELECT c.conname, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.conrelid = 'core.contribution'::regclass AND c.contype = 'n' ORDER BY a.attnum"
    ).fetchall()
    if named_not_null:
        not_null = [
            sql.SQL("ADD CONSTRAINT {} NOT NULL {}").format(sql.Identifier(name), sql.Identifier(column))
            for name, column in named_not_null
        ]
    else:
        not_null = [
            sql.SQL("ALTER COLUMN {} SET NOT NULL").format(sql.Identifier(column))
            for (column,) in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'core.contribution'::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attnotnull ORDER BY attnum"
            ).fetchall()
        ]
    checks = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'core.contribution'::regclass AND contype = 'c' ORDER BY conname"
    ).fetchall()
    return sql.SQL(", ").join(
        not_null
        + [sql.SQL("ADD CONSTRAINT {} {}").format(sql.Identifier(name), sql.SQL(definition)) for name, definition in checks]
    )


def _bound(year: int) -> tuple[sql.Literal, sql.Literal]:
    return sql.Literal(f"{year:04d}-01-01"), sql.Literal(f"{year + 1:04d}-01-01")


def _reserve_contribution_ids(conn: psycopg.Connection, profile: SnapshotProfile) -> int:
    """contribution_id: one block of the identity sequence, one id per line number; return its base."""
    base = int(scalar(conn, "SELECT nextval(pg_get_serial_sequence('core.contribution', 'contribution_id'))"))
    if profile.last_line > 1:
        execute(
            conn,
            "SELECT setval(pg_get_serial_sequence('core.contribution', 'contribution_id'), %(last)s)",
            {"last": base + profile.last_line - 1},
        )
    return base


def _load_typed_rows(
    conn: psycopg.Connection, file_type: str, params: dict[str, Any], years: list[int]
) -> tuple[dict[int, tuple[str, int]], int]:
    """Type the snapshot into one table per new year (``core._load_...``) and ``_rest``; return
    ``{year: (table, rows)}`` and the rows in ``_rest``."""
    loaded: dict[int, tuple[str, int]] = {}
    for setting, value in TYPING_PLANNER_SETTINGS:
        execute(conn, sql.SQL("SET LOCAL {} = {}").format(sql.Identifier(setting), sql.Literal(value)))
    for year in years:
        name = f"_load_{file_type}_{params['sf']}_y{year}"
        # LIKE (not right(...) =): the planner estimates it from the column's statistics.
        where = f"s.transaction_dt LIKE '____{year:04d}' AND vd.y = {year:d}"
        rows = execute(
            conn,
            sql.SQL("CREATE TABLE {} AS {}").format(
                sql.Identifier("core", name), _typed_rows_query(conn, file_type, where)
            ),
            params,
        )
        loaded[year] = (name, rows)
    rest_where = f"vd.y IS NULL OR vd.y <> ALL('{{{','.join(map(str, years))}}}'::int[])" if years else ""
    rest = execute(
        conn,
        sql.SQL("CREATE TEMP TABLE _rest ON COMMIT DROP AS {}").format(_typed_rows_query(conn, file_type, rest_where)),
        params,
    )
    for setting, _ in TYPING_PLANNER_SETTINGS:
        execute(conn, sql.SQL("SET LOCAL {} TO DEFAULT").format(sql.Identifier(setting)))
    return loaded, rest


def _insert_rest(conn: psycopg.Connection, rest: int) -> list[str]:
    """The rest: rows for years core already has (or too few for a table of their own), undated rows,
    inserted the regular way; return the partitions created for them."""
    with conn.cursor(row_factory=dict_row) as cur:
        rest_years = [
            int(r["year"])
            for r in cur.execute(
                "SELECT DISTINCT extract(year FROM transaction_date)::int AS year FROM _rest "
                "WHERE transaction_date IS NOT NULL"
            )
        ]
    created = ensure_year_partitions(conn, rest_years)
    if rest:
        columns = sql.SQL(", ").join(sql.Identifier(name) for name, _, _ in _core_columns(conn))
        execute(conn, sql.SQL("INSERT INTO core.contribution ({c}) SELECT {c} FROM _rest").format(c=columns))
    execute(conn, "DROP TABLE _rest")
    return created


def _attach_partitions(conn: psycopg.Connection, loaded: dict[int, tuple[str, int]]) -> list[str]:
    """Each year table becomes a partition of core.contribution (constraints, bound check, ATTACH,
    ANALYZE); empty ones are dropped. Return the partitions attached."""
    attached: list[str] = []
    constraints = _core_constraints(conn)
    for year, (name, rows) in loaded.items():
        table = sql.Identifier("core", name)
        if not rows:
            execute(conn, sql.SQL("DROP TABLE {}").format(table))
            continue
        start, end = _bound(year)
        execute(
            conn,
            sql.SQL(
                "ALTER TABLE {} {}, ADD CONSTRAINT {} "
                "CHECK (transaction_date IS NOT NULL AND transaction_date >= {} AND transaction_date < {})"
            ).format(table, constraints, sql.Identifier(BOUND_CHECK), start, end),
        )
        target = sql.Identifier("core", partition_name(year))
        execute(conn, sql.SQL("ALTER TABLE {} RENAME TO {}").format(table, sql.Identifier(partition_name(year))))
        execute(
            conn,
            sql.SQL("ALTER TABLE core.contribution ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
                target, start, end
            ),
        )
        execute(conn, sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(target, sql.Identifier(BOUND_CHECK)))
        # Statistics now, in the unit's transaction: without them the first queries of the new rows
        # (the validation gate, scores) are planned for a few thousand rows and read a 1M-row
        # partition through an index (2M rows: scores 5 -> 12 s, measured). ~0.3 s per million rows.
        execute(conn, sql.SQL("ANALYZE {}").format(target))
        attached.append(partition_name(year))
    return attached


def bulk_first_load(
    conn: psycopg.Connection,
    file_type: str,
    params: dict[str, Any],
    profile: SnapshotProfile,
    audit_id: int | None,
) -> dict[str, dict[str, int]] | None:
    """Load a first snapshot of a scope as described in the module docstring; None on repeated SUB_IDs.

    Runs inside the caller's transaction, after the placeholders, employer aliases and
    :data:`~fecflow.normalize.typed_rows.VALID_DATES` exist (``profile``: :func:`profile_snapshot`).
    """
    sf = params["sf"]
    existing = existing_partition_years(conn)
    least = min(BULK_MIN_ROWS, max(1, math.ceil(BULK_MIN_SHARE * profile.lines)))
    years = sorted(
        y for y, n in profile.rows_by_year.items() if y is not None and y not in existing and n >= least
    )
    execute(conn, "SAVEPOINT fecflow_bulk_load")
    params = {**params, "base": _reserve_contribution_ids(conn, profile)}
    loaded, rest = _load_typed_rows(conn, file_type, params, years)
    inserted = rest + sum(rows for _, rows in loaded.values())
    sub_ids = sql.SQL(" UNION ALL ").join(
        [sql.SQL("SELECT sub_id FROM {}").format(sql.Identifier("core", name)) for name, _ in loaded.values()]
        + [sql.SQL("SELECT sub_id FROM _rest")]
    )
    # count(DISTINCT) sorts: 0.3 s for 2M SUB_IDs, where GROUP BY ... HAVING count(*) > 1 hashes for 1 s.
    if not scalar(conn, sql.SQL("SELECT count(*) = count(DISTINCT sub_id) FROM ({}) u").format(sub_ids)):
        execute(conn, "ROLLBACK TO SAVEPOINT fecflow_bulk_load")
        log.info("snapshot repeats SUB_IDs: normalizing %s the regular way", file_type)
        return None
    execute(conn, "RELEASE SAVEPOINT fecflow_bulk_load")

    rejected = unknown_rejected = 0
    if profile.lines != inserted:
        execute(
            conn,
            sql.SQL("CREATE TEMP TABLE _snap ON COMMIT DROP AS SELECT * FROM ({}) n WHERE {}").format(
                sql.SQL(snapshot_select(conn, file_type)), sql.SQL(UNTYPED)
            ),
            params,
        )
        unknown_rejected = int(scalar(conn, "SELECT count(*) FILTER (WHERE rule_missing) FROM _snap"))
        rejected = reject_untyped(conn, file_type, sf, audit_id)
        execute(conn, "DROP TABLE _snap")
    undated = int(scalar(conn, "SELECT count(*) FROM _rest WHERE transaction_date IS NULL"))

    created = _insert_rest(conn, rest) + _attach_partitions(conn, loaded)
    log.debug("bulk load of %s: %d rows, %d via insert, partitions created: %s", file_type, inserted, rest, created)
    return {
        "contribution": {
            **first_load_counts(inserted),
            "rejected": rejected,
            "duplicate_sub_id_lines": 0,
            "undated": undated,
            "unknown_transaction_type": profile.unknown_types - unknown_rejected,
            "partitions_created": len(created),
        },
        "snapshot": {"lines": profile.lines, "records": inserted},
    }
