"""lean-2026.2 in ``explain``: the committees an entity's money went through, and its own PAC.

Recomputed from ``core`` for the score's window with the engine's own graph code
(:func:`fecflow.scores.engine_v2.build_graph_tables`, temp tables in the caller's transaction). Each
line is a committee the entity's counted money went to, with the partisan dollars that came out of
it (``net x partisan part``), their share of the entity's partisan money, and the committee's own
stored lean-2026.2 score and interval (whose uncertainty the entity inherits).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fecflow.scores.engine_v2 import build_graph_tables
from fecflow.scores.windows import Window

# An employer's people's gifts to its own PAC are reported apart, never in its lines (f: _sc_fact).
OWN_PAC_APART = (
    "NOT EXISTS (SELECT 1 FROM _sc_own_pac o WHERE o.employer_key = f.employer_key AND o.committee_key = f.payee_key)"
)
# An industry's employers, and a candidate's donors (f: _sc_fact; see fecflow.scores.context).
INDUSTRY_EMPLOYERS = "f.employer_key IN (SELECT employer_key FROM _sc_employer_industry WHERE industry_key = %(key)s)"
CANDIDATE_DONORS = (
    "f.donor_key IN "
    "(SELECT donor_key FROM _sc_fact WHERE source = 'indiv' AND candidate_key = %(key)s AND donor_key IS NOT NULL)"
)
# The entity's rows in _sc_fact (f): as explain's, without an employer's gifts to its own PAC.
V2_SCOPE = {
    "employer": f"f.source = 'indiv' AND f.employer_key = %(key)s AND {OWN_PAC_APART}",
    "industry": f"f.source = 'indiv' AND {INDUSTRY_EMPLOYERS} AND {OWN_PAC_APART}",
    "committee": "f.source IN ('pas2', 'oth') AND f.payer_key = %(key)s AND f.payee_key IS DISTINCT FROM f.payer_key",
    "candidate": f"f.source = 'indiv' AND f.candidate_key IS DISTINCT FROM %(key)s AND {CANDIDATE_DONORS}",
}
FLOW_SQL = (
    "SELECT m.committee_id AS recipient_id, m.name AS recipient_name, "
    "sum(f.net * fl.partisan)::numeric(14, 2) AS amount, "
    "count(DISTINCT f.donor_key) AS n_donors, ps.score, ps.ci_low, ps.ci_high "
    "FROM _sc_fact f JOIN _sc_flow fl ON f.side IS NULL AND fl.committee_key = f.payee_key "
    "JOIN core.committee m ON m.committee_key = f.payee_key "
    "LEFT JOIN scores.leaning_score ps ON ps.committee_key = f.payee_key AND ps.valid_to IS NULL "
    "AND ps.method_version = %(method)s AND ps.as_of = %(as_of)s AND ps.window_start = %(start)s "
    "AND ps.window_end = %(end)s "
    "WHERE {scope} GROUP BY 1, 2, 5, 6, 7 HAVING sum(f.net * fl.partisan) > 0 "
    "ORDER BY amount DESC, m.committee_id LIMIT %(top)s"
)
_PAC_SQL = (
    "SELECT m.committee_id, m.name, ps.score, ps.ci_low, ps.ci_high FROM core.committee m "
    "LEFT JOIN scores.leaning_score ps ON ps.committee_key = m.committee_key AND ps.valid_to IS NULL "
    "AND ps.method_version = %(method)s AND ps.as_of = %(as_of)s AND ps.window_start = %(start)s "
    "AND ps.window_end = %(end)s WHERE m.committee_key = %(pac)s"
)


@dataclass(frozen=True)
class FlowLine:
    committee_id: str
    name: str | None
    partisan_amount: Decimal  # partisan dollars that came out of the committee
    share: Decimal | None  # of the entity's partisan money
    n_donors: int
    score: Decimal | None  # the committee's own stored score and interval
    ci_low: Decimal | None
    ci_high: Decimal | None


def explain_flows(
    conn: psycopg.Connection,
    entity_type: str,
    key: int,
    *,
    method_version: str,
    as_of: dt.date,
    window: Window,
    score: dict[str, Any],
    top: int,
) -> tuple[list[FlowLine], dict[str, Any] | None]:
    """The top committees the entity's money flowed through, and its own PAC (employers)."""
    build_graph_tables(conn, window)
    params = {
        "key": key,
        "method": method_version,
        "as_of": as_of,
        "start": window.start,
        "end": window.end,
        "top": top,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        lines = [flow_line(r, score) for r in cur.execute(FLOW_SQL.format(scope=V2_SCOPE[entity_type]), params)]
    return lines, own_pac(conn, method_version=method_version, as_of=as_of, window=window, score=score)


def flow_line(row: dict[str, Any], score: dict[str, Any]) -> FlowLine:
    """A flow row (stored in scores.explanation_line or queried on demand, with the committee's score)
    as ``explain`` shows it, its share taken of the entity's partisan money."""
    partisan = (score.get("direct_amount") or 0) + (score.get("flowed_amount") or 0)
    amount = row["amount"]
    return FlowLine(
        row["recipient_id"],
        row["recipient_name"],
        amount,
        (amount / partisan).quantize(Decimal("0.001")) if partisan else None,
        int(row["n_donors"]),
        row["score"],
        row["ci_low"],
        row["ci_high"],
    )


def own_pac(
    conn: psycopg.Connection, *, method_version: str, as_of: dt.date, window: Window, score: dict[str, Any]
) -> dict[str, Any] | None:
    """An employer's own PAC (id, name and its stored score in the same slot), when the score names one."""
    if score.get("own_pac_committee_key") is None:
        return None
    params = {
        "method": method_version,
        "as_of": as_of,
        "start": window.start,
        "end": window.end,
        "pac": score["own_pac_committee_key"],
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_PAC_SQL, params).fetchone()
