"""A transaction snapshot's new employer strings -> ``core.employer``, ``employer_alias``, ``employer_industry``.

One parallel pass over the staged snapshot counts its (employer, occupation, filer committee) rows
for the employer strings without an alias yet (temp table ``_emp_occupation``); the employer map,
the corporate PAC shares of similarity and the industries of the new employers are read from it. Python sees each
distinct new string once (:func:`~fecflow.normalize.employers.build_employer_map`) and each new
canonical employer once (:func:`~fecflow.normalize.industries.map_industry`). A new name that the
strings and the rows say is another name's employer joins it
(:func:`~fecflow.normalize.employer_merge.similar_names`, method ``similar``, with its score and
evidence).
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from fecflow.catalog import FILES
from fecflow.db.statements import execute
from fecflow.normalize.dimensions import Counts
from fecflow.normalize.employer_merge import similar_names
from fecflow.normalize.employer_similarity import Decision
from fecflow.normalize.employers import EMPLOYER_MAP_VERSION, EmployerMatch, build_employer_map
from fecflow.normalize.industries import map_industry


def _fill_new_aliases(
    conn: psycopg.Connection, matches: Mapping[str, EmployerMatch], joined: Mapping[str, Decision]
) -> None:
    """``_emp_new``: each new string with the employer it maps to (by the map, or joined by similarity)."""
    execute(
        conn,
        "CREATE TEMP TABLE _emp_new (raw_employer text PRIMARY KEY, name text NOT NULL, is_generic boolean "
        "NOT NULL, bucket text, method text NOT NULL, confidence numeric(3, 2) NOT NULL, "
        "score numeric(3, 2), evidence jsonb) ON COMMIT DROP",
    )
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY _emp_new (raw_employer, name, is_generic, bucket, method, confidence, score, evidence) FROM STDIN"
        ) as copy,
    ):
        for raw, m in matches.items():
            name = m.bucket if m.bucket is not None else m.canonical_name
            if not name:
                continue
            d = joined.get(name)
            row: tuple[object, ...]
            if d is None:
                row = (
                    raw,
                    name,
                    m.bucket is not None,
                    m.bucket,
                    m.method,
                    round(m.confidence, 2),
                    None,
                    None,
                )
            else:
                evidence = Jsonb({"kind": d.kind, "name": name, "joined": d.target, **d.evidence})
                row = (raw, d.target, False, None, "similar", d.score, d.score, evidence)
            copy.write_row(row)


def link_employers(conn: psycopg.Connection, file_type: str, source_file_id: int) -> Counts:
    """Map the snapshot's distinct raw employer strings not aliased yet; write employers and aliases.

    Canonical employers and generic buckets become ``core.employer`` rows, every string a
    ``core.employer_alias`` row. New non-generic employers get an industry from their canonical name
    and their most common occupation in this snapshot (``map_industry``), when one is found.
    """
    staging = sql.Identifier("staging", FILES[file_type].staging_table)
    execute(
        conn,
        sql.SQL(
            "CREATE TEMP TABLE _emp_occupation ON COMMIT DROP AS "
            "SELECT s.employer, s.occupation, s.cmte_id, count(*) AS n FROM {} s "
            "WHERE s._source_file_id = %s AND s.employer IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM core.employer_alias a WHERE a.raw_employer = s.employer) "
            "GROUP BY s.employer, s.occupation, s.cmte_id"
        ).format(staging),
        (source_file_id,),
    )
    rows = conn.execute("SELECT DISTINCT employer FROM _emp_occupation").fetchall()
    matches = build_employer_map(r[0] for r in rows)
    joined = similar_names(conn, file_type, source_file_id, matches)
    _fill_new_aliases(conn, matches, joined)
    # New employers are written with this map version: their industries are decided just below, in
    # this transaction. Setting it afterwards by UPDATE rewrote every new row (and its trigram index
    # entries) and, with no statistics on the new rows yet, the planner joined the names by nested
    # loop: 5.7 s for 9,292 new employers at 2M rows (measured 2026-12-05).
    employers = execute(
        conn,
        "INSERT INTO core.employer (canonical_name, is_generic, bucket, map_version) "
        "SELECT DISTINCT ON (n.name) n.name, n.is_generic, n.bucket, %s FROM _emp_new n "
        "WHERE NOT EXISTS (SELECT 1 FROM core.employer e WHERE e.canonical_name = n.name) "
        "ORDER BY n.name, n.is_generic DESC "
        "ON CONFLICT (canonical_name) DO NOTHING",
        (EMPLOYER_MAP_VERSION,),
    )
    aliases = execute(
        conn,
        "INSERT INTO core.employer_alias (raw_employer, employer_key, method, confidence, map_version, score, "
        "evidence) SELECT n.raw_employer, e.employer_key, n.method, n.confidence, %s, n.score, n.evidence "
        "FROM _emp_new n "
        "JOIN core.employer e ON e.canonical_name = n.name ON CONFLICT (raw_employer) DO NOTHING",
        (EMPLOYER_MAP_VERSION,),
    )
    industries = _link_industries(conn)
    # Every employer these strings reach now has its industry decided (found or not) by this version;
    # only older employers (from before map versions) can still lack it. The names as an array: an
    # index lookup whatever the planner believes about the table.
    execute(
        conn,
        "UPDATE core.employer e SET map_version = %s "
        "WHERE e.canonical_name = ANY(ARRAY(SELECT DISTINCT name FROM _emp_new)) AND e.map_version IS NULL",
        (EMPLOYER_MAP_VERSION,),
    )
    execute(conn, "DROP TABLE _emp_new, _emp_occupation")
    return {
        "core.employer": {"inserted": employers},
        "core.employer_alias": {"inserted": aliases},
        "core.employer_industry": {"inserted": industries},
    }


def _link_industries(conn: psycopg.Connection) -> int:
    """Industries of the non-generic employers reached by this snapshot's new aliases."""
    targets = conn.execute(
        """
        WITH occupations AS (
            SELECT a.employer_key, o.occupation, sum(o.n) AS n
            FROM _emp_occupation o
            JOIN _emp_new x ON x.raw_employer = o.employer AND NOT x.is_generic
            JOIN core.employer_alias a ON a.raw_employer = o.employer
            WHERE NOT EXISTS (SELECT 1 FROM core.employer_industry i WHERE i.employer_key = a.employer_key)
            GROUP BY 1, 2
        )
        SELECT DISTINCT ON (o.employer_key) o.employer_key, e.canonical_name, o.occupation
        FROM occupations o JOIN core.employer e USING (employer_key)
        WHERE NOT e.is_generic
        ORDER BY o.employer_key, o.n DESC, o.occupation NULLS LAST
        """
    ).fetchall()
    stored, _ = store_industries(conn, [(int(k), name, occupation) for k, name, occupation in targets])
    return stored


