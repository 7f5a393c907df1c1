"""The real early-2020 FEC sample, staged, normalized and scored once per test session.

Everything goes through the real steps: ``register_local_file`` + ``stage_source_file`` (via
``support.staging_loader.stage_file``), ``normalize_cycle`` and ``compute_scores``, so the audits,
core rows and scores the checks read are the ones the pipeline writes.

Tests get a copy of the resulting database (``CREATE DATABASE ... TEMPLATE``) and inject faults into it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from fecflow.db import ops
from fecflow.normalize.step import normalize_cycle
from fecflow.scores import compute_scores
from support.samples import SAMPLES
from support.staging_loader import stage_file

EARLY_2020 = SAMPLES / "bulk-2020-early-snapshot-2019-03" / "extracted"
EARLY_AT = dt.datetime(2019, 3, 19, 12, 0, tzinfo=dt.UTC)
CYCLE = 2020
SCORES_AS_OF = dt.date(2019, 3, 31)
FILES = {
    "cn": "cn.txt",
    "cm": "cm.txt",
    "ccl": "ccl.txt",
    "indiv": "itcont.txt.gz",
    "pas2": "itpas2.txt",
    "oth": "itoth.txt.gz",
    "weball": "weball20.txt",
    "webk": "webk20.txt",
}
NORMALIZED = ("cn", "cm", "ccl", "indiv", "pas2", "oth")


@dataclass(frozen=True)
class SampleIds:
    run_id: int  # the run that staged, normalized and scored the sample
    source_files: dict[str, int]  # file type -> source_file_id
    scores_method: str


def build_sample(conn: psycopg.Connection, db_url: str) -> SampleIds:
    run_id = ops.start_run(conn, "backfill", {"cycles": [CYCLE], "test": "checks sample"})
    source_files = {
        ft: stage_file(
            conn, db_url, EARLY_2020 / name, file_type=ft, cycle=CYCLE, run_id=run_id, fetched_at=EARLY_AT
        )
        for ft, name in FILES.items()
    }
    normalize_cycle(conn, run_id=run_id, cycle=CYCLE)
    result = compute_scores(conn, run_id=run_id, as_of=SCORES_AS_OF)
    conn.commit()
    ops.finish_run(conn, run_id, "succeeded")
    return SampleIds(run_id, source_files, result.method_version)


# --- what a test gets ----------------------------------------------------------------------------------
@dataclass
class Sample:
    """A connection to a copy of the sample. With ``rollback_faults`` the test's faults live in one
    transaction that is rolled back afterwards (the check functions only read); otherwise they are
    committed (for gates, runners and the CLI, which commit or use other connections)."""

    url: str
    conn: psycopg.Connection
    ids: SampleIds
    rollback_faults: bool = False

    def sfid(self, file_type: str) -> int:
        return self.ids.source_files[file_type]

    def new_run(self, command: str = "test-gate") -> int:
        return ops.start_run(self.conn, command, {})

    def execute(self, query: str, params: Any = None) -> int:
        """Run a fault-injecting statement (committed unless ``rollback_faults``); return its row count."""
        cur = self.conn.execute(query, params)
        if not self.rollback_faults:
            self.conn.commit()
        return cur.rowcount
