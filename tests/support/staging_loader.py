"""Stage real FEC sample files for normalization tests, through the real stage step.

``register_local_file`` records the file (``status='local'``) and ``stage_source_file`` COPYs it
into ``staging.<type>`` with its audited batches, exactly as ``fecflow stage`` does.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterable
from pathlib import Path

import psycopg

from fecflow.catalog import FILES
from fecflow.db import ops
from fecflow.staging.load import stage_source_file
from fecflow.staging.payload import register_local_file


def read_sample_lines(path: Path) -> list[bytes]:
    """The lines of a sample file (``.gz`` transparently), without their LF."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    lines = data.split(b"\n")
    return lines[:-1] if data.endswith(b"\n") else lines


def write_lines(path: Path, lines: Iterable[bytes]) -> Path:
    """Write ``lines`` (LF-terminated) to ``path`` (gzip when it ends in .gz)."""
    payload = b"".join(line + b"\n" for line in lines)
    path.write_bytes(gzip.compress(payload, compresslevel=1) if path.suffix == ".gz" else payload)
    return path


def stage_file(
    conn: psycopg.Connection,
    db_url: str,
    path: Path,
    *,
    file_type: str,
    cycle: int,
    run_id: int | None = None,
    fetched_at: dt.datetime | None = None,
    workers: int = 1,
) -> int:
    """Register ``path`` as a local source file of ``cycle`` and stage it; return its source_file_id."""
    if run_id is None:
        run_id = ops.start_run(conn, "stage", {"path": str(path), "file_type": file_type})
    source_file_id = register_local_file(conn, path, file_type=file_type, cycle=cycle, run_id=run_id)
    if fetched_at is not None:
        conn.execute(
            "UPDATE ops.source_file SET fetched_at = %s WHERE source_file_id = %s", (fetched_at, source_file_id)
        )
        conn.commit()
    result = stage_source_file(
        db_url, run_id=run_id, source_file_id=source_file_id, spec=FILES[file_type], path=path, workers=workers
    )
    assert result.lines == result.loaded + result.rejected
    return source_file_id
