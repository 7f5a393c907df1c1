"""Shared CLI state: settings and logging, built once per invocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fecflow.config import Settings
from fecflow.log import configure_logging


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
        self.json_log = configure_logging(
            level="DEBUG" if self.verbose else s.log_level,
            log_dir=s.log_dir if json_log else None,
            secrets=secrets,
        )
