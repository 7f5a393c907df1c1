"""Derived committee alignment: the fixed point over committee-to-committee giving (no database)."""

from __future__ import annotations

from decimal import Decimal

from fecflow.scores.alignment import _Edge, derive_alignments
from fecflow.scores.method import MethodParams


def edge(giver: int, recipient: int, side: str | None, fixed: bool, amount: int = 1000, n: int = 1) -> _Edge:
    return _Edge(giver, recipient, side, fixed, Decimal(amount), n)


def test_chain_resolves_one_step_at_a_time() -> None:
    edges = [
        edge(1, 100, "R", True),
        edge(1, 101, "R", True),
        edge(2, 1, None, False, n=2),  # gives to committee 1
        edge(3, 2, None, False, n=2),  # gives to committee 2
        edge(4, 100, "R", True),
        edge(4, 200, "D", True),  # split: undetermined
    ]
    alignments, iterations, converged = derive_alignments(edges)
    assert alignments == {1: "R", 2: "R", 3: "R", 4: None}
    assert (iterations, converged) == (4, True)


def test_threshold_and_shrinkage() -> None:
    # one R contribution: (1 + 1) / 3 = 0.667 < 0.75 -> undetermined; two: 3 / 4 -> R
    assert derive_alignments([edge(1, 100, "R", True)])[0] == {1: None}
    assert derive_alignments([edge(1, 100, "R", True, n=2)])[0] == {1: "R"}
    assert derive_alignments([edge(1, 100, "D", True, n=2)])[0] == {1: "D"}


def test_a_cycle_stops_at_the_cap_and_flipping_committees_are_undetermined() -> None:
    # Step 1: 1 is D (its D gift), 2 is R. Step 2: each now mostly gives to the other side -> both
    # undetermined. Step 3: back to D / R. The Jacobi iteration cycles; the cap ends it.
    edges = [
        edge(1, 2, None, False, amount=5000, n=5),
        edge(1, 900, "D", True, amount=2000, n=2),
        edge(2, 1, None, False, amount=5000, n=5),
        edge(2, 901, "R", True, amount=2000, n=2),
    ]
    for cap in (3, 4, 20):
        alignments, iterations, converged = derive_alignments(
            edges, MethodParams(derived_alignment_max_iterations=cap)
        )
        assert (alignments, iterations, converged) == ({1: None, 2: None}, cap, False)


def test_order_of_edges_does_not_matter() -> None:
    edges = [edge(g, 100 + g % 3, "DR"[g % 2], True, n=1 + g % 4) for g in range(1, 40)]
    edges += [edge(50, g, None, False) for g in range(1, 40)]
    first = derive_alignments(edges)
    assert derive_alignments(list(reversed(edges))) == first
