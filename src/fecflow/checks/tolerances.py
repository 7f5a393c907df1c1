"""Validation tolerances: defaults here, overridden by a TOML file, then by ``--tolerance NAME=VALUE``.

Where the values come from, lowest precedence first:

1. the defaults below (every one documented in ``docs/data/validation.md``; a test keeps the two in
   sync);
2. the ``[checks]`` table of the TOML file named by ``FECFLOW_CHECKS_FILE``, or of ``./fecflow.toml``
   when that setting is unset and the file exists::

       [checks]
       reject_rate = 0.002
       date_valid_share = 0.98

3. command-line overrides such as ``--tolerance reject_rate=0.05``.

Unknown names and out-of-range values are configuration errors (a typo must not silently keep the
default). ``share`` values are fractions in [0, 1]; ``dollars`` are absolute amounts; ``count`` is a
whole number.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fecflow.config import Settings
from fecflow.errors import ConfigError
from fecflow.normalize.guards import DEFAULT_MAX_REMOVED_SHARE, DEFAULT_MIN_REMOVED_ROWS, ShrinkPolicy

DEFAULT_FILE_NAME = "fecflow.toml"
TOML_TABLE = "checks"


def _tol(default: float, kind: str, doc: str) -> Any:
    return field(default=default, metadata={"kind": kind, "doc": doc})


@dataclass(frozen=True)
class Tolerances:
    """Every threshold a check compares with. ``max`` values fail when exceeded, ``min`` when undercut."""

    # --- staging gate: schema --------------------------------------------------------------------------
    field_count_reject_rate: float = _tol(
        0.001, "share", "max share of a file's lines rejected for a wrong number of fields"
    )
    required_share: float = _tol(
        0.999,
        "share",
        "min share of rows whose required fields (e.g. CMTE_ID, SUB_ID, TRANSACTION_AMT) are non-empty",
    )
    date_valid_share: float = _tol(
        0.99,
        "share",
        "min share of non-empty date fields that are real calendar dates (MMDDYYYY or MM/DD/YYYY)",
    )
    amount_valid_share: float = _tol(0.999, "share", "min share of non-empty amount fields that are numbers")
    id_valid_share: float = _tol(
        0.999,
        "share",
        "min share of non-empty ids that are well formed (SUB_ID 19 digits, CMTE_ID C + 8 digits, ...)",
    )
    # --- staging gate: accounting ----------------------------------------------------------------------
    reject_rate: float = _tol(0.001, "share", "max share of a file's lines rejected for any reason")
    # --- normalize gate: staging vs core -----------------------------------------------------------------
    amount_committee_abs: float = _tol(
        0.01, "dollars", "max difference between staged and core dollars of one filing committee in one file"
    )
    amount_total_abs: float = _tol(
        0.01, "dollars", "max difference between staged and core dollars of one file"
    )
    # --- normalize: what one snapshot may remove (checked inside the normalize unit, before commit) -------
    snapshot_removed_share: float = _tol(
        DEFAULT_MAX_REMOVED_SHARE,
        "share",
        "max share of a scope's live rows one new snapshot may remove (soft-deleted rows, closed links); "
        "above it the unit rolls back unless --accept-shrink",
    )
    snapshot_removed_min: float = _tol(
        DEFAULT_MIN_REMOVED_ROWS,
        "count",
        "a snapshot removing this many rows or fewer is never refused (small scopes, real amendments)",
    )
    # --- normalize gate: itemized vs FEC summary files ----------------------------------------------------
    reconciliation_excess_share: float = _tol(
        0.05,
        "share",
        "itemized money of a committee may exceed its summary total by this share of the summary",
    )
    reconciliation_excess_abs: float = _tol(
        1.0,
        "dollars",
        "and by this many dollars on top of that share (rounding, committees with tiny summaries)",
    )
    reconciliation_max_share_over: float = _tol(
        0.01,
        "share",
        "max share of reconciled committees whose itemized money exceeds their summary beyond tolerance",
    )
    # --- scores gate ------------------------------------------------------------------------------------
    score_min_donors: float = _tol(
        1, "count", "min donors behind a non-NULL score when the method's params do not set min_donors"
    )
    score_min_contributions: float = _tol(
        1,
        "count",
        "min contributions behind a non-NULL score when the method's params do not set min_contributions",
    )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def describe(cls) -> list[tuple[str, float, str, str]]:
        """(name, default, kind, description) for docs and ``--help``."""
        return [(f.name, f.default, f.metadata["kind"], f.metadata["doc"]) for f in dataclasses.fields(cls)]  # type: ignore[misc]

    def with_values(self, values: Mapping[str, Any], *, origin: str) -> Tolerances:
        """A copy with ``values`` applied (validated); ``origin`` names where they came from."""
        kinds = {f.name: f.metadata["kind"] for f in dataclasses.fields(self)}
        clean: dict[str, float] = {}
        for name, value in values.items():
            if name not in kinds:
                raise ConfigError(
                    f"Unknown tolerance {name!r} in {origin}.",
                    hint=f"Known tolerances: {', '.join(kinds)} (see docs/data/validation.md).",
                )
            clean[name] = _validate(name, value, kinds[name], origin)
        return dataclasses.replace(self, **clean)

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.names()}

    def shrink_policy(self, *, accept: bool) -> ShrinkPolicy:
        """What normalize lets one snapshot remove; ``accept`` is the operator's --accept-shrink."""
        return ShrinkPolicy(self.snapshot_removed_share, int(self.snapshot_removed_min), accept)


