"""lean-2026.2: money followed through committees, and each committee's own allocation uncertainty.

The graph. Nodes are the committees that give in the window (pas2/oth rows where they are the payer,
plus JFC money, see :func:`build_graph`). A giver's counted dollars go to

* a *terminal*: a recipient with a fixed side (candidate, party; ``alignment``), D, R or O;
* a *child*: a committee with no fixed side that gives money on itself;
* nowhere partisan: a committee that gives nothing on, or a payee that is not a committee (``other``).

**Flow** (absorbing Markov chain). ``F[c] = (D, R, O)``, the fractions of a dollar given to ``c`` that
end at D, R or other recipients, solves ``F[c] = B[c] / T[c] + sum_c' a[c, c'] / T[c] * F[c']`` with
``T[c]`` all that ``c`` gave (edges floored at 0 after netting refunds). Committees whose money can
never leave a cycle (no path to any terminal) are *closed*: their money stays ``other`` and they are
counted in the result. Every other cycle leaks, so ``I - Q`` is nonsingular (scipy sparse solve).
``pi[c] = D + R`` is the partisan part of a dollar given to ``c``.

**Share and its uncertainty** (method of moments, ``docs/data/leaning-score.md``). A committee's
deciders are its terminal recipients (one decision each, share 1 for R and 0 for D) and each child
committee (one decision, share ``m[c']``), weighted by the partisan dollars they carry
(``w = a * pi[c']`` for a child). With the Kish effective count ``n = (sum w)^2 / sum w^2`` and the
Beta prior ``(k, p0)``::

    S = sum w x / sum w          m = (n S + k p0) / (n + k)
    V = m (1 - m) / (n + k + 1) + sum_children (w / sum w)^2 V[c']

Both are linear systems over the graph (``m`` affine, ``V`` linear once ``m`` is known). An entity
(employer, industry, candidate donor base) is assessed by :func:`assess_units` with the same formula:
its deciders are its direct donors and, once each, the committees its money went through.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import psycopg
from scipy.sparse import csr_matrix, identity
from scipy.sparse.linalg import spsolve

from fecflow.scores.counting import NET_AMOUNT, PAYEE, PAYER
from fecflow.scores.method import DEFAULT_PARAMS_V2, MethodParamsV2
from fecflow.scores.windows import Window

log = logging.getLogger(__name__)

SIDES = ("D", "R", "O")


@dataclass(frozen=True)
class Edge:
    """Aggregated money from ``giver``: to a terminal (``side``), a ``child`` committee, or nowhere."""

    giver: int
    child: int | None
    side: str | None  # D, R, O for a terminal; None for a child or no partisan destination
    unit: str  # the decision unit (recipient id); one per terminal recipient or child
    amount: float
    n: int = 0  # contribution rows (refunds excluded)


@dataclass
class CommitteeFlow:
    """One giver's solved flow and its own share (``mean``) and allocation variance (``var``)."""

    total: float = 0.0  # all it gave (floored per edge)
    dem: float = 0.0  # dollars that end at D (through any chain)
    rep: float = 0.0
    other: float = 0.0
    direct: float = 0.0  # partisan dollars to terminals
    flowed: float = 0.0  # partisan dollars through child committees
    partisan: float = 0.0  # pi: partisan part of a dollar given to it
    sum_w: float = 0.0
    sum_wx: float = 0.0
    sum_w2: float = 0.0
    alloc_var: float = 0.0  # sum over children of w^2 V[child] (absolute, not divided by sum_w^2)
    mean: float = 0.5
    var: float = 0.0
    n_contributions: int = 0
    n_units: int = 0
    closed: bool = False
    children: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowResult:
    flows: dict[int, CommitteeFlow]
    closed: int  # committees whose money never leaves a cycle
    givers: int


def _solve(matrix: csr_matrix, rhs: np.ndarray) -> np.ndarray:
    size = matrix.shape[0]
    system = (identity(size, format="csc") - matrix).tocsc()
    solved = spsolve(system, rhs)
    return np.asarray(solved).reshape(rhs.shape)


def _reaching(givers: Sequence[int], flows: dict[int, CommitteeFlow]) -> set[int]:
    """Givers with a path (through children) to a terminal: the ones whose money can leave."""
    parents: dict[int, list[int]] = defaultdict(list)
    for g in givers:
        for child in flows[g].children:
            parents[child].append(g)
    stack = [g for g in givers if flows[g].dem + flows[g].rep + flows[g].other > 0]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for parent in parents[node]:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


