"""Map again what an older employer map decided: aliases, contributions' employer keys, industries.

A raw employer string is mapped once, by the :data:`~fecflow.normalize.employers.EMPLOYER_MAP_VERSION`
of the code that first saw it (``core.employer_alias.map_version``); an employer's industry is decided
once too (``core.employer.map_version``). When a release changes the mapping (a new curated alias, a
better rule) and bumps the version, :func:`refresh_employer_map` brings the old decisions up to date,
in one transaction:

1. every alias of an older version is mapped again (Python, once per distinct string); new canonical
   employers are created; the alias row gets its new employer, method, confidence and version. A
   string joined by similarity (method ``similar``) stays with its employer unless the new map puts
   it under a curated alias or a bucket (similarity itself is decided for new strings only, with the
   rows of the snapshot that brings them);
2. the live and deleted ``core.contribution`` rows of each string whose employer changed get the new
   ``employer_key`` (and ``last_run_id``: the run changed them); no history row (the source data did
   not change; the run's audit counts the rows);
3. every employer reached by an alias whose industry an older version decided (or none did) gets it
   decided again, from its canonical name and its most common occupation in core: an industry found is
   stored (replacing the old one), an industry no longer found is removed.

Employers no alias points to any more are kept (scores and history may name them). Nothing stale: one
cheap check (:func:`employer_map_is_stale`) and no audit row.
"""

from __future__ import annotations

import logging

import psycopg

from fecflow.normalize.dimensions import Counts, execute, scalar
from fecflow.normalize.employer_links import store_industries
from fecflow.normalize.employers import EMPLOYER_MAP_VERSION, build_employer_map
from fecflow.normalize.sponsors import link_sponsors

log = logging.getLogger(__name__)

EMPLOYER_MAP_SCOPE = "employer-map"
_STALE_EMPLOYERS = (
    "FROM core.employer e WHERE e.map_version IS DISTINCT FROM %(v)s "
    "AND EXISTS (SELECT 1 FROM core.employer_alias a WHERE a.employer_key = e.employer_key)"
)


_STALE_SQL = (
    "SELECT EXISTS (SELECT 1 FROM core.employer_alias WHERE map_version <> %(v)s) "  # noqa: S608 - constant
    f"OR EXISTS (SELECT 1 {_STALE_EMPLOYERS}) "
    "OR EXISTS (SELECT 1 FROM core.committee_sponsor WHERE valid_to IS NULL AND map_version <> %(v)s)"
)


def employer_map_is_stale(conn: psycopg.Connection) -> bool:
    """True when some alias, aliased employer or current sponsor link was decided by another map version."""
    return bool(scalar(conn, _STALE_SQL, {"v": EMPLOYER_MAP_VERSION}))


def refresh_employer_map(conn: psycopg.Connection, *, run_id: int) -> Counts:
    """Bring aliases, contribution employer keys, industries and PAC sponsor links to the current map
    version.

    Runs in the caller's transaction (call it when :func:`employer_map_is_stale`); returns counts per
    table. Sponsor links are canonicalized by the same map, so they follow it here instead of waiting
    for the next cm snapshot.
    """
    aliases = _remap_aliases(conn, run_id)
    industries = _redecide_industries(conn)
    return {**aliases, **industries, "core.committee_sponsor": link_sponsors(conn, run_id=run_id)}


def _fill_remap(conn: psycopg.Connection, stale: list[tuple[str, int, bool]]) -> None:
    """``_remap``: each stale string with its old employer and what the current map names it."""
    matches = build_employer_map(raw for raw, _, _ in stale)
    execute(
        conn,
        "CREATE TEMP TABLE _remap (raw_employer text PRIMARY KEY, old_key bigint NOT NULL, name text, "
        "is_generic boolean, bucket text, method text, confidence numeric(3, 2)) ON COMMIT DROP",
    )
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY _remap (raw_employer, old_key, name, is_generic, bucket, method, confidence) FROM STDIN"
        ) as copy,
    ):
        for raw, old_key, similar in stale:
            m = matches[raw]
            name = m.bucket if m.bucket is not None else m.canonical_name
            if similar and m.method in ("exact", "normalized"):
                name = None  # joined by similarity: stays joined unless a curated alias or a bucket says more
            # A string the new map cannot name keeps its employer (as a new string would get no alias).
            copy.write_row(
                (raw, old_key, name or None, m.bucket is not None, m.bucket, m.method, round(m.confidence, 2))
            )


