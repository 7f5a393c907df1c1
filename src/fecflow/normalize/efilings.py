"""Staged e-filings -> ``core.efiling`` (filings as records, amendment chains) and
``core.efiling_summary`` (each report's summary lines next to its own itemized sums).

Filings: the first form record of a staged filing gives filer, form, report type and period; the
header gives the version and, for an amendment, the filing it amends (``report_id`` ``FEC-<id>``).
A chain of amendments resolves to its latest filing (the highest filing id: the FEC numbers filings
as they arrive); every other filing of the chain gets ``superseded_by_filing_id`` = that latest one.
Filings are few (hundreds a day), so they are read into Python one row each; line sums are SQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import Any

import psycopg

from fecflow.catalog.efilings import (
    BLANK_RECORD,
    DAILY_FILE_TYPE,
    HEADER_RECORD,
    MEMO_FIELD,
    SCHEDULE_AMOUNT_FIELDS,
    SUMMARY_LINES,
    TEXT_RECORD,
    report_family,
)

log = logging.getLogger(__name__)

_REPORT_ID = re.compile(r"^\s*FEC-(\d+)\s*$", re.IGNORECASE)
_DAY_FILE = re.compile(r"(\d{8})\.zip$")
_AMOUNT = r"'^\s*-?[0-9]*\.?[0-9]+\s*$'"


def amended_filing_id(header: dict[str, Any], form_type: str) -> int | None:
    """The filing an amendment amends: header ``report_id`` ``FEC-<id>`` on an amended form (…A)."""
    if not form_type.upper().endswith("A"):
        return None
    m = _REPORT_ID.match(str(header.get("report_id") or ""))
    return int(m.group(1)) if m else None


def _date(value: Any) -> dt.date | None:
    text = str(value or "").strip()
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


_FIRST_FORM_SQL = f"""
    SELECT DISTINCT ON (e.filing_id) e.filing_id, e.version, e.header, l.record_type, l.fields,
           sf.file_type, sf.url
      FROM staging.efiling e
      JOIN staging.efiling_line l USING (filing_id)
      JOIN ops.source_file sf USING (source_file_id)
     WHERE e.filing_id = ANY(%s) AND e.status = 'staged'
       AND l.record_type NOT IN ('{HEADER_RECORD}', '{TEXT_RECORD}', '{BLANK_RECORD}')
     ORDER BY e.filing_id, l.line_number
    """  # noqa: S608 - constants only


def record_filings(conn: psycopg.Connection, filing_ids: Sequence[int], *, run_id: int) -> int:
    """Upsert ``core.efiling`` for the staged (not quarantined) filings; resolve amendment chains.

    Returns the number of filings written. Commits. A filing whose latest staged version is
    quarantined loses its record (and, by cascade, its summary and preliminary rows).
    """
    conn.execute(
        "DELETE FROM core.efiling WHERE filing_id = ANY(%s) AND filing_id IN "
        "(SELECT filing_id FROM staging.efiling WHERE status = 'quarantined')",
        (list(filing_ids),),
    )
    rows = conn.execute(
        _FIRST_FORM_SQL,
        (list(filing_ids),),
    ).fetchall()
    for filing_id, version, header, form_type, fields, file_type, url in rows:
        day = _DAY_FILE.search(url or "") if file_type == DAILY_FILE_TYPE else None
        conn.execute(
            """
            INSERT INTO core.efiling (filing_id, committee_id, form_type, report_family, report_type,
                coverage_from, coverage_through, date_signed, received_date, version, amends_filing_id,
                amendment_number, run_id)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (filing_id) DO UPDATE SET committee_id = EXCLUDED.committee_id,
                form_type = EXCLUDED.form_type, report_family = EXCLUDED.report_family,
                report_type = EXCLUDED.report_type, coverage_from = EXCLUDED.coverage_from,
                coverage_through = EXCLUDED.coverage_through, date_signed = EXCLUDED.date_signed,
                received_date = COALESCE(EXCLUDED.received_date, core.efiling.received_date),
                version = EXCLUDED.version, amends_filing_id = EXCLUDED.amends_filing_id,
                amendment_number = EXCLUDED.amendment_number, run_id = EXCLUDED.run_id
            """,
            (
                filing_id,
                (fields.get("filer_committee_id_number") or "").strip() or None,
                form_type,
                report_family(form_type),
                (fields.get("report_code") or "").strip() or None,
                _date(fields.get("coverage_from_date")),
                _date(fields.get("coverage_through_date")),
                _date(fields.get("date_signed")),
                _date(day.group(1)) if day else None,
                version,
                amended_filing_id(header, form_type),
                _int(header.get("report_number")),
                run_id,
            ),
        )
    resolve_amendment_chains(conn)
    write_summaries(conn, [r[0] for r in rows])
    conn.commit()
    log.info("recorded %d e-filing(s) in core.efiling", len(rows))
    return len(rows)


def resolve_amendment_chains(conn: psycopg.Connection) -> None:
    """Set ``superseded_by_filing_id`` on every filing of a chain to the chain's latest filing.

    A chain is the set of filings linked by ``amends_filing_id`` to one root (the original, which may
    not be in the table). The latest is the highest filing id; it is superseded by nothing.
    """
    conn.execute(
        """
        WITH RECURSIVE up(filing_id, root) AS (
            SELECT filing_id, COALESCE(amends_filing_id, filing_id) FROM core.efiling
            UNION
            SELECT u.filing_id, COALESCE(e.amends_filing_id, e.filing_id)
              FROM up u JOIN core.efiling e ON e.filing_id = u.root AND e.amends_filing_id IS NOT NULL
        ), roots AS (
            -- the root of a filing is the end of its chain: the one id with no further step
            SELECT DISTINCT ON (u.filing_id) u.filing_id, u.root
              FROM up u
             WHERE NOT EXISTS (SELECT 1 FROM core.efiling e WHERE e.filing_id = u.root AND e.amends_filing_id IS NOT NULL)
             ORDER BY u.filing_id
        ), latest AS (
            SELECT root, max(filing_id) AS latest FROM roots GROUP BY root
        )
        UPDATE core.efiling e
           SET superseded_by_filing_id = NULLIF(l.latest, e.filing_id)
          FROM roots r JOIN latest l USING (root)
         WHERE e.filing_id = r.filing_id
           AND e.superseded_by_filing_id IS DISTINCT FROM NULLIF(l.latest, e.filing_id)
        """
    )


_SUMMARY_SQL = f"""
    INSERT INTO core.efiling_summary (filing_id, line, field, label, rule, summary_amount,
        itemized_amount, itemized_rows, status)
    SELECT f.filing_id, %(line)s, %(field)s, %(label)s, %(rule)s, s.amount,
           CASE WHEN %(rule)s = 'equal' THEN COALESCE(i.amount, 0) END,
           CASE WHEN %(rule)s = 'equal' THEN COALESCE(i.n, 0) END,
           CASE WHEN s.amount IS NULL THEN 'missing'
                WHEN %(rule)s <> 'equal' THEN 'kept'
                WHEN s.amount = COALESCE(i.amount, 0) THEN 'match'
                ELSE 'mismatch' END
      FROM core.efiling f
      JOIN staging.efiling_line fl ON fl.filing_id = f.filing_id AND fl.record_type = f.form_type
       AND fl.line_number = (SELECT min(line_number) FROM staging.efiling_line x
                              WHERE x.filing_id = f.filing_id AND x.record_type = f.form_type)
      CROSS JOIN LATERAL (
          SELECT CASE WHEN fl.fields->>%(field)s ~ {_AMOUNT}
                      THEN (fl.fields->>%(field)s)::numeric END AS amount) s
      LEFT JOIN LATERAL (
          SELECT sum((l.fields->>%(amount_field)s)::numeric) AS amount, count(*) AS n
            FROM staging.efiling_line l
           WHERE l.filing_id = f.filing_id AND upper(l.record_type) = ANY(%(schedules)s)
             AND upper(COALESCE(l.fields->>%(memo)s, '')) <> 'X'
             AND l.fields->>%(amount_field)s ~ {_AMOUNT}) i ON true
     WHERE f.filing_id = ANY(%(ids)s) AND f.report_family = %(family)s
    """  # noqa: S608 - constants only


def write_summaries(conn: psycopg.Connection, filing_ids: Sequence[int]) -> None:
    """Rewrite ``core.efiling_summary`` for these filings: summary amount, itemized sum, status."""
    conn.execute("DELETE FROM core.efiling_summary WHERE filing_id = ANY(%s)", (list(filing_ids),))
    for family, lines in SUMMARY_LINES.items():
        for line in lines:
            schedules = [s.upper() for s in line.schedules]
            amount_field = SCHEDULE_AMOUNT_FIELDS["SA"]
            conn.execute(
                _SUMMARY_SQL,
                {
                    "line": line.line,
                    "field": line.field,
                    "label": line.label,
                    "rule": line.rule,
                    "schedules": schedules or ["-"],
                    "amount_field": amount_field,
                    "memo": MEMO_FIELD,
                    "ids": list(filing_ids),
                    "family": family,
                },
            )


def summary_rows(conn: psycopg.Connection, filing_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The reconciliation table (one row per filing and summary line), for checks, the CLI and docs."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT s.filing_id, f.form_type, f.committee_id, s.line, s.label, s.rule, s.summary_amount, "
            "s.itemized_amount, s.itemized_rows, s.status FROM core.efiling_summary s "
            "JOIN core.efiling f USING (filing_id) WHERE %(ids)s::bigint[] IS NULL OR s.filing_id = ANY(%(ids)s) "
            "ORDER BY s.filing_id, s.line",
            {"ids": list(filing_ids) if filing_ids is not None else None},
        )
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
