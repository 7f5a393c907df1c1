"""Faults injected into a clone of the real sample, each the way it happens in production."""

from __future__ import annotations

from decimal import Decimal

from psycopg import sql

from integration.checks.sample_db import Sample


def last_stage_batch(sample: Sample, file_type: str) -> int:
    row = sample.conn.execute(
        "SELECT audit_id FROM ops.ingest_run_audits WHERE stage = 'stage' AND source_file_id = %s "
        "AND status = 'succeeded' ORDER BY (counts->>'first_line')::bigint DESC LIMIT 1",
        (sample.sfid(file_type),),
    ).fetchone()
    assert row is not None
    return int(row[0])


def lines_read(sample: Sample, file_type: str) -> int:
    row = sample.conn.execute(
        "SELECT sum(lines_read) FROM ops.ingest_run_audits WHERE stage = 'stage' AND source_file_id = %s "
        "AND status = 'succeeded'",
        (sample.sfid(file_type),),
    ).fetchone()
    assert row is not None
    return int(row[0])


def truncate_staged(sample: Sample, file_type: str, keep: int) -> int:
    """Rows after line ``keep`` vanish from staging while the audit still counts them (a lost tail)."""
    return sample.execute(
        sql.SQL("DELETE FROM {} WHERE _source_file_id = %s AND _line_number > %s")
        .format(sql.Identifier("staging", file_type))
        .as_string(sample.conn),
        (sample.sfid(file_type), keep),
    )


def add_field_count_rejects(sample: Sample, file_type: str, count: int) -> None:
    """``count`` more lines at the end of the file, rejected for a missing field, audits kept balanced.

    Their raw bytes are real lines of the file with the last field cut off.
    """
    sfid, audit_id, total = (
        sample.sfid(file_type),
        last_stage_batch(sample, file_type),
        lines_read(sample, file_type),
    )
    table = sql.Identifier("staging", file_type)
    first_columns = sql.SQL(", ").join(sql.Identifier(c) for c in _staging_columns(sample, file_type)[:-1])
    sample.execute(
        sql.SQL(
            "INSERT INTO ops.rejected_row (source_file_id, audit_id, line_number, reason, detail, raw) "
            "SELECT %s, %s, %s + s._line_number, 'field_count', 'expected more fields', "
            "convert_to(concat_ws('|', {cols}), 'UTF8') FROM {t} s WHERE s._source_file_id = %s AND s._line_number <= %s"
        )
        .format(cols=first_columns, t=table)
        .as_string(sample.conn),
        (sfid, audit_id, total, sfid, count),
    )
    sample.execute(
        "UPDATE ops.ingest_run_audits SET lines_read = lines_read + %s, rows_rejected = rows_rejected + %s "
        "WHERE audit_id = %s",
        (count, count, audit_id),
    )


def _staging_columns(sample: Sample, file_type: str) -> list[str]:
    rows = sample.conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'staging' AND table_name = %s "
        "AND column_name NOT LIKE '\\_%%' ORDER BY ordinal_position",
        (file_type,),
    ).fetchall()
    return [r[0] for r in rows]


def indiv_sub_ids(sample: Sample, count: int, *, offset: int = 1000) -> list[int]:
    """Real SUB_IDs of counted indiv rows (stable: by line number)."""
    rows = sample.conn.execute(
        "SELECT s.sub_id::bigint FROM staging.indiv s JOIN core.contribution c ON c.sub_id = s.sub_id::bigint "
        "WHERE s._source_file_id = %s AND c.counts_as_contribution ORDER BY s._line_number OFFSET %s LIMIT %s",
        (sample.sfid("indiv"), offset, count),
    ).fetchall()
    return [int(r[0]) for r in rows]


def core_amount(sample: Sample, sub_ids: list[int]) -> Decimal:
    row = sample.conn.execute(
        "SELECT coalesce(sum(amount), 0) FROM core.contribution WHERE sub_id = ANY(%s)", (sub_ids,)
    ).fetchone()
    assert row is not None
    return Decimal(row[0])
