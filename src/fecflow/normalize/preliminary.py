"""E-filed transactions as ``preliminary`` rows, until the processed bulk row of the same transaction
arrives: ``core.efiling_transaction``.

From each recorded report (F3, F3X, F3P in ``core.efiling``), the schedule lines declared in
:data:`fecflow.catalog.efilings.PRELIMINARY_LINES` become one row each: filer, TRAN_ID, line, the
transaction type the FEC gives that line in the bulk files (15, 15E, 15C, 18K, 18G, 24K, 22Y, 24E,
24A), and the rule of that type from ``ref.counting_rule`` (the same table and :data:`RULE_VERSION`
as ``core.contribution``; memo rows are memos). Rows of a filing that an amendment superseded do
not count (``core.efiling_preliminary`` leaves them out); the amendment's rows do.

**Supersede.** A processed row for the same transaction is a live ``core.contribution`` row of the
same committee with the same TRAN_ID from the same report (FILE_NUM = the filing or the latest
filing of its amendment chain). :func:`supersede_preliminary` marks such preliminary rows
``superseded`` with the bulk SUB_ID, the time and the run: each dollar is counted once, and the
change is recorded on the row. Set-based SQL throughout.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import psycopg

from fecflow.catalog.efilings import (
    BULK_SOURCE_OF_TYPE,
    EARMARKED_TRANSACTION_TYPE,
    OPPOSE_TRANSACTION_TYPE,
    PRELIMINARY_LINES,
)
from fecflow.normalize.reference import load_reference
from fecflow.normalize.rules import RULE_VERSION
from fecflow.normalize.typed_rows import donor_name_sql

log = logging.getLogger(__name__)

_AMOUNT = r"'^\s*-?[0-9]*\.?[0-9]+\s*$'"


def _text(*names: str) -> str:
    """SQL: the first non-blank of these JSONB text fields of ``l.fields``."""
    return "COALESCE(" + ", ".join(f"NULLIF(btrim(l.fields->>'{n}'), '')" for n in names) + ")"


_NAME = (
    "COALESCE("
    + _text("contributor_organization_name", "payee_organization_name", "contributor_name", "payee_name")
    + ", NULLIF(concat_ws(', ', "
    + _text("contributor_last_name", "payee_last_name")
    + ", "
    + _text("contributor_first_name", "payee_first_name")
    + "), ''))"
)
_AMOUNT_TEXT = _text("contribution_amount", "expenditure_amount")
_DATE_RAW = _text("contribution_date", "expenditure_date", "dissemination_date", "disbursement_date")


_PRELIMINARY_SQL = f"""
    INSERT INTO core.efiling_transaction (filing_id, line_number, committee_id, transaction_id, line,
        transaction_type, memo_code, entity_type, name, city, state, zip5, employer, occupation,
        other_id, transaction_date_raw, transaction_date, amount, rule_version, category,
        counts_as_contribution, is_refund, filer_side, status, run_id)
    SELECT l.filing_id, l.line_number, f.committee_id,
           {_text("transaction_id", "transaction_id_number")},
           upper(l.record_type), t.tp, upper({_text("memo_code")}), {_text("entity_type")}, {_NAME},
           {_text("contributor_city", "payee_city")}, {_text("contributor_state", "payee_state")},
           CASE WHEN left({_text("contributor_zip_code", "payee_zip_code")}, 5) ~ '^[0-9]{{5}}$'
                THEN left({_text("contributor_zip_code", "payee_zip_code")}, 5) END,
           {_text("contributor_employer")}, {_text("contributor_occupation")},
           {
    _text(
        "donor_committee_fec_id",
        "beneficiary_committee_fec_id",
        "candidate_id_number",
        "beneficiary_candidate_fec_id",
    )
},
           {_DATE_RAW},
           CASE WHEN {_DATE_RAW} ~ '^(19|20)[0-9]{{6}}$' THEN to_date({_DATE_RAW}, 'YYYYMMDD') END,
           {_AMOUNT_TEXT}::numeric(14, 2),
           %(rule_version)s, COALESCE(r.category, CASE WHEN mm.memo THEN 'memo' ELSE 'other' END),
           COALESCE(r.counts_as_contribution, false), COALESCE(r.is_refund, false),
           COALESCE(r.filer_side, 'recipient'), 'preliminary', %(run_id)s
      FROM core.efiling f
      JOIN staging.efiling_line l ON l.filing_id = f.filing_id
      CROSS JOIN LATERAL (
          SELECT CASE
              WHEN m.tp = '15' AND {_text("conduit_name")} IS NOT NULL THEN %(earmarked)s
              WHEN upper(l.record_type) = 'SE' AND upper({_text("support_oppose_code")}) = 'O' THEN %(oppose)s
              ELSE m.tp END AS tp
            FROM (SELECT (x->>1) AS tp FROM jsonb_array_elements(%(mapping)s::jsonb) x
                   WHERE x->>0 = upper(l.record_type)) m) t
      CROSS JOIN LATERAL (SELECT upper(COALESCE(l.fields->>'memo_code', '')) = 'X' AS memo) mm
      LEFT JOIN ref.counting_rule r
        ON r.rule_version = %(rule_version)s AND r.transaction_type = t.tp AND r.memo = mm.memo
     WHERE f.filing_id = ANY(%(ids)s) AND f.report_family = %(family)s AND f.committee_id IS NOT NULL
       AND {_AMOUNT_TEXT} ~ {_AMOUNT}
    """  # noqa: S608 - constants only


# The keys normalize gives a bulk row, for the preliminary rows (scores may count them): committee
# keys from the ids, the candidate of a pas2 row, the employer through its alias (upper case, as the
# FEC publishes EMPLOYER in the bulk files; e-filers send mixed case), the donor key by the donor-name
# rule. Only rows whose keys change are written.
_KEY_SQL = f"""
    UPDATE core.efiling_transaction t
       SET source = k.source, recipient_committee_key = k.rc, contributor_committee_key = k.cc,
           candidate_key = k.ck, employer_key = k.ek, donor_key = k.dk
      FROM (SELECT p.filing_id, p.line_number, s.source, rc.committee_key AS rc,
                   CASE WHEN s.source <> 'indiv' THEN oc.committee_key END AS cc,
                   CASE WHEN s.source = 'pas2' THEN ok.candidate_key END AS ck,
                   ea.employer_key AS ek,
                   CASE WHEN p.name IS NOT NULL
                        THEN {donor_name_sql("p.name")} || '|' || coalesce(p.zip5, '') END AS dk
              FROM core.efiling_transaction p
              CROSS JOIN LATERAL (SELECT coalesce((%(sources)s::jsonb) ->> p.transaction_type, 'oth') AS source) s
              LEFT JOIN core.committee rc ON rc.committee_id = p.committee_id
              LEFT JOIN core.committee oc ON oc.committee_id = p.other_id
              LEFT JOIN core.candidate ok ON ok.candidate_id = p.other_id
              LEFT JOIN core.employer_alias ea ON ea.raw_employer = upper(p.employer)
             WHERE p.status = 'preliminary') k
     WHERE t.filing_id = k.filing_id AND t.line_number = k.line_number
       AND (t.source, t.recipient_committee_key, t.contributor_committee_key, t.candidate_key, t.employer_key,
            t.donor_key) IS DISTINCT FROM (k.source, k.rc, k.cc, k.ck, k.ek, k.dk)
