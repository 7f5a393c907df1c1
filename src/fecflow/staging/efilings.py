"""Stage one e-filing: every line into ``staging.efiling_line`` (parsed) or ``staging.efiling_reject``
(quarantined, with its reason), one ``staging.efiling`` row, one audit row; and rebuild it byte for byte.

A filing is one unit: its audit row (``stage='stage-efiling'``, scope ``efiling:<id>``) is written and
committed before the work; the lines, the filing row and the audit's finish (lines = parsed +
rejected, sha256, bytes) commit together, or the audit is marked failed. A filing whose sha256 equals
the staged one is skipped; different bytes under the same filing id replace the staged lines (the old
sha256 is kept in the audit counts).

A filing in an unknown format version (or without a readable header) is staged as ``quarantined``:
all its lines go to the rejects with the reason, so nothing is lost and export still rebuilds it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import psycopg
from psycopg.types.json import Jsonb

from fecflow.db import ops
from fecflow.errors import DataError
from fecflow.parse.efiling import ParsedFiling, parse_filing

log = logging.getLogger(__name__)

STAGE = ops.Stage.STAGE_EFILING


@dataclass(frozen=True)
class StagedFiling:
    filing_id: int
    status: str  # staged | quarantined | skipped
    version: str | None
    lines: int
    parsed: int
    rejected: int
    sha256: str
    bytes: int
    error: str | None
    audit_id: int | None


def stage_filing(
    conn: psycopg.Connection,
    *,
    run_id: int,
    source_file_id: int,
    filing_id: int,
    member: str | None,
    data: bytes,
) -> StagedFiling:
    """Stage one filing's bytes (see the module docstring); returns what was staged or skipped."""
    sha256 = hashlib.sha256(data).hexdigest()
    scope = f"efiling:{filing_id}"
    previous = conn.execute(
        "SELECT sha256, version, lines, parsed, rejected, status, error FROM staging.efiling WHERE filing_id = %s",
        (filing_id,),
    ).fetchone()
    conn.commit()
    if previous is not None and previous[0] == sha256:
        audit_id = ops.start_audit(conn, run_id, STAGE, scope=ops.NamedScope(scope), source_file_id=source_file_id)
        ops.finish_audit(conn, audit_id, "skipped", sha256=sha256, bytes=len(data),
                         counts={"reason": "same sha256 already staged"})
        return StagedFiling(filing_id, "skipped", previous[1], previous[2], previous[3], previous[4], sha256,
                            len(data), previous[6], audit_id)

    audit_id = ops.start_audit(conn, run_id, STAGE, scope=ops.NamedScope(scope), source_file_id=source_file_id)
    try:
        filing = parse_filing(data)
        status = "quarantined" if filing.error else "staged"
        # One transaction: the lines, the filing row and the audit's finish commit together
        # (finish_audit commits), or nothing does.
        if previous is not None:
            conn.execute("DELETE FROM staging.efiling WHERE filing_id = %s", (filing_id,))
        _insert(conn, filing_id, source_file_id, member, filing, status, audit_id)
        counts = {
            "filing_id": filing_id,
            "member": member,
            "version": filing.version,
            "status": status,
            "rejects_by_reason": _by_reason(filing),
            **({"replaced_sha256": previous[0]} if previous is not None else {}),
        }
        ops.finish_audit(
            conn, audit_id, "succeeded", lines_read=len(filing.lines), rows_loaded=filing.parsed,
            rows_rejected=filing.rejected, sha256=sha256, bytes=len(data), counts=counts,
            error=filing.error,
        )
    except Exception as exc:
        conn.rollback()
        ops.finish_audit(conn, audit_id, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    log.info(
        "staged e-filing %s (%s, version %s): %d lines, %d parsed, %d quarantined",
        filing_id, status, filing.version, len(filing.lines), filing.parsed, filing.rejected,
    )
    return StagedFiling(filing_id, status, filing.version, len(filing.lines), filing.parsed, filing.rejected,
                        sha256, len(data), filing.error, audit_id)


def _by_reason(filing: ParsedFiling) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in filing.lines:
        if line.reason:
            out[line.reason] = out.get(line.reason, 0) + 1
    return out


def _insert(
    conn: psycopg.Connection,
    filing_id: int,
    source_file_id: int,
    member: str | None,
    filing: ParsedFiling,
    status: str,
    audit_id: int,
) -> None:
    conn.execute(
        "INSERT INTO staging.efiling (filing_id, source_file_id, member, version, header, sha256, bytes, lines, "
        "parsed, rejected, status, error, audit_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (filing_id, source_file_id, member, filing.version, Jsonb(filing.header), filing.sha256, filing.bytes,
         len(filing.lines), filing.parsed, filing.rejected, status, filing.error, audit_id),
    )
    with conn.cursor() as cur:
        with cur.copy(
            "COPY staging.efiling_line (filing_id, line_number, record_type, version, fields, raw, recoded) "
            "FROM STDIN"
        ) as copy:
            for line in filing.lines:
                if not line.rejected:
                    copy.write_row((filing_id, line.line_number, line.record_type, filing.version,
                                    Jsonb(line.fields), line.raw, line.recoded))
        with cur.copy(
            "COPY staging.efiling_reject (filing_id, line_number, record_type, reason, detail, raw) FROM STDIN"
        ) as copy:
            for line in filing.lines:
                if line.rejected:
                    copy.write_row((filing_id, line.line_number, line.record_type, line.reason, line.detail,
                                    line.raw))
    written = conn.execute(
        "SELECT (SELECT count(*) FROM staging.efiling_line WHERE filing_id = %(id)s), "
        "(SELECT count(*) FROM staging.efiling_reject WHERE filing_id = %(id)s)",
        {"id": filing_id},
    ).fetchone()
    assert written is not None
    if (int(written[0]), int(written[1])) != (filing.parsed, filing.rejected):
        raise DataError(
            f"E-filing {filing_id}: wrote {written[0]} lines and {written[1]} rejects, "
            f"expected {filing.parsed} and {filing.rejected}."
        )