Units = dict[int, dict[tuple[str, str | None], float]]  # giver -> (decision unit, side) -> amount


def _aggregate(edges: Iterable[Edge]) -> tuple[Units, dict[int, CommitteeFlow]]:
    """Per giver: its money per decision unit and side, and a flow with D / R / other and children
    (children that give nothing on become other: no partisan destination)."""
    units: Units = defaultdict(lambda: defaultdict(float))
    counts: dict[int, int] = defaultdict(int)
    raw_children: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for e in edges:
        if e.child is not None:
            raw_children[e.giver][e.child] += e.amount
        else:
            units[e.giver][(e.unit, e.side)] += e.amount
        if e.side in ("D", "R") or e.child is not None:
            counts[e.giver] += e.n
    flows: dict[int, CommitteeFlow] = {}
    for g in sorted(set(units) | set(raw_children)):
        f = CommitteeFlow(n_contributions=counts[g])
        for (_, side), amount in sorted(units[g].items()):
            amount = max(amount, 0.0)
            if side == "D":
                f.dem += amount
            elif side == "R":
                f.rep += amount
            else:
                f.other += amount
        for child, amount in sorted(raw_children[g].items()):
            if amount > 0 and child != g:
                f.children[child] = amount
        flows[g] = f
    for f in flows.values():
        for child in [c for c in f.children if c not in flows]:
            f.other += f.children.pop(child)
    return units, flows


def _solve_fractions(flows: dict[int, CommitteeFlow], order: list[int]) -> np.ndarray:
    """Per-dollar (D, R, other) of each giver in ``order``: one sparse linear system."""
    index = {g: i for i, g in enumerate(order)}
    size = len(order)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs = np.zeros((size, 3))
    for g in order:
        f, i = flows[g], index[g]
        rhs[i] = (f.dem / f.total, f.rep / f.total, f.other / f.total)
        for child, amount in f.children.items():
            if child in index:
                rows.append(i)
                cols.append(index[child])
                vals.append(amount / f.total)
            else:  # a closed child: its money stays other
                rhs[i, 2] += amount / f.total
    return _solve(csr_matrix((vals, (rows, cols)), shape=(size, size)), rhs) if size else rhs


def _set_deciders(
    f: CommitteeFlow, units: dict[tuple[str, str | None], float], partisan: dict[int, float]
) -> None:
    """A giver's independent deciders: each terminal unit with D/R money, and each child once."""
    weights = [
        (amount, 1.0 if side == "R" else 0.0)
        for (_, side), amount in sorted(units.items())
        if side in ("D", "R") and amount > 0
    ]
    f.n_units = len(weights)
    f.sum_w = sum(w for w, _ in weights)
    f.sum_wx = sum(w * x for w, x in weights)
    f.sum_w2 = sum(w * w for w, _ in weights)
    for child, amount in f.children.items():
        w = amount * partisan.get(child, 0.0)
        if w > 0:
            f.flowed += w
            f.sum_w += w
            f.sum_w2 += w * w
            f.n_units += 1


def solve_flows(edges: Iterable[Edge], params: MethodParamsV2 = DEFAULT_PARAMS_V2) -> FlowResult:
    """Flow fractions, shares and variances of every giver; deterministic for any edge order."""
    units, flows = _aggregate(edges)
    givers = list(flows)
    reaching = _reaching(givers, flows)
    for g in givers:
        f = flows[g]
        f.total = f.dem + f.rep + f.other + sum(f.children.values())
        if g not in reaching and f.total > 0:
            f.closed = True
    order = [g for g in givers if g in reaching and flows[g].total > 0]
    fractions = _solve_fractions(flows, order)
    partisan = {g: float(fractions[i, 0] + fractions[i, 1]) for i, g in enumerate(order)}
    for i, g in enumerate(order):
        f = flows[g]
        f.partisan = partisan[g]
        f.direct = f.dem + f.rep
        f.dem, f.rep, f.other = (float(x) * f.total for x in fractions[i])
        _set_deciders(f, units[g], partisan)
    for f in flows.values():
        if f.closed:
            f.dem = f.rep = 0.0
            f.other = f.total
    _solve_shares(flows, [g for g in order if flows[g].sum_w > 0], params)
    closed = sum(1 for f in flows.values() if f.closed)
    if closed:
        log.warning("%d committee(s) give only within closed cycles: their money stays other", closed)
    return FlowResult(flows, closed, len(givers))


