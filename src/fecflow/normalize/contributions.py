"""Itemized transactions: staging (indiv, pas2, oth) -> ``core.contribution``, as snapshot diffs.

One staged snapshot of one (cycle, file type) is typed in one ``INSERT ... SELECT`` into a temp
table (``_snap``) and then compared with the rows of the same cycle and source already in core:

* **typed**: SUB_ID bigint; amount numeric(14,2); TRANSACTION_DT parsed strictly (MMDDYYYY, a real
  calendar date, year 1975 .. next year: a join with a temp table of every valid date string) and
  NULL otherwise, with the raw text kept in ``transaction_date_raw`` (those rows go to the default
  partition; never dropped); FILE_NUM bigint where numeric; ``zip5`` = the first 5 characters when
  they are digits; ``donor_key`` = normalized name (upper case, punctuation but commas removed,
  whitespace collapsed) ``|`` zip5.
* **linked**: ``recipient_committee_key`` = the filer (CMTE_ID); ``contributor_committee_key`` =
  OTHER_ID when it is a committee id (pas2, oth); ``candidate_key`` = CAND_ID (pas2);
  ``conduit_committee_id`` = OTHER_ID on 15E earmarks; ``employer_key`` via ``core.employer_alias``.
  Unknown committees / candidates get placeholders first (:mod:`fecflow.normalize.dimensions`).
* **rules**: ``rule_version``, ``category``, ``counts_as_contribution``, ``is_refund``, ``filer_side`` from
  ``ref.counting_rule`` on (TRANSACTION_TP, MEMO_CD = 'X') for :data:`RULE_VERSION`; a type the table
  does not know is ``other`` (``memo`` when memo-coded, as :func:`~fecflow.normalize.rules.rule_for`)
  and never counts.
* **diffed** by SUB_ID: new rows are inserted; rows whose ``row_hash`` (md5 of the raw staging
  columns) or rule version changed are updated in place (a changed date moves the row to its new
  partition); rows of the same cycle and source missing from the snapshot are soft-deleted
  (``deleted_at``, ``deleted_by_run_id``) and restored when they come back; unchanged rows are not
  touched. Every change of a later snapshot is one ``core.contribution_history`` row (the first
  load of a scope is the baseline: its inserts are not repeated there).

Rows that cannot be typed (no SUB_ID, an amount that is not a number, no CMTE_ID) go to
``ops.rejected_row`` with reason ``normalize: ...``; the run does not fail on them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import psycopg
from psycopg import sql

from fecflow.catalog import FILES
from fecflow.db.partitions import ensure_year_partitions
from fecflow.normalize.dimensions import (
    COMMITTEE_ID_RE,
    Counts,
    create_candidate_placeholders,
    create_committee_placeholders,
    execute,
    scalar,
)
from fecflow.normalize.employers import build_employer_map
from fecflow.normalize.industries import map_industry
from fecflow.normalize.rules import RULE_VERSION
from fecflow.normalize.snapshot import NORMALIZE_STAGE, normalize_scope

log = logging.getLogger(__name__)

TRANSACTION_FILE_TYPES = ("indiv", "pas2", "oth")
# First loads of these go through the bulk path (pas2/oth share SUB_IDs and need the regular one).
BULK_FILE_TYPES = ("indiv",)
FIRST_VALID_YEAR = 1975
WORK_MEM = "256MB"
MAINTENANCE_WORK_MEM = "512MB"  # index builds when partitions are attached

# The columns of core.contribution that come from the snapshot (``_snap`` uses the same names).
CONTENT_COLUMNS = (
    "sub_id",
    "recipient_committee_key",
    "contributor_committee_key",
    "candidate_key",
    "conduit_committee_id",
    "other_id",
    "employer_key",
    "raw_employer",
    "occupation",
    "contributor_name",
    "city",
    "state",
    "zip5",
    "donor_key",
    "entity_type",
    "transaction_type",
    "memo_code",
    "memo_text",
    "amendment_indicator",
    "report_type",
    "election_type",
    "image_number",
    "transaction_id",
    "file_number",
    "transaction_date",
    "transaction_date_raw",
    "amount",
    "rule_version",
    "category",
    "counts_as_contribution",
    "is_refund",
    "filer_side",
    "row_hash",
)
# Shown in every update's old/new values, changed or not.
ALWAYS_SHOWN = ["amount", "transaction_date"]
# _snap helper columns that are not core columns (and row_hash: not a value worth showing).
HIDDEN = ["line", "sub_id", "row_hash", "rule_missing", "committee_id_raw"]


def _zip5(col: str) -> str:
    # Regexes without bounded repetition ({n}) plus length checks: PostgreSQL runs them far faster.
    return f"CASE WHEN length({col}) >= 5 AND left({col}, 5) ~ '^[0-9]+$' THEN left({col}, 5) END"


def _snapshot_select(conn: psycopg.Connection, file_type: str) -> str:
    """The one SELECT that types a staged snapshot into ``_snap`` rows (parameters: sf, rv, cmte_re)."""
    spec = FILES[file_type]
    raw = sql.SQL(", ").join(
        sql.SQL("coalesce({}, '')").format(sql.Identifier("s", c.staging_name)) for c in spec.columns
    ).as_string(conn)
    staging = sql.Identifier("staging", spec.staging_table).as_string(conn)
    has_candidate = any(c.raw == "CAND_ID" for c in spec.columns)
    from_committee = file_type in ("pas2", "oth")
    memo = "(upper(btrim(coalesce(s.memo_cd, ''))) = 'X')"
    type_code = "upper(btrim(s.transaction_tp))"
    # Upper case, punctuation except commas removed, whitespace collapsed; the regexes only run on
    # names that need them (most are plain letters, commas and single spaces).
    donor_name = (
        "CASE WHEN s.name ~ '[^A-Za-z0-9, ]|  |^ | $' THEN btrim(regexp_replace(regexp_replace(upper(s.name), "
        "'[^[:alnum:][:space:],]+', '', 'g'), '[[:space:]]+', ' ', 'g')) ELSE upper(s.name) END"
    )
    zip5 = _zip5("s.zip_code")
    # Only catalog identifiers (quoted by sql.Identifier) and fixed fragments are interpolated.
    query = f"""
        SELECT
            s._line_number AS line,
            CASE WHEN s.sub_id ~ '^[0-9]+$' AND length(s.sub_id) <= 19
                  AND (length(s.sub_id) < 19 OR s.sub_id <= '9223372036854775807')
                 THEN s.sub_id::bigint END AS sub_id,
            rc.committee_key AS recipient_committee_key,
            {"cc.committee_key" if from_committee else "NULL::bigint"} AS contributor_committee_key,
            {"ck.candidate_key" if has_candidate else "NULL::bigint"} AS candidate_key,
            CASE WHEN {type_code} = '15E' THEN s.other_id END AS conduit_committee_id,
            s.other_id,
            ea.employer_key,
            s.employer AS raw_employer,
            s.occupation,
            s.name AS contributor_name,
            s.city,
            s.state,
            {zip5} AS zip5,
            CASE WHEN s.name IS NOT NULL THEN {donor_name} || '|' || coalesce({zip5}, '') END AS donor_key,
            s.entity_tp AS entity_type,
            s.transaction_tp AS transaction_type,
            s.memo_cd AS memo_code,
            s.memo_text,
            s.amndt_ind AS amendment_indicator,
            s.rpt_tp AS report_type,
            s.transaction_pgi AS election_type,
            s.image_num AS image_number,
            s.tran_id AS transaction_id,
            CASE WHEN s.file_num ~ '^[0-9]+$' AND length(s.file_num) <= 18 THEN s.file_num::bigint END AS file_number,
            vd.d AS transaction_date,
            CASE WHEN vd.d IS NULL THEN s.transaction_dt END AS transaction_date_raw,
            CASE WHEN s.transaction_amt ~ '^[0-9]+$' AND length(s.transaction_amt) <= 12
                 THEN s.transaction_amt::numeric(14, 2)
                 WHEN btrim(s.transaction_amt) ~ '^-?([0-9]{{1,12}}(\\.[0-9]{{0,2}})?|\\.[0-9]{{1,2}})$'
                 THEN btrim(s.transaction_amt)::numeric(14, 2) END AS amount,
            %(rv)s::text AS rule_version,
            coalesce(r.category, CASE WHEN {memo} THEN 'memo' ELSE 'other' END) AS category,
            coalesce(r.counts_as_contribution, false) AS counts_as_contribution,
            coalesce(r.is_refund, false) AS is_refund,
            coalesce(r.filer_side, 'recipient') AS filer_side,
            md5(concat_ws('|', {raw})) AS row_hash,
            r.transaction_type IS NULL AS rule_missing,
            s.cmte_id AS committee_id_raw
        FROM {staging} s
        LEFT JOIN _valid_date vd ON vd.raw = s.transaction_dt
        LEFT JOIN core.committee rc ON rc.committee_id = s.cmte_id
        {"LEFT JOIN core.committee cc ON cc.committee_id = s.other_id AND s.other_id ~ %(cmte_re)s" if from_committee else ""}
        {"LEFT JOIN core.candidate ck ON ck.candidate_id = s.cand_id" if has_candidate else ""}
        LEFT JOIN core.employer_alias ea ON ea.raw_employer = s.employer
        LEFT JOIN ref.counting_rule r
               ON r.rule_version = %(rv)s AND r.transaction_type = {type_code} AND r.memo = {memo}
        WHERE s._source_file_id = %(sf)s
    """  # noqa: S608
    return query


def _create_valid_dates(conn: psycopg.Connection, last_year: int) -> None:
    """Temp table of every valid MMDDYYYY string 1975-01-01 .. last_year-12-31 and its date."""
    execute(
        conn,
        "CREATE TEMP TABLE _valid_date ON COMMIT DROP AS "
        "SELECT to_char(g, 'MMDDYYYY') AS raw, g::date AS d "
        "FROM generate_series(make_date(%s, 1, 1), make_date(%s, 12, 31), interval '1 day') g",
        (FIRST_VALID_YEAR, last_year),
    )
    execute(conn, "CREATE UNIQUE INDEX ON _valid_date (raw)")
    execute(conn, "ANALYZE _valid_date")


def _create_placeholders(conn: psycopg.Connection, file_type: str, source_file_id: int) -> Counts:
    staging = sql.Identifier("staging", FILES[file_type].staging_table)
    params = {"sf": source_file_id, "cmte_re": COMMITTEE_ID_RE}
    if file_type in ("pas2", "oth"):
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
            conn, sql.SQL("SELECT s.cand_id FROM {} s WHERE s._source_file_id = %(sf)s").format(staging), params
        )
    counts: Counts = {"core.committee": {"placeholders_created": committees}}
    if file_type == "pas2":
        counts["core.candidate"] = {"placeholders_created": candidates}
    return counts


def link_employers(conn: psycopg.Connection, file_type: str, source_file_id: int) -> Counts:
    """Map the snapshot's distinct raw employer strings not aliased yet; write employers and aliases.

    Python sees each distinct new string once (``build_employer_map``); canonical employers and
    generic buckets become ``core.employer`` rows, every string a ``core.employer_alias`` row. New
    non-generic employers get an industry from their canonical name and their most common
    occupation in this snapshot (``map_industry``), when one is found.
    """
    staging = sql.Identifier("staging", FILES[file_type].staging_table)
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT s.employer FROM {} s WHERE s._source_file_id = %s AND s.employer IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM core.employer_alias a WHERE a.raw_employer = s.employer)"
        ).format(staging),
        (source_file_id,),
    ).fetchall()
    matches = build_employer_map(r[0] for r in rows)
    execute(
        conn,
        "CREATE TEMP TABLE _emp_new (raw_employer text PRIMARY KEY, name text NOT NULL, is_generic boolean "
        "NOT NULL, bucket text, method text NOT NULL, confidence numeric(3, 2) NOT NULL) ON COMMIT DROP",
    )
    with conn.cursor() as cur, cur.copy(
        "COPY _emp_new (raw_employer, name, is_generic, bucket, method, confidence) FROM STDIN"
    ) as copy:
        for raw, m in matches.items():
            name = m.bucket if m.bucket is not None else m.canonical_name
            if not name:
                continue
            copy.write_row((raw, name, m.bucket is not None, m.bucket, m.method, round(m.confidence, 2)))
    employers = execute(
        conn,
        "INSERT INTO core.employer (canonical_name, is_generic, bucket) "
        "SELECT DISTINCT ON (n.name) n.name, n.is_generic, n.bucket FROM _emp_new n "
        "WHERE NOT EXISTS (SELECT 1 FROM core.employer e WHERE e.canonical_name = n.name) "
        "ORDER BY n.name, n.is_generic DESC "
        "ON CONFLICT (canonical_name) DO NOTHING",
    )
    aliases = execute(
        conn,
        "INSERT INTO core.employer_alias (raw_employer, employer_key, method, confidence) "
        "SELECT n.raw_employer, e.employer_key, n.method, n.confidence FROM _emp_new n "
        "JOIN core.employer e ON e.canonical_name = n.name ON CONFLICT (raw_employer) DO NOTHING",
    )
    industries = _link_industries(conn, staging, source_file_id)
    execute(conn, "DROP TABLE _emp_new")
    return {
        "core.employer": {"inserted": employers},
        "core.employer_alias": {"inserted": aliases},
        "core.employer_industry": {"inserted": industries},
    }


def _link_industries(conn: psycopg.Connection, staging: sql.Identifier, source_file_id: int) -> int:
    """Industries of the non-generic employers reached by this snapshot's new aliases."""
    targets = conn.execute(
        sql.SQL(
            """
            WITH occupations AS (
                SELECT a.employer_key, s.occupation, count(*) AS n
                FROM {} s
                JOIN _emp_new x ON x.raw_employer = s.employer AND NOT x.is_generic
                JOIN core.employer_alias a ON a.raw_employer = s.employer
                WHERE s._source_file_id = %s
                  AND NOT EXISTS (SELECT 1 FROM core.employer_industry i WHERE i.employer_key = a.employer_key)
                GROUP BY 1, 2
            )
            SELECT DISTINCT ON (o.employer_key) o.employer_key, e.canonical_name, o.occupation
            FROM occupations o JOIN core.employer e USING (employer_key)
            WHERE NOT e.is_generic
            ORDER BY o.employer_key, o.n DESC, o.occupation NULLS LAST
            """
        ).format(staging),
        (source_file_id,),
    ).fetchall()
    found: list[tuple[int, str, str, float]] = []
    for employer_key, canonical, occupation in targets:
        match = map_industry(canonical, occupation)
        if match is not None:
            found.append((int(employer_key), match.naics_code, match.method, round(float(match.confidence), 2)))
    if not found:
        return 0
    execute(
        conn,
        "CREATE TEMP TABLE _emp_industry (employer_key bigint, naics_code text, method text, "
        "confidence numeric(3, 2)) ON COMMIT DROP",
    )
    with conn.cursor() as cur, cur.copy(
        "COPY _emp_industry (employer_key, naics_code, method, confidence) FROM STDIN"
    ) as copy:
        for row in found:
            copy.write_row(row)
    execute(
        conn,
        "INSERT INTO core.industry (naics_code, title, level) "
        "SELECT DISTINCT n.code, n.title, n.level FROM _emp_industry x JOIN ref.naics n ON n.code = x.naics_code "
        "ON CONFLICT (naics_code) DO NOTHING",
    )
    inserted = execute(
        conn,
        "INSERT INTO core.employer_industry (employer_key, industry_key, method, confidence) "
        "SELECT x.employer_key, i.industry_key, x.method, x.confidence FROM _emp_industry x "
        "JOIN core.industry i ON i.naics_code = x.naics_code ON CONFLICT (employer_key) DO NOTHING",
    )
    execute(conn, "DROP TABLE _emp_industry")
    return inserted