def _validate(name: str, value: Any, kind: str, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"Tolerance {name} in {origin} must be a number, got {value!r}.")
    number = float(value)
    if number < 0 or number != number:
        raise ConfigError(f"Tolerance {name} in {origin} must be >= 0, got {value!r}.")
    if kind == "share" and number > 1:
        raise ConfigError(f"Tolerance {name} in {origin} is a share and must be <= 1, got {value!r}.")
    if kind == "count" and not number.is_integer():
        raise ConfigError(
            f"Tolerance {name} in {origin} is a count and must be a whole number, got {value!r}."
        )
    return number


def parse_override(text: str) -> tuple[str, float]:
    """``reject_rate=0.05`` -> ("reject_rate", 0.05)."""
    name, sep, raw = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name:
        raise ConfigError(
            f"Invalid tolerance override {text!r}.",
            hint="Write it as NAME=VALUE, e.g. --tolerance reject_rate=0.05.",
        )
    try:
        return name, float(raw.strip())
    except ValueError:
        raise ConfigError(
            f"Invalid tolerance value in {text!r}: not a number.",
            hint="Write it as NAME=VALUE, e.g. --tolerance reject_rate=0.05.",
        ) from None


def read_tolerance_file(path: Path) -> dict[str, Any]:
    """The ``[checks]`` table of a TOML file (empty when the file has none)."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"Checks file {path} does not exist.", hint="Fix FECFLOW_CHECKS_FILE or create the file."
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read checks file {path}: {exc}") from exc
    table = data.get(TOML_TABLE, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{TOML_TABLE}] in {path} must be a table of NAME = number.")
    return table


def tolerance_file(settings: Settings | None, cwd: Path | None = None) -> Path | None:
    """The TOML file to read: ``settings.checks_file``, else ``./fecflow.toml`` if it exists."""
    if settings is not None and settings.checks_file is not None:
        return settings.checks_file
    candidate = (cwd or Path.cwd()) / DEFAULT_FILE_NAME
    return candidate if candidate.is_file() else None


def load_tolerances(
    settings: Settings | None = None, overrides: Iterable[str] = (), *, cwd: Path | None = None
) -> Tolerances:
    """Defaults, then the TOML file (if any), then ``NAME=VALUE`` overrides."""
    tolerances = Tolerances()
    path = tolerance_file(settings, cwd)
    if path is not None:
        tolerances = tolerances.with_values(read_tolerance_file(path), origin=str(path))
    parsed = dict(parse_override(text) for text in overrides)
    if parsed:
        tolerances = tolerances.with_values(parsed, origin="--tolerance")
    return tolerances
