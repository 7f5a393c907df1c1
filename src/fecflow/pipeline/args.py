"""Typed arguments of the steps and of the runs that chain them.

Every entrance to a step (its single-step command, a flow, ``make bench``) builds one of these
frozen values and hands it to the step function in :mod:`fecflow.pipeline.steps`. A run's arguments
are stored as JSON in ``ops.ingest_run.args`` (:meth:`RunArgs.to_json`) and read back to resume it
(:meth:`RunArgs.from_json`); a field that was not given is left out of the JSON, so a new run with the
same options matches the stored one (``--resume``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from fecflow.catalog import NORMALIZED_FILE_TYPES
from fecflow.scores.method import METHOD_DEFAULT
from fecflow.scores.windows import DEFAULT_LOOKBACK_MONTHS, MAX_LOOKBACK_MONTHS, SERIES_STEPS, as_of_series

__all__ = [
    "DEFAULT_LOOKBACK_MONTHS",
    "ApiPullArgs",
    "MAX_LOOKBACK_MONTHS",
    "FetchArgs",
    "NormalizeArgs",
    "SERIES_STEPS",
    "RunArgs",
    "ScoreArgs",
    "StageArgs",
    "as_of_series",
    "to_json",
]


def to_json(args: object) -> dict[str, Any]:
    """The fields of a frozen arguments value as JSON (dates ISO, tuples lists; None left out)."""
    out: dict[str, Any] = {}
    for f in fields(args):  # type: ignore[arg-type]
        value = getattr(args, f.name)
        if value is None:
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


@dataclass(frozen=True)
class FetchArgs:
    cycles: tuple[int, ...]
    files: tuple[str, ...]
    include_headers: bool = False


@dataclass(frozen=True)
class ApiPullArgs:
    """Pull one OpenFEC endpoint with ``params`` (its filters) into staging, page by page."""

    endpoint: str
    params: Mapping[str, Any]
    restart: bool = False
    max_pages: int | None = None
    per_page: int = 100
    backfill: bool = False  # a large historical pull: refuses DEMO_KEY


@dataclass(frozen=True)
class StageArgs:
    """Stage the newest downloaded file of each ``cycles`` x ``files``, or the local ``paths``
    (``files`` then forces their types: one for all, or one per path)."""

    cycles: tuple[int, ...] = ()
    files: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    workers: int = 1
    replace: bool = False


@dataclass(frozen=True)
class NormalizeArgs:
    """``accept_shrink``: let a snapshot remove more live rows than the ``snapshot_removed_share``
    tolerance (``tolerances``: NAME=VALUE overrides, as for the gates)."""

    cycles: tuple[int, ...]
    files: tuple[str, ...]
    force: bool = False
    accept_shrink: bool = False
    tolerances: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreArgs:
    """``as_of`` None: the latest transaction date loaded (not after today)."""

    as_of: dt.date | None = None
    lookback_months: int = DEFAULT_LOOKBACK_MONTHS
    method_version: str = METHOD_DEFAULT
    include_preliminary: bool = False  # also count e-filed rows not yet processed


@dataclass(frozen=True)
class RunArgs:
    """The arguments of ``backfill``, ``ingest-daily`` and ``replay-range`` (None: not given)."""

    cycles: tuple[int, ...]
    files: tuple[str, ...]
    as_of: dt.date | None = None
    lookback_months: int | None = None
    workers: int | None = None
    replace: bool | None = None
    delta: bool | None = None  # ingest-daily: later stages only when fetch downloaded something
    date: dt.date | None = None  # ingest-daily
    start: dt.date | None = None  # replay-range
    end: dt.date | None = None  # replay-range
    stages: tuple[str, ...] | None = None  # replay-range
    tolerances: tuple[str, ...] | None = None  # NAME=VALUE overrides of the gates' tolerances
    accept_shrink: bool | None = None  # --accept-shrink: a snapshot may remove more than the tolerance
    efiling_days: int | None = None  # ingest-daily: e-filing days before `date` to take (FECFLOW_EFILING_DAYS)
    include_preliminary: bool | None = None  # scores count preliminary e-filed rows (FECFLOW_SCORES_INCLUDE_PRELIMINARY)

    def to_json(self) -> dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunArgs:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known or value is None:
                continue
            if name in ("as_of", "date", "start", "end"):
                value = dt.date.fromisoformat(value)
            elif name in ("cycles", "files", "stages", "tolerances"):
                value = tuple(int(v) if name == "cycles" else str(v) for v in value)
            values[name] = value
        return cls(**values)

    # --- the steps' arguments ----------------------------------------------------------------------
    def fetch(self) -> FetchArgs:
        return FetchArgs(self.cycles, self.files)

    def stage(self) -> StageArgs:
        return StageArgs(self.cycles, self.files, workers=self.workers or 1, replace=bool(self.replace))

    def normalize(self) -> NormalizeArgs:
        return NormalizeArgs(
            self.cycles,
            tuple(f for f in self.files if f in NORMALIZED_FILE_TYPES),
            accept_shrink=bool(self.accept_shrink),
            tolerances=self.tolerances or (),
        )

    def score(self) -> ScoreArgs:
        return ScoreArgs(
            self.as_of,
            self.lookback_months or DEFAULT_LOOKBACK_MONTHS,
            include_preliminary=bool(self.include_preliminary),
        )
