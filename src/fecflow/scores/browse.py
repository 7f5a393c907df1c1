"""Read-only lookups over stored scores for the explorer (``fecflow serve``): search, trends, rankings.

Every function reads ``core`` and ``scores`` with parameterized SQL and returns plain dicts; none
writes. The per-entity explanation (recipients, flows, own PAC) stays in :mod:`fecflow.scores.explain`
so that a page and ``fecflow explain`` show the same numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composed, Identifier, Literal

from fecflow.scores.facts import SECTOR_MATCH
from fecflow.scores.windows import DEFAULT_LOOKBACK_MONTHS, window_ending

SEARCH_KINDS = ("employer", "committee", "candidate", "industry")
DISTRIBUTION_BINS = 20

# One branch per kind: (label column, id column, table, extra condition). Fixed fragments only.
_SEARCH_BRANCH = {
    "employer": ("canonical_name", "canonical_name", "employer", "NOT is_generic"),
    "committee": ("name", "committee_id", "committee", "TRUE"),
    "candidate": ("name", "candidate_id", "candidate", "TRUE"),
    "industry": ("title", "naics_code", "industry", "TRUE"),
}
_SEARCH_SQL = SQL(
    # Exact id first, then names starting with the text, then similar names (pg_trgm, GIN-indexed).
    "SELECT {kind} AS kind, {ident} AS entity_id, {label} AS name, "
    "CASE WHEN {ident} = %(exact)s THEN 3 WHEN {label} ILIKE %(prefix)s THEN 2 ELSE 1 END AS rank, "
    "similarity({label}, %(q)s) AS similarity "
    "FROM {table} WHERE {extra} AND {label} IS NOT NULL AND "
    "({ident} = %(exact)s OR {label} ILIKE %(prefix)s OR {label} %% %(q)s)"
)


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (``%``, ``_`` and the escape character itself)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_sql(kind: str) -> Composed:
    label, ident, table, extra = _SEARCH_BRANCH[kind]
    return _SEARCH_SQL.format(
        kind=Literal(kind),
        ident=Identifier(ident),
        label=Identifier(label),
        table=Identifier("core", table),
        extra=SQL(extra),  # a fixed fragment of _SEARCH_BRANCH
    )


def search_entities(
    conn: psycopg.Connection,
    q: str,
    *,
    kinds: tuple[str, ...] = SEARCH_KINDS,
    limit: int = 20,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Entities whose id equals ``q`` or whose name starts with or resembles it, best first."""
    text = q.strip()
    if not text:
        return []
    wanted = [k for k in kinds if k in _SEARCH_BRANCH]
    if not wanted:
        return []
    sql = SQL(
        "SELECT kind, entity_id, name, rank, round(similarity::numeric, 3) AS similarity FROM ({branches}) s "
        "ORDER BY rank DESC, similarity DESC, name, entity_id LIMIT %(limit)s OFFSET %(offset)s"
    ).format(branches=SQL(" UNION ALL ").join(_search_sql(k) for k in wanted))
    params = {
        "q": text,
        "exact": text.upper(),
        "prefix": escape_like(text) + "%",
        "limit": limit,
        "offset": offset,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def latest_as_of(conn: psycopg.Connection, method_version: str) -> dt.date | None:
    """The newest ``as_of`` with current scores of ``method_version``."""
    row = conn.execute(
        "SELECT max(as_of) FROM scores.leaning_score WHERE method_version = %s AND valid_to IS NULL",
        (method_version,),
    ).fetchone()
    return row[0] if row else None


def freshness(conn: psycopg.Connection, method_version: str) -> dict[str, Any]:
    """Last run and its status, newest transaction date loaded, method and latest as-of."""
    with conn.cursor(row_factory=dict_row) as cur:
        run = cur.execute(
            "SELECT run_id, command, status, started_at, finished_at FROM ops.ingest_run "
            "ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        newest = cur.execute(
            "SELECT max(transaction_date) AS newest FROM core.contribution WHERE deleted_at IS NULL"
        ).fetchone()
    return {
        "last_run": run,
        "newest_transaction_date": newest["newest"] if newest else None,
        "method_version": method_version,
        "as_of": latest_as_of(conn, method_version),
    }


def score_distribution(
    conn: psycopg.Connection, method_version: str, as_of: dt.date, *, bins: int = DISTRIBUTION_BINS
) -> list[dict[str, Any]]:
    """How many employers and industries score in each of ``bins`` equal bins of [0, 1]."""
    sql = (
        "SELECT entity_type, least(width_bucket(score, 0, 1, %(bins)s), %(bins)s) AS bin, count(*) AS n "
        "FROM scores.leaning_score WHERE method_version = %(method)s AND as_of = %(as_of)s "
        "AND valid_to IS NULL AND score IS NOT NULL AND entity_type IN ('employer', 'industry') "
        "GROUP BY 1, 2"
    )
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(sql, {"bins": bins, "method": method_version, "as_of": as_of}).fetchall()
    counts = {(r["entity_type"], int(r["bin"])): int(r["n"]) for r in found}
    return [
        {
            "bin": b,
            "low": round((b - 1) / bins, 4),
            "high": round(b / bins, 4),
            "employer": counts.get(("employer", b), 0),
            "industry": counts.get(("industry", b), 0),
        }
        for b in range(1, bins + 1)
    ]


_ENTITY_ID = (
    "CASE s.entity_type WHEN 'candidate' THEN k.candidate_id WHEN 'committee' THEN m.committee_id "
    "WHEN 'employer' THEN e.canonical_name ELSE i.naics_code END"
)
_ENTITY_JOINS = (
    "LEFT JOIN core.candidate k ON k.candidate_key = s.candidate_key "
    "LEFT JOIN core.committee m ON m.committee_key = s.committee_key "
    "LEFT JOIN core.employer e ON e.employer_key = s.employer_key "
    "LEFT JOIN core.industry i ON i.industry_key = s.industry_key "
)


_MOST_EVIDENCE_SQL = (
    f"SELECT s.entity_type, {_ENTITY_ID} AS entity_id, coalesce(k.name, m.name, e.canonical_name, i.title) AS name, "  # noqa: S608 - constant
    "s.score, s.ci_low, s.ci_high, s.n_donors, s.n_contributions, s.dem_amount, s.rep_amount, s.other_amount "
    f"FROM scores.leaning_score s {_ENTITY_JOINS}"
    "WHERE s.method_version = %(method)s AND s.as_of = %(as_of)s AND s.valid_to IS NULL "
    "AND s.score IS NOT NULL AND s.entity_type IN ('employer', 'industry', 'candidate') "
    "ORDER BY s.n_donors DESC, s.n_contributions DESC, entity_id LIMIT %(limit)s"
)


def most_evidence(
    conn: psycopg.Connection, method_version: str, as_of: dt.date, *, limit: int = 10
) -> list[dict[str, Any]]:
    """The scored entities resting on the most donors (contributions for committees)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            _MOST_EVIDENCE_SQL, {"method": method_version, "as_of": as_of, "limit": limit}
        ).fetchall()


def score_trend(
    conn: psycopg.Connection,
    entity_type: str,
    key: int,
    method_version: str,
    *,
    lookback_months: int = DEFAULT_LOOKBACK_MONTHS,
) -> list[dict[str, Any]]:
    """The current score and interval of each as-of date (windows of ``lookback_months``), oldest first."""
    sql = SQL(
        "SELECT as_of, window_start, window_end, score, ci_low, ci_high, dem_amount, rep_amount, "
        "other_amount, n_donors FROM scores.leaning_score WHERE {column} = %(key)s "
        "AND method_version = %(method)s AND valid_to IS NULL ORDER BY as_of, window_start"
    ).format(column=Identifier(f"{entity_type}_key"))
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, {"key": key, "method": method_version}).fetchall()
    wanted = {r["as_of"]: window_ending(r["as_of"], lookback_months) for r in rows}
    return [
        r
        for r in rows
        if (r["window_start"], r["window_end"]) == (wanted[r["as_of"]].start, wanted[r["as_of"]].end)
    ]


def score_history(
    conn: psycopg.Connection, entity_type: str, key: int, method_version: str, *, limit: int = 200
) -> list[dict[str, Any]]:
    """Every published value (current and closed), with its validity range, newest first."""
    sql = SQL(
        "SELECT as_of, window_start, window_end, valid_from, valid_to, score, ci_low, ci_high, run_id "
        "FROM scores.leaning_score WHERE {column} = %(key)s AND method_version = %(method)s "
        "ORDER BY valid_from DESC, as_of DESC LIMIT %(limit)s"
    ).format(column=Identifier(f"{entity_type}_key"))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, {"key": key, "method": method_version, "limit": limit}).fetchall()


_RECIPIENT_SIDE_SQL = (
    "SELECT as_of, window_start, window_end, alignment, basis FROM scores.context_committee "
    "WHERE committee_key = %(key)s AND method_version = %(method)s AND basis IS NOT NULL "
    "ORDER BY as_of DESC, window_start LIMIT 1"
)


def recipient_side(conn: psycopg.Connection, committee_key: int, method_version: str) -> dict[str, Any] | None:
    """The side money *to* a committee counts on, in the newest slot that kept its context (a party
    or candidate committee often gives nothing, so has no score of its own, yet decides others')."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_RECIPIENT_SIDE_SQL, {"key": committee_key, "method": method_version}).fetchone()


# As the score's facts count them: an employer belongs to its industry and to that one's sector.
_INDUSTRY_EMPLOYERS_SQL = (
    "WITH mapped AS (SELECT ei.employer_key, i.industry_key, i.naics_code FROM core.employer_industry ei "  # noqa: S608 - fixed fragments
    "JOIN core.industry i ON i.industry_key = ei.industry_key), "
    "members AS (SELECT employer_key FROM mapped WHERE industry_key = %(key)s UNION "
    f"SELECT m.employer_key FROM mapped m JOIN ref.naics n ON {SECTOR_MATCH} "
    "JOIN core.industry si ON si.naics_code = n.code WHERE si.industry_key = %(key)s) "
    "SELECT e.canonical_name AS entity_id, s.score, s.ci_low, s.ci_high, s.dem_amount, s.rep_amount, "
    "s.other_amount, s.n_donors FROM members ei "
    "JOIN core.employer e ON e.employer_key = ei.employer_key AND NOT e.is_generic "
    "JOIN scores.leaning_score s ON s.employer_key = ei.employer_key AND s.valid_to IS NULL "
    "AND s.method_version = %(method)s AND s.as_of = %(as_of)s AND s.window_start = %(start)s "
    "AND s.window_end = %(end)s "
    "WHERE s.score IS NOT NULL "
    "ORDER BY s.score DESC, s.n_donors DESC, e.canonical_name LIMIT %(limit)s OFFSET %(offset)s"
)


def industry_employers(
    conn: psycopg.Connection,
    industry_key: int,
    method_version: str,
    as_of: dt.date,
    *,
    lookback_months: int = DEFAULT_LOOKBACK_MONTHS,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The industry's scored employers, most Republican first, each with its interval and support."""
    window = window_ending(as_of, lookback_months)
    params = {
        "key": industry_key,
        "method": method_version,
        "as_of": as_of,
        "start": window.start,
        "end": window.end,
        "limit": limit,
        "offset": offset,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_INDUSTRY_EMPLOYERS_SQL, params).fetchall()
