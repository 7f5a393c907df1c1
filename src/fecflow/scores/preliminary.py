"""How much of each score rests on preliminary e-filed rows (``scores compute --include-preliminary``).

With preliminary rows included, ``_sc_fact`` carries ``preliminary`` (true for a row from
``core.efiling_preliminary``). Per entity, ``preliminary_amount`` is the net dollars of the entity's
own counted rows that are preliminary: an employer's or industry's people's gifts (lean-2026.2:
without their own PAC), a committee's giving, a candidate's receipts from the individuals its score
counts (those whose net gifts to it are above zero). Its
``D + R + other`` amounts come from the same rows, so amount / (D + R + other) is the share of the
score's money that the FEC has not processed yet. Without ``--include-preliminary`` the column is
NULL (nothing preliminary was considered).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import psycopg

from fecflow.scores.explain_v2 import OWN_PAC_APART
from fecflow.scores.method import METHOD_V2

_AMOUNT = "coalesce(sum(f.net) FILTER (WHERE f.preliminary), 0)"
# Per entity type: its key over _sc_fact f, extra joins, and its own rows.
_ROWS = {
    "employer": ("f.employer_key", "", "f.source = 'indiv' AND f.employer_key IS NOT NULL"),
    "industry": ("ei.industry_key", "JOIN _sc_employer_industry ei ON ei.employer_key = f.employer_key",
                 "f.source = 'indiv'"),
    "committee": ("f.payer_key", "", "f.source IN ('pas2', 'oth') AND f.payer_key IS NOT NULL "
                  "AND f.payee_key IS DISTINCT FROM f.payer_key"),
    # A candidate's receipts from the donors its score counts: net gifts above zero (entities.py, deciders.py).
    "candidate": ("f.candidate_key", "", "f.source = 'indiv' AND f.candidate_key IS NOT NULL AND f.donor_key IS NOT NULL "
                  "AND (f.candidate_key, f.donor_key) IN (SELECT candidate_key, donor_key FROM _sc_fact "
                  "WHERE source = 'indiv' AND candidate_key IS NOT NULL AND donor_key IS NOT NULL "
                  "GROUP BY 1, 2 HAVING sum(net) > 0)"),
}  # fmt: skip



def _sql(key: str, join: str, where: str) -> str:
    """The per-entity query (module constants only, built at import)."""
    return "SELECT " + key + ", " + _AMOUNT + " FROM _sc_fact f " + join + " WHERE " + where + (  # noqa: S608
        " GROUP BY 1 HAVING bool_or(f.preliminary)"
    )


_PEOPLE = ("employer", "industry")  # entity types whose own PAC lean-2026.2 sets apart
# Per (lean-2026.2?, entity type): the query. lean-2026.2 leaves an employer's own PAC out, as its score does.
_SQL = {
    (v2, entity_type): _sql(key, join, f"{where} AND {OWN_PAC_APART}" if v2 and entity_type in _PEOPLE else where)
    for v2 in (False, True)
    for entity_type, (key, join, where) in _ROWS.items()
}


def preliminary_amounts(conn: psycopg.Connection, method_version: str) -> dict[tuple[str, int], Decimal]:
    """(entity type, key) -> net preliminary dollars of its own rows, for entities with preliminary rows."""
    v2 = method_version == METHOD_V2
    return {
        (entity_type, int(entity_key)): Decimal(amount)
        for entity_type in _ROWS
        for entity_key, amount in conn.execute(_SQL[(v2, entity_type)])
    }


def preliminary_share(row: Mapping[str, Any]) -> Decimal | None:
    """``preliminary_amount`` of a score row as a share of its D + R + other dollars (None: not
    included, or no money), to 5 places."""
    amount = row.get("preliminary_amount")
    total = sum((row.get(k) or Decimal(0)) for k in ("dem_amount", "rep_amount", "other_amount"))
    if amount is None or not total:
        return None
    return (Decimal(amount) / Decimal(total)).quantize(Decimal("0.00001"), rounding=ROUND_HALF_EVEN)


def preliminary_note(row: Mapping[str, Any]) -> str:
    """One line for people: how much of the score rests on e-filed rows the FEC has not processed."""
    amount = row.get("preliminary_amount")
    if amount is None:
        return "preliminary e-filed rows: not included (scores compute --include-preliminary counts them)"
    if not amount:
        return "preliminary e-filed rows: included, none in this score"
    share = preliminary_share(row)
    part = f", {share:.1%} of its counted dollars" if share is not None else ""
    return f"preliminary e-filed rows: ${amount:,.2f}{part}, not yet processed by the FEC"
