"""Bookkeeping in ``ops``: runs, per-stage audit rows, source files, the pipeline lock.

These writes go through their own (autocommit) connection so a start row is visible before the
work begins and survives a rolled-back work transaction: resume and replay are queries over them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from fecflow import __version__
from fecflow.db.ops.vocabulary import Scope
from fecflow.db.statements import every, one
from fecflow.errors import LockHeld
from fecflow.log import redact_secrets

PIPELINE_LOCK_KEY = 0x0FEC_F10A  # one advisory lock for all writing runs
ABANDONED = "the process ended without finishing (killed?)"


# --- runs -------------------------------------------------------------------------------------------------
def start_run(
    conn: psycopg.Connection, command: str, args: Mapping[str, Any], *, resumed_from: int | None = None
) -> int:
    row = one(
        conn,
        "INSERT INTO ops.ingest_run (command, args, hostname, pid, fecflow_version, resumed_from_run_id) "
        "VALUES (%(command)s, %(args)s, %(hostname)s, %(pid)s, %(version)s, %(resumed_from)s) RETURNING run_id",
        {
            "command": command,
            "args": Jsonb(dict(args)),
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "version": __version__,
            "resumed_from": resumed_from,
        },
    )
    assert row is not None
    _commit(conn)
    return int(row["run_id"])


def finish_run(conn: psycopg.Connection, run_id: int, status: str, error: str | None = None) -> None:
    conn.execute(
        "UPDATE ops.ingest_run SET status = %(status)s, error = %(error)s, finished_at = now() "
        "WHERE run_id = %(run_id)s",
        {"status": status, "error": redact_secrets(error) if error else error, "run_id": run_id},
    )
    _commit(conn)


def mark_abandoned_runs(conn: psycopg.Connection, current_run_id: int) -> int:
    """With the pipeline lock held, any other 'running' run (and audit row) is dead: mark it so."""
    params = {"run_id": current_run_id, "error": ABANDONED}
    cur = conn.execute(
        "UPDATE ops.ingest_run SET status = 'interrupted', finished_at = now(), error = coalesce(error, %(error)s) "
        "WHERE status = 'running' AND run_id <> %(run_id)s",
        params,
    )
    conn.execute(
        "UPDATE ops.ingest_run_audits SET status = 'failed', finished_at = now(), error = coalesce(error, %(error)s) "
        "WHERE status = 'running' AND run_id <> %(run_id)s",
        params,
    )
    _commit(conn)
    return cur.rowcount


def resume_chain(conn: psycopg.Connection, run_id: int) -> list[int]:
    """``run_id`` and the runs it resumed, transitively (``resumed_from_run_id``), newest first.

    A resumed run continues the one it resumes: together they did the work of one logical run.
    """
    rows = every(
        conn,
        """
        WITH RECURSIVE chain(run_id, resumed_from_run_id, depth) AS (
            SELECT run_id, resumed_from_run_id, 0 FROM ops.ingest_run WHERE run_id = %(run_id)s
            UNION ALL
            SELECT r.run_id, r.resumed_from_run_id, c.depth + 1
            FROM ops.ingest_run r JOIN chain c ON r.run_id = c.resumed_from_run_id
        )
        SELECT run_id FROM chain ORDER BY depth
        """,
        {"run_id": run_id},
    )
    return [int(r["run_id"]) for r in rows]


def unfinished_run(conn: psycopg.Connection, command: str, args: Mapping[str, Any]) -> int | None:
    """The newest failed, interrupted or running run of ``command`` with exactly these arguments."""
    row = one(
        conn,
        "SELECT run_id FROM ops.ingest_run WHERE command = %(command)s AND args = %(args)s::jsonb "
        "AND status IN ('failed', 'interrupted', 'running') ORDER BY run_id DESC LIMIT 1",
        {"command": command, "args": json.dumps(dict(args))},
    )
    return int(row["run_id"]) if row else None


# --- audit rows -------------------------------------------------------------------------------------------
def start_audit(
    conn: psycopg.Connection,
    run_id: int,
    stage: str,
    *,
    scope: Scope | None = None,
    source_file_id: int | None = None,
) -> int:
    row = one(
        conn,
        "INSERT INTO ops.ingest_run_audits (run_id, stage, scope, source_file_id) "
        "VALUES (%(run_id)s, %(stage)s, %(scope)s, %(source_file_id)s) RETURNING audit_id",
        {
            "run_id": run_id,
            "stage": stage,
            "scope": "" if scope is None else str(scope),
            "source_file_id": source_file_id,
        },
    )
    assert row is not None
    _commit(conn)
    return int(row["audit_id"])


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
    "source_file_id",
)


def finish_audit(conn: psycopg.Connection, audit_id: int, status: str, **fields: Any) -> None:
    unknown = set(fields) - set(AUDIT_FIELDS)
    if unknown:
        raise ValueError(f"unknown audit fields: {sorted(unknown)}")
    names = [name for name in AUDIT_FIELDS if name in fields]
    values: dict[str, Any] = {
        name: Jsonb(fields[name])
        if name in ("counts", "validation") and fields[name] is not None
        else fields[name]
        for name in names
    }
    if isinstance(values.get("error"), str):  # an error text may quote a secret (an API key in a URL)
        values["error"] = redact_secrets(values["error"])
    assignments = [sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in names]
    conn.execute(
        sql.SQL("UPDATE ops.ingest_run_audits SET {} WHERE audit_id = %(audit_id)s").format(
            sql.SQL(", ").join([sql.SQL("status = %(status)s, finished_at = now()"), *assignments])
        ),
        {**values, "status": status, "audit_id": audit_id},
    )
    _commit(conn)


# --- source files -----------------------------------------------------------------------------------------
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
    row = one(
        conn,
        sql.SQL("INSERT INTO ops.source_file ({}) VALUES ({}) RETURNING source_file_id").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(map(sql.Placeholder, names))
        ),
        {n: fields[n] for n in names},
    )
    assert row is not None
    _commit(conn)
    return int(row["source_file_id"])


def last_usable_source_file(conn: psycopg.Connection, url: str) -> SourceFileRecord | None:
    """The newest version of ``url`` that was downloaded and verified (never a failed one)."""
    row = one(
        conn,
        "SELECT source_file_id, url, cycle, file_type, status, bytes, sha256, etag, last_modified, "
        "storage_uri, fetched_at, member FROM ops.source_file "
        "WHERE url = %(url)s AND status IN ('downloaded', 'local') AND sha256 IS NOT NULL "
        "ORDER BY fetched_at DESC, source_file_id DESC LIMIT 1",
        {"url": url},
    )
    return SourceFileRecord(**row) if row else None


def fetched_between(conn: psycopg.Connection, first: dt.date, last: dt.date) -> list[tuple[int, str]]:
    """The (cycle, file type) of every usable source file fetched from ``first`` to ``last`` (inclusive)."""
    rows = every(
        conn,
        "SELECT DISTINCT cycle, file_type FROM ops.source_file WHERE status IN ('downloaded', 'local') "
        "AND cycle IS NOT NULL AND fetched_at >= %(first)s AND fetched_at < %(after)s ORDER BY 1, 2",
        {"first": first, "after": last + dt.timedelta(days=1)},
    )
    return [(int(r["cycle"]), str(r["file_type"])) for r in rows]


# --- the pipeline lock ------------------------------------------------------------------------------------
def acquire_pipeline_lock(conn: psycopg.Connection, run_id: int | None = None) -> None:
    """Take the session-level advisory lock that serializes writing runs, or raise LockHeld.

    The lock lives as long as ``conn``'s session: keep that connection open for the whole run.
    """
    got = one(conn, "SELECT pg_try_advisory_lock(%(key)s) AS got", {"key": PIPELINE_LOCK_KEY})
    _commit(conn)
    if got and got["got"]:
        return
    try:
        holder = one(
            conn,
            "SELECT r.run_id, r.command, r.started_at, r.pid FROM ops.ingest_run r "
            "WHERE r.status = 'running' AND (%(run_id)s::bigint IS NULL OR r.run_id <> %(run_id)s) "
            "ORDER BY r.started_at DESC LIMIT 1",
            {"run_id": run_id},
        )
    except psycopg.errors.UndefinedTable:  # a database not migrated yet: `db upgrade` holds the lock
        holder = None
    if not conn.autocommit:
        conn.rollback()
    if holder:
        detail = (
            f"run {holder['run_id']} (`{holder['command']}`, pid {holder['pid']}, "
            f"started {holder['started_at']:%Y-%m-%d %H:%M:%S %Z})"
        )
    else:
        detail = "another fecflow process"
    raise LockHeld(
        f"Another fecflow run is writing to this database: {detail}.",
        hint=f"Wait for it to finish, or inspect it with `fecflow runs show {holder['run_id']}`."
        if holder
        else "Wait for it to finish, or check `fecflow runs`.",
    )


def release_pipeline_lock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_unlock(%(key)s)", {"key": PIPELINE_LOCK_KEY})
    _commit(conn)


def _commit(conn: psycopg.Connection) -> None:
    if not conn.autocommit:
        conn.commit()


# --- OpenFEC pulls ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiPull:
    pull_id: int
    cursor: dict[str, Any] | None  # the stored resume cursor (sources.openfec.Cursor.to_dict())
    pages: int
    rows: int
    status: str


def open_api_pull(conn: psycopg.Connection, endpoint: str, params: Mapping[str, Any]) -> ApiPull | None:
    """The newest unfinished pull of ``endpoint`` with exactly these filters."""
    row = one(
        conn,
        "SELECT pull_id, cursor, pages, rows, status FROM ops.api_pull WHERE endpoint = %(endpoint)s "
        "AND params = %(params)s AND status <> 'done' ORDER BY pull_id DESC LIMIT 1",
        {"endpoint": endpoint, "params": Jsonb(dict(params))},
    )
    return ApiPull(**row) if row else None


def start_api_pull(conn: psycopg.Connection, endpoint: str, params: Mapping[str, Any], run_id: int | None) -> int:
    row = one(
        conn,
        "INSERT INTO ops.api_pull (endpoint, params, run_id) VALUES (%(endpoint)s, %(params)s, %(run_id)s) "
        "RETURNING pull_id",
        {"endpoint": endpoint, "params": Jsonb(dict(params)), "run_id": run_id},
    )
    assert row is not None
    return int(row["pull_id"])


def advance_api_pull(
    conn: psycopg.Connection, pull_id: int, *, rows: int, cursor: dict[str, Any], done: bool
) -> int:
    """Count one more stored page (in the caller's transaction, with the page); return its number."""
    row = one(
        conn,
        "UPDATE ops.api_pull SET pages = pages + 1, rows = rows + %(rows)s, cursor = %(cursor)s, "
        "updated_at = now(), status = CASE WHEN %(done)s THEN 'done' ELSE 'running' END "
        "WHERE pull_id = %(pull_id)s RETURNING pages",
        {"rows": rows, "cursor": Jsonb(cursor), "done": done, "pull_id": pull_id},
    )
    assert row is not None
    return int(row["pages"])


def finish_api_pull(conn: psycopg.Connection, pull_id: int, *, done: bool) -> ApiPull:
    """Mark the pull done (when it reached the end) and return its totals."""
    if done:
        conn.execute(
            "UPDATE ops.api_pull SET status = 'done', updated_at = now() WHERE pull_id = %(pull_id)s",
            {"pull_id": pull_id},
        )
    row = one(
        conn,
        "SELECT pull_id, cursor, pages, rows, status FROM ops.api_pull WHERE pull_id = %(pull_id)s",
        {"pull_id": pull_id},
    )
    assert row is not None
    return ApiPull(**row)
