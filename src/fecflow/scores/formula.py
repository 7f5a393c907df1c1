"""The leaning formula: partisan share, Beta shrinkage, credible interval, minimum support, reasons.

Pure functions of an entity's support (D / R / other dollars and counts); no database. With
``n`` evidence units (donors, or contributions for committees), share ``s = R / (D + R)`` and prior
``Beta(k * p0, k * (1 - p0))``::

    a = n * s + k * p0          b = n * (1 - s) + k * (1 - p0)
    score = a / (a + b)         interval = equal-tailed Beta(a, b) quantiles

``D`` and ``R`` are net of refunds and floored at 0. Scores are rounded half-even to ``decimals``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from fecflow.scores.beta import beta_interval
from fecflow.scores.method import DEFAULT_PARAMS, MethodParams

ZERO = Decimal(0)
HALF = 0.5

# Reasons a score is NULL (the code before the colon is stable; the rest is detail).
NO_ACTIVITY = "no_partisan_money"
NO_NET_PARTISAN = "no_net_partisan_money"
INSUFFICIENT_SUPPORT = "insufficient_support"
NO_DONOR_ELSEWHERE = "no_donor_partisan_elsewhere"


@dataclass(frozen=True)
class Support:
    """What an entity's score rests on, as stored in ``scores.leaning_score``."""

    dem_amount: Decimal
    rep_amount: Decimal
    other_amount: Decimal
    n_contributions: int
    n_donors: int


@dataclass(frozen=True)
class Leaning:
    score: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    reason: str | None


def round_score(value: float, decimals: int = DEFAULT_PARAMS.decimals) -> Decimal:
    """Round half-even to ``decimals`` places from the exact binary value (deterministic)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def posterior(share: float, evidence: float, params: MethodParams = DEFAULT_PARAMS) -> tuple[float, float]:
    """Beta posterior parameters (a, b) for a share observed over ``evidence`` units."""
    k, p0 = params.prior_strength, params.prior_mean
    return evidence * share + k * p0, evidence * (1.0 - share) + k * (1.0 - p0)


def partisan_share(dem: Decimal, rep: Decimal) -> float | None:
    """R / (D + R) with both floored at 0; exactly 0.5 when D == R > 0; None without net partisan money."""
    dem, rep = max(dem, ZERO), max(rep, ZERO)
    if dem + rep == 0:
        return None
    return HALF if dem == rep else float(rep / (dem + rep))


def evidence_of(support: Support, entity_type: str, params: MethodParams = DEFAULT_PARAMS) -> int:
    """The number of independent units the share rests on (donors, or contributions for committees)."""
    return support.n_donors if params.evidence[entity_type] == "donors" else support.n_contributions


def null_reason(support: Support, entity_type: str, params: MethodParams = DEFAULT_PARAMS) -> str | None:
    """Why this support gets no score (``code: detail``), or None when it is scored."""
    dem, rep = support.dem_amount, support.rep_amount
    if support.n_contributions == 0 and dem == 0 and rep == 0:
        if entity_type == "candidate":
            return (
                f"{NO_DONOR_ELSEWHERE}: none of the itemized donors ({_money(support.other_amount)}) "
                "gave to other partisan recipients in the window"
            )
        return f"{NO_ACTIVITY}: {_money(support.other_amount)} to other or unaligned recipients only"
    if partisan_share(dem, rep) is None:
        return f"{NO_NET_PARTISAN}: refunds cancel the partisan giving (D {_money(dem)}, R {_money(rep)})"
    min_donors, min_contributions = params.min_donors[entity_type], params.min_contributions[entity_type]
    if support.n_donors < min_donors or support.n_contributions < min_contributions:
        return (
            f"{INSUFFICIENT_SUPPORT}: {support.n_donors} donor(s) and {support.n_contributions} "
            f"contribution(s); needs {min_donors} and {min_contributions}"
        )
    return None


def assess(support: Support, entity_type: str, params: MethodParams = DEFAULT_PARAMS) -> Leaning:
    """The score (or NULL with a reason) for one entity's support."""
    reason = null_reason(support, entity_type, params)
    share = partisan_share(support.dem_amount, support.rep_amount)
    if reason is not None or share is None:
        return Leaning(None, None, None, reason)
    a, b = posterior(share, float(evidence_of(support, entity_type, params)), params)
    low, high = beta_interval(a, b, params.credible_level)
    places = params.decimals
    return Leaning(
        round_score(a / (a + b), places), round_score(low, places), round_score(high, places), None
    )
