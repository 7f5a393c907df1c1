"""Queries over ``ops`` for `fecflow runs`: what ran, per-stage status, counts, validations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fecflow.db import ops
from fecflow.errors import DataError


@dataclass(frozen=True)
class RunRow:
    run_id: int
    command: str
    args: dict[str, Any]
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None
    resumed_from_run_id: int | None

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def list_runs(conn: psycopg.Connection, last: int = 20) -> list[RunRow]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT run_id, command, args, status, started_at, finished_at, error, resumed_from_run_id "
            "FROM ops.ingest_run ORDER BY run_id DESC LIMIT %s",
            (last,),
        ).fetchall()
    return [RunRow(**r) for r in rows]


def get_run(conn: psycopg.Connection, run_id: int) -> RunRow:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT run_id, command, args, status, started_at, finished_at, error, resumed_from_run_id "
            "FROM ops.ingest_run WHERE run_id = %s",
            (run_id,),
        ).fetchone()
    if row is None:
        raise DataError(f"There is no run {run_id}.", hint="List runs with `fecflow runs`.")
    return RunRow(**row)


def run_audits(conn: psycopg.Connection, run_id: int) -> list[dict[str, Any]]:
    return ops.run_audits(conn, run_id)
