"""Fixtures for normalization tests: real FEC samples staged through the real stage step."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from normalize_samples import EARLY_2020, EARLY_AT, Stager
from psycopg import sql

from fecflow.db import ops
from support.staging_loader import stage_file

pytestmark = pytest.mark.integration

EARLY_2020_FILES = {
    "cn": EARLY_2020 / "cn.txt",
    "cm": EARLY_2020 / "cm.txt",
    "ccl": EARLY_2020 / "ccl.txt",
    "indiv": EARLY_2020 / "itcont.txt.gz",
    "pas2": EARLY_2020 / "itpas2.txt",
    "oth": EARLY_2020 / "itoth.txt.gz",
}


@pytest.fixture
def run_id(conn: psycopg.Connection) -> int:
    return ops.start_run(conn, "normalize", {"test": True})


@pytest.fixture
def stage(conn: psycopg.Connection, db_url: str) -> Stager:
    """``stage(path, file_type, cycle, fetched_at=None) -> source_file_id`` via the real loader."""

    def _stage(path: Path, file_type: str, cycle: int, fetched_at: dt.datetime | None = None) -> int:
        if not path.exists():
            pytest.fail(f"sample not found: {path}")
        return stage_file(conn, db_url, path, file_type=file_type, cycle=cycle, fetched_at=fetched_at)

    return _stage


@pytest.fixture
def staged_2020_early(stage: Stager) -> dict[str, int]:
    """The complete early 2020 bulk set (masters + transactions), staged."""
    return {ft: stage(path, ft, 2020, EARLY_AT) for ft, path in EARLY_2020_FILES.items()}


def _with_db(url: str, dbname: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


@pytest.fixture(scope="module")
def normalized_2020_db(pg_admin_url: str, template_db: str) -> Iterator[tuple[str, dict[str, dict]]]:
    """One database per test module with the early 2020 bulk set staged and normalized (read-only).

    Yields its URL and the per-file-type counts of the normalization.
    """
    from fecflow.normalize.step import normalize_cycle

    name = f"t_norm_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db)))
    url = _with_db(pg_admin_url, name)
    try:
        with psycopg.connect(url) as conn:
            for ft, path in EARLY_2020_FILES.items():
                stage_file(conn, url, path, file_type=ft, cycle=2020, fetched_at=EARLY_AT)
            run = ops.start_run(conn, "normalize", {"test": True})
            result = normalize_cycle(conn, run_id=run, cycle=2020)
        assert all(u.status == "normalized" for u in result.units)
        yield url, {u.file_type: u.tables for u in result.units}
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