def _solve_shares(flows: dict[int, CommitteeFlow], order: list[int], params: MethodParamsV2) -> None:
    """Means (affine system) then variances (linear system) of the givers with partisan money."""
    k, p0 = params.prior_strength, params.prior_mean
    index = {g: i for i, g in enumerate(order)}
    size = len(order)
    alpha = np.zeros(size)
    base = np.zeros(size)
    rows: list[int] = []
    cols: list[int] = []
    weights: list[float] = []
    for g in order:
        f, i = flows[g], index[g]
        n = f.sum_w**2 / f.sum_w2
        alpha[i] = n / (n + k)
        base[i] = alpha[i] * f.sum_wx / f.sum_w + k * p0 / (n + k)
        for child, amount in f.children.items():
            if child in index:
                rows.append(i)
                cols.append(index[child])
                weights.append(amount * flows[child].partisan / f.sum_w)
    share = csr_matrix((weights, (rows, cols)), shape=(size, size))
    means = _solve(csr_matrix(share.multiply(alpha.reshape(-1, 1))), base) if size else base
    for g in order:
        flows[g].mean = float(means[index[g]])
    own = np.array(
        [flows[g].mean * (1 - flows[g].mean) / (flows[g].sum_w ** 2 / flows[g].sum_w2 + k + 1) for g in order]
    )
    variances = _solve(csr_matrix(share.multiply(share)), own) if size else own
    for g in order:
        f = flows[g]
        f.var = float(variances[index[g]])
        f.alloc_var = float(f.var - own[index[g]]) * f.sum_w**2
        f.sum_wx += sum(
            amount * flows[c].partisan * flows[c].mean for c, amount in f.children.items() if c in index
        )


# ----------------------------------------------------------------------------------------- SQL
_GIVING_SQL = (
    # Counted giving in the window (``_sc_fact``): terminal, child or nowhere, per decision unit.
    "SELECT f.payer_key, "
    "CASE WHEN f.side IS NULL THEN f.payee_key END AS child, f.side, "
    "coalesce('k' || f.row_candidate_key, 'c' || f.payee_key, 'none') AS unit, "
    "sum(f.net), count(*) FILTER (WHERE NOT f.is_refund) "
    "FROM _sc_fact f WHERE f.source IN ('pas2', 'oth') AND f.payer_key IS NOT NULL "
    "AND f.payee_key IS DISTINCT FROM f.payer_key GROUP BY 1, 2, 3, 4"
)

