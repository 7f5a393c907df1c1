"""Alembic environment for fecflow (packaged, so `fecflow db upgrade` works from a wheel)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from fecflow.db.models import SCHEMAS, metadata
from fecflow.db.partitions import is_partition_name

config = context.config


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    if type_ == "schema":
        return name in SCHEMAS
    if type_ == "table":
        return not is_partition_name(name)
    return True


def _configure(connection: Connection) -> None:
    # The version table lives in ops, so ops must exist before Alembic looks for it.
    connection.execute(text("CREATE SCHEMA IF NOT EXISTS ops"))
    connection.commit()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_schemas=True,
        include_name=include_name,
        compare_type=True,
        compare_server_default=False,
        version_table_schema="ops",
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():  # pragma: no cover
    raise SystemExit("fecflow migrations run online only")
run_migrations_online()
