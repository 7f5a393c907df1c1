"""Which side a recipient is on: D, R, O (other party) or undetermined (NULL).

Built per window into session temp tables (dropped at commit):

``_sc_candidate_alignment``  candidate_key -> alignment of the candidate's party (``ref.party``)
``_sc_committee_candidate``  committee_key -> the one candidate it is an authorized committee of
``_sc_committee_alignment``  committee_key -> alignment, basis (conduit, candidate, party, derived)

A row's recipient side is the alignment of the row's own candidate (pas2 rows name one) when known,
else that of the committee that received the money (the payee, see ``counting``). Committees in order of precedence:

1. conduits (ActBlue, WinRed): never a recipient (their rows are excluded from every total);
2. committees linked to candidates (links or the committee's own CAND_ID) whose D/R alignments agree:
   that alignment (only third-party candidates: O);
3. committees declaring a D/R-aligned party, and party committees (types X, Y, Z): their party;
4. every other committee that gives: aligned from its own giving (pas2/oth rows where it is the
   payer) with the committee formula; score >= threshold is R, <= 1 - threshold is D, else
   undetermined. Repeated (Jacobi steps, all committees from the previous state) until nothing
   changes or the iteration cap is hit. Python walks the aggregated (giver, recipient) edges only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from fecflow.errors import DataError
from fecflow.scores.counting import COUNTED_SOURCE, COUNTED_WHERE, NET_AMOUNT, PAYEE, PAYER, counted_params
from fecflow.scores.formula import Support, assess
from fecflow.scores.method import DEFAULT_PARAMS, MethodParams
from fecflow.scores.windows import Window

log = logging.getLogger(__name__)


# Joins giving a counted row (table alias ``f`` or ``x``, with row_candidate_key and payee_key) the
# aliases ca and ma.
SIDE_JOINS = {
    alias: f"LEFT JOIN _sc_candidate_alignment ca ON ca.candidate_key = {alias}.row_candidate_key "
    f"LEFT JOIN _sc_committee_alignment ma ON ma.committee_key = {alias}.payee_key"
    for alias in ("f", "x")
}


# The recipient side of a row, and what decided it (with SIDE_JOINS).
SIDE = "coalesce(ca.alignment, ma.alignment)"
SIDE_BASIS = "CASE WHEN ca.alignment IS NOT NULL THEN 'candidate' ELSE ma.basis END"

# One counted row per line, oriented (payer -> payee); ``{where}`` narrows it further.
COUNTED_ROWS = (
    "SELECT c.source, c.donor_key, c.employer_key, "  # noqa: S608 - fixed fragments
    f"{PAYER} AS payer_key, {PAYEE} AS payee_key, c.candidate_key AS row_candidate_key, "
    f"{NET_AMOUNT} AS net, c.is_refund, c.preliminary FROM {COUNTED_SOURCE} c WHERE {COUNTED_WHERE}"
)

PARTY_COMMITTEE_TYPES = ("X", "Y", "Z")
AUTHORIZED_DESIGNATIONS = ("P", "A")
CANDIDATE_COMMITTEE_TYPES = ("H", "S", "P")


@dataclass(frozen=True)
class AlignmentStats:
    conduit_keys: tuple[int, ...]
    committees: dict[str, int] = field(default_factory=dict)  # "basis:alignment" -> committees
    iterations: int = 0
    converged: bool = True
    include_preliminary: bool = False  # the facts count preliminary e-filed rows too


_PARTY_SQL = (
    "INSERT INTO _sc_committee_alignment "
    "SELECT m.committee_key, p.alignment, 'party' FROM core.committee m "
    "JOIN ref.party p ON p.code = upper(btrim(m.party)) "
    "WHERE p.alignment IN ('D', 'R') OR m.committee_type = ANY(%(party_types)s) "
    "ON CONFLICT (committee_key) DO NOTHING"
)

_FIXED_SQL = (
    # Candidates: the party's alignment.
    "DROP TABLE IF EXISTS _sc_candidate_alignment, _sc_committee_candidate, _sc_committee_alignment",
    "CREATE TEMP TABLE _sc_candidate_alignment ON COMMIT DROP AS "
    "SELECT k.candidate_key, p.alignment FROM core.candidate k "
    "JOIN ref.party p ON p.code = upper(btrim(k.party))",
    "ALTER TABLE _sc_candidate_alignment ADD PRIMARY KEY (candidate_key)",
    # Authorized committees of exactly one candidate: receipts there are that candidate's.
    "CREATE TEMP TABLE _sc_committee_candidate ON COMMIT DROP AS "
    "WITH auth AS ("
    " SELECT l.committee_key, l.candidate_key FROM core.candidate_committee_link l"
    " WHERE l.valid_to IS NULL AND l.candidate_key IS NOT NULL"
    " AND (l.designation = ANY(%(authorized)s) OR l.committee_type = ANY(%(candidate_types)s))"
    " UNION"
    " SELECT m.committee_key, m.candidate_key FROM core.committee m WHERE m.candidate_key IS NOT NULL"
    " AND (m.designation = ANY(%(authorized)s) OR m.committee_type = ANY(%(candidate_types)s))"
    ") SELECT committee_key, min(candidate_key) AS candidate_key FROM auth "
    "GROUP BY committee_key HAVING count(DISTINCT candidate_key) = 1",
    "ALTER TABLE _sc_committee_candidate ADD PRIMARY KEY (committee_key)",
    "CREATE TEMP TABLE _sc_committee_alignment "
    "(committee_key bigint PRIMARY KEY, alignment text, basis text NOT NULL) ON COMMIT DROP",
    "INSERT INTO _sc_committee_alignment SELECT m.committee_key, NULL, 'conduit' FROM core.committee m "
    "WHERE m.committee_id = ANY(%(conduits)s)",
    # Linked candidates agree on D or R (or are all third-party: O).
    "INSERT INTO _sc_committee_alignment "
    "WITH links AS ("
    " SELECT l.committee_key, l.candidate_key FROM core.candidate_committee_link l"
    " WHERE l.valid_to IS NULL AND l.candidate_key IS NOT NULL"
    " UNION SELECT m.committee_key, m.candidate_key FROM core.committee m WHERE m.candidate_key IS NOT NULL"
    "), sides AS ("
    " SELECT links.committee_key,"
    " array_agg(DISTINCT ca.alignment) FILTER (WHERE ca.alignment IN ('D', 'R')) AS partisan,"
    " bool_or(ca.alignment = 'O') AS third_party"
    " FROM links JOIN _sc_candidate_alignment ca USING (candidate_key) GROUP BY links.committee_key"
    ") SELECT committee_key, CASE WHEN cardinality(partisan) = 1 THEN partisan[1] ELSE 'O' END, 'candidate' "
    "FROM sides WHERE cardinality(partisan) = 1 OR (partisan IS NULL AND third_party) "
    "ON CONFLICT (committee_key) DO NOTHING",
    # Declared party: D/R for any committee, any alignment for party committees.
    _PARTY_SQL,
)

# lean-2026.2: a party committee keeps its own party's side and basis even when cm/ccl link it to a
# candidate (the 2020 sample links the Republican Party of Texas, C00143743, to S2TX00106): the party
# rows go in before the candidate links, so "party committees keep their direct alignment" holds.
_FIXED_SQL_PARTY_FIRST = (
    *_FIXED_SQL[:7],
    _PARTY_SQL.replace("WHERE p.alignment IN ('D', 'R') OR", "WHERE"),
    *_FIXED_SQL[7:],
)

# Giving by committees without a fixed alignment, per (payer, payee, row candidate). A NULL payee
# (OTHER_ID not a committee) is fixed: its side can only come from the row's candidate.
_EDGES_SQL = (
    f"WITH x AS ({COUNTED_ROWS} AND c.source IN ('pas2', 'oth')) "  # noqa: S608 - fixed fragments
    "SELECT x.payer_key, x.payee_key, coalesce(ca.alignment, fixed.alignment) AS fixed_side, "
    "ca.alignment IS NOT NULL OR fixed.basis IS NOT NULL OR x.payee_key IS NULL, "
    "sum(x.net), count(*) FILTER (WHERE NOT x.is_refund) "
    "FROM x LEFT JOIN _sc_candidate_alignment ca ON ca.candidate_key = x.row_candidate_key "
    "LEFT JOIN _sc_committee_alignment fixed ON fixed.committee_key = x.payee_key "
    "WHERE x.payer_key IS NOT NULL AND x.payee_key IS DISTINCT FROM x.payer_key "
    "AND NOT EXISTS (SELECT 1 FROM _sc_committee_alignment g WHERE g.committee_key = x.payer_key) "
    "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3"
)


@dataclass(frozen=True)
class _Edge:
    giver: int
    recipient: int | None
    fixed_side: str | None
    recipient_fixed: bool  # the side does not depend on the iteration (may still be None)
    net: Decimal
    n: int


def _require_parties(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE alignment = 'D'), count(*) FILTER (WHERE alignment = 'R') FROM ref.party"
    ).fetchone()
    dem, rep = row if row else (0, 0)
    if not dem or not rep:
        raise DataError(
            "ref.party has no Democratic- and Republican-aligned party codes: no recipient can be aligned.",
            hint="Load the reference data first (normalization loads ref.party).",
        )


def derive_alignments(
    edges: list[_Edge], params: MethodParams = DEFAULT_PARAMS
) -> tuple[dict[int, str | None], int, bool]:
    """Fixed-point alignment of committees from their giving: (alignments, iterations, converged)."""
    givers = sorted({e.giver for e in edges})
    threshold = Decimal(str(params.derived_alignment_threshold))
    current: dict[int, str | None] = {}
    previous: dict[int, str | None] = {}
    for iteration in range(1, params.derived_alignment_max_iterations + 1):
        totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        count: dict[int, int] = defaultdict(int)
        for e in edges:
            side = e.fixed_side if e.recipient_fixed or e.recipient is None else current.get(e.recipient)
            side = side if side in ("D", "R") else "O"
            totals[e.giver][side] += e.net
            if side != "O":
                count[e.giver] += e.n
        following: dict[int, str | None] = {}
        for giver in givers:
            n, money = count[giver], totals[giver]
            support = Support(money["D"], money["R"], money["O"], n, 1 if n else 0)
            score = assess(support, "committee", params).score
            if score is None:
                following[giver] = None
            elif score >= threshold:
                following[giver] = "R"
            elif score <= 1 - threshold:
                following[giver] = "D"
            else:
                following[giver] = None
        if following == current:
            return current, iteration, True
        previous, current = current, following
    # Still flipping at the cap (a cycle): whatever differs between the last two steps is undetermined.
    settled = {giver: side if side == previous.get(giver) else None for giver, side in current.items()}
    return settled, params.derived_alignment_max_iterations, False


def build_fixed_alignment(
    conn: psycopg.Connection, conduit_ids: Sequence[str], *, party_committees_first: bool = False
) -> tuple[int, ...]:
    """Steps 1-3 (conduits, candidates, parties) into the temp tables; return the conduits' keys.

    ``party_committees_first`` (lean-2026.2): party committees take their party's side before any
    candidate link is looked at; lean-2026.1 keeps its order (candidate links first).
    """
    _require_parties(conn)
    conduit_rows = conn.execute(
        "SELECT committee_key FROM core.committee WHERE committee_id = ANY(%s) ORDER BY committee_key",
        (list(conduit_ids),),
    ).fetchall()
    fixed_params = {
        "authorized": list(AUTHORIZED_DESIGNATIONS),
        "candidate_types": list(CANDIDATE_COMMITTEE_TYPES),
        "party_types": list(PARTY_COMMITTEE_TYPES),
        "conduits": list(conduit_ids),
    }
    for statement in _FIXED_SQL_PARTY_FIRST if party_committees_first else _FIXED_SQL:
        conn.execute(statement, fixed_params if "%(" in statement else None)
    return tuple(int(r[0]) for r in conduit_rows)


def alignment_tally(conn: psycopg.Connection) -> dict[str, int]:
    """Committees per ``basis:alignment`` in ``_sc_committee_alignment``."""
    return {
        f"{basis}:{alignment or '-'}": int(n)
        for basis, alignment, n in conn.execute(
            "SELECT basis, alignment, count(*) FROM _sc_committee_alignment GROUP BY 1, 2 ORDER BY 1, 2"
        )
    }


def build_alignment(
    conn: psycopg.Connection,
    window: Window,
    params: MethodParams = DEFAULT_PARAMS,
    *,
    include_preliminary: bool = False,
) -> AlignmentStats:
    """Create the alignment temp tables for ``window``; return what was decided."""
    conduit_keys = build_fixed_alignment(conn, params.conduit_committee_ids)
    counted = counted_params(window, conduit_keys, include_preliminary=include_preliminary)
    edges = [
        _Edge(int(g), None if r is None else int(r), side, bool(fixed), Decimal(net), int(n))
        for g, r, side, fixed, net, n in conn.execute(_EDGES_SQL, counted)
    ]
    derived, iterations, converged = derive_alignments(edges, params)
    if not converged:
        log.warning("derived committee alignment did not converge in %d iterations", iterations)
    with conn.cursor().copy(
        "COPY _sc_committee_alignment (committee_key, alignment, basis) FROM STDIN"
    ) as copy:
        for key in sorted(derived):
            copy.write_row((key, derived[key], "derived"))
    conn.execute("ANALYZE _sc_candidate_alignment, _sc_committee_candidate, _sc_committee_alignment")
    tally = alignment_tally(conn)
    log.info(
        "recipient alignment for %s: %s; derived in %d iteration(s)%s",
        window,
        ", ".join(f"{k}={v}" for k, v in tally.items()) or "none",
        iterations,
        "" if converged else " (not converged)",
    )
    return AlignmentStats(conduit_keys, tally, iterations, converged, include_preliminary)