_JFC_SQL = (
    # JFCs without a fixed side: their receipts attributed to participants through 15J/18J memos of
    # the same donors (fractional, by memo amounts), else through the JFC's transfers (24G / 18G
    # mirror rows: the larger of the two sides' totals per participant). A memo that does not name
    # its JFC belongs to a JFC of that donor only when the donor gave to no other JFC in the window,
    # or the memo's participant received that JFC's transfers: a donor to two JFCs does not lend one
    # JFC's participants to the other.
    "WITH jfc AS ("  # noqa: S608 - fixed fragments
    " SELECT m.committee_key FROM core.committee m WHERE m.designation = %(jfc)s"
    " AND NOT EXISTS (SELECT 1 FROM _sc_committee_alignment a WHERE a.committee_key = m.committee_key)"
    "), jfc_rows AS MATERIALIZED ("  # one scan of the window for memos and transfers
    " SELECT c.category, c.donor_key, c.recipient_committee_key, c.contributor_committee_key, c.amount, c.filer_side,"
    f" {PAYER} AS payer, {PAYEE} AS payee, {NET_AMOUNT} AS net FROM core.contribution c"
    " WHERE (c.transaction_type = ANY(%(memo_types)s) OR c.category = 'transfer') AND c.deleted_at IS NULL"
    " AND c.transaction_date BETWEEN %(window_start)s AND %(window_end)s"
    "), gave AS ("
    " SELECT DISTINCT f.payee_key AS jfc_key, f.donor_key FROM _sc_fact f JOIN jfc ON jfc.committee_key = f.payee_key"
    " WHERE f.donor_key IS NOT NULL"
    "), donor_jfcs AS ("
    " SELECT donor_key, count(*) AS n FROM gave GROUP BY 1"
    "), participant AS ("
    " SELECT DISTINCT payer AS jfc_key, payee FROM jfc_rows WHERE category = 'transfer' AND payee IS NOT NULL"
    "), memo AS ("
    " SELECT g.jfc_key, c.recipient_committee_key AS participant, sum(c.amount) AS amount, count(*) AS n"
    " FROM jfc_rows c JOIN gave g ON g.donor_key = c.donor_key JOIN donor_jfcs d ON d.donor_key = g.donor_key"
    " WHERE c.category <> 'transfer'"
    " AND c.recipient_committee_key IS NOT NULL AND c.recipient_committee_key <> g.jfc_key"
    " AND (c.contributor_committee_key = g.jfc_key OR (c.contributor_committee_key IS NULL AND (d.n = 1"
    " OR EXISTS (SELECT 1 FROM participant p WHERE p.jfc_key = g.jfc_key AND p.payee = c.recipient_committee_key))))"
    " GROUP BY 1, 2"
    "), transfer AS ("
    " SELECT payer, payee, max(amount) AS amount, max(n) AS n FROM (SELECT payer, payee, filer_side,"
    " sum(net) AS amount, count(*) AS n FROM jfc_rows WHERE category = 'transfer'"
    " AND payer IN (SELECT committee_key FROM jfc) GROUP BY 1, 2, 3) t"
    " WHERE payee IS NOT NULL AND payee <> payer GROUP BY 1, 2"
    "), edges AS ("
    " SELECT jfc_key AS giver, participant, amount, n FROM memo"
    " UNION ALL SELECT payer, payee, amount, n FROM transfer"
    " WHERE payer NOT IN (SELECT jfc_key FROM memo)"
    ") SELECT e.giver, CASE WHEN a.committee_key IS NULL THEN e.participant END, a.alignment, "
    "'c' || e.participant, e.amount, e.n FROM edges e "
    "LEFT JOIN _sc_committee_alignment a ON a.committee_key = e.participant"
)


def build_graph(
    conn: psycopg.Connection, window: Window, params: MethodParamsV2 = DEFAULT_PARAMS_V2
) -> list[Edge]:
    """The aggregated edges of the window's committee graph (``_sc_fact`` and alignment must exist)."""
    sql_params = {
        "jfc": params.jfc_designation,
        "memo_types": list(params.jfc_memo_types),
        "window_start": window.start,
        "window_end": window.end,
    }
    edges: list[Edge] = []
    for query, args in ((_GIVING_SQL, None), (_JFC_SQL, sql_params)):
        for giver, child, side, unit, amount, n in conn.execute(query, args):
            side = None if child is not None else (side if side in SIDES else "O")
            edges.append(
                Edge(int(giver), None if child is None else int(child), side, unit, float(amount), int(n))
            )
    return edges


def store_flows(conn: psycopg.Connection, result: FlowResult) -> None:
    """``_sc_flow`` (dropped at commit): per giver its per-dollar D/R/O fractions, share mean and variance."""
    conn.execute("DROP TABLE IF EXISTS _sc_flow")
    conn.execute(
        # numeric, not float8: the per-entity sums over these are then exact, whatever the row order.
        "CREATE TEMP TABLE _sc_flow (committee_key bigint PRIMARY KEY, dem_frac numeric NOT NULL, "
        "rep_frac numeric NOT NULL, other_frac numeric NOT NULL, partisan numeric NOT NULL, mean numeric NOT NULL, "
        "var numeric NOT NULL) ON COMMIT DROP"
    )
    with conn.cursor().copy(
        "COPY _sc_flow (committee_key, dem_frac, rep_frac, other_frac, partisan, mean, var) FROM STDIN"
    ) as copy:
        for key in sorted(result.flows):
            f = result.flows[key]
            if f.total <= 0:
                continue
            values = (f.dem / f.total, f.rep / f.total, f.other / f.total, f.partisan, f.mean, f.var)
            copy.write_row((key, *(repr(float(v)) for v in values)))
    conn.execute("ANALYZE _sc_flow")
