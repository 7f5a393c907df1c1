"""core -> scores: the partisan leaning engine, one formula version at a time.

Reads ``core`` and ``ref`` tables only (never ``fecflow.normalize``). Modules, one concept each:

``method``      METHOD_V1/METHOD_V2/METHOD_DEFAULT, the parameters, registration in ``scores.method``
``windows``     rolling windows ending at ``as_of`` (inclusive bounds)
``beta``        regularized incomplete beta and Beta quantiles (pure Python)
``formula``     share, shrinkage, credible interval, minimum support, NULL reasons
``counting``    which ``core.contribution`` rows are money (one SQL predicate)
``alignment``   which side each recipient is on (candidate, party, derived to a fixed point)
``facts``       the window's counted rows with their side (a temp table)
``entities``    support per employer, industry, committee, candidate (SQL aggregates)
``store``       validity-range bookkeeping in ``scores.leaning_score``
``engine``      :func:`compute_scores`
``export``      current scores to CSV / Parquet
``explanations`` each entity's top recipients and flows, stored at score time for ``explain``
``explain``     why an entity has its score: support and top recipients
``validation``  ROC AUC of candidate donor-base scores against party

lean-2026.2 (``METHOD_V2``; lean-2026.1 stays computable beside it):

``flow``        the committee graph and its absorbing-chain solve: per committee D/R/other fractions,
                own share and allocation variance (numpy / scipy sparse, per-committee aggregates)
``moments``     method-of-moments Beta over independent deciders plus allocation variance
``deciders``    SQL aggregates per employer, industry, candidate donor base (own-PAC money apart)
``engine_v2``   the steps of lean-2026.2, called by :func:`compute_scores`

The method is documented in ``docs/data/leaning-score.md``.
"""

from fecflow.scores.engine import ScoreResult, compute_scores
from fecflow.scores.method import METHOD_DEFAULT, METHOD_V1, METHOD_V2, METHOD_VERSIONS

__all__ = ["METHOD_DEFAULT", "METHOD_V1", "METHOD_V2", "METHOD_VERSIONS", "ScoreResult", "compute_scores"]
