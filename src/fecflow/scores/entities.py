"""Support per entity, aggregated in SQL over ``_sc_fact`` (see ``facts``).

Every query returns ``(entity_key, dem, rep, other, n_contributions, n_donors)``. ``dem``/``rep``
are net dollars to D/R-aligned recipients, ``other`` to O-aligned or undetermined ones; the counts
cover the partisan rows only (refund rows are netted but are not extra evidence).

employer   individuals (indiv rows) who list a non-generic employer
industry   the same, through core.employer_industry, at the mapped industry and at its NAICS sector
committee  the committee's own giving: pas2/oth rows where it is the payer (never to itself)
candidate  donor base with leave-one-out: each individual donor's partisan share of their giving to
           *other* recipients, weighted by what they gave this candidate; ``rep`` = sum of weight x
           share, ``dem`` = sum of weight x (1 - share), ``other`` = receipts from donors with no
           partisan giving elsewhere (excluded from the score)
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import psycopg

from fecflow.db.statements import stream

_PARTISAN = "side IN ('D', 'R')"
_SUPPORT_COLUMNS = (
    "coalesce(sum(f.net) FILTER (WHERE f.side = 'D'), 0), "
    "coalesce(sum(f.net) FILTER (WHERE f.side = 'R'), 0), "
    "coalesce(sum(f.net) FILTER (WHERE f.side IS NULL OR f.side NOT IN ('D', 'R')), 0), "
    f"count(*) FILTER (WHERE f.{_PARTISAN} AND NOT f.is_refund), "
)

SUPPORT_SQL: dict[str, str] = {
    "employer": (
        f"SELECT f.employer_key, {_SUPPORT_COLUMNS}"  # noqa: S608 - fixed fragments
        f"count(DISTINCT f.donor_key) FILTER (WHERE f.{_PARTISAN} AND NOT f.is_refund) "
        "FROM _sc_fact f JOIN core.employer e ON e.employer_key = f.employer_key AND NOT e.is_generic "
        "WHERE f.source = 'indiv' GROUP BY f.employer_key"
    ),
    "industry": (
        f"SELECT ei.industry_key, {_SUPPORT_COLUMNS}"  # noqa: S608 - fixed fragments
        f"count(DISTINCT f.donor_key) FILTER (WHERE f.{_PARTISAN} AND NOT f.is_refund) "
        "FROM _sc_fact f JOIN _sc_employer_industry ei ON ei.employer_key = f.employer_key "
        "WHERE f.source = 'indiv' GROUP BY ei.industry_key"
    ),
    "committee": (
        f"SELECT f.payer_key, {_SUPPORT_COLUMNS}"  # noqa: S608 - fixed fragments
        f"count(DISTINCT f.payer_key) FILTER (WHERE f.{_PARTISAN} AND NOT f.is_refund) "
        "FROM _sc_fact f WHERE f.source IN ('pas2', 'oth') AND f.payer_key IS NOT NULL "
        "AND f.payee_key IS DISTINCT FROM f.payer_key GROUP BY f.payer_key"
    ),
    "candidate": (
        "WITH indiv AS ("
        " SELECT donor_key, candidate_key, side, net, is_refund FROM _sc_fact"
        " WHERE source = 'indiv' AND donor_key IS NOT NULL"
        "), donor_candidate AS ("  # partisan giving per donor and (authorized) candidate, NULL = other
        " SELECT donor_key, candidate_key,"
        " coalesce(sum(net) FILTER (WHERE side = 'D'), 0) AS d, coalesce(sum(net) FILTER (WHERE side = 'R'), 0) AS r"
        " FROM indiv WHERE side IN ('D', 'R') GROUP BY donor_key, candidate_key"
        "), donor_total AS ("
        " SELECT donor_key, sum(d) AS d, sum(r) AS r FROM donor_candidate GROUP BY donor_key"
        "), receipts AS ("
        " SELECT candidate_key, donor_key, sum(net) AS w, count(*) FILTER (WHERE NOT is_refund) AS n"
        " FROM indiv WHERE candidate_key IS NOT NULL GROUP BY candidate_key, donor_key"
        "), elsewhere AS ("
        " SELECT r.candidate_key, r.w, r.n,"
        " greatest(coalesce(t.d, 0) - coalesce(dc.d, 0), 0) AS d, greatest(coalesce(t.r, 0) - coalesce(dc.r, 0), 0) AS r"
        " FROM receipts r LEFT JOIN donor_total t ON t.donor_key = r.donor_key"
        " LEFT JOIN donor_candidate dc ON dc.donor_key = r.donor_key AND dc.candidate_key = r.candidate_key"
        " WHERE r.w > 0"
        "), shares AS ("
        " SELECT candidate_key, w, n, CASE WHEN d + r > 0 THEN r / (d + r) END AS s FROM elsewhere"
        ") SELECT candidate_key,"
        " round(coalesce(sum(w * (1 - s)), 0), 2), round(coalesce(sum(w * s), 0), 2),"
        " coalesce(sum(w) FILTER (WHERE s IS NULL), 0),"
        " coalesce(sum(n) FILTER (WHERE s IS NOT NULL), 0), count(*) FILTER (WHERE s IS NOT NULL)"
        " FROM shares GROUP BY candidate_key"
    ),
}


def iter_support(
    conn: psycopg.Connection, entity_type: str
) -> Iterator[tuple[int, Decimal, Decimal, Decimal, int, int]]:
    """Yield ``(entity_key, dem, rep, other, n_contributions, n_donors)`` for every entity with money."""
    for key, dem, rep, other, n_contributions, n_donors in stream(
        conn, SUPPORT_SQL[entity_type], name="_sc_support"
    ):
        yield int(key), Decimal(dem), Decimal(rep), Decimal(other), int(n_contributions), int(n_donors)
