"""The words of ``ops.ingest_run_audits``: stage names, the scope of a row, the count keys.

Every module that writes or reads an audit row uses these names; none spells them itself.

``scope`` is stored as text, encoded here only:

================ ======================== =============================================
scope            text                     written by
================ ======================== =============================================
StepScope        ``step``                 the runner, one row per flow step
FileScope        ``<file type>``          staging batches, prune
UnitScope        ``<file type>:<cycle>``  fetch (``:header`` for a header file), normalize
NamedScope       ``<name>``               validate (the gate), normalize (``employer-map``), e-filings
ScoreScope       ``<method> as_of=<date> <window>``  scores
================ ======================== =============================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final


class Stage:
    """The ``stage`` column: one name per kind of work."""

    FETCH: Final = "fetch"
    STAGE: Final = "stage"
    NORMALIZE: Final = "normalize"
    SCORES: Final = "scores"
    VALIDATE: Final = "validate"
    PRUNE: Final = "prune"
    STAGE_EFILING: Final = "stage-efiling"  # one .fec filing into staging.efiling_line
    NORMALIZE_EFILING: Final = "normalize-efiling"  # preliminary rows from staged filings
    VALIDATE_EFILING: Final = "validate-efiling"  # each report against its own summary page


class FlowStep:
    """The ``stage`` of a flow step's own row (scope ``step``): the runner writes one per step, and
    ``--resume`` skips the steps whose row succeeded. Each gate step is ``validate-<gate>``."""

    FETCH: Final = "fetch"
    STAGE: Final = "stage"
    NORMALIZE: Final = "normalize"
    SCORE: Final = "score"
    EFILINGS: Final = "efilings"  # ingest-daily: the previous days' e-filing archives not fetched yet
    ALL: Final = (FETCH, STAGE, NORMALIZE, SCORE)
    REPLAYABLE: Final = (STAGE, NORMALIZE, SCORE)  # replay-range reads stored files: no fetch

    @staticmethod
    def gate(name: str) -> str:
        return f"validate-{name}"


class CountKey:
    """Keys of the ``counts`` JSON that other stages query."""

    SUPERSEDED: Final = "superseded_by_run_id"  # a staging batch replaced by a later load (run id)
    DUPLICATE_OF: Final = "duplicate_of"  # a file staging skipped: identical to this source file
    EOF: Final = "eof"  # a staging batch that reached the end of the payload
    FIRST_LINE: Final = "first_line"
    METHOD_VERSION: Final = "method_version"  # scores
    AS_OF: Final = "as_of"  # scores
    ALERT: Final = "alert"  # validate: 'sent' | 'failed'


@dataclass(frozen=True)
class StepScope:
    def __str__(self) -> str:
        return "step"


@dataclass(frozen=True)
class FileScope:
    file_type: str

    def __str__(self) -> str:
        return self.file_type


@dataclass(frozen=True)
class UnitScope:
    """One file type of one cycle (None: the file type's header file)."""

    file_type: str
    cycle: int | None

    def __str__(self) -> str:
        return f"{self.file_type}:{self.cycle if self.cycle is not None else 'header'}"

    @classmethod
    def parse(cls, text: str) -> UnitScope | None:
        file_type, sep, cycle = text.partition(":")
        if not sep:
            return None
        if cycle == "header":
            return cls(file_type, None)
        return cls(file_type, int(cycle)) if cycle.isdigit() else None


@dataclass(frozen=True)
class NamedScope:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ScoreScope:
    method_version: str
    as_of: dt.date
    window: str

    def __str__(self) -> str:
        return f"{self.method_version} as_of={self.as_of} {self.window}"


Scope = StepScope | FileScope | UnitScope | NamedScope | ScoreScope
STEP: Final = StepScope()