def _move_contributions(conn: psycopg.Connection, run_id: int) -> tuple[int, int]:
    """Contributions of strings whose alias moved follow it; return (strings moved, rows moved)."""
    execute(
        conn,
        "CREATE TEMP TABLE _remapped ON COMMIT DROP AS SELECT r.raw_employer, r.old_key, a.employer_key AS new_key "
        "FROM _remap r JOIN core.employer_alias a USING (raw_employer) WHERE a.employer_key <> r.old_key",
    )
    moved = int(scalar(conn, "SELECT count(*) FROM _remapped"))
    rows = 0
    if moved:
        execute(conn, "ANALYZE _remapped")
        rows = execute(
            conn,
            "UPDATE core.contribution c SET employer_key = m.new_key, last_run_id = %s FROM _remapped m "
            "WHERE c.raw_employer = m.raw_employer AND c.employer_key = m.old_key",
            (run_id,),
        )
    return moved, rows


def _remap_aliases(conn: psycopg.Connection, run_id: int) -> Counts:
    stale = [
        (str(raw), int(key), bool(similar))
        for raw, key, similar in conn.execute(
            "SELECT raw_employer, employer_key, method = 'similar' FROM core.employer_alias WHERE map_version <> %s",
            (EMPLOYER_MAP_VERSION,),
        )
    ]
    if not stale:
        return {}
    _fill_remap(conn, stale)
    employers = execute(
        conn,
        "INSERT INTO core.employer (canonical_name, is_generic, bucket) "
        "SELECT DISTINCT ON (r.name) r.name, r.is_generic, r.bucket FROM _remap r WHERE r.name IS NOT NULL "
        "ORDER BY r.name, r.is_generic DESC ON CONFLICT (canonical_name) DO NOTHING",
    )
    execute(
        conn,
        "UPDATE core.employer_alias a SET employer_key = e.employer_key, method = r.method, "
        "confidence = r.confidence, map_version = %s, score = NULL, evidence = NULL "
        "FROM _remap r JOIN core.employer e ON e.canonical_name = r.name WHERE a.raw_employer = r.raw_employer",
        (EMPLOYER_MAP_VERSION,),
    )
    execute(
        conn,
        "UPDATE core.employer_alias a SET map_version = %s FROM _remap r "
        "WHERE a.raw_employer = r.raw_employer AND r.name IS NULL",
        (EMPLOYER_MAP_VERSION,),
    )
    moved, rows = _move_contributions(conn, run_id)
    execute(conn, "DROP TABLE _remap, _remapped")
    log.info(
        "employer map %s: %d aliases of older versions checked, %d moved to another employer (%d contributions)",
        EMPLOYER_MAP_VERSION,
        len(stale),
        moved,
        rows,
    )
    return {
        "core.employer": {"inserted": employers},
        "core.employer_alias": {"checked": len(stale), "remapped": moved},
        "core.contribution": {"employer_remapped": rows},
    }


def _redecide_industries(conn: psycopg.Connection) -> Counts:
    employers = conn.execute(
        f"SELECT e.employer_key, e.canonical_name, e.is_generic {_STALE_EMPLOYERS}",
        {"v": EMPLOYER_MAP_VERSION},
    ).fetchall()
    if not employers:
        return {}
    keys = [int(k) for k, _, _ in employers]
    named = [int(k) for k, _, generic in employers if not generic]
    occupations: dict[int, str | None] = dict(
        conn.execute(
            "SELECT DISTINCT ON (employer_key) employer_key, occupation FROM ("
            "SELECT c.employer_key, c.occupation, count(*) AS n FROM core.contribution c "
            "WHERE c.employer_key = ANY(%s) GROUP BY 1, 2) o "
            "ORDER BY employer_key, n DESC, occupation NULLS LAST",
            (named,),
        ).fetchall()
    )
    names = {int(k): str(name) for k, name, generic in employers if not generic}
    found: set[int] = set()
    stored = store_industries(
        conn, [[(k, names[k], occupations.get(k)) for k in named]], replace=True, found=found
    )
    # What the current map no longer finds (or now calls a bucket) has no industry any more.
    removed = execute(
        conn,
        "DELETE FROM core.employer_industry WHERE employer_key = ANY(%s)",
        ([k for k in keys if k not in found],),
    )
    execute(
        conn,
        "UPDATE core.employer SET map_version = %s WHERE employer_key = ANY(%s)",
        (EMPLOYER_MAP_VERSION, keys),
    )
    return {"core.employer_industry": {"stored": stored, "removed": removed}}