def _reject_untyped(conn: psycopg.Connection, file_type: str, source_file_id: int, audit_id: int | None) -> int:
    """Move ``_snap`` rows without SUB_ID, amount or committee to ops.rejected_row."""
    spec = FILES[file_type]
    raw = sql.SQL(", ").join(sql.Identifier("s", c.staging_name) for c in spec.columns)
    bad = scalar(
        conn, "SELECT count(*) FROM _snap WHERE sub_id IS NULL OR amount IS NULL OR recipient_committee_key IS NULL"
    )
    if not bad:
        return 0
    execute(
        conn,
        sql.SQL(
            """
            INSERT INTO ops.rejected_row (source_file_id, audit_id, line_number, reason, detail, raw)
            SELECT %(sf)s, %(audit)s, n.line,
                   CASE WHEN n.sub_id IS NULL THEN 'normalize: invalid SUB_ID'
                        WHEN n.amount IS NULL THEN 'normalize: invalid TRANSACTION_AMT'
                        ELSE 'normalize: missing CMTE_ID' END,
                   concat_ws(' ', 'SUB_ID', s.sub_id, 'TRANSACTION_AMT', s.transaction_amt),
                   convert_to(array_to_string(ARRAY[{raw}], '|', ''), 'UTF8')
            FROM _snap n JOIN {staging} s ON s._source_file_id = %(sf)s AND s._line_number = n.line
            WHERE n.sub_id IS NULL OR n.amount IS NULL OR n.recipient_committee_key IS NULL
            ON CONFLICT (source_file_id, line_number) DO NOTHING
            """
        ).format(raw=raw, staging=sql.Identifier("staging", spec.staging_table)),
        {"sf": source_file_id, "audit": audit_id},
    )
    return execute(
        conn, "DELETE FROM _snap WHERE sub_id IS NULL OR amount IS NULL OR recipient_committee_key IS NULL"
    )


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
    counts: Counts = {}
    for table, values in _create_placeholders(conn, file_type, source_file_id).items():
        counts.setdefault(table, {}).update(values)
    for table, values in link_employers(conn, file_type, source_file_id).items():
        counts.setdefault(table, {}).update(values)
    last_year = (today or dt.date.today()).year + 1
    _create_valid_dates(conn, last_year)

    params: dict[str, Any] = {
        "sf": source_file_id,
        "rv": RULE_VERSION,
        "cmte_re": COMMITTEE_ID_RE,
        "cycle": cycle,
        "source": file_type,
        "run_id": run_id,
    }
    if file_type in BULK_FILE_TYPES and _scope_is_empty(conn, params):
        bulk = _bulk_first_load(conn, file_type, params, last_year, audit_id)
        if bulk is not None:
            counts["core.contribution"] = bulk["contribution"]
            counts["core.contribution_history"] = {"insert": 0, "update": 0, "delete": 0, "restore": 0}
            counts["snapshot"] = bulk["snapshot"]
            execute(conn, "DROP TABLE _valid_date")
            return counts
    lines = execute(
        conn,
        "CREATE TEMP TABLE _snap ON COMMIT DROP AS " + _snapshot_select(conn, file_type),
        params,
    )
    rejected = _reject_untyped(conn, file_type, source_file_id, audit_id)
    duplicates = execute(
        conn,
        "DELETE FROM _snap n USING (SELECT sub_id, max(line) AS keep FROM _snap GROUP BY sub_id "
        "HAVING count(*) > 1) d WHERE n.sub_id = d.sub_id AND n.line <> d.keep",
    )
    execute(conn, "ANALYZE _snap")
    stats = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE transaction_date IS NULL), count(*) FILTER (WHERE rule_missing) "
        "FROM _snap"
    ).fetchone()
    assert stats is not None
    rows, undated, rule_missing = (int(x) for x in stats)
    years = [
        int(r[0])
        for r in conn.execute(
            "SELECT DISTINCT extract(year FROM transaction_date)::int FROM _snap WHERE transaction_date IS NOT NULL"
        )
    ]
    created_partitions = ensure_year_partitions(conn, years)

    overlap = _resolve_overlaps(conn, params)
    diff = _apply_diff(conn, params)
    counts["core.contribution"] = {
        **diff["contribution"],
        **overlap,
        "rejected": rejected,
        "duplicate_sub_id_lines": duplicates,
        "undated": undated,
        "unknown_transaction_type": rule_missing,
        "partitions_created": len(created_partitions),
    }
    counts["core.contribution_history"] = diff["history"]
    counts["snapshot"] = {"lines": lines, "records": rows}
    execute(conn, "DROP TABLE _snap, _valid_date")
    return counts


