"""Does the donor-base score separate the parties? ROC AUC of candidate scores, REP vs DEM.

AUC = P(score of a random R-aligned candidate > score of a random D-aligned one), ties counting one
half (Mann-Whitney U / (n_R * n_D), with average ranks for ties). 1 = perfect separation, 0.5 = none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from fecflow.scores.method import METHOD_DEFAULT
from fecflow.scores.windows import DEFAULT_LOOKBACK_MONTHS, window_ending


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """P(positive > negative) + P(tie) / 2, in O(n log n) through average ranks."""
    if not positives or not negatives:
        raise ValueError("AUC needs at least one positive and one negative")
    labelled = sorted([(float(s), 1) for s in positives] + [(float(s), 0) for s in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(labelled):
        j = i
        while j + 1 < len(labelled) and labelled[j + 1][0] == labelled[i][0]:
            j += 1
        average_rank = (i + j) / 2 + 1
        rank_sum += average_rank * sum(label for _, label in labelled[i : j + 1])
        i = j + 1
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


@dataclass(frozen=True)
class PartyAuc:
    auc: float
    n_rep: int
    n_dem: int
    min_donors: int


def candidate_party_auc(
    conn: psycopg.Connection,
    *,
    as_of: dt.date,
    lookback_months: int = DEFAULT_LOOKBACK_MONTHS,
    method_version: str = METHOD_DEFAULT,
    min_donors: int = 20,
) -> PartyAuc:
    """AUC of current candidate scores (with >= ``min_donors`` donors) predicting R over D party."""
    window = window_ending(as_of, lookback_months)
    rows = conn.execute(
        "SELECT p.alignment, s.score FROM scores.leaning_score s "
        "JOIN core.candidate k ON k.candidate_key = s.candidate_key "
        "JOIN ref.party p ON p.code = upper(btrim(k.party)) "
        "WHERE s.entity_type = 'candidate' AND s.valid_to IS NULL AND s.score IS NOT NULL "
        "AND s.method_version = %s AND s.as_of = %s AND s.window_start = %s AND s.window_end = %s "
        "AND s.n_donors >= %s AND p.alignment IN ('D', 'R')",
        (method_version, as_of, window.start, window.end, min_donors),
    ).fetchall()
    rep = [float(score) for side, score in rows if side == "R"]
    dem = [float(score) for side, score in rows if side == "D"]
    return PartyAuc(roc_auc(rep, dem), len(rep), len(dem), min_donors)
