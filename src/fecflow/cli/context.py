"""Shared CLI state: settings and logging, built once per invocation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from fecflow.config import Settings
from fecflow.db.engine import resolve_database_url
from fecflow.errors import SchemaNotReady
from fecflow.log import configure_logging
from fecflow.pipeline.runner import recorded_run


@dataclass
class AppState:
    verbose: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    json_log: Path | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    def setup_logging(self, *, json_log: bool = True) -> None:
        s = self.settings
        secrets = [x.get_secret_value() for x in (s.openfec_api_key, s.database_url, s.alert_webhook) if x]
        # DEMO_KEY is public; hiding it would only make its error message unsearchable.
        secrets = [x for x in secrets if x != "DEMO_KEY"]
        self.json_log = configure_logging(
            level="DEBUG" if self.verbose else s.log_level,
            log_dir=s.log_dir if json_log else None,
            secrets=secrets,
        )


@contextmanager
def open_run(state: AppState, command: str, args: dict[str, Any]) -> Iterator[tuple[psycopg.Connection, int]]:
    """Set up logging, then record an ops.ingest_run under the pipeline lock (see recorded_run)."""
    state.setup_logging()
    with recorded_run(resolve_database_url(state.settings), command, args) as (conn, run_id):
        yield conn, run_id


def ready_database_url(state: AppState, *, migrate: bool = False) -> str:
    """The database URL with the schema at this code's head: the embedded one is migrated by
    :func:`resolve_database_url`; an external one only with ``migrate`` (``--migrate``), else a
    SchemaNotReady error names `fecflow db upgrade`."""
    from fecflow.db import migrate as migrations

    url = resolve_database_url(state.settings)
    if state.settings.database_url is None:
        return url
    if migrate:
        migrations.upgrade(url)
    elif migrations.current_revision(url) != migrations.head_revision():
        raise SchemaNotReady(
            "The database schema is older than this fecflow (or missing).",
            hint="Run `fecflow db upgrade` (or `fecflow serve --migrate`) against FECFLOW_DATABASE_URL.",
        )
    return url