def _scope_is_empty(conn: psycopg.Connection, params: dict[str, Any]) -> bool:
    """No core rows of this cycle and source yet: no normalization of the scope ever succeeded.

    Only a succeeded normalize unit writes rows of a scope (a failed one rolls back), so the audit
    trail answers without scanning every partition of core.contribution (there is no index on
    cycle/source).
    """
    row = conn.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM ops.ingest_run_audits WHERE stage = %(stage)s "
        "AND scope = %(scope)s AND status = 'succeeded')",
        {"stage": NORMALIZE_STAGE, "scope": normalize_scope(params["source"], params["cycle"])},
    ).fetchone()
    return bool(row and row[0])


def _existing_partition_years(conn: psycopg.Connection) -> set[int]:
    names = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'core.contribution'::regclass"
    ).fetchall()
    return {int(n[len("contribution_y") :]) for (n,) in names if n.startswith("contribution_y")}


def _bulk_first_load(
    conn: psycopg.Connection, file_type: str, params: dict[str, Any], last_year: int, audit_id: int | None
) -> dict[str, dict[str, int]] | None:
    """First load of a (cycle, source) whose years have no partition yet: load, then ATTACH.

    Row-by-row index maintenance and foreign-key triggers dominate a plain ``INSERT`` into
    ``core.contribution``. Here the snapshot is typed straight from staging into a standalone
    table partitioned like core (one partition per year without a core partition, a default for
    the rest), with no index and no foreign key. Each filled year partition is then detached,
    renamed ``contribution_yYYYY`` and attached to ``core.contribution``: PostgreSQL builds its
    indexes in bulk and validates the foreign keys with one query each. Rows for years that
    already have a partition (and undated rows) are inserted normally. All of it is DDL inside the
    caller's transaction, so a failure leaves nothing. Returns None (after rolling back to a
    savepoint) when the snapshot repeats a SUB_ID: the regular path then keeps the last line.
    """
    sf = params["sf"]
    spec = FILES[file_type]
    staging = sql.Identifier("staging", spec.staging_table)
    load_name = f"_load_{file_type}_{sf}"
    load = sql.Identifier("core", load_name)
    years = [y for y in range(FIRST_VALID_YEAR, last_year + 1) if y not in _existing_partition_years(conn)]
    execute(conn, "SAVEPOINT fecflow_bulk_load")
    execute(
        conn,
        sql.SQL(
            "CREATE TABLE {} (LIKE core.contribution INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (transaction_date)"
        ).format(load),
    )
    for year in years:
        execute(
            conn,
            sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier("core", f"{load_name}_y{year}"),
                load,
                sql.Literal(f"{year:04d}-01-01"),
                sql.Literal(f"{year + 1:04d}-01-01"),
            ),
        )
    execute(
        conn, sql.SQL("CREATE TABLE {} PARTITION OF {} DEFAULT").format(sql.Identifier("core", f"{load_name}_rest"), load)
    )
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in CONTENT_COLUMNS)
    n_cols = sql.SQL(", ").join(sql.Identifier("n", c) for c in CONTENT_COLUMNS)
    # contribution_id: a block of the identity sequence (nextval per row costs seconds per million);
    # the pipeline lock keeps other writers away while the block is claimed.
    base = int(scalar(conn, "SELECT nextval(pg_get_serial_sequence('core.contribution', 'contribution_id'))"))
    inserted = execute(
        conn,
        sql.SQL(
            "INSERT INTO {load} (contribution_id, {cols}, source, cycle, source_file_id, first_run_id, last_run_id) "
            "SELECT %(base)s + row_number() OVER () - 1, {n_cols}, "
            "%(source)s, %(cycle)s, %(sf)s, %(run_id)s, %(run_id)s FROM ({select}) n "
            "WHERE n.sub_id IS NOT NULL AND n.amount IS NOT NULL AND n.recipient_committee_key IS NOT NULL"
        ).format(load=load, cols=cols, n_cols=n_cols, select=sql.SQL(_snapshot_select(conn, file_type))),
        {**params, "base": base},
    )
    if inserted > 1:
        execute(
            conn,
            "SELECT setval(pg_get_serial_sequence('core.contribution', 'contribution_id'), %s)",
            (base + inserted - 1,),
        )
    if scalar(conn, sql.SQL("SELECT EXISTS (SELECT sub_id FROM {} GROUP BY sub_id HAVING count(*) > 1)").format(load)):
        execute(conn, "ROLLBACK TO SAVEPOINT fecflow_bulk_load")
        log.info("snapshot repeats SUB_IDs: normalizing %s the regular way", file_type)
        return None
    execute(conn, "RELEASE SAVEPOINT fecflow_bulk_load")
    lines = int(scalar(conn, sql.SQL("SELECT count(*) FROM {} WHERE _source_file_id = %s").format(staging), (sf,)))
    rejected = 0
    if lines != inserted:
        execute(
            conn,
            sql.SQL(
                "CREATE TEMP TABLE _snap ON COMMIT DROP AS SELECT * FROM ({}) n "
                "WHERE n.sub_id IS NULL OR n.amount IS NULL OR n.recipient_committee_key IS NULL"
            ).format(sql.SQL(_snapshot_select(conn, file_type))),
            params,
        )
        rejected = _reject_untyped(conn, file_type, sf, audit_id)
        execute(conn, "DROP TABLE _snap")
    stats = conn.execute(
        sql.SQL(
            """
            WITH types AS (
                SELECT upper(btrim(transaction_type)) AS tp, upper(btrim(coalesce(memo_code, ''))) = 'X' AS memo,
                       count(*) AS n, count(*) FILTER (WHERE transaction_date IS NULL) AS undated
                FROM {} GROUP BY 1, 2
            )
            SELECT coalesce(sum(n) FILTER (WHERE NOT EXISTS (
                       SELECT 1 FROM ref.counting_rule r
                       WHERE r.rule_version = %(rv)s AND r.transaction_type = t.tp AND r.memo = t.memo)), 0),
                   coalesce(sum(undated), 0)
            FROM types t
            """
        ).format(load),
        params,
    ).fetchone()
    assert stats is not None
    rule_missing, undated = int(stats[0]), int(stats[1])
    # Rows for years core already has, and undated rows: a plain insert (few, in a first load).
    all_cols = sql.SQL(", ").join(
        sql.Identifier(c)
        for c in ("contribution_id", *CONTENT_COLUMNS, "source", "cycle", "source_file_id", "first_run_id", "last_run_id")
    )
    rest = execute(
        conn,
        sql.SQL("INSERT INTO core.contribution ({cols}) SELECT {cols} FROM {rest}").format(
            cols=all_cols, rest=sql.Identifier("core", f"{load_name}_rest")
        ),
    )
    attached = []
    for year in years:
        part = f"{load_name}_y{year}"
        if not scalar(conn, sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier("core", part))):
            continue
        target = f"contribution_y{year:04d}"
        execute(conn, sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(load, sql.Identifier("core", part)))
        execute(conn, sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier("core", part), sql.Identifier(target)))
        execute(
            conn,
            sql.SQL("ALTER TABLE core.contribution ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier("core", target), sql.Literal(f"{year:04d}-01-01"), sql.Literal(f"{year + 1:04d}-01-01")
            ),
        )
        attached.append(target)
    execute(conn, sql.SQL("DROP TABLE {}").format(load))
    log.debug("bulk load of %s: %d rows, %d via insert, partitions attached: %s", file_type, inserted, rest, attached)
    return {
        "contribution": {
            "inserted": inserted,
            "updated": 0,
            "deleted": 0,
            "restored": 0,
            "unchanged": 0,
            "scope_rows_before": 0,
            "rejected": rejected,
            "duplicate_sub_id_lines": 0,
            "undated": undated,
            "unknown_transaction_type": rule_missing,
            "partitions_created": len(attached),
        },
        "snapshot": {"lines": lines, "records": inserted},
    }


