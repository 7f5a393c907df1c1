"""lean-2026.2 support per employer, industry and candidate donor base: independent deciders in SQL.

Runs over ``_sc_fact`` (facts, fixed alignment only: ``side`` is NULL where money goes to a committee
that is not a candidate's or a party's) and ``_sc_flow`` (:mod:`fecflow.scores.flow`): a row to such a
committee becomes ``net * partisan`` partisan dollars with the committee's share ``mean`` and variance
``var``; a row to a committee that gives nothing on stays ``other``. Deciders (see
:mod:`fecflow.scores.moments`): each donor's direct D/R giving (floored at 0 per donor) and each
committee once per entity. Sums are exact ``numeric`` sums (``_sc_flow`` is numeric too), so the same rows in any order give
the same aggregates. Python sees one row per entity.

Employers and industries leave out their people's gifts to the employer's *own* PAC
(``_sc_own_pac``: ``core.committee_sponsor`` links whose canonical sponsor is the employer); those
dollars are reported apart (``own_pac_amount``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from fecflow.db.statements import stream

OWN_PAC_SQL = (
    "DROP TABLE IF EXISTS _sc_own_pac",
    "CREATE TEMP TABLE _sc_own_pac ON COMMIT DROP AS "
    "SELECT e.employer_key, s.committee_key FROM core.committee_sponsor s "
    "JOIN core.employer e ON e.canonical_name = s.sponsor_name AND NOT e.is_generic WHERE s.valid_to IS NULL",
    "ALTER TABLE _sc_own_pac ADD PRIMARY KEY (employer_key, committee_key)",
    "ANALYZE _sc_own_pac",
)

_ROWS = {
    "employer": (
        "SELECT f.employer_key AS entity_key, f.* FROM _sc_fact f "
        "JOIN core.employer e ON e.employer_key = f.employer_key AND NOT e.is_generic WHERE f.source = 'indiv'"
    ),
    "industry": (
        "SELECT ei.industry_key AS entity_key, f.* FROM _sc_fact f "
        "JOIN _sc_employer_industry ei ON ei.employer_key = f.employer_key WHERE f.source = 'indiv'"
    ),
}

_PARTISAN_ROW = "(r.side IN ('D', 'R') OR r.partisan > 0)"

# One scan of the entity's rows, grouped two ways at once (GROUPING SETS): per donor (direct unit,
# money, counts; GROUPING(via) = 1) and per committee the money went through (GROUPING(donor) = 1).
_EMPLOYER_TEMPLATE = (
    "WITH x AS ({rows}), r AS ("  # noqa: S608 - fixed fragments
    " SELECT x.entity_key, x.donor_key, x.payee_key, x.side, x.net, x.is_refund,"
    " fl.committee_key AS via, fl.partisan, fl.mean, fl.var, fl.dem_frac, fl.rep_frac, fl.other_frac,"
    " own.committee_key IS NOT NULL AS own_pac"
    " FROM x LEFT JOIN _sc_flow fl ON x.side IS NULL AND fl.committee_key = x.payee_key"
    " LEFT JOIN _sc_own_pac own ON own.employer_key = x.employer_key AND own.committee_key = x.payee_key"
    "), grouped AS ("
    " SELECT r.entity_key, GROUPING(r.via) = 1 AS per_donor,"
    " greatest(coalesce(sum(r.net) FILTER (WHERE r.side = 'D' AND NOT r.own_pac), 0), 0) AS d,"
    " greatest(coalesce(sum(r.net) FILTER (WHERE r.side = 'R' AND NOT r.own_pac), 0), 0) AS rr,"
    " coalesce(sum(CASE WHEN r.side = 'D' THEN r.net WHEN r.via IS NOT NULL THEN r.net * r.dem_frac ELSE 0 END)"
    " FILTER (WHERE NOT r.own_pac), 0) AS dem,"
    " coalesce(sum(CASE WHEN r.side = 'R' THEN r.net WHEN r.via IS NOT NULL THEN r.net * r.rep_frac ELSE 0 END)"
    " FILTER (WHERE NOT r.own_pac), 0) AS rep,"
    " coalesce(sum(CASE WHEN r.side IN ('D', 'R') THEN 0 WHEN r.via IS NOT NULL THEN r.net * r.other_frac"
    " ELSE r.net END) FILTER (WHERE NOT r.own_pac), 0) AS other,"
    f" count(*) FILTER (WHERE NOT r.own_pac AND NOT r.is_refund AND {_PARTISAN_ROW}) AS n,"
    " coalesce(sum(r.net) FILTER (WHERE r.own_pac), 0) AS own_amount,"
    " min(r.payee_key) FILTER (WHERE r.own_pac) AS own_key,"
    " greatest(coalesce(sum(r.net * r.partisan) FILTER (WHERE NOT r.own_pac), 0), 0) AS u,"
    " max(r.mean) AS m, max(r.var) AS v"
    " FROM r GROUP BY GROUPING SETS ((r.entity_key, r.donor_key), (r.entity_key, r.via))"
    " HAVING GROUPING(r.via) = 1 OR r.via IS NOT NULL"
    "), via AS ("
    " SELECT entity_key, sum(u) AS u, sum(u * m) AS um, sum(u * u) AS u2, sum(u * u * v) AS av"
    " FROM grouped WHERE NOT per_donor AND u > 0 GROUP BY entity_key"
    "), donor AS ("
    " SELECT entity_key, sum(dem) AS dem, sum(rep) AS rep, sum(other) AS other, sum(n) AS n,"
    " count(*) FILTER (WHERE n > 0) AS n_donors, sum(d + rr) AS w, sum(rr) AS wx, sum((d + rr) * (d + rr)) AS w2,"
    " sum(own_amount) AS own_amount, min(own_key) AS own_key FROM grouped WHERE per_donor GROUP BY entity_key"
    ") SELECT d.entity_key, d.dem, d.rep, d.other, d.n, d.n_donors,"
    " d.w + coalesce(v.u, 0), d.wx + coalesce(v.um, 0), d.w2 + coalesce(v.u2, 0), coalesce(v.av, 0),"
    " d.w, coalesce(v.u, 0), d.own_amount, d.own_key, NULL::numeric, NULL::numeric"
    " FROM donor d LEFT JOIN via v USING (entity_key) ORDER BY d.entity_key"
)

_CANDIDATE_SQL = (
    "WITH indiv AS ("
    " SELECT f.donor_key, f.candidate_key, f.side, f.net, f.is_refund,"
    " fl.committee_key AS via, fl.partisan, fl.mean"
    " FROM _sc_fact f LEFT JOIN _sc_flow fl ON f.side IS NULL AND fl.committee_key = f.payee_key"
    " WHERE f.source = 'indiv' AND f.donor_key IS NOT NULL"
    "), donor_direct AS ("  # direct partisan giving per donor and candidate (NULL: a party etc.)
    " SELECT donor_key, candidate_key, coalesce(sum(net) FILTER (WHERE side = 'D'), 0) AS d,"
    " coalesce(sum(net) FILTER (WHERE side = 'R'), 0) AS r FROM indiv WHERE side IN ('D', 'R')"
    " GROUP BY donor_key, candidate_key"
    "), donor_total AS ("
    " SELECT donor_key, sum(d) AS d, sum(r) AS r FROM donor_direct GROUP BY donor_key"
    "), donor_via AS ("
    " SELECT donor_key, via, greatest(sum(net * partisan), 0) AS u, max(mean) AS m FROM indiv"
    " WHERE via IS NOT NULL GROUP BY donor_key, via"
    "), donor_flow AS ("
    " SELECT donor_key, sum(u) AS u, sum(u * m) AS um FROM donor_via GROUP BY donor_key"
    "), receipts AS ("
    " SELECT candidate_key, donor_key, sum(net) AS w, count(*) FILTER (WHERE NOT is_refund) AS n"
    " FROM indiv WHERE candidate_key IS NOT NULL GROUP BY candidate_key, donor_key"
    "), elsewhere AS ("
    " SELECT rc.candidate_key, rc.donor_key, rc.w, rc.n,"
    " greatest(coalesce(t.d, 0) - coalesce(dc.d, 0), 0) + greatest(coalesce(t.r, 0) - coalesce(dc.r, 0), 0)"
    " + coalesce(fl.u, 0) AS e,"
    " greatest(coalesce(t.r, 0) - coalesce(dc.r, 0), 0) + coalesce(fl.um, 0) AS ex"
    " FROM receipts rc LEFT JOIN donor_total t ON t.donor_key = rc.donor_key"
    " LEFT JOIN donor_direct dc ON dc.donor_key = rc.donor_key AND dc.candidate_key = rc.candidate_key"
    " LEFT JOIN donor_flow fl ON fl.donor_key = rc.donor_key WHERE rc.w > 0"
    "), alloc AS ("  # per candidate and committee: the weight its donors' elsewhere money puts on it
    " SELECT e.candidate_key, v.via, sum(e.w * v.u / e.e) AS wc FROM elsewhere e"
    " JOIN donor_via v ON v.donor_key = e.donor_key WHERE e.e > 0 AND v.u > 0 GROUP BY e.candidate_key, v.via"
    "), alloc_total AS ("
    " SELECT a.candidate_key, sum(a.wc * a.wc * fl.var) AS av FROM alloc a"
    " JOIN _sc_flow fl ON fl.committee_key = a.via GROUP BY a.candidate_key"
    ") SELECT e.candidate_key,"
    " coalesce(sum(e.w * (1 - e.ex / e.e)) FILTER (WHERE e.e > 0), 0),"
    " coalesce(sum(e.w * e.ex / e.e) FILTER (WHERE e.e > 0), 0),"
    " coalesce(sum(e.w) FILTER (WHERE NOT e.e > 0), 0),"
    " coalesce(sum(e.n) FILTER (WHERE e.e > 0), 0), count(*) FILTER (WHERE e.e > 0),"
    " coalesce(sum(e.w) FILTER (WHERE e.e > 0), 0), coalesce(sum(e.w * e.ex / e.e) FILTER (WHERE e.e > 0), 0),"
    " coalesce(sum(e.w * e.w) FILTER (WHERE e.e > 0), 0), coalesce(max(a.av), 0),"
    " NULL::numeric, NULL::numeric, NULL::numeric, NULL::bigint,"
    " count(*) FILTER (WHERE e.e > 0)::numeric / count(*), coalesce(sum(e.w) FILTER (WHERE e.e > 0), 0) / sum(e.w)"
    " FROM elsewhere e LEFT JOIN alloc_total a ON a.candidate_key = e.candidate_key"
    " GROUP BY e.candidate_key ORDER BY e.candidate_key"
)

SUPPORT_SQL_V2: dict[str, str] = {
    "employer": _EMPLOYER_TEMPLATE.format(rows=_ROWS["employer"]),
    "industry": _EMPLOYER_TEMPLATE.format(rows=_ROWS["industry"]),
    "candidate": _CANDIDATE_SQL,
}


@dataclass(frozen=True)
class EntitySupport:
    """One entity's row of :data:`SUPPORT_SQL_V2` (floats: dollars; counts: rows and donors)."""

    key: int
    dem: float
    rep: float
    other: float
    n_contributions: int
    n_donors: int
    sum_w: float
    sum_wx: float
    sum_w2: float
    alloc_var: float
    direct: float | None
    flowed: float | None
    own_pac_amount: float | None
    own_pac_key: int | None
    base_donor_share: float | None
    base_dollar_share: float | None


def build_own_pacs(conn: psycopg.Connection) -> None:
    for statement in OWN_PAC_SQL:
        conn.execute(statement)


def iter_support_v2(conn: psycopg.Connection, entity_type: str) -> Iterator[EntitySupport]:
    """One :class:`EntitySupport` per entity with counted money (employer, industry, candidate)."""
    for row in stream(conn, SUPPORT_SQL_V2[entity_type], name="_sc_support"):
        key, dem, rep, other, n_contributions, n_donors, sum_w, sum_wx, sum_w2, av = row[:10]
        direct, flowed, own_amount, own_key, donor_share, dollar_share = row[10:]
        yield EntitySupport(
            int(key),
            float(dem),
            float(rep),
            float(other),
            int(n_contributions),
            int(n_donors),
            float(sum_w),
            float(sum_wx),
            float(sum_w2),
            float(av),
            None if direct is None else float(direct),
            None if flowed is None else float(flowed),
            None if own_amount is None else float(own_amount),
            None if own_key is None else int(own_key),
            None if donor_share is None else float(donor_share),
            None if dollar_share is None else float(dollar_share),
        )
