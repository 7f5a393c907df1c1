"""Shared CLI state: settings and logging, built once per invocation."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from fecflow.config import Settings
from fecflow.db import ops
from fecflow.db.engine import connect, require_schema, resolve_database_url
from fecflow.errors import FecflowError
from fecflow.log import configure_logging

log = logging.getLogger("fecflow.cli")


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
    """Connect, check the schema, record an ops.ingest_run, and close it as succeeded or failed."""
    state.setup_logging()
    settings = state.settings
    url = resolve_database_url(settings)
    with connect(url, autocommit=True) as lock_conn, connect(url) as conn:
        require_schema(conn)
        conn.commit()
        run_id = ops.start_run(conn, command, args)
        try:
            ops.acquire_pipeline_lock(lock_conn, run_id)
        except FecflowError as exc:
            ops.finish_run(conn, run_id, "failed", exc.message)
            raise
        log.info("run %d: %s started", run_id, command, extra={"run_id": run_id, "event": "run_start"})
        try:
            yield conn, run_id
        except BaseException as exc:
            conn.rollback()
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            ops.finish_run(conn, run_id, status, message)
            log.error(
                "run %d: %s %s: %s",
                run_id,
                command,
                status,
                message,
                extra={"run_id": run_id, "event": "run_end"},
            )
            raise
        ops.finish_run(conn, run_id, "succeeded")
        log.info("run %d: %s succeeded", run_id, command, extra={"run_id": run_id, "event": "run_end"})
