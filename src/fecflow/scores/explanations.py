"""Explanations stored at score time: each entity's top recipients and the committees its money went through.

While ``compute_scores`` has the window's facts (``_sc_fact``) and, for lean-2026.2, the solved
committee flows (``_sc_flow``) and own-PAC links (``_sc_own_pac``), :func:`store_explanations`
writes, per employer and committee, the same lines ``fecflow explain`` used to recompute
on demand: ranked by amount, at most :data:`STORED_TOP` per entity and kind, over the same rows as
its on-demand scopes (``_SCOPE`` in :mod:`fecflow.scores.explain`, ``V2_SCOPE`` in
:mod:`fecflow.scores.explain_v2`). ``explain`` and the explorer then read them with an index lookup
in a read-only transaction (:func:`stored_lines`). Industries and candidates (whose lines are a
donor x candidate join) are not stored: they are answered from the slot's kept context
(:mod:`fecflow.scores.context`), also read-only.

Lines of a slot are replaced whenever the slot is recomputed; they are not versioned (the scores are).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL

from fecflow.scores.alignment import SIDE_BASIS, SIDE_JOINS
from fecflow.scores.explain_v2 import OWN_PAC_APART
from fecflow.scores.method import METHOD_V2
from fecflow.scores.windows import Window

log = logging.getLogger(__name__)

STORED_TOP = 10  # lines kept per entity and kind (explain's and the explorer's default)
# Industries are answered from the kept context like candidates: storing their lines joins every fact
# to its employer's industries (sector and mapped), 4.1 s of the 2M-row bench against 2.3 s for
# employers and 0.1 s for committees, for a few hundred pages.
STORED_TYPES = ("committee", "employer")

# Per stored entity type: the grouping key, extra joins and the rows of _sc_fact (f) that are the
# entity's money. ``explain``'s on-demand scopes are the same rows for one key (tests compare the two).
_SCOPES: dict[str, tuple[str, str, str]] = {
    "employer": (
        "f.employer_key",
        "JOIN core.employer e ON e.employer_key = f.employer_key AND NOT e.is_generic",
        "f.source = 'indiv'",
    ),
    "committee": (
        "f.payer_key",
        "",
        "f.source IN ('pas2', 'oth') AND f.payer_key IS NOT NULL AND f.payee_key IS DISTINCT FROM f.payer_key",
    ),
}

_SLOT_INSERT = SQL(
    "INSERT INTO scores.explanation_slot (method_version, as_of, window_start, window_end, entity_type, top, run_id) "
    "VALUES (%(method)s, %(as_of)s, %(start)s, %(end)s, %(type)s, %(top)s, %(run_id)s)"
)
_SLOT_DELETE = SQL(
    "DELETE FROM scores.explanation_slot WHERE method_version = %(method)s AND as_of = %(as_of)s "
    "AND window_start = %(start)s AND window_end = %(end)s"
)
_LINE_COLUMNS = (
    "method_version, as_of, window_start, window_end, entity_type, entity_key, kind, rank, recipient_id, "
    "recipient_name, committee_key, side, basis, amount, n_contributions, n_donors"
)
# Two hash aggregations instead of one sort: per (entity, recipient, side, basis, donor) first, then
# per (entity, recipient, side, basis), where counting the donor groups counts distinct donors. One
# GROUP BY with count(DISTINCT donor_key) sorted every row on the recipient's id and name: 2.3 s of
# the 2M-row bench for employers alone. The grouping is explain's on-demand query's, column for column.
_RECIPIENTS = SQL(
    "INSERT INTO scores.explanation_line (" + _LINE_COLUMNS + ") "  # noqa: S608 - fixed fragments
    "SELECT %(method)s, %(as_of)s, %(start)s, %(end)s, %(type)s, entity_key, 'recipient', rank, recipient_id, "
    "recipient_name, NULL, side, basis, amount, n_contributions, n_donors FROM ("
    " SELECT g.*, row_number() OVER (PARTITION BY entity_key ORDER BY amount DESC, recipient_id, side, basis)"
    " AS rank FROM ("
    "  SELECT entity_key, recipient_id, recipient_name, side, basis, sum(amount) AS amount,"
    "  sum(n) AS n_contributions, count(donor_key) AS n_donors FROM ("
    "   SELECT {key} AS entity_key, coalesce(k.candidate_id, m.committee_id) AS recipient_id,"
    "   coalesce(k.name, m.name) AS recipient_name, f.side, " + SIDE_BASIS + " AS basis, f.donor_key,"
    "   sum(f.net) AS amount, count(*) FILTER (WHERE NOT f.is_refund) AS n"
    "   FROM _sc_fact f " + SIDE_JOINS["f"] + " {join}"
    "   LEFT JOIN core.candidate k ON k.candidate_key = f.row_candidate_key"
    "   LEFT JOIN core.committee m ON m.committee_key = f.payee_key"
    "   WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6"
    "  ) d GROUP BY 1, 2, 3, 4, 5"
    " ) g"
    ") r WHERE rank <= %(top)s"
)
_FLOWS = SQL(
    "INSERT INTO scores.explanation_line (" + _LINE_COLUMNS + ") "  # noqa: S608 - fixed fragments
    "SELECT %(method)s, %(as_of)s, %(start)s, %(end)s, %(type)s, entity_key, 'flow', rank, committee_id, name, "
    "committee_key, NULL, NULL, partisan, NULL, n_donors FROM ("
    " SELECT g.entity_key, m.committee_id, m.name, g.committee_key, g.partisan::numeric(14, 2) AS partisan,"
    " g.n_donors, row_number() OVER (PARTITION BY g.entity_key ORDER BY g.partisan::numeric(14, 2) DESC,"
    " m.committee_id) AS rank FROM ("
    "  SELECT entity_key, committee_key, sum(partisan) AS partisan, count(donor_key) AS n_donors FROM ("
    "   SELECT {key} AS entity_key, f.payee_key AS committee_key, f.donor_key, sum(f.net * fl.partisan) AS partisan"
    "   FROM _sc_fact f JOIN _sc_flow fl ON f.side IS NULL AND fl.committee_key = f.payee_key {join}"
    "   WHERE {where} GROUP BY 1, 2, 3"
    "  ) d GROUP BY 1, 2 HAVING sum(partisan) > 0"
    " ) g JOIN core.committee m ON m.committee_key = g.committee_key"
    ") r WHERE rank <= %(top)s"
)


def _scope(entity_type: str, method_version: str) -> dict[str, SQL]:
    """The grouping key, joins and row filter of an entity type (lean-2026.2: an employer's own PAC apart)."""
    key, join, where = _SCOPES[entity_type]
    if method_version == METHOD_V2 and entity_type == "employer":
        where = f"{where} AND {OWN_PAC_APART}"
    return {"key": SQL(key), "join": SQL(join), "where": SQL(where)}


def store_explanations(
    conn: psycopg.Connection, *, run_id: int, method_version: str, as_of: dt.date, window: Window
) -> int:
    """Replace the slot's stored lines from the temp tables of the current computation; return the lines."""
    params: dict[str, Any] = {
        "method": method_version,
        "as_of": as_of,
        "start": window.start,
        "end": window.end,
        "top": STORED_TOP,
        "run_id": run_id,
    }
    conn.execute(_SLOT_DELETE, params)  # cascades to the lines
    written = 0
    for entity_type in STORED_TYPES:
        typed = params | {"type": entity_type}
        conn.execute(_SLOT_INSERT, typed)
        parts = _scope(entity_type, method_version)
        written += conn.execute(_RECIPIENTS.format(**parts), typed).rowcount
        if method_version == METHOD_V2:
            written += conn.execute(_FLOWS.format(**parts), typed).rowcount
    log.info("stored %d explanation line(s) for %s as of %s", written, method_version, as_of)
    return written


@dataclass(frozen=True)
class StoredLines:
    """An entity's stored lines for one slot: recipients and (lean-2026.2) flows, in rank order."""

    top: int
    recipients: list[dict[str, Any]]
    flows: list[dict[str, Any]]


_STORED_SLOT = SQL(
    "SELECT top FROM scores.explanation_slot WHERE method_version = %(method)s AND as_of = %(as_of)s "
    "AND window_start = %(start)s AND window_end = %(end)s AND entity_type = %(type)s"
)
_STORED_LINES = SQL(
    "SELECT l.kind, l.recipient_id, l.recipient_name, l.side, l.basis, l.amount, l.n_contributions, l.n_donors, "
    "ps.score, ps.ci_low, ps.ci_high FROM scores.explanation_line l "
    "LEFT JOIN scores.leaning_score ps ON l.kind = 'flow' AND ps.committee_key = l.committee_key "
    "AND ps.valid_to IS NULL AND ps.method_version = l.method_version AND ps.as_of = l.as_of "
    "AND ps.window_start = l.window_start AND ps.window_end = l.window_end "
    "WHERE l.method_version = %(method)s AND l.as_of = %(as_of)s AND l.window_start = %(start)s "
    "AND l.window_end = %(end)s AND l.entity_type = %(type)s AND l.entity_key = %(key)s AND l.rank <= %(top)s "
    "ORDER BY l.kind, l.rank"
)


def stored_lines(
    conn: psycopg.Connection,
    *,
    method_version: str,
    as_of: dt.date,
    window: Window,
    entity_type: str,
    entity_key: int,
    top: int,
) -> StoredLines | None:
    """The stored lines when the slot has them for this entity type and ``top`` fits; else None."""
    params = {
        "method": method_version,
        "as_of": as_of,
        "start": window.start,
        "end": window.end,
        "type": entity_type,
        "key": entity_key,
        "top": top,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        slot = cur.execute(_STORED_SLOT, params).fetchone()
        if slot is None or top > slot["top"]:
            return None
        rows = cur.execute(_STORED_LINES, params).fetchall()
    return StoredLines(
        int(slot["top"]),
        [r for r in rows if r["kind"] == "recipient"],
        [r for r in rows if r["kind"] == "flow"],
    )

