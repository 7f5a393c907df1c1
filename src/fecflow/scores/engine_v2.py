"""lean-2026.2: the score rows of one window (facts, committee graph, flows, deciders, moments).

Called by :func:`fecflow.scores.engine.compute_scores` for ``method_version = lean-2026.2``; the
``lean-2026.1`` path stays as it was. Steps, all inside the caller's transaction:

1. fixed alignment only (conduits from ``ref.conduit`` valid in the window, candidates, parties);
2. ``_sc_fact`` as for lean-2026.1 (``side`` NULL where money goes to a committee without a fixed side);
3. the committee graph (:func:`fecflow.scores.flow.build_graph`), solved in Python per committee;
4. ``_sc_own_pac`` (sponsor links) and the SQL aggregates per entity (:mod:`fecflow.scores.deciders`);
5. the method-of-moments Beta per entity (:mod:`fecflow.scores.moments`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import psycopg

from fecflow.scores.alignment import AlignmentStats, alignment_tally, build_fixed_alignment
from fecflow.scores.deciders import EntitySupport, build_own_pacs, iter_support_v2
from fecflow.scores.facts import build_facts
from fecflow.scores.flow import CommitteeFlow, FlowResult, build_graph, solve_flows, store_flows
from fecflow.scores.formula import (
    INSUFFICIENT_SUPPORT,
    NO_ACTIVITY,
    NO_DONOR_ELSEWHERE,
    NO_NET_PARTISAN,
    Leaning,
    Support,
)
from fecflow.scores.method import DEFAULT_PARAMS_V2, MethodParamsV2
from fecflow.scores.moments import Deciders, moments_of, rounded
from fecflow.scores.store import ScoreRow
from fecflow.scores.windows import Window

log = logging.getLogger(__name__)

UNREPRESENTATIVE_BASE = "unrepresentative_base"
CLOSED_CYCLE = "closed_cycle"

_CONDUITS_SQL = (
    "SELECT DISTINCT committee_id FROM ref.conduit WHERE valid_from <= %(end)s "
    "AND (valid_to IS NULL OR valid_to >= %(start)s) ORDER BY committee_id"
)


@dataclass(frozen=True)
class GraphStats:
    conduit_keys: tuple[int, ...]
    alignment: dict[str, int]
    givers: int
    closed: int
    fact_rows: int


def conduit_ids(conn: psycopg.Connection, window: Window) -> list[str]:
    """Conduit committee ids valid at any day of the window (``ref.conduit``)."""
    return [r[0] for r in conn.execute(_CONDUITS_SQL, {"start": window.start, "end": window.end})]


def _money(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _share(value: float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(float(value))).quantize(Decimal("0.00001"), rounding=ROUND_HALF_EVEN)


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


def _reason(entity_type: str, s: EntitySupport, params: MethodParamsV2) -> str | None:
    """Why an entity gets no score (``code: detail``), or None."""
    if s.sum_w <= 0:
        if s.n_contributions == 0 and s.dem == 0 and s.rep == 0:
            if entity_type == "candidate":
                return (
                    f"{NO_DONOR_ELSEWHERE}: none of the itemized donors ({_dollars(s.other)}) "
                    "gave to other partisan recipients in the window"
                )
            return f"{NO_ACTIVITY}: {_dollars(s.other)} to other or unaligned recipients only"
        return f"{NO_NET_PARTISAN}: refunds cancel the partisan giving (D {_dollars(s.dem)}, R {_dollars(s.rep)})"
    if entity_type == "candidate" and s.base_donor_share is not None and s.base_dollar_share is not None:
        if (
            s.base_donor_share < params.min_base_donor_share
            or s.base_dollar_share < params.min_base_dollar_share
        ):
            return (
                f"{UNREPRESENTATIVE_BASE}: {s.n_donors:,} donor(s) who also gave elsewhere are "
                f"{s.base_donor_share:.2%} of the donors and {s.base_dollar_share:.2%} of the dollars; "
                f"needs {params.min_base_donor_share:.0%} and {params.min_base_dollar_share:.0%}"
            )
    kish = s.sum_w**2 / s.sum_w2 if s.sum_w2 > 0 else 0.0
    if kish < params.min_effective:
        return f"{INSUFFICIENT_SUPPORT}: {kish:.2f} effective deciders; needs {params.min_effective}"
    return None


def selection_bounds(
    low: Decimal, high: Decimal, share: float, params: MethodParamsV2 = DEFAULT_PARAMS_V2
) -> tuple[Decimal, Decimal]:
    """The candidate-base interval widened for the donors the score does not see.

    A candidate's base lean is ``s * mu_in + (1 - s) * mu_out``, where ``s`` is the share of its
    dollars from donors who also gave elsewhere (the ones the score rests on) and ``mu_out``, the
    lean of the others, is not observed: it can be anything in [0, 1]. Without an assumption about
    it (worst-case bounds, as in Manski's partial identification), the interval is
    ``[s * low, s * high + (1 - s)]``. It always contains the score (low <= score <= high), is as
    narrow as the sampled interval only when every dollar is seen, and at the 20% minimum share is
    at least 0.8 wide: the score says what the overlapping donors do, the interval what that
    allows about the whole base.
    """
    seen = Decimal(repr(min(max(float(share), 0.0), 1.0)))
    quantum = Decimal(1).scaleb(-params.decimals)
    wide_low = (seen * low).quantize(quantum, rounding=ROUND_HALF_EVEN)
    wide_high = min(
        Decimal(1), (seen * high + (Decimal(1) - seen)).quantize(quantum, rounding=ROUND_HALF_EVEN)
    )
    return min(wide_low, low), max(wide_high, high)


def assess_entity(entity_type: str, s: EntitySupport, params: MethodParamsV2 = DEFAULT_PARAMS_V2) -> ScoreRow:
    """The score row of one entity's support."""
    support = Support(_money(s.dem), _money(s.rep), _money(s.other), s.n_contributions, s.n_donors)
    reason = _reason(entity_type, s, params)
    n_effective: Decimal | None = None
    if reason is None:
        m = moments_of(Deciders(s.sum_w, s.sum_wx, s.sum_w2, s.alloc_var), params)
        score, low, high = rounded(m, params)
        if entity_type == "candidate" and s.base_dollar_share is not None:
            low, high = selection_bounds(low, high, s.base_dollar_share, params)
        leaning = Leaning(score, low, high, None)
        n_effective = _money(m.n_effective)
    else:
        leaning = Leaning(None, None, None, reason)
    extra = (
        n_effective,
        None if s.direct is None else _money(s.direct),
        None if s.flowed is None else _money(s.flowed),
        None if s.own_pac_amount is None else _money(s.own_pac_amount),
        s.own_pac_key if entity_type == "employer" else None,
        _share(s.base_donor_share),
        _share(s.base_dollar_share),
    )
    return ScoreRow(entity_type, s.key, support, leaning, extra)


def committee_support(key: int, f: CommitteeFlow) -> EntitySupport:
    """A giver's solved flow as entity support (its deciders: recipients and child committees)."""
    return EntitySupport(
        key, f.dem, f.rep, f.other, f.n_contributions, f.n_units if f.sum_w > 0 else 0,
        f.sum_w, f.sum_wx, f.sum_w2, f.alloc_var, f.direct, f.flowed, None, None, None, None,
    )  # fmt: skip


def build_graph_tables(
    conn: psycopg.Connection,
    window: Window,
    params: MethodParamsV2 = DEFAULT_PARAMS_V2,
    *,
    include_preliminary: bool = False,
) -> tuple[FlowResult, GraphStats]:
    """Alignment, ``_sc_fact``, the solved flows (``_sc_flow``) and ``_sc_own_pac`` for ``window``."""
    keys = build_fixed_alignment(conn, conduit_ids(conn, window), party_committees_first=True)
    conn.execute("ANALYZE _sc_candidate_alignment, _sc_committee_candidate, _sc_committee_alignment")
    tally = alignment_tally(conn)
    fact_rows = build_facts(conn, window, AlignmentStats(keys, tally, include_preliminary=include_preliminary))
    flows = solve_flows(build_graph(conn, window, params), params)
    store_flows(conn, flows)
    build_own_pacs(conn)
    return flows, GraphStats(keys, tally, flows.givers, flows.closed, fact_rows)


def iter_rows_v2(
    conn: psycopg.Connection, entity_type: str, flows: FlowResult, params: MethodParamsV2 = DEFAULT_PARAMS_V2
) -> Iterator[ScoreRow]:
    """The score rows of one entity type (graph tables must exist)."""
    if entity_type == "committee":
        for key in sorted(flows.flows):
            f = flows.flows[key]
            row = assess_entity("committee", committee_support(key, f), params)
            if f.closed:
                reason = (
                    f"{CLOSED_CYCLE}: its money only circulates among committees with no partisan destination"
                )
                row = ScoreRow(
                    row.entity_type, row.entity_key, row.support, Leaning(None, None, None, reason), row.extra
                )
            yield row
        return
    for support in iter_support_v2(conn, entity_type):
        yield assess_entity(entity_type, support, params)
