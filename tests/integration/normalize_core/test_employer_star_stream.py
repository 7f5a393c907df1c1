"""Star clusters streamed from the database decide as star clusters made in memory.

Normalize writes the agreeing edges to a table and reads them back in visiting order
(:class:`~fecflow.normalize.employer_merge.StarGraph`); the tools keep every edge in memory
(:func:`~fecflow.normalize.employer_similarity.star_clusters`). Same decisions, ties included: equal
scores, equal rows, names whose order differs between byte and locale collations.
"""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from fecflow.normalize.employer_merge import StarGraph
from fecflow.normalize.employer_similarity import KINDS, Candidate, Edge, star_clusters

pytestmark = pytest.mark.integration

# Short names (weak forms), cut-length names, accented and mixed-case letters: every key of the
# visiting order is exercised, and "C" order differs from a locale's order on these.
_NAMES = st.sampled_from(
    ["IBM", "ACME", "ACME CORP", "ÉCOLE", "ECOLE NORMALE", "Zeta", "zeta inc", "B", "AB CO", "ÑANDU SA", "A" * 36]
) | st.text(alphabet="ABCÉ Ñ", min_size=1, max_size=7).map(lambda s: " ".join(s.split()) or "X")
_SHARES = st.sampled_from([0.0, 0.25, 0.333, 0.5, 1.0])  # few values: equal scores happen


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[list[Edge], dict[str, int], set[str], dict[str, int]]:
    names = sorted(draw(st.sets(_NAMES, min_size=2, max_size=14)))
    edges: list[Edge] = []
    for _ in range(draw(st.integers(1, 30))):
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        if a == b:
            continue
        ev = {
            "state": draw(_SHARES),
            "zip3": draw(_SHARES),
            "recipient": draw(_SHARES),
            "occupation": draw(_SHARES),
            "corporate_pac": draw(_SHARES),
            "states": draw(st.integers(0, 5)),
        }
        edges.append((Candidate(min(a, b), max(a, b), draw(st.sampled_from(KINDS))), ev))
    rows = {n: draw(st.sampled_from([0, 1, 5, 5, 40])) for n in names}
    fixed = {n for n in names if draw(st.booleans()) and draw(st.booleans())}
    longest = {n: draw(st.sampled_from([len(n), 34, 40])) for n in names}
    return edges, rows, fixed, longest


def _locale_collation(conn: psycopg.Connection) -> str | None:
    """A usable ICU collation of the server ("unicode" in PostgreSQL 16+, "und-x-icu" in Debian's 15),
    which orders "ÉCOLE" before "ECOLE NORMALE" and "zeta" before "Zeta" where code points do not;
    None when the build has no ICU (the embedded PostgreSQL: its order is then "C" anyway)."""
    for (name,) in conn.execute(
        "SELECT collname FROM pg_collation WHERE collprovider = 'i' AND collname IN ('unicode', 'und-x-icu')"
    ).fetchall():
        try:
            with conn.transaction():
                conn.execute(sql.SQL("SELECT 'a' < 'B' COLLATE {}").format(sql.Identifier(name)))
            return str(name)
        except psycopg.errors.FeatureNotSupported:
            continue
    return None


def _streamed(
    conn: psycopg.Connection, edges: list[Edge], rows: dict[str, int], fixed: set[str], longest: dict[str, int]
) -> dict[str, tuple[str, str, float, dict[str, float]]]:
    conn.execute("DROP TABLE IF EXISTS _sim_edge, _sim_node, _sim_node_seen")
    graph = StarGraph(conn)
    # The names as a database with a locale would hold them: the visiting order must still be
    # Python's (code points).
    if collation := _locale_collation(conn):
        conn.execute(
            sql.SQL("ALTER TABLE _sim_node_seen ALTER COLUMN name TYPE text COLLATE {}").format(
                sql.Identifier(collation)
            )
        )
    for c, ev in edges:
        graph.edge(c, ev)
        for n in (c.a, c.b):  # written more than once, as normalize does across batches
            graph.node(n, fixed=n in fixed, longest=longest[n], rows=rows[n], is_new=n not in fixed)
    return {d.name: (d.target, d.kind, d.score, d.evidence) for d in graph.decisions()}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=_graphs())
def test_streamed_star_clusters_decide_as_in_memory(
    conn: psycopg.Connection, graph: tuple[list[Edge], dict[str, int], set[str], dict[str, int]]
) -> None:
    edges, rows, fixed, longest = graph
    in_memory = {
        d.name: (d.target, d.kind, d.score, d.evidence)
        for d in star_clusters(edges, rows, fixed=fixed, longest=longest).values()
    }
    assert _streamed(conn, edges, rows, fixed, longest) == in_memory
    conn.rollback()


def test_a_chain_joins_the_center_not_a_member(conn: psycopg.Connection) -> None:
    """A - B - C with A the most rows: B joins A; C's only neighbor B is no center, so C stays a
    center. The stream must not let C see B as a center."""
    ev = {"state": 1.0, "zip3": 1.0, "recipient": 1.0, "occupation": 1.0, "corporate_pac": 0.0, "states": 1}
    edges: list[Edge] = [
        (Candidate("ACME CORP", "ACME CORPORATION", "spacing"), ev),
        (Candidate("ACME CORPORATION", "ACME CORPORATION INTL", "typo"), ev),
    ]
    rows = {"ACME CORP": 90, "ACME CORPORATION": 10, "ACME CORPORATION INTL": 5}
    longest = {n: len(n) for n in rows}
    decided = _streamed(conn, edges, rows, set(), longest)
    assert set(decided) == {"ACME CORPORATION"}
    assert decided["ACME CORPORATION"][0] == "ACME CORP"
