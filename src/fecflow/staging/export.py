"""Rebuild a staged source file byte for byte: the fidelity check of the staging load.

Line *n* of the original payload is, in order of precedence:

1. ``ops.rejected_row.raw`` when line *n* was rejected (the raw bytes, a CR before the LF kept);
2. ``staging.raw_line.raw`` when it was re-encoded (not UTF-8) or ended in CRLF (original bytes, CR
   included);
3. otherwise its staging row: the raw columns joined with ``|``, NULL as the empty string.

Each line is followed by an LF, except the last one when the stage audit of the final batch says
``missing_final_newline``. The server assembles lines into chunks of :data:`LINES_PER_CHUNK` (``string_agg``
in line order), Python only checks that the line numbers are consecutive and writes the chunks, so
memory stays bounded. The sha256 of the result equals the payload sha256 recorded by the stage
audits, except when a ``line_too_long`` reject kept only the first MiB of its line (reported).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import psycopg
from psycopg import sql

from fecflow.catalog import FILES, FileSpec
from fecflow.db import ops
from fecflow.db.statements import one
from fecflow.errors import DataError

LINES_PER_CHUNK = 10_000
CHUNKS_PER_FETCH = 8


@dataclass(frozen=True)
class StagedFile:
    """What the stage audits say about a staged source file."""

    source_file_id: int
    spec: FileSpec
    lines: int
    missing_final_newline: bool
    payload_sha256: str | None
    source_file_sha256: str | None
    truncated_lines: int  # line_too_long rejects whose raw bytes were cut: export cannot be exact


@dataclass(frozen=True)
class ExportResult:
    source_file_id: int
    lines: int
    bytes: int
    sha256: str
    payload_sha256: str | None  # from the stage audits (the text file, e.g. the zip member)
    source_file_sha256: str | None  # from ops.source_file (the stored file, e.g. the zip)
    truncated_lines: int

    @property
    def matches(self) -> bool | None:
        """Whether the export is the payload, byte for byte (None when no sha256 was recorded)."""
        expected = self.payload_sha256 or self.source_file_sha256
        return None if expected is None else expected == self.sha256


def describe_staged_file(conn: psycopg.Connection, source_file_id: int) -> StagedFile:
    """The staged extent of a source file; raises DataError unless it is fully staged."""
    row = one(
        conn,
        "SELECT file_type, sha256 FROM ops.source_file WHERE source_file_id = %(id)s", {"id": source_file_id}
    )
    if row is None:
        raise DataError(f"Source file {source_file_id} is not recorded in ops.source_file.")
    spec = FILES.get(row["file_type"])
    if spec is None:
        raise DataError(
            f"Source file {source_file_id} has file type {row['file_type']!r}, unknown to the catalog."
        )
    batches = sorted(ops.current_batches(conn, source_file_id), key=_first_line)
    if not batches or not any(b.counts.get("eof") for b in batches):
        raise DataError(
            f"Source file {source_file_id} is not fully staged.",
            hint=f"Stage it first: `fecflow stage` (see `fecflow runs` for the source file {source_file_id}).",
        )
    truncated = one(
        conn,
        "SELECT count(*) AS lines FROM ops.rejected_row WHERE source_file_id = %(id)s "
        "AND reason = 'line_too_long'",
        {"id": source_file_id},
    )
    conn.commit()
    last = max(batches, key=lambda b: int(b.counts.get("last_line", 0))).counts
    return StagedFile(
        source_file_id=source_file_id,
        spec=spec,
        lines=sum(int(b.lines_read or 0) for b in batches),
        missing_final_newline=bool(last.get("missing_final_newline")),
        payload_sha256=next((b.sha256 for b in batches if b.sha256), None),
        source_file_sha256=row["sha256"],
        truncated_lines=int(truncated["lines"]) if truncated else 0,
    )


def _first_line(batch: ops.StageBatch) -> float:
    """Batches in payload order (one without a first line last, as SQL sorts NULL)."""
    first = batch.counts.get(ops.CountKey.FIRST_LINE)
    return float("inf") if first is None else int(first)


def _chunks_query(spec: FileSpec) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(c.staging_name) for c in spec.columns)
    return sql.SQL(
        "SELECT count(*), min(n), max(n), string_agg(line, ''::bytea ORDER BY n) FROM ("
        "  SELECT s._line_number AS n, convert_to(array_to_string(ARRAY[{columns}], '|', ''), 'UTF8') "
        "         || '\\x0a'::bytea AS line"
        "    FROM {table} s WHERE s._source_file_id = %(id)s AND NOT EXISTS ("
        "      SELECT 1 FROM staging.raw_line r WHERE r.source_file_id = %(id)s AND r.line_number = s._line_number)"
        "  UNION ALL SELECT line_number, raw || '\\x0a'::bytea FROM staging.raw_line WHERE source_file_id = %(id)s"
        "  UNION ALL SELECT line_number, raw || '\\x0a'::bytea FROM ops.rejected_row WHERE source_file_id = %(id)s"
        ") lines GROUP BY (n - 1) / %(chunk)s ORDER BY (n - 1) / %(chunk)s"
    ).format(columns=columns, table=sql.Identifier("staging", spec.staging_table))


def iter_export(
    conn: psycopg.Connection, source_file_id: int, *, staged: StagedFile | None = None
) -> Iterator[bytes]:
    """The original payload bytes of a fully staged source file, in chunks, in line order.

    Raises DataError when a line is missing or duplicated (the staging rows do not cover the file).
    """
    staged = staged or describe_staged_file(conn, source_file_id)
    expected_next = 1
    pending = b""
    with conn.transaction(), conn.cursor(name=f"fecflow_export_{source_file_id}") as cur:
        cur.itersize = CHUNKS_PER_FETCH
        cur.execute(_chunks_query(staged.spec), {"id": source_file_id, "chunk": LINES_PER_CHUNK})
        for count, first, last, data in cur:
            if first != expected_next or last - first + 1 != count:
                raise DataError(
                    f"Source file {source_file_id}: staged lines {first}-{last} ({count} rows) do not follow "
                    f"line {expected_next - 1}; staging, rejects and raw lines are inconsistent.",
                    hint="Stage the file again with --replace.",
                )
            expected_next = last + 1
            if pending:
                yield pending
            pending = bytes(data)
    if expected_next - 1 != staged.lines:
        raise DataError(
            f"Source file {source_file_id}: {expected_next - 1} lines staged, the stage audits count {staged.lines}."
        )
    if pending:
        yield pending[:-1] if staged.missing_final_newline else pending


def export_source_file(conn: psycopg.Connection, source_file_id: int, out: BinaryIO) -> ExportResult:
    """Write the rebuilt payload to ``out``; return its sha256 next to the recorded ones."""
    staged = describe_staged_file(conn, source_file_id)
    hasher = hashlib.sha256()
    size = 0
    for chunk in iter_export(conn, source_file_id, staged=staged):
        hasher.update(chunk)
        size += len(chunk)
        out.write(chunk)
    return ExportResult(
        source_file_id=source_file_id,
        lines=staged.lines,
        bytes=size,
        sha256=hasher.hexdigest(),
        payload_sha256=staged.payload_sha256,
        source_file_sha256=staged.source_file_sha256,
        truncated_lines=staged.truncated_lines,
    )
