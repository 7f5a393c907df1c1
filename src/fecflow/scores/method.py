"""The leaning method: its version, its parameters, and its registration in ``scores.method``.

One formula version at a time: every score row names the ``method_version`` that produced it, and the
parameters of a version never change once registered (a different parameter set is a new version).
See ``docs/data/leaning-score.md`` for what each parameter means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from fecflow.errors import DataError

METHOD_V1 = "lean-2026.1"

ENTITY_TYPES = ("candidate", "committee", "employer", "industry")

# Conduits pass earmarked money on; they are never the recipient for leaning (DOMAIN.md section 2).
CONDUIT_COMMITTEE_IDS = ("C00401224", "C00694323")  # ActBlue, WinRed

DESCRIPTION = (
    "Partisan share R / (D + R) of itemized net contributions in a rolling window, shrunk toward "
    "prior_mean with a Beta prior of prior_strength pseudo-units (donors; contributions for committees), "
    "with an equal-tailed Beta credible interval. See docs/data/leaning-score.md."
)


@dataclass(frozen=True)
class MethodParams:
    """Every knob of the formula; stored as JSON in ``scores.method.params``."""

    prior_mean: float = 0.5
    prior_strength: float = 2.0
    credible_level: float = 0.95
    decimals: int = 5
    # Evidence unit per entity type: how many independent observations the share rests on.
    evidence: dict[str, str] = field(
        default_factory=lambda: {
            "candidate": "donors",
            "committee": "contributions",
            "employer": "donors",
            "industry": "donors",
        }
    )
    # Minimum support (partisan donors / partisan contributions) below which the score is NULL.
    min_donors: dict[str, int] = field(
        default_factory=lambda: {"candidate": 3, "committee": 1, "employer": 3, "industry": 3}
    )
    min_contributions: dict[str, int] = field(
        default_factory=lambda: {"candidate": 3, "committee": 1, "employer": 3, "industry": 3}
    )
    # Committees with no candidate and no party: aligned from their own giving, to a fixed point.
    derived_alignment_threshold: float = 0.75
    derived_alignment_max_iterations: int = 20
    conduit_committee_ids: tuple[str, ...] = CONDUIT_COMMITTEE_IDS
    transaction_date_bounds: str = "inclusive"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["conduit_committee_ids"] = list(self.conduit_committee_ids)
        return data


DEFAULT_PARAMS = MethodParams()

# ------------------------------------------------------------------------------- lean-2026.2
METHOD_V2 = "lean-2026.2"
METHOD_VERSIONS = (METHOD_V1, METHOD_V2)
# What every entrance (pipeline, CLI, explain, export, explorer) uses when the user names no method.
METHOD_DEFAULT = METHOD_V2

DESCRIPTION_V2 = (
    "Partisan share R / (D + R) with money to committees that are not candidates or parties passed on "
    "in each committee's own proportions (an absorbing chain over the committee graph, no threshold); "
    "conduits from ref.conduit; JFC money through 15J memos or transfers; an employer's gifts to its own "
    "PAC apart. Method-of-moments Beta interval: a Kish effective count of independent deciders (donors "
    "directly, each committee once) plus each committee's own allocation variance. "
    "See docs/data/leaning-score.md."
)


@dataclass(frozen=True)
class MethodParamsV2:
    """The knobs of lean-2026.2; stored as JSON in ``scores.method.params``."""

    prior_mean: float = 0.5
    prior_strength: float = 2.0
    credible_level: float = 0.95
    decimals: int = 5
    # Smallest effective count of independent deciders (Kish) for a score.
    min_effective: float = 1.0
    # Candidate donor base: shares of the candidate's donors and dollars that gave partisan money
    # elsewhere, below which the donor-base score is NULL (reason unrepresentative_base).
    min_base_donor_share: float = 0.2
    min_base_dollar_share: float = 0.2
    # JFC designation in cm.txt; 15J memos attribute a JFC's receipts to its participants.
    jfc_designation: str = "J"
    jfc_memo_types: tuple[str, ...] = ("15J", "18J")
    transaction_date_bounds: str = "inclusive"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["jfc_memo_types"] = list(self.jfc_memo_types)
        return data


DEFAULT_PARAMS_V2 = MethodParamsV2()


def register_method(
    conn: psycopg.Connection, method_version: str, params: MethodParams | MethodParamsV2 = DEFAULT_PARAMS
) -> None:
    """Insert the method row once; refuse a version already registered with other parameters."""
    wanted = params.as_json()
    description = DESCRIPTION_V2 if isinstance(params, MethodParamsV2) else DESCRIPTION
    conn.execute(
        "INSERT INTO scores.method (method_version, description, params) VALUES (%s, %s, %s) "
        "ON CONFLICT (method_version) DO NOTHING",
        (method_version, description, Jsonb(wanted)),
    )
    row = conn.execute(
        "SELECT params FROM scores.method WHERE method_version = %s", (method_version,)
    ).fetchone()
    assert row is not None
    if row[0] != wanted:
        raise DataError(
            f"Method version {method_version!r} is already registered with different parameters.",
            hint="A changed formula needs a new method version (fecflow.scores.method); "
            "scores of one version are never rewritten.",
        )