def _resolve_overlaps(conn: psycopg.Connection, params: dict[str, Any]) -> dict[str, int]:
    """One row per SUB_ID: itpas2 rows are also in itoth (same SUB_ID); the pas2 row owns them.

    pas2 takes over oth-owned rows of its SUB_IDs (the diff then updates them: candidate key and
    hash). oth leaves out the SUB_IDs a current pas2 row owns (counted, not stored twice: 24K money
    would count double) and takes back rows that pas2 soft-deleted but oth still has.
    """
    source = params["source"]
    if source == "pas2":
        taken = execute(
            conn,
            "UPDATE core.contribution c SET source = 'pas2' FROM _snap n "
            "WHERE c.sub_id = n.sub_id AND c.source = 'oth' AND c.cycle = %(cycle)s",
            params,
        )
        return {"taken_over_from_oth": taken}
    if source == "oth":
        owned = execute(
            conn,
            "DELETE FROM _snap n USING core.contribution c WHERE c.sub_id = n.sub_id AND c.source = 'pas2' "
            "AND c.cycle = %(cycle)s AND c.deleted_at IS NULL",
            params,
        )
        taken = execute(
            conn,
            "UPDATE core.contribution c SET source = 'oth' FROM _snap n "
            "WHERE c.sub_id = n.sub_id AND c.source = 'pas2' AND c.cycle = %(cycle)s",
            params,
        )
        return {"owned_by_pas2": owned, "taken_over_from_pas2": taken}
    return {}


