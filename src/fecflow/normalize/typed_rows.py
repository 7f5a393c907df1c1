"""The SQL that types staged transaction rows (indiv, pas2, oth) into ``core.contribution`` values.

:func:`snapshot_select` is the one ``SELECT`` every path uses (the diff path into a temp table, the
bulk first load into per-year tables, rejects): it reads one staged snapshot
(``_source_file_id = %(sf)s``) and joins what links a row to core. Parameters: ``sf``, ``rv`` (the
counting-rule version) and ``cmte_re`` (pas2/oth).

Every expression is parallel safe and every relation it joins is an ordinary table, so PostgreSQL
can run it in parallel workers (a temp table would keep the join in the leader): the valid dates
live in :data:`VALID_DATES`, a plain table created and dropped inside the unit's transaction.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from fecflow.catalog import FILES
from fecflow.db.statements import execute, scalar

FIRST_VALID_YEAR = 1975
#: Every valid MMDDYYYY string, its date and year: created by :func:`create_valid_dates`, dropped
#: by :func:`drop_valid_dates`, in the same transaction (never committed).
VALID_DATES = "core._valid_date"

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
#: A typed row that cannot be stored (it goes to ``ops.rejected_row``), over the SELECT's columns.
UNTYPED = "(n.sub_id IS NULL OR n.amount IS NULL OR n.recipient_committee_key IS NULL)"
TYPED = "(n.sub_id IS NOT NULL AND n.amount IS NOT NULL AND n.recipient_committee_key IS NOT NULL)"


def _zip5(col: str) -> str:
    # Regexes without bounded repetition ({n}) plus length checks: PostgreSQL runs them far faster.
    # (ltrim(x, '0123456789') = '' was measured 2x slower than the regex.)
    return f"CASE WHEN length({col}) >= 5 AND left({col}, 5) ~ '^[0-9]+$' THEN left({col}, 5) END"


# A name that needs no cleaning: letters, digits, commas and single inner spaces only.
_PLAIN_NAME = "'[^A-Za-z0-9, ]|  |^ | $'"


def donor_name_full_sql(col: str) -> str:
    """The donor-name rule: upper case, every character but letters, digits, whitespace and commas
    removed, whitespace runs collapsed to one space, trimmed."""
    return (
        f"btrim(regexp_replace(regexp_replace(upper({col}), '[^[:alnum:][:space:],]+', '', 'g'), "
        "'[[:space:]]+', ' ', 'g'))"
    )


def donor_name_sql(col: str) -> str:
    """:func:`donor_name_full_sql`, with the regex replacements run only on names that need them.

    Most names are plain (``SMITH, JOHN``: upper case is all the rule does); most others only carry
    periods (``SMITH, JOHN A. MR.``: removing them is all it does). Same result as the full rule
    for every string (tests/integration/normalize_core/test_donor_name.py), at a quarter of its cost.
    """
    return (
        f"CASE WHEN {col} !~ {_PLAIN_NAME} THEN upper({col}) "
        f"WHEN replace({col}, '.', '') !~ {_PLAIN_NAME} THEN upper(replace({col}, '.', '')) "
        f"ELSE {donor_name_full_sql(col)} END"
    )


# Fragments shared by snapshot_select and snapshot_keys_select (over ``s``, a staging row).
SUB_ID_SQL = (
    "CASE WHEN s.sub_id ~ '^[0-9]+$' AND length(s.sub_id) <= 19 "
    "AND (length(s.sub_id) < 19 OR s.sub_id <= '9223372036854775807') THEN s.sub_id::bigint END"
)
AMOUNT_SQL = (
    "CASE WHEN s.transaction_amt ~ '^[0-9]+$' AND length(s.transaction_amt) <= 12 "
    "THEN s.transaction_amt::numeric(14, 2) "
    "WHEN btrim(s.transaction_amt) ~ '^-?([0-9]{1,12}(\\.[0-9]{0,2})?|\\.[0-9]{1,2})$' "
    "THEN btrim(s.transaction_amt)::numeric(14, 2) END"
)
MEMO_SQL = "(upper(btrim(coalesce(s.memo_cd, ''))) = 'X')"
TYPE_CODE_SQL = "upper(btrim(s.transaction_tp))"
RULE_JOIN_SQL = (
    "LEFT JOIN ref.counting_rule r "
    f"ON r.rule_version = %(rv)s AND r.transaction_type = {TYPE_CODE_SQL} AND r.memo = {MEMO_SQL}"
)


def _raw_line_sql(conn: psycopg.Connection, file_type: str) -> str:
    """The raw line again (fields joined by '|', NULL as ''), for ``row_hash = md5(...)``.

    ``||`` rather than concat_ws, which runs each argument through its type's output function
    (measured: 1.1 vs 1.7 s per million rows).
    """
    return (
        sql.SQL(" || '|' || ")
        .join(
            sql.SQL("coalesce({}, '')").format(sql.Identifier("s", c.staging_name))
            for c in FILES[file_type].columns
        )
        .as_string(conn)
    )


# The typing expressions above, as composable fragments (fixed text, no input).
_FRAGMENTS = {
    "type_code": sql.SQL(TYPE_CODE_SQL),
    "memo": sql.SQL(MEMO_SQL),
    "sub_id": sql.SQL(SUB_ID_SQL),
    "amount": sql.SQL(AMOUNT_SQL),
    "valid_dates": sql.SQL(VALID_DATES),
    "rule_join": sql.SQL(RULE_JOIN_SQL),
}
_SNAPSHOT_KEYS = sql.SQL(
    """
    SELECT s._line_number AS line,
           {sub_id} AS sub_id,
           md5({raw}) AS row_hash,
           ({sub_id}) IS NOT NULL AND ({amount}) IS NOT NULL AND rc.committee_key IS NOT NULL AS typed,
           vd.d IS NULL AS undated,
           r.transaction_type IS NULL AS rule_missing
    FROM {staging} s
    LEFT JOIN {valid_dates} vd ON vd.raw = s.transaction_dt
    LEFT JOIN core.committee rc ON rc.committee_id = s.cmte_id
    {rule_join}
    WHERE s._source_file_id = %(sf)s
    """
)


def snapshot_keys_select(conn: psycopg.Connection, file_type: str) -> str:
    """Per staged line: SUB_ID, row hash, whether it can be typed, undated, without a counting rule.

    A narrow pass over a later snapshot (parameters: sf, rv): the diff then types in full only the
    lines whose SUB_ID is new, changed or restored, and the lines that will be rejected.
    """
    return _SNAPSHOT_KEYS.format(
        staging=sql.Identifier("staging", FILES[file_type].staging_table),
        raw=sql.SQL(_raw_line_sql(conn, file_type)),
        **_FRAGMENTS,
    ).as_string(conn)


_COMMITTEE_JOIN = sql.SQL(
    "LEFT JOIN core.committee cc ON cc.committee_id = s.other_id AND s.other_id ~ %(cmte_re)s"
)
_CANDIDATE_JOIN = sql.SQL("LEFT JOIN core.candidate ck ON ck.candidate_id = s.cand_id")
_SNAPSHOT_SELECT = sql.SQL(
    """
        SELECT
            s._line_number AS line,
            {sub_id} AS sub_id,
            rc.committee_key AS recipient_committee_key,
            {contributor} AS contributor_committee_key,
            {candidate} AS candidate_key,
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
            {amount} AS amount,
            %(rv)s::text AS rule_version,
            coalesce(r.category, CASE WHEN {memo} THEN 'memo' ELSE 'other' END) AS category,
            coalesce(r.counts_as_contribution, false) AS counts_as_contribution,
            coalesce(r.is_refund, false) AS is_refund,
            coalesce(r.filer_side, 'recipient') AS filer_side,
            md5({raw}) AS row_hash,
            r.transaction_type IS NULL AS rule_missing,
            s.cmte_id AS committee_id_raw
        FROM {staging} s
        LEFT JOIN {valid_dates} vd ON vd.raw = s.transaction_dt
        LEFT JOIN core.committee rc ON rc.committee_id = s.cmte_id
        {committee_join}
        {candidate_join}
        LEFT JOIN core.employer_alias ea ON ea.raw_employer = s.employer
        {rule_join}
        WHERE s._source_file_id = %(sf)s {where}
    """
)


def snapshot_select(conn: psycopg.Connection, file_type: str, where: str = "") -> str:
    """The one SELECT that types a staged snapshot (parameters: sf, rv, cmte_re).

    ``where`` is an extra condition over ``s`` (staging) and ``vd`` (:data:`VALID_DATES`, NULL
    when the date is not valid), e.g. one year of the bulk load; it filters before the expensive
    expressions are computed.
    """
    spec = FILES[file_type]
    has_candidate = any(c.raw == "CAND_ID" for c in spec.columns)
    from_committee = file_type in ("pas2", "oth")
    zip5 = sql.SQL(_zip5("s.zip_code"))
    return _SNAPSHOT_SELECT.format(
        staging=sql.Identifier("staging", spec.staging_table),
        raw=sql.SQL(_raw_line_sql(conn, file_type)),
        contributor=sql.SQL("cc.committee_key" if from_committee else "NULL::bigint"),
        candidate=sql.SQL("ck.candidate_key" if has_candidate else "NULL::bigint"),
        committee_join=_COMMITTEE_JOIN if from_committee else sql.SQL(""),
        candidate_join=_CANDIDATE_JOIN if has_candidate else sql.SQL(""),
        zip5=zip5,
        donor_name=sql.SQL(donor_name_sql("s.name")),
        where=sql.SQL("AND ({})").format(sql.SQL(where))
        if where
        else sql.SQL(""),  # a caller's fixed fragment
        **_FRAGMENTS,
    ).as_string(conn)


_CREATE_VALID_DATES = (
    f"CREATE TABLE {VALID_DATES} AS "  # noqa: S608 - a constant
    "SELECT to_char(g, 'MMDDYYYY') AS raw, g::date AS d, extract(year FROM g)::int AS y "
    "FROM generate_series(make_date(%s, 1, 1), make_date(%s, 12, 31), interval '1 day') g"
)
_INDEX_VALID_DATES = f"CREATE UNIQUE INDEX ON {VALID_DATES} (raw)"
_ANALYZE_VALID_DATES = f"ANALYZE {VALID_DATES}"
_DROP_VALID_DATES = f"DROP TABLE {VALID_DATES}"
_COUNT_UNTYPED = f"SELECT count(*) FROM _snap n WHERE {UNTYPED}"  # noqa: S608 - constants
_DELETE_UNTYPED = f"DELETE FROM _snap n WHERE {UNTYPED}"  # noqa: S608 - constants


def create_valid_dates(conn: psycopg.Connection, last_year: int) -> None:
    """:data:`VALID_DATES`: every valid MMDDYYYY string 1975-01-01 .. last_year-12-31, its date and year.

    A plain table (not a temp one, which only the leader of a parallel query can read), created
    inside the caller's transaction and dropped before it ends (:func:`drop_valid_dates`).
    """
    execute(conn, _CREATE_VALID_DATES, (FIRST_VALID_YEAR, last_year))
    execute(conn, _INDEX_VALID_DATES)
    execute(conn, _ANALYZE_VALID_DATES)


def drop_valid_dates(conn: psycopg.Connection) -> None:
    execute(conn, _DROP_VALID_DATES)


def reject_untyped(
    conn: psycopg.Connection, file_type: str, source_file_id: int, audit_id: int | None
) -> int:
    """Move ``_snap`` rows without SUB_ID, amount or committee to ops.rejected_row."""
    spec = FILES[file_type]
    raw = sql.SQL(", ").join(sql.Identifier("s", c.staging_name) for c in spec.columns)
    bad = scalar(conn, _COUNT_UNTYPED)
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
            WHERE {untyped}
            ON CONFLICT (source_file_id, line_number) DO NOTHING
            """
        ).format(raw=raw, staging=sql.Identifier("staging", spec.staging_table), untyped=sql.SQL(UNTYPED)),
        {"sf": source_file_id, "audit": audit_id},
    )
    return execute(conn, _DELETE_UNTYPED)