"""  # noqa: S608 - constants only


def key_preliminary(conn: psycopg.Connection) -> int:
    """Give the preliminary rows the keys bulk rows get (again after core changed); returns rows changed."""
    changed = conn.execute(_KEY_SQL, {"sources": json.dumps(BULK_SOURCE_OF_TYPE)}).rowcount
    log.info("keyed %d preliminary e-filed row(s)", changed)
    return changed


def load_preliminary(conn: psycopg.Connection, filing_ids: Sequence[int], *, run_id: int) -> int:
    """(Re)write the preliminary rows of these recorded filings; returns the rows written.

    Their keys come with :func:`supersede_preliminary`, which the e-filing step runs right after."""
    ids = list(filing_ids)
    load_reference(conn)  # the counting rules (an upsert: a no-op when current)
    conn.execute("DELETE FROM core.efiling_transaction WHERE filing_id = ANY(%s)", (ids,))
    written = 0
    for family, lines in PRELIMINARY_LINES.items():
        mapping = [[line, tp] for line, tp in lines.items()]
        cur = conn.execute(
            _PRELIMINARY_SQL,
            {
                "rule_version": RULE_VERSION,
                "run_id": run_id,
                "earmarked": EARMARKED_TRANSACTION_TYPE,
                "oppose": OPPOSE_TRANSACTION_TYPE,
                "mapping": json.dumps(mapping),
                "ids": ids,
                "family": family,
            },
        )
        written += cur.rowcount
    log.info("wrote %d preliminary e-filed row(s) of %d filing(s)", written, len(ids))
    return written


def supersede_preliminary(conn: psycopg.Connection, *, run_id: int) -> int:
    """Mark preliminary rows whose processed bulk row has arrived; returns how many were marked.

    First the preliminary rows are keyed again: core may know more committees, candidates and
    employer strings since they were written."""
    key_preliminary(conn)
    cur = conn.execute(
        """
        UPDATE core.efiling_transaction t
           SET status = 'superseded', superseded_by_sub_id = b.sub_id, superseded_at = now(),
               superseded_run_id = %(run_id)s
          FROM (
                SELECT DISTINCT ON (p.filing_id, p.line_number) p.filing_id, p.line_number, c.sub_id
                  FROM core.efiling_transaction p
                  JOIN core.efiling f ON f.filing_id = p.filing_id
                  JOIN core.committee k ON k.committee_id = p.committee_id
                  JOIN core.contribution c
                    ON c.recipient_committee_key = k.committee_key AND c.transaction_id = p.transaction_id
                   AND c.file_number IN (f.filing_id, f.superseded_by_filing_id) AND c.deleted_at IS NULL
                 WHERE p.status = 'preliminary'
                 ORDER BY p.filing_id, p.line_number, c.sub_id) b
         WHERE t.filing_id = b.filing_id AND t.line_number = b.line_number
        """,
        {"run_id": run_id},
    )
    marked = cur.rowcount
    log.info("%d preliminary e-filed row(s) superseded by processed bulk rows", marked)
    return marked
