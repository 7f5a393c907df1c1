"""A transaction snapshot's new employer strings -> ``core.employer``, ``employer_alias``, ``employer_industry``.

One parallel pass over the staged snapshot counts its (employer, occupation, filer committee) rows
for the employer strings without an alias yet (temp table ``_emp_occupation``); the employer map,
the corporate PAC shares of similarity and the industries of the new employers are read from it.
Python sees each distinct new string once, a batch at a time
(:func:`~fecflow.normalize.employers.build_employer_map`, written to temp table ``_emp_map``), and
each new canonical employer once, a batch at a time too
(:func:`~fecflow.normalize.industries.map_industry`): the client's memory does not grow with the
snapshot's vocabulary. A new name that the strings and the rows say is another name's employer
joins it (:func:`~fecflow.normalize.employer_merge.similar_names`, method ``similar``, with its
score and evidence).
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from fecflow.catalog import FILES
from fecflow.db.statements import execute, stream_batches
from fecflow.normalize.dimensions import Counts
from fecflow.normalize.employer_merge import similar_names
from fecflow.normalize.employers import EMPLOYER_MAP_VERSION, build_employer_map
from fecflow.normalize.industries import map_industry


def _fill_employer_map(conn: psycopg.Connection) -> None:
    """``_emp_map``: each new string (``_emp_occupation``) with its name by the per-string map, read
    and written a batch at a time (the client never holds every string: 1.9 million at 16M rows)."""
    execute(
        conn,
        "CREATE TEMP TABLE _emp_map (raw_employer text PRIMARY KEY, name text NOT NULL, bucket text, "
        "method text NOT NULL, confidence numeric(3, 2) NOT NULL, longest integer NOT NULL) ON COMMIT DROP",
    )
    for batch in stream_batches(conn, "SELECT DISTINCT employer FROM _emp_occupation", name="_emp_strings"):
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY _emp_map (raw_employer, name, bucket, method, confidence, longest) FROM STDIN"
            ) as copy,
        ):
            for raw, m in build_employer_map(row[0] for row in batch).items():
                name = m.bucket if m.bucket is not None else m.canonical_name
                if name:
                    copy.write_row((raw, name, m.bucket, m.method, round(m.confidence, 2), len(raw.strip())))
    execute(conn, "ANALYZE _emp_map")


def _fill_new_aliases(conn: psycopg.Connection) -> None:
    """``_emp_new``: each new string with the employer it maps to (by the map, or joined by similarity:
    ``_emp_joined``, made by :func:`similar_names`)."""
    execute(
        conn,
        "CREATE TEMP TABLE _emp_new ON COMMIT DROP AS "
        "SELECT m.raw_employer, coalesce(j.target, m.name) AS name, "
        "j.name IS NULL AND m.bucket IS NOT NULL AS is_generic, CASE WHEN j.name IS NULL THEN m.bucket END AS bucket, "
        "CASE WHEN j.name IS NULL THEN m.method ELSE 'similar' END AS method, "
        "coalesce(j.score, m.confidence) AS confidence, j.score, j.evidence "
        "FROM _emp_map m LEFT JOIN _emp_joined j ON j.name = m.name",
    )
    execute(conn, "ALTER TABLE _emp_new ADD PRIMARY KEY (raw_employer)")
    execute(conn, "ANALYZE _emp_new")


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
    _fill_employer_map(conn)
    similar_names(conn, file_type, source_file_id)
    _fill_new_aliases(conn)
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
    execute(conn, "DROP TABLE _emp_new, _emp_joined, _emp_map, _emp_occupation")
    return {
        "core.employer": {"inserted": employers},
        "core.employer_alias": {"inserted": aliases},
        "core.employer_industry": {"inserted": industries},
    }


def _link_industries(conn: psycopg.Connection) -> int:
    """Industries of the non-generic employers reached by this snapshot's new aliases (read a batch
    at a time)."""
    targets = stream_batches(
        conn,
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
        """,
        name="_emp_industry_targets",
    )
    return store_industries(
        conn, ([(int(k), name, occupation) for k, name, occupation in b] for b in targets)
    )


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
    conn: psycopg.Connection,
    batches: Iterable[list[tuple[int, str, str | None]]],
    *,
    replace: bool = False,
    found: set[int] | None = None,
) -> int:
    """Map (employer_key, canonical name, most common occupation) to industries and store those found.

    ``batches``: lists of employers, each mapped and written before the next is read. ``replace``:
    overwrite an employer's existing industry (a newer employer map decided again); otherwise an
    existing one is kept. Returns the rows inserted or changed; ``found`` gets the employers found.
    """
    execute(
        conn,
        "CREATE TEMP TABLE _emp_industry (employer_key bigint, naics_code text, method text, "
        "confidence numeric(3, 2)) ON COMMIT DROP",
    )
    for employers in batches:
        rows = [
            (employer_key, match.naics_code, match.method, round(float(match.confidence), 2))
            for employer_key, canonical, occupation in employers
            if (match := map_industry(canonical, occupation)) is not None
        ]
        if found is not None:
            found.update(row[0] for row in rows)
        with (
            conn.cursor() as cur,
            cur.copy("COPY _emp_industry (employer_key, naics_code, method, confidence) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    execute(
        conn,
        "INSERT INTO core.industry (naics_code, title, level) "
        "SELECT DISTINCT n.code, n.title, n.level FROM _emp_industry x JOIN ref.naics n ON n.code = x.naics_code "
        "ON CONFLICT (naics_code) DO NOTHING",
    )
    stored = execute(conn, _STORE_REPLACING if replace else _STORE_NEW)
    execute(conn, "DROP TABLE _emp_industry")
    return stored
