"""Tolerances: documented defaults, the TOML file (FECFLOW_CHECKS_FILE or ./fecflow.toml), overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fecflow.checks.tolerances import Tolerances, load_tolerances, parse_override
from fecflow.config import Settings
from fecflow.errors import ConfigError

DOC = Path(__file__).resolve().parents[3] / "docs" / "data" / "validation.md"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)


def test_defaults() -> None:
    t = Tolerances()
    assert t.reject_rate == 0.001
    assert t.amount_committee_abs == 0.01
    assert t.reconciliation_excess_share == 0.05
    assert set(t.as_dict()) == set(Tolerances.names())


def test_every_tolerance_is_documented_with_its_default() -> None:
    text = DOC.read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([0-9.]+) \|", text, flags=re.M))
    expected = {name: f"{default:g}" for name, default, _, _ in Tolerances.describe()}
    assert rows == expected


def test_no_file_means_defaults(tmp_path: Path) -> None:
    assert load_tolerances(settings(), cwd=tmp_path) == Tolerances()


def test_file_from_settings_then_cli_override(tmp_path: Path) -> None:
    path = tmp_path / "checks.toml"
    path.write_text("[checks]\nreject_rate = 0.002\ndate_valid_share = 0.98\n\n[other]\nignored = 1\n")
    loaded = load_tolerances(settings(checks_file=path), cwd=tmp_path)
    assert (loaded.reject_rate, loaded.date_valid_share, loaded.required_share) == (0.002, 0.98, 0.999)
    overridden = load_tolerances(
        settings(checks_file=path), ["reject_rate=0.05", "id-valid-share=0.9"], cwd=tmp_path
    )
    assert (overridden.reject_rate, overridden.date_valid_share, overridden.id_valid_share) == (
        0.05,
        0.98,
        0.9,
    )


def test_fecflow_toml_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "fecflow.toml").write_text("[checks]\namount_committee_abs = 1.5\n")
    assert load_tolerances(settings(), cwd=tmp_path).amount_committee_abs == 1.5
    # an explicit checks file wins over ./fecflow.toml
    other = tmp_path / "strict.toml"
    other.write_text("[checks]\namount_committee_abs = 0\n")
    assert load_tolerances(settings(checks_file=other), cwd=tmp_path).amount_committee_abs == 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[checks]\nrejct_rate = 0.1\n", "Unknown tolerance 'rejct_rate'"),
        ("[checks]\nreject_rate = 1.5\n", "must be <= 1"),
        ("[checks]\namount_total_abs = -1\n", "must be >= 0"),
        ("[checks]\nreject_rate = 'lots'\n", "must be a number"),
        ("[checks]\nscore_min_donors = 2.5\n", "whole number"),
        ("checks = 3\n", "must be a table"),
        ("[checks\n", "Cannot read checks file"),
    ],
)
def test_bad_files_are_config_errors(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load_tolerances(settings(checks_file=path), cwd=tmp_path)


def test_missing_checks_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_tolerances(settings(checks_file=tmp_path / "nope.toml"), cwd=tmp_path)


@pytest.mark.parametrize("text", ["reject_rate", "reject_rate=", "=0.1", "reject_rate=abc"])
def test_bad_overrides(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        load_tolerances(settings(), [text], cwd=tmp_path)


def test_unknown_override_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_tolerances(settings(), ["nope=1"], cwd=tmp_path)
    assert err.value.hint is not None and "reject_rate" in err.value.hint


def test_parse_override() -> None:
    assert parse_override(" reject_rate = 0.05 ") == ("reject_rate", 0.05)
