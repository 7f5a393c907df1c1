"""Database URLs and connections.

With ``FECFLOW_DATABASE_URL`` set, fecflow uses that server; without it, the embedded server under
``FECFLOW_HOME/pg`` is started (or reused). Library code receives an open connection; only the
pipeline/CLI layers call :func:`resolve_database_url` and :func:`connect`.
"""

from __future__ import annotations

import psycopg

from fecflow.config import Settings, redact_url
from fecflow.db.embedded import EmbeddedServer
from fecflow.errors import DatabaseError, DatabaseUnavailable, SchemaNotReady

MIN_SERVER_VERSION = 150000


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy wants the driver in the scheme."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def embedded_server(settings: Settings) -> EmbeddedServer:
    return EmbeddedServer(settings.pg_dir, bin_dir=settings.pg_bin_dir)


def resolve_database_url(settings: Settings, *, start: bool = True, migrate: bool = True) -> str:
    """The URL to use: FECFLOW_DATABASE_URL, or the embedded server (started if ``start``).

    Zero setup: the embedded database is migrated to this code's head when it is behind (``migrate``;
    ``fecflow db upgrade`` and ``db status`` pass False to report what they find). An external
    FECFLOW_DATABASE_URL is never migrated implicitly: ``fecflow db upgrade`` (or ``--migrate``).
    """
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    server = embedded_server(settings)
    status = server.start() if start else server.status()
    url = status.url()
    if url is None:
        raise DatabaseUnavailable("The embedded PostgreSQL server is not running.")
    if start and migrate:
        from fecflow.db.migrate import upgrade_if_behind  # migrate imports this module

        upgrade_if_behind(url)
    return url


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Open a psycopg connection; translate failures into DatabaseUnavailable."""
    try:
        conn = psycopg.connect(libpq_url(url), autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"Cannot connect to PostgreSQL at {redact_url(libpq_url(url))}: {str(exc).strip().splitlines()[0]}"
        ) from exc
    version = conn.info.server_version
    if version < MIN_SERVER_VERSION:
        conn.close()
        raise DatabaseError(
            f"PostgreSQL {version // 10000} is too old; fecflow needs 15 or newer.",
            hint="Point FECFLOW_DATABASE_URL at PostgreSQL >= 15, or unset it to use the embedded server.",
        )
    return conn


def require_schema(conn: psycopg.Connection) -> None:
    """Fail with a hint when the migrations have not been applied."""
    row = conn.execute("SELECT to_regclass('ops.alembic_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        raise SchemaNotReady("The fecflow schema is not installed in this database.")