# --- export: the fidelity check -------------------------------------------------------------------
@dataclass(frozen=True)
class FilingExport:
    filing_id: int
    lines: int
    bytes: int
    sha256: str
    staged_sha256: str

    @property
    def matches(self) -> bool:
        return self.sha256 == self.staged_sha256


def iter_filing_bytes(conn: psycopg.Connection, filing_id: int) -> Iterator[bytes]:
    """The filing's lines in order, parsed and quarantined together (DataError on a gap)."""
    expected = 1
    with conn.cursor(name=f"fecflow_export_efiling_{filing_id}") as cur:
        cur.itersize = 2000
        cur.execute(
            "SELECT line_number, raw FROM staging.efiling_line WHERE filing_id = %(id)s "
            "UNION ALL SELECT line_number, raw FROM staging.efiling_reject WHERE filing_id = %(id)s "
            "ORDER BY 1",
            {"id": filing_id},
        )
        for line_number, raw in cur:
            if line_number != expected:
                raise DataError(f"E-filing {filing_id}: line {expected} is missing from staging.")
            expected += 1
            yield bytes(raw)


def export_filing(conn: psycopg.Connection, filing_id: int, out: BinaryIO) -> FilingExport:
    """Write the staged filing to ``out`` and compare its sha256 with the one recorded at staging."""
    row = conn.execute("SELECT sha256, lines FROM staging.efiling WHERE filing_id = %s", (filing_id,)).fetchone()
    if row is None:
        raise DataError(
            f"E-filing {filing_id} is not staged.",
            hint="Fetch and stage it first: fecflow fetch-efilings --filing-id N (or --date of its day).",
        )
    staged_sha256, lines = row
    hasher = hashlib.sha256()
    size = count = 0
    for chunk in iter_filing_bytes(conn, filing_id):
        hasher.update(chunk)
        size += len(chunk)
        count += 1
        out.write(chunk)
    conn.commit()
    if count != lines:
        raise DataError(f"E-filing {filing_id}: {count} lines in staging, {lines} recorded.")
    return FilingExport(filing_id, count, size, hasher.hexdigest(), staged_sha256)
