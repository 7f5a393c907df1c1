"""The window's counted money, one temp row per contribution, with its recipient's side.

``_sc_fact`` (dropped at commit) holds every counted row of the window (see ``counting``), oriented
(``payer_key`` -> ``payee_key``, committees; NULL where not a committee), with ``side`` (D, R, O or
NULL = undetermined) from ``alignment``, the signed ``net`` amount, the row's own candidate
(``row_candidate_key``, pas2) and ``candidate_key`` = the candidate whose authorized committee
received it (NULL otherwise).
``_sc_employer_industry`` maps each non-generic employer to its mapped industry and to that
industry's NAICS sector (2-digit, or the ranges 31-33, 44-45, 48-49).
"""

from __future__ import annotations

import logging

import psycopg

from fecflow.scores.alignment import COUNTED_ROWS, SIDE, SIDE_JOINS, AlignmentStats
from fecflow.scores.counting import counted_params
from fecflow.scores.windows import Window

log = logging.getLogger(__name__)

# The facts of the counted rows; ``{narrow}`` (an ``AND ...`` on core.contribution c, or nothing)
# keeps only some (:mod:`fecflow.scores.context`: one entity's rows, read from the kept slot tables).
FACT_SELECT = (
    f"WITH x AS ({COUNTED_ROWS} {{narrow}}) "  # noqa: S608 - fixed fragments
    f"SELECT x.*, cc.candidate_key, {SIDE} AS side FROM x {SIDE_JOINS['x']} "
    "LEFT JOIN _sc_committee_candidate cc ON cc.committee_key = x.payee_key"
)
_FACT_SQL = "CREATE TEMP TABLE _sc_fact ON COMMIT DROP AS " + FACT_SELECT.format(narrow="")

SECTOR_MATCH = (
    "n.level = 2 AND (n.code = left(m.naics_code, 2) OR (n.code ~ '^[0-9]{2}-[0-9]{2}$' "
    "AND left(m.naics_code, 2) BETWEEN left(n.code, 2) AND right(n.code, 2)))"
)

# Each non-generic employer's mapped industry and that industry's sector.
EMPLOYER_INDUSTRY_SELECT = (
    "WITH mapped AS ("  # noqa: S608 - fixed fragments
    " SELECT ei.employer_key, i.industry_key, i.naics_code FROM core.employer_industry ei"
    " JOIN core.industry i ON i.industry_key = ei.industry_key"
    " JOIN core.employer e ON e.employer_key = ei.employer_key WHERE NOT e.is_generic"
    "), sector AS ("
    f" SELECT m.employer_key, si.industry_key FROM mapped m JOIN ref.naics n ON {SECTOR_MATCH}"
    " JOIN core.industry si ON si.naics_code = n.code"
    ") SELECT employer_key, industry_key FROM mapped UNION SELECT employer_key, industry_key FROM sector"
)
_EMPLOYER_INDUSTRY_SQL = (
    "DROP TABLE IF EXISTS _sc_employer_industry",
    "CREATE TEMP TABLE _sc_employer_industry ON COMMIT DROP AS " + EMPLOYER_INDUSTRY_SELECT,
    "CREATE INDEX ON _sc_employer_industry (employer_key)",
    "ANALYZE _sc_employer_industry",
)


def build_facts(conn: psycopg.Connection, window: Window, alignment: AlignmentStats) -> int:
    """Create ``_sc_fact`` and ``_sc_employer_industry`` for ``window``; return the fact row count."""
    conn.execute("DROP TABLE IF EXISTS _sc_fact")
    params = counted_params(window, alignment.conduit_keys, include_preliminary=alignment.include_preliminary)
    cur = conn.execute(_FACT_SQL, params)
    rows = cur.rowcount
    conn.execute("ANALYZE _sc_fact")
    for statement in _EMPLOYER_INDUSTRY_SQL:
        conn.execute(statement)
    log.info("%d counted contribution rows in %s", rows, window)
    return rows
