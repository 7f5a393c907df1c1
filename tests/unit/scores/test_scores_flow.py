"""lean-2026.2 without a database: the flow solve, the moments, the sponsor strings."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from fecflow.normalize.sponsors import sponsor_string
from fecflow.scores.flow import Edge, solve_flows
from fecflow.scores.moments import Deciders, interval_of, moments_of

EDGES = [
    Edge(1, 2, None, "c2", 100.0, 1),
    Edge(1, None, "R", "k9", 100.0, 1),
    Edge(2, None, "D", "k5", 300.0, 2),
    Edge(2, None, "R", "k6", 100.0, 1),
    Edge(2, 3, None, "c3", 40.0, 1),
    Edge(3, 2, None, "c2", 10.0, 1),
    Edge(3, None, "O", "k7", 30.0, 1),
]


def _state(edges: list[Edge]) -> dict[int, tuple[float, ...]]:
    result = solve_flows(edges)
    return {k: (f.dem, f.rep, f.other, f.mean, f.var) for k, f in result.flows.items()}


def test_the_solve_does_not_depend_on_edge_order() -> None:
    expected = _state(EDGES)
    for seed in range(5):
        shuffled = EDGES[:]
        random.Random(seed).shuffle(shuffled)
        assert _state(shuffled) == expected


def test_every_dollar_ends_somewhere() -> None:
    for f in solve_flows(EDGES).flows.values():
        assert abs(f.dem + f.rep + f.other - f.total) < 1e-9


@settings(max_examples=200, deadline=None)
@given(
    mean=st.floats(0.02, 0.98),
    committee_n=st.floats(1.0, 50.0),
    donors=st.lists(st.floats(1.0, 5000.0), min_size=1, max_size=50),
)
def test_money_all_through_one_committee_is_never_surer_than_the_committee(
    mean: float, committee_n: float, donors: list[float]
) -> None:
    """The committee's own Beta(mean, n) vs an entity whose donors all gave through it."""
    committee = moments_of(Deciders(committee_n, committee_n * mean, committee_n, 0.0))
    total = sum(donors)
    entity = moments_of(Deciders(total, total * committee.mean, total**2, total**2 * committee.var))
    low_c, high_c = interval_of(committee)
    low_e, high_e = interval_of(entity)
    assert entity.var >= committee.var
    assert high_e - low_e >= high_c - low_c - 1e-9


def test_sponsor_strings() -> None:
    assert sponsor_string("GOOGLE LLC", "GOOGLE LLC NETPAC") == ("GOOGLE LLC", "connected")
    assert sponsor_string(None, "MICROSOFT CORPORATION POLITICAL ACTION COMMITTEE") == (
        "MICROSOFT CORPORATION",
        "name",
    )
    assert sponsor_string(None, "SEMPRA ENERGY EMPLOYEES POLITICAL ACTION COMMITTEE- FEDERAL") == (
        "SEMPRA ENERGY",
        "name",
    )
    assert sponsor_string(None, "PAC") is None
    # A hyphen inside a word is not a separator; a fragment too short to name anyone links nothing.
    assert sponsor_string(None, "7-ELEVEN INC PAC") == ("7-ELEVEN INC", "name")
    assert sponsor_string(None, "THE FARMERS EDUCATION & CO-OPERATIVE UNION OF AMERICA PAC (NATFARMPAC)") == (
        "THE FARMERS EDUCATION & CO-OPERATIVE UNION OF AMERICA",
        "name",
    )
    assert sponsor_string(None, "ACME - FEDERAL PAC") == ("ACME", "name")
    assert sponsor_string(None, "K PAC") is None and sponsor_string(None, "II (2) FUND") is None