_STORE_INDUSTRIES = (
    "INSERT INTO core.employer_industry (employer_key, industry_key, method, confidence) "
    "SELECT x.employer_key, i.industry_key, x.method, x.confidence FROM _emp_industry x "
    "JOIN core.industry i ON i.naics_code = x.naics_code ON CONFLICT (employer_key) "
)
_STORE_NEW = _STORE_INDUSTRIES + "DO NOTHING"
_STORE_REPLACING = (
    _STORE_INDUSTRIES + "DO UPDATE SET industry_key = excluded.industry_key, method = excluded.method, "
    "confidence = excluded.confidence WHERE (core.employer_industry.industry_key, "
    "core.employer_industry.method, core.employer_industry.confidence) IS DISTINCT FROM "
    "(excluded.industry_key, excluded.method, excluded.confidence)"
)


def store_industries(
    conn: psycopg.Connection, employers: list[tuple[int, str, str | None]], *, replace: bool = False
) -> tuple[int, set[int]]:
    """Map (employer_key, canonical name, most common occupation) to industries and store those found.

    ``replace``: overwrite an employer's existing industry (a newer employer map decided again);
    otherwise an existing one is kept. Returns the rows inserted or changed, and the employers found.
    """
    found: list[tuple[int, str, str, float]] = []
    for employer_key, canonical, occupation in employers:
        match = map_industry(canonical, occupation)
        if match is not None:
            found.append((employer_key, match.naics_code, match.method, round(float(match.confidence), 2)))
    if not found:
        return 0, set()
    execute(
        conn,
        "CREATE TEMP TABLE _emp_industry (employer_key bigint, naics_code text, method text, "
        "confidence numeric(3, 2)) ON COMMIT DROP",
    )
    with (
        conn.cursor() as cur,
        cur.copy("COPY _emp_industry (employer_key, naics_code, method, confidence) FROM STDIN") as copy,
    ):
        for row in found:
            copy.write_row(row)
    execute(
        conn,
        "INSERT INTO core.industry (naics_code, title, level) "
        "SELECT DISTINCT n.code, n.title, n.level FROM _emp_industry x JOIN ref.naics n ON n.code = x.naics_code "
        "ON CONFLICT (naics_code) DO NOTHING",
    )
    stored = execute(conn, _STORE_REPLACING if replace else _STORE_NEW)
    execute(conn, "DROP TABLE _emp_industry")
    return stored, {row[0] for row in found}
