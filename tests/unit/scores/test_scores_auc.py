"""ROC AUC (Mann-Whitney) used to validate candidate donor-base scores against party."""

from __future__ import annotations

import pytest

from fecflow.scores.validation import roc_auc


def test_perfect_none_and_inverted() -> None:
    assert roc_auc([0.8, 0.9], [0.1, 0.2, 0.3]) == 1.0
    assert roc_auc([0.1], [0.9]) == 0.0
    assert roc_auc([0.5, 0.5], [0.5]) == 0.5


def test_hand_computed_with_ties() -> None:
    # pairs (pos, neg): (0.4: 0.2 win, 0.4 tie, 0.6 loss) (0.7: win, win, win) -> (1 + 0.5 + 3) / 6
    assert roc_auc([0.4, 0.7], [0.2, 0.4, 0.6]) == pytest.approx(4.5 / 6)


def test_needs_both_classes() -> None:
    with pytest.raises(ValueError):
        roc_auc([], [0.1])
