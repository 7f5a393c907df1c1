"""Queries over ``ops`` for `fecflow runs`: what ran, per-stage status, counts, validations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

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
    return [RunRow(**r) for r in ops.recent_runs(conn, last)]


def get_run(conn: psycopg.Connection, run_id: int) -> RunRow:
    row = ops.run_record(conn, run_id)
    if row is None:
        raise DataError(f"There is no run {run_id}.", hint="List runs with `fecflow runs`.")
    return RunRow(**row)


def run_audits(conn: psycopg.Connection, run_id: int) -> list[dict[str, Any]]:
    return ops.run_audits(conn, run_id)
