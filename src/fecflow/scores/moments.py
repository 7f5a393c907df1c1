"""lean-2026.2's interval: a method-of-moments Beta over independent deciders plus allocation variance.

An entity's partisan money is a set of *deciders* ``i`` with partisan weight ``w_i`` (dollars) and
share ``x_i`` (1 = Republican): a donor who gave straight to candidates or parties, or a committee
its money went through (once per committee, however many people gave through it; ``x`` = that
committee's own share). With the Kish effective count ``n = (sum w)^2 / sum w^2``, the share
``S = sum w x / sum w`` and the prior ``Beta(k p0, k (1 - p0))``::

    m = (n S + k p0) / (n + k)                                    the score
    V = m (1 - m) / (n + k + 1) + sum_committees (w_c / sum w)^2 V_c
    kappa = m (1 - m) / V - 1,  Beta(m kappa, (1 - m) kappa)        the interval

The first term of ``V`` is the posterior variance of the deciders' mean share (as if each decider
were one Bernoulli draw of the entity's lean: exact for donors who give to one side only, conservative
for split givers); the second is each committee's own allocation uncertainty, which passes unchanged
to everything that flows through it. So an entity whose partisan money all went through one committee
has ``V >= V_c`` (and ``n`` close to 1): never a narrower interval than the committee's.
``n_effective`` (stored and shown next to the raw donor count) is the Kish count ``n`` of independent
deciders; the committees' allocation uncertainty widens the interval on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fecflow.scores.beta import beta_interval
from fecflow.scores.formula import round_score
from fecflow.scores.method import DEFAULT_PARAMS_V2, MethodParamsV2

# The smallest Beta concentration used (a variance above m (1 - m) / 1.05 is clamped to it).
MIN_KAPPA = 0.05


@dataclass(frozen=True)
class Deciders:
    """Sums over an entity's independent deciders (see the module docstring)."""

    sum_w: float
    sum_wx: float
    sum_w2: float
    alloc_var: float  # sum over committees of w_c^2 V_c (dollars squared)

    @property
    def kish(self) -> float:
        return self.sum_w**2 / self.sum_w2 if self.sum_w2 > 0 else 0.0


@dataclass(frozen=True)
class Moments:
    mean: float
    var: float
    kappa: float
    n_effective: float


def moments_of(d: Deciders, params: MethodParamsV2 = DEFAULT_PARAMS_V2) -> Moments:
    """Score mean, variance, Beta concentration and effective evidence of the deciders."""
    k, p0 = params.prior_strength, params.prior_mean
    n = d.kish
    share = min(max(d.sum_wx / d.sum_w, 0.0), 1.0)
    mean = (n * share + k * p0) / (n + k)
    var = mean * (1 - mean) / (n + k + 1) + d.alloc_var / d.sum_w**2
    kappa = max(mean * (1 - mean) / var - 1, MIN_KAPPA) if var > 0 else n + k
    return Moments(mean, var, kappa, n)


def interval_of(m: Moments, params: MethodParamsV2 = DEFAULT_PARAMS_V2) -> tuple[float, float]:
    """The equal-tailed credible interval of ``Beta(m kappa, (1 - m) kappa)``."""
    return beta_interval(m.mean * m.kappa, (1 - m.mean) * m.kappa, params.credible_level)


def rounded(m: Moments, params: MethodParamsV2 = DEFAULT_PARAMS_V2) -> tuple[Decimal, Decimal, Decimal]:
    """(score, ci_low, ci_high) rounded half-even to ``decimals`` places."""
    low, high = interval_of(m, params)
    places = params.decimals
    return round_score(m.mean, places), round_score(low, places), round_score(high, places)
