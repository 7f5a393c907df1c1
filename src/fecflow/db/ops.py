"""Bookkeeping in ``ops``: runs, per-stage audits, source files, the pipeline lock.

These writes go through their own (autocommit) connection so a start row is visible before the
work begins and survives a rolled-back work transaction: resume and replay are queries over them.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from fecflow import __version__
from fecflow.errors import LockHeld
from fecflow.log import redact_secrets

PIPELINE_LOCK_KEY = 0x0FEC_F10A  # one advisory lock for all writing runs


def start_run(
    conn: psycopg.Connection, command: str, args: dict[str, Any], *, resumed_from: int | None = None
) -> int:
    row = conn.execute(
        "INSERT INTO ops.ingest_run (command, args, hostname, pid, fecflow_version, resumed_from_run_id) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING run_id",
        (command, Jsonb(args), socket.gethostname(), os.getpid(), __version__, resumed_from),
    ).fetchone()
    assert row is not None
    _commit(conn)
    return int(row[0])


def finish_run(conn: psycopg.Connection, run_id: int, status: str, error: str | None = None) -> None:
    conn.execute(
        "UPDATE ops.ingest_run SET status = %s, error = %s, finished_at = now() WHERE run_id = %s",
        (status, redact_secrets(error) if error else error, run_id),
    )
    _commit(conn)


def start_audit(
    conn: psycopg.Connection,
    run_id: int,
    stage: str,
    *,
    scope: str = "",
    source_file_id: int | None = None,
) -> int:
    row = conn.execute(
        "INSERT INTO ops.ingest_run_audits (run_id, stage, scope, source_file_id) VALUES (%s, %s, %s, %s) "
        "RETURNING audit_id",
        (run_id, stage, scope, source_file_id),
    ).fetchone()
    assert row is not None
    _commit(conn)
    return int(row[0])


def resume_chain(conn: psycopg.Connection, run_id: int) -> list[int]:
    """``run_id`` and the runs it resumed, transitively (``resumed_from_run_id``), newest first.

    A resumed run continues the one it resumes: together they did the work of one logical run.
    """
    rows = conn.execute(
        """
        WITH RECURSIVE chain(run_id, resumed_from_run_id, depth) AS (
            SELECT run_id, resumed_from_run_id, 0 FROM ops.ingest_run WHERE run_id = %s
            UNION ALL
            SELECT r.run_id, r.resumed_from_run_id, c.depth + 1
            FROM ops.ingest_run r JOIN chain c ON r.run_id = c.resumed_from_run_id
        )
        SELECT run_id FROM chain ORDER BY depth
        """,
        (run_id,),
    ).fetchall()
    return [int(r[0]) for r in rows]


AUDIT_FIELDS = (
    "lines_read",
    "rows_loaded",
    "rows_rejected",
    "sha256",
    "bytes",
    "window_start",
    "window_end",
    "counts",
    "validation",
    "error",
)


def finish_audit(conn: psycopg.Connection, audit_id: int, status: str, **fields: Any) -> None:
    unknown = set(fields) - set(AUDIT_FIELDS)
    if unknown:
        raise ValueError(f"unknown audit fields: {sorted(unknown)}")
    assignments = ["status = %s", "finished_at = now()"]
    values: list[Any] = [status]
    for name in AUDIT_FIELDS:
        if name in fields:
            assignments.append(f"{name} = %s")
            value = fields[name]
            if name == "error" and isinstance(value, str):
                value = redact_secrets(value)
            values.append(Jsonb(value) if name in ("counts", "validation") and value is not None else value)
    values.append(audit_id)
    conn.execute(
        f"UPDATE ops.ingest_run_audits SET {', '.join(assignments)} WHERE audit_id = %s",  # noqa: S608 - fixed names
        values,
    )
    _commit(conn)


@dataclass(frozen=True)
class SourceFileRecord:
    source_file_id: int
    url: str
    cycle: int | None
    file_type: str
    status: str
    bytes: int | None
    sha256: str | None
    etag: str | None
    last_modified: str | None
    storage_uri: str | None
    fetched_at: dt.datetime
    member: str | None = None


SOURCE_FILE_COLUMNS = (
    "url",
    "cycle",
    "file_type",
    "member",
    "status",
    "http_status",
    "bytes",
    "sha256",
    "etag",
    "last_modified",
    "attempts",
    "elapsed_s",
    "storage_uri",
    "run_id",
)


def record_source_file(conn: psycopg.Connection, **fields: Any) -> int:
    unknown = set(fields) - set(SOURCE_FILE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown source_file fields: {sorted(unknown)}")
    names = [c for c in SOURCE_FILE_COLUMNS if c in fields]
    placeholders = ", ".join(["%s"] * len(names))
    row = conn.execute(
        f"INSERT INTO ops.source_file ({', '.join(names)}) VALUES ({placeholders}) "  # noqa: S608 - fixed names
        "RETURNING source_file_id",
        [fields[n] for n in names],
    ).fetchone()
    assert row is not None
    _commit(conn)
    return int(row[0])


def last_usable_source_file(conn: psycopg.Connection, url: str) -> SourceFileRecord | None:
    """The newest version of ``url`` that was downloaded and verified (never a failed one)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT source_file_id, url, cycle, file_type, status, bytes, sha256, etag, last_modified, "
            "storage_uri, fetched_at, member FROM ops.source_file "
            "WHERE url = %s AND status IN ('downloaded', 'local') AND sha256 IS NOT NULL "
            "ORDER BY fetched_at DESC, source_file_id DESC LIMIT 1",
            (url,),
        ).fetchone()
    return SourceFileRecord(**row) if row else None


def acquire_pipeline_lock(conn: psycopg.Connection, run_id: int | None = None) -> None:
    """Take the session-level advisory lock that serializes writing runs, or raise LockHeld.

    The lock lives as long as ``conn``'s session: keep that connection open for the whole run.
    """
    got = conn.execute("SELECT pg_try_advisory_lock(%s)", (PIPELINE_LOCK_KEY,)).fetchone()
    _commit(conn)
    if got and got[0]:
        return
    try:
        holder = conn.execute(
            "SELECT r.run_id, r.command, r.started_at, r.pid FROM ops.ingest_run r "
            "WHERE r.status = 'running' AND (%s::bigint IS NULL OR r.run_id <> %s) "
            "ORDER BY r.started_at DESC LIMIT 1",
            (run_id, run_id),
        ).fetchone()
    except psycopg.errors.UndefinedTable:  # a database not migrated yet: `db upgrade` holds the lock
        holder = None
    if not conn.autocommit:
        conn.rollback()
    if holder:
        detail = f"run {holder[0]} (`{holder[1]}`, pid {holder[3]}, started {holder[2]:%Y-%m-%d %H:%M:%S %Z})"
    else:
        detail = "another fecflow process"
    raise LockHeld(
        f"Another fecflow run is writing to this database: {detail}.",
        hint=f"Wait for it to finish, or inspect it with `fecflow runs show {holder[0]}`."
        if holder
        else "Wait for it to finish, or check `fecflow runs`.",
    )


def release_pipeline_lock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (PIPELINE_LOCK_KEY,))
    _commit(conn)


def _commit(conn: psycopg.Connection) -> None:
    if not conn.autocommit:
        conn.commit()
