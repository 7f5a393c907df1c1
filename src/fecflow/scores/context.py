"""A score slot's context: what an entity's explanation needs from the window, kept at score time.

``fecflow explain`` lists where an entity's money went, with the same alignment and counting code as
``compute_scores``. That code builds temp tables over the whole window (``_sc_candidate_alignment``,
``_sc_committee_alignment``, ``_sc_committee_candidate``, ``_sc_flow``, ``_sc_own_pac``): slow on a
big window, and impossible in a read-only transaction. Those tables are small (one row per
committee, candidate, or employer with its own PAC), so :func:`store_context` keeps them per slot
(method, as_of, window) in ``scores.context_*`` (migration 0011) while ``compute_scores`` has them.

:func:`context_rows` then answers for any entity with plain SELECTs: common table expressions of the
temp tables' names over the kept rows, and ``_sc_fact`` narrowed to the entity's own rows of
``core.contribution`` (:data:`NARROW`). The line queries themselves are ``explain``'s, unchanged, so
the lines are the same as a full recomputation's (tests compare the two on the real sample).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fecflow.scores.counting import COUNTED_SOURCE, COUNTED_WHERE, PAYEE, counted_params
from fecflow.scores.explain_v2 import CANDIDATE_DONORS, INDUSTRY_EMPLOYERS
from fecflow.scores.facts import EMPLOYER_INDUSTRY_SELECT, FACT_SELECT
from fecflow.scores.method import METHOD_V2
from fecflow.scores.windows import Window

log = logging.getLogger(__name__)

_SLOT = "method_version = %(method)s AND as_of = %(as_of)s AND window_start = %(start)s AND window_end = %(end)s"
_SLOT_VALUES = "%(method)s, %(as_of)s, %(start)s, %(end)s"

_DELETE = f"DELETE FROM scores.context_slot WHERE {_SLOT}"  # noqa: S608 - fixed fragments; cascades
_STORE_SLOT = (
    "INSERT INTO scores.context_slot (method_version, as_of, window_start, window_end, run_id, "  # noqa: S608
    f"include_preliminary) VALUES ({_SLOT_VALUES}, %(run_id)s, %(include_preliminary)s)"
)
_STORE_CANDIDATES = (
    "INSERT INTO scores.context_candidate (method_version, as_of, window_start, window_end, "  # noqa: S608
    f"candidate_key, alignment) SELECT {_SLOT_VALUES}, candidate_key, alignment FROM _sc_candidate_alignment"
)
_FLOW_COLUMNS = ("dem_frac", "rep_frac", "other_frac", "partisan", "mean", "var")


def _store_committees_sql(with_flows: bool) -> str:
    """Every committee of the alignment, candidate and (lean-2026.2) flow temp tables, with what each
    says of it; lean-2026.1 has no ``_sc_flow``: its committees get NULL flow columns."""
    flows = ", ".join(("fl." if with_flows else "NULL AS ") + c for c in _FLOW_COLUMNS)
    return (
        "INSERT INTO scores.context_committee (method_version, as_of, window_start, window_end, committee_key, "  # noqa: S608
        "alignment, basis, candidate_key, " + ", ".join(_FLOW_COLUMNS) + ") "
        "SELECT " + _SLOT_VALUES + ", k.committee_key, a.alignment, a.basis, cc.candidate_key, " + flows + " FROM ("
        " SELECT committee_key FROM _sc_committee_alignment UNION SELECT committee_key FROM _sc_committee_candidate"
        + (" UNION SELECT committee_key FROM _sc_flow" if with_flows else "")
        + ") k LEFT JOIN _sc_committee_alignment a USING (committee_key) "
        "LEFT JOIN _sc_committee_candidate cc USING (committee_key)"
        + (" LEFT JOIN _sc_flow fl USING (committee_key)" if with_flows else "")
    )


_STORE_COMMITTEES = {with_flows: _store_committees_sql(with_flows) for with_flows in (True, False)}
_STORE_OWN_PACS = (
    "INSERT INTO scores.context_own_pac (method_version, as_of, window_start, window_end, "  # noqa: S608
    f"employer_key, committee_key) SELECT {_SLOT_VALUES}, employer_key, committee_key FROM _sc_own_pac"
)

# One entity's rows of core.contribution c (a superset of its explain scope: the line queries narrow
# further). Industries and candidates name their employers or donors as an array (:data:`_NARROW_KEYS`):
# with the keys as a constant the planner sees how many rows come, and joins them by hash (a subquery
# over the kept tables was estimated at one row: nested loops, 2.5 s for the demo's largest industry).
NARROW = {
    "employer": "AND c.source = 'indiv' AND c.employer_key = %(key)s",
    "industry": "AND c.source = 'indiv' AND c.employer_key = ANY(%(narrow_keys)s::bigint[])",
    "committee": "AND c.source IN ('pas2', 'oth') "
    "AND (c.recipient_committee_key = %(key)s OR c.contributor_committee_key = %(key)s)",
    "candidate": "AND c.source = 'indiv' AND c.donor_key = ANY(%(narrow_keys)s::text[])",
}
_NARROW_KEYS = {
    # The industry's employers: its mapped ones and, for a sector, those of its industries.
    "industry": f"SELECT employer_key FROM ({EMPLOYER_INDUSTRY_SELECT}) ei "  # noqa: S608 - fixed fragments
    "WHERE industry_key = %(key)s ORDER BY 1",
    # The people who gave to the candidate's authorized committee (counted rows of the window).
    "candidate": f"SELECT DISTINCT c.donor_key FROM {COUNTED_SOURCE} c "  # noqa: S608 - fixed fragments
    "JOIN scores.context_committee cc ON cc.committee_key = " + PAYEE + " AND cc.candidate_key = %(key)s "
    f"AND cc.{_SLOT.replace(' AND ', ' AND cc.')} "
    f"WHERE {COUNTED_WHERE} AND c.source = 'indiv' AND c.donor_key IS NOT NULL ORDER BY 1",
}

# The temp tables of a computation, as common table expressions over the kept rows of the slot.
_CTES = (
    f"_sc_candidate_alignment AS (SELECT candidate_key, alignment FROM scores.context_candidate WHERE {_SLOT}), "  # noqa: S608
    "_sc_committee_alignment AS (SELECT committee_key, alignment, basis FROM scores.context_committee "
    f"WHERE {_SLOT} AND basis IS NOT NULL), "
    "_sc_committee_candidate AS (SELECT committee_key, candidate_key FROM scores.context_committee "
    f"WHERE {_SLOT} AND candidate_key IS NOT NULL), "
    "_sc_flow AS (SELECT committee_key, dem_frac, rep_frac, other_frac, partisan, mean, var "
    f"FROM scores.context_committee WHERE {_SLOT} AND partisan IS NOT NULL), "
    "_sc_own_pac AS MATERIALIZED (SELECT employer_key, committee_key FROM scores.context_own_pac "
    f"WHERE {_SLOT} AND employer_key = ANY(%(own_pac_employers)s::bigint[])), "
    f"_sc_employer_industry AS ({EMPLOYER_INDUSTRY_SELECT}), "
)
_CONDUITS = f"SELECT committee_key FROM scores.context_committee WHERE {_SLOT} AND basis = 'conduit' ORDER BY 1"  # noqa: S608
_HAS_CONTEXT = f"SELECT include_preliminary FROM scores.context_slot WHERE {_SLOT}"  # noqa: S608


def _slot_params(method_version: str, as_of: dt.date, window: Window) -> dict[str, Any]:
    return {"method": method_version, "as_of": as_of, "start": window.start, "end": window.end}


def store_context(
    conn: psycopg.Connection,
    *,
    run_id: int,
    method_version: str,
    as_of: dt.date,
    window: Window,
    include_preliminary: bool = False,
) -> int:
    """Replace the slot's context from the temp tables of the current computation; return the committees kept."""
    params = _slot_params(method_version, as_of, window) | {
        "run_id": run_id,
        "include_preliminary": include_preliminary,
    }
    v2 = method_version == METHOD_V2
    conn.execute(_DELETE, params)
    conn.execute(_STORE_SLOT, params)
    committees = conn.execute(_STORE_COMMITTEES[v2], params).rowcount
    candidates = conn.execute(_STORE_CANDIDATES, params).rowcount
    own_pacs = conn.execute(_STORE_OWN_PACS, params).rowcount if v2 else 0
    # Fresh statistics: estimated at one row per slot, the kept tables drew nested loops over every
    # counted row (4.4 s for the demo's largest industry instead of milliseconds).
    conn.execute("ANALYZE scores.context_committee, scores.context_candidate, scores.context_own_pac")
    log.info(
        "kept the context of %s as of %s: %d committees, %d candidates, %d own-PAC links",
        method_version, as_of, committees, candidates, own_pacs,
    )  # fmt: skip
    return committees


