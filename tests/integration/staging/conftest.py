"""Helpers for the staging tests: register and stage a file, export it back, check the books."""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

_TESTS = Path(__file__).resolve().parents[2]
if str(_TESTS) not in sys.path:  # make `support` importable however pytest was started
    sys.path.insert(0, str(_TESTS))

from fecflow.catalog import FILES  # noqa: E402
from fecflow.db import ops  # noqa: E402
from fecflow.staging.export import export_source_file  # noqa: E402
from fecflow.staging.load import StageResult, stage_source_file  # noqa: E402
from fecflow.staging.payload import Payload, register_local_file  # noqa: E402
from support.s3_server import s3_bucket, s3_server  # noqa: E402, F401


def payload_bytes(path: Path) -> bytes:
    """The text bytes a sample file carries (the zip's only member, the gzip content, the file)."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            (name,) = [n for n in zf.namelist() if not n.endswith("/")]
            return zf.read(name)
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    return path.read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Stager:
    """Stage files into one test database the way the CLI does (register, then stage)."""

    payload_bytes = staticmethod(payload_bytes)
    sha256 = staticmethod(sha256)

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        with psycopg.connect(db_url) as conn:
            self.run_id = ops.start_run(conn, "test-stage", {})

    def register(self, path: Path, file_type: str, cycle: int | None = None) -> int:
        with psycopg.connect(self.db_url) as conn:
            return register_local_file(conn, path, file_type=file_type, cycle=cycle, run_id=self.run_id)

    def stage(
        self,
        path: Path | Payload,
        file_type: str,
        *,
        source_file_id: int | None = None,
        workers: int = 1,
        replace: bool = False,
        progress: Callable[[int, int], None] | None = None,
        block_size: int | None = None,
    ) -> StageResult:
        if source_file_id is None:
            source_file_id = self.register(path, file_type)
        extra = {"block_size": block_size} if block_size else {}
        return stage_source_file(
            self.db_url,
            run_id=self.run_id,
            source_file_id=source_file_id,
            spec=FILES[file_type],
            path=path,
            workers=workers,
            replace=replace,
            progress=progress,
            **extra,
        )

    def export(self, source_file_id: int) -> bytes:
        out = io.BytesIO()
        with psycopg.connect(self.db_url) as conn:
            result = export_source_file(conn, source_file_id, out)
        data = out.getvalue()
        assert result.sha256 == sha256(data)
        return data

    def staged_rows(self, file_type: str, source_file_id: int) -> int:
        with psycopg.connect(self.db_url) as conn:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE _source_file_id = %s").format(
                    sql.Identifier("staging", FILES[file_type].staging_table)
                ),
                (source_file_id,),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def audits(self, source_file_id: int) -> list[dict]:
        with psycopg.connect(self.db_url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            return cur.execute(
                "SELECT * FROM ops.ingest_run_audits WHERE source_file_id = %s ORDER BY audit_id",
                (source_file_id,),
            ).fetchall()

    def assert_balanced(self, file_type: str, source_file_id: int) -> None:
        """lines = loaded + rejected in every succeeded batch, and the tables agree with the audits."""
        current = [
            a
            for a in self.audits(source_file_id)
            if a["stage"] == "stage"
            and a["status"] == "succeeded"
            and "superseded_by_run_id" not in a["counts"]
        ]
        assert current, "no succeeded stage batch"
        for audit in current:
            assert audit["lines_read"] == audit["rows_loaded"] + audit["rows_rejected"], audit
            assert audit["scope"] == file_type
        with psycopg.connect(self.db_url) as conn:
            rejects = conn.execute(
                "SELECT count(*) FROM ops.rejected_row WHERE source_file_id = %s", (source_file_id,)
            ).fetchone()
        assert rejects is not None
        assert self.staged_rows(file_type, source_file_id) == sum(a["rows_loaded"] for a in current)
        assert rejects[0] == sum(a["rows_rejected"] for a in current)


@pytest.fixture
def stager(db_url: str) -> Stager:
    return Stager(db_url)