def _apply_diff(conn: psycopg.Connection, params: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Insert / update / soft-delete / restore core rows of the scope (cycle, source) from ``_snap``."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in CONTENT_COLUMNS)
    n_cols = sql.SQL(", ").join(sql.Identifier("n", c) for c in CONTENT_COLUMNS)
    scope_rows = execute(
        conn,
        "CREATE TEMP TABLE _old ON COMMIT DROP AS SELECT sub_id, row_hash, rule_version, deleted_at "
        "FROM core.contribution WHERE cycle = %(cycle)s AND source = %(source)s",
        params,
    )
    history: dict[str, int] = {"insert": 0, "update": 0, "delete": 0, "restore": 0}
    if scope_rows == 0:
        # First load of this cycle and source: the baseline, one plain INSERT ... SELECT.
        inserted = execute(
            conn,
            sql.SQL(
                "INSERT INTO core.contribution ({cols}, source, cycle, source_file_id, first_run_id, last_run_id) "
                "SELECT {n_cols}, %(source)s, %(cycle)s, %(sf)s, %(run_id)s, %(run_id)s FROM _snap n"
            ).format(cols=cols, n_cols=n_cols),
            params,
        )
        execute(conn, "DROP TABLE _old")
        return {
            "contribution": {
                "inserted": inserted,
                "updated": 0,
                "deleted": 0,
                "restored": 0,
                "unchanged": 0,
                "scope_rows_before": 0,
            },
            "history": history,
        }

    execute(conn, "CREATE UNIQUE INDEX ON _old (sub_id)")
    execute(conn, "ANALYZE _old")
    execute(
        conn,
        """
        CREATE TEMP TABLE _diff ON COMMIT DROP AS
        SELECT n.sub_id,
               CASE WHEN o.deleted_at IS NOT NULL THEN 'restored'
                    WHEN o.row_hash <> n.row_hash OR o.rule_version <> n.rule_version THEN 'changed'
                    ELSE 'same' END AS status
        FROM _snap n JOIN _old o ON o.sub_id = n.sub_id
        """,
    )
    by_status: dict[str, int] = dict(conn.execute("SELECT status, count(*) FROM _diff GROUP BY status").fetchall())
    execute(conn, "DELETE FROM _diff WHERE status = 'same'")
    execute(conn, "CREATE UNIQUE INDEX ON _diff (sub_id)")
    execute(conn, "ANALYZE _diff")

    # New SUB_IDs.
    execute(
        conn,
        "CREATE TEMP TABLE _new_ids ON COMMIT DROP AS "
        "SELECT n.sub_id FROM _snap n WHERE NOT EXISTS (SELECT 1 FROM _old o WHERE o.sub_id = n.sub_id)",
    )
    inserted = execute(
        conn,
        sql.SQL(
            "INSERT INTO core.contribution ({cols}, source, cycle, source_file_id, first_run_id, last_run_id) "
            "SELECT {n_cols}, %(source)s, %(cycle)s, %(sf)s, %(run_id)s, %(run_id)s "
            "FROM _snap n JOIN _new_ids i ON i.sub_id = n.sub_id"
        ).format(cols=cols, n_cols=n_cols),
        params,
    )
    history["insert"] = execute(
        conn,
        "INSERT INTO core.contribution_history (sub_id, change, new_values, run_id) "
        "SELECT n.sub_id, 'insert', jsonb_build_object('amount', n.amount, 'transaction_date', n.transaction_date, "
        "'transaction_type', n.transaction_type, 'recipient_committee_key', n.recipient_committee_key), %(run_id)s "
        "FROM _snap n JOIN _new_ids i ON i.sub_id = n.sub_id",
        params,
    )

    # Changed and restored SUB_IDs: history (old vs new values of what changed), then the update.
    history_rows = conn.execute(
        """
        INSERT INTO core.contribution_history (sub_id, change, old_values, new_values, run_id)
        SELECT u.sub_id, CASE WHEN u.status = 'restored' THEN 'restore' ELSE 'update' END,
               (SELECT jsonb_object_agg(e.key, to_jsonb(c) -> e.key) FROM jsonb_each(u.j) e
                 WHERE e.key = ANY(%(always)s) OR (to_jsonb(c) -> e.key) IS DISTINCT FROM e.value),
               (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(u.j) e
                 WHERE e.key = ANY(%(always)s) OR (to_jsonb(c) -> e.key) IS DISTINCT FROM e.value),
               %(run_id)s
        FROM (SELECT n.sub_id, d.status, to_jsonb(n) - %(hidden)s::text[] AS j
              FROM _snap n JOIN _diff d ON d.sub_id = n.sub_id) u
        JOIN core.contribution c ON c.sub_id = u.sub_id AND c.cycle = %(cycle)s AND c.source = %(source)s
        RETURNING change
        """,
        {**params, "always": ALWAYS_SHOWN, "hidden": HIDDEN},
    ).fetchall()
    history["update"] = sum(1 for r in history_rows if r[0] == "update")
    history["restore"] = sum(1 for r in history_rows if r[0] == "restore")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), sql.Identifier("n", c)) for c in CONTENT_COLUMNS if c != "sub_id"
    )
    changed = execute(
        conn,
        sql.SQL(
            "UPDATE core.contribution c SET {assignments}, source_file_id = %(sf)s, last_run_id = %(run_id)s, "
            "deleted_at = NULL, deleted_by_run_id = NULL "
            "FROM _snap n JOIN _diff d ON d.sub_id = n.sub_id "
            "WHERE c.sub_id = n.sub_id AND c.cycle = %(cycle)s AND c.source = %(source)s"
        ).format(assignments=assignments),
        params,
    )

    # SUB_IDs of the scope missing from this snapshot: soft-delete.
    execute(
        conn,
        "CREATE TEMP TABLE _gone ON COMMIT DROP AS SELECT o.sub_id FROM _old o "
        "WHERE o.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM _snap n WHERE n.sub_id = o.sub_id)",
    )
    history["delete"] = execute(
        conn,
        "INSERT INTO core.contribution_history (sub_id, change, old_values, run_id) "
        "SELECT c.sub_id, 'delete', jsonb_build_object('amount', c.amount, 'transaction_date', c.transaction_date, "
        "'transaction_type', c.transaction_type, 'recipient_committee_key', c.recipient_committee_key), %(run_id)s "
        "FROM core.contribution c JOIN _gone g ON g.sub_id = c.sub_id "
        "WHERE c.cycle = %(cycle)s AND c.source = %(source)s",
        params,
    )
    deleted = execute(
        conn,
        "UPDATE core.contribution c SET deleted_at = now(), deleted_by_run_id = %(run_id)s FROM _gone g "
        "WHERE c.sub_id = g.sub_id AND c.cycle = %(cycle)s AND c.source = %(source)s",
        params,
    )
    restored = int(by_status.get("restored", 0))
    if changed != restored + int(by_status.get("changed", 0)):  # pragma: no cover - a broken invariant
        raise AssertionError(f"updated {changed} rows, expected {by_status}")
    execute(conn, "DROP TABLE _old, _diff, _new_ids, _gone")
    return {
        "contribution": {
            "inserted": inserted,
            "updated": int(by_status.get("changed", 0)),
            "deleted": deleted,
            "restored": restored,
            "unchanged": int(by_status.get("same", 0)),
            "scope_rows_before": scope_rows,
        },
        "history": history,
    }
