"""Settings and URL redaction."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fecflow.config import Settings, redact_url
from fecflow.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:secret@db.example:5432/x", "postgresql://u:***@db.example:5432/x"),
        ("postgresql://u:secret@[::1]:5432/x", "postgresql://u:***@[::1]:5432/x"),
        (
            "https://api.open.fec.gov/v1/x/?api_key=abc123&page=2",
            "https://api.open.fec.gov/v1/x/?api_key=***&page=2",
        ),
        ("http://127.0.0.1/files/cm20.zip", "http://127.0.0.1/files/cm20.zip"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert "secret" not in redact_url(url) and "abc123" not in redact_url(url)


def test_secrets_print_as_stars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FECFLOW_OPENFEC_API_KEY", "k-123456789")
    settings = Settings.from_env()
    assert "k-123456789" not in repr(settings) and "k-123456789" not in str(settings)
    assert (
        settings.openfec_api_key is not None and settings.openfec_api_key.get_secret_value() == "k-123456789"
    )


def test_invalid_value_is_a_config_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FECFLOW_HTTP_TIMEOUT", "-1")
    with pytest.raises(ConfigError, match="FECFLOW_HTTP_TIMEOUT"):
        Settings.from_env()


def test_env_example_lists_exactly_the_settings() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*(FECFLOW_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    expected = {f"FECFLOW_{name.upper()}" for name in Settings.model_fields}
    assert listed == expected, f"missing: {expected - listed}; unknown: {listed - expected}"