@dataclass(frozen=True)
class SlotContext:
    """A slot with a kept context: its parameters and what its counted rows were (conduits left out,
    preliminary rows or not), read once per explanation."""

    params: dict[str, Any]


def slot_context(
    conn: psycopg.Connection, *, method_version: str, as_of: dt.date, window: Window
) -> SlotContext | None:
    """The slot's kept context, or None for a slot computed before migration 0011."""
    slot = _slot_params(method_version, as_of, window)
    kept = conn.execute(_HAS_CONTEXT, slot).fetchone()
    if kept is None:
        return None
    conduits = [int(r[0]) for r in conn.execute(_CONDUITS, slot)]
    return SlotContext(slot | counted_params(window, conduits, include_preliminary=bool(kept[0])))


def entity_params(conn: psycopg.Connection, context: SlotContext, entity_type: str, key: int) -> dict[str, Any]:
    """The parameters of one entity's queries: an industry's employers or a candidate's donors looked
    up once, and the employers whose own PACs matter (a scan of every pair per row was 80 ms of a
    demo industry)."""
    params = context.params | {"key": key}
    narrow = [r[0] for r in conn.execute(_NARROW_KEYS[entity_type], params)] if entity_type in _NARROW_KEYS else []
    own_pac_employers = {"employer": [key], "industry": narrow}.get(entity_type, [])
    return params | {"narrow_keys": narrow, "own_pac_employers": own_pac_employers}


# In the scopes, the same sets as constants (hashed by the executor) instead of subqueries (joined
# row by row under the one-row estimates of the kept tables: 175 ms of 220 for a demo industry's flows).
_KEYED_SCOPES = {
    INDUSTRY_EMPLOYERS: "f.employer_key = ANY(%(narrow_keys)s::bigint[])",
    CANDIDATE_DONORS: "f.donor_key = ANY(%(narrow_keys)s::text[])",
}


def context_query(entity_type: str, lines_sql: str) -> str:
    """``lines_sql`` (a query over ``_sc_fact`` and the other temp tables' names) over the kept context."""
    facts = FACT_SELECT.format(narrow=NARROW[entity_type])
    for subquery, keyed in _KEYED_SCOPES.items():
        lines_sql = lines_sql.replace(subquery, keyed)
    return "WITH " + _CTES + "_sc_fact AS (" + facts + ") " + lines_sql  # fixed fragments only


def context_rows(
    conn: psycopg.Connection, entity_type: str, lines_sql: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rows of ``lines_sql`` for one entity, read-only, from the slot's context (``params``:
    :func:`entity_params` and whatever else ``lines_sql`` names, e.g. ``top``)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(context_query(entity_type, lines_sql), params).fetchall()
