"""A snapshot's new employer names -> the employers they are (the database side of issue #19).

:func:`similar_names` takes the per-string map of a snapshot's new strings and decides, with
:mod:`fecflow.normalize.employer_similarity`, which of their names are another name's employer:
another new name of the snapshot, or an employer already in ``core.employer`` (which never moves,
so a new string joins an existing cluster without renumbering it). Rows are read only where a
decision needs them:

1. corporate PACs: per new name, the committee of a corporation (``core.committee``
   ``organization_type`` C or W) that at least half of its rows went to, in SQL over the snapshot's
   counts that link_employers already made;
2. existing employers that could pair with a new name: those sharing its first word or its letters
   (``core.employer``), and their corporate PAC shares (``core.contribution`` by ``employer_key``);
3. candidate pairs from the names alone, kept when they touch a new name;
4. profiles (state, ZIP3, recipient, occupation counts) of the names in a candidate pair only: from
   the staged snapshot for new strings, from ``core.contribution`` for existing employers.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping

import psycopg
from psycopg import sql

from fecflow.catalog import FILES
from fecflow.normalize.dimensions import execute
from fecflow.normalize.employer_similarity import Decision, Profile, candidate_pairs, resolve
from fecflow.normalize.employers import EmployerMatch, alias_rows

log = logging.getLogger(__name__)

CORPORATE_ORG_TYPES = ("C", "W")  # cm ORG_TP: corporation, corporation without capital stock


def similar_names(
    conn: psycopg.Connection, file_type: str, source_file_id: int, matches: Mapping[str, EmployerMatch]
) -> dict[str, Decision]:
    """Name of a new string -> the decision that it joins another name's employer (others absent)."""
    started = time.perf_counter()
    new: dict[str, list[str]] = defaultdict(list)
    for raw, m in matches.items():
        if m.canonical_name:  # curated names take part too, as fixed centers
            new[m.canonical_name].append(raw)
    if not new:
        return {}
    staging = sql.Identifier("staging", FILES[file_type].staging_table)
    longest = {name: max(len(r.strip()) for r in raws) for name, raws in new.items()}
    execute(
        conn, "CREATE TEMP TABLE _sim_raw (raw_employer text PRIMARY KEY, name text NOT NULL) ON COMMIT DROP"
    )
    with conn.cursor() as cur, cur.copy("COPY _sim_raw (raw_employer, name) FROM STDIN") as copy:
        for name, raws in new.items():
            for raw in raws:
                copy.write_row((raw, name))
    execute(conn, "ANALYZE _sim_raw")
    pac_of = _corporate_pacs(conn)
    existing = _existing_names(conn, list(new))
    pac_of.update(_existing_pacs(conn, existing, {n.split()[0] for n in pac_of}))
    names = {**dict.fromkeys(existing, 0), **longest}
    strings_started = time.perf_counter()
    pairs = [c for c in candidate_pairs(names, pac_of) if c.a in new or c.b in new]
    strings_s = time.perf_counter() - strings_started
    touched = {n for c in pairs for n in (c.a, c.b)}
    profiles = _staged_profiles(conn, staging, source_file_id, touched & new.keys())
    for name, p in _existing_profiles(conn, {n: existing[n] for n in touched if n in existing}).items():
        _merge(profiles.setdefault(name, Profile()), p)
    curated = {canonical for _, canonical, _ in alias_rows()}
    fixed = (existing.keys() | curated) & touched
    decisions = {n: d for n, d in resolve(pairs, profiles, fixed=fixed, longest=longest).items() if n in new}
    execute(conn, "DROP TABLE _sim_raw")
    log.info(
        "similar employer names: %d new names, %d existing in reach, %d candidate pairs, %d joined "
        "(%.2f s, of which candidate pairs %.2f s)",
        len(new),
        len(existing),
        len(pairs),
        len(decisions),
        time.perf_counter() - started,
        strings_s,
    )
    return decisions


def _merge(into: Profile, other: Profile) -> None:
    into.rows += other.rows
    into.states.update(other.states)
    into.zip3.update(other.zip3)
    into.recipients.update(other.recipients)
    into.occupations.update(other.occupations)
    into.corporate.update(other.corporate)


# Per new name, the corporate PAC that at least half of its rows went to (Profile.corporate_pac's
# rule in SQL: the most rows, ties to the larger committee id). Python used to hold a Profile of
# every new name for this: 814 MB of the client at 1M generated rows (docs/data/ingestion.md).
_CORPORATE_PACS_SQL = """
    WITH per AS (
        SELECT r.name, o.cmte_id, k.committee_id IS NOT NULL AS corporate, sum(o.n) AS n
          FROM _emp_occupation o JOIN _sim_raw r ON r.raw_employer = o.employer
          LEFT JOIN core.committee k ON k.committee_id = o.cmte_id AND k.organization_type = ANY(%s)
         GROUP BY 1, 2, 3
    ), total AS (
        SELECT name, sum(n) AS n FROM per GROUP BY name
    ), best AS (
        SELECT DISTINCT ON (name) name, cmte_id, n FROM per
         WHERE corporate AND cmte_id <> ''
         ORDER BY name, n DESC, cmte_id COLLATE "C" DESC
    )
    SELECT b.name, b.cmte_id FROM best b JOIN total t USING (name) WHERE 2 * b.n >= t.n
"""


def _corporate_pacs(conn: psycopg.Connection) -> dict[str, str]:
    """New name -> its corporate PAC, for the names that have one (from ``_emp_occupation``, the
    snapshot's counts that link_employers already made: no other pass over staging)."""
    rows = conn.execute(_CORPORATE_PACS_SQL, (list(CORPORATE_ORG_TYPES),)).fetchall()
    return {str(name): str(pac) for name, pac in rows}


def _staged_profiles(
    conn: psycopg.Connection, staging: sql.Identifier, source_file_id: int, names: set[str]
) -> dict[str, Profile]:
    """Profiles of the new ``names`` (those in a candidate pair) from the staged snapshot."""
    if not names:
        return {}
    rows = conn.execute(
        sql.SQL(
            "SELECT r.name, s.occupation, s.state, left(s.zip_code, 3), s.cmte_id, k.committee_id IS NOT NULL, "
            "count(*) FROM {} s JOIN _sim_raw r ON r.raw_employer = s.employer AND r.name = ANY(%s) "
            "LEFT JOIN core.committee k ON k.committee_id = s.cmte_id AND k.organization_type = ANY(%s) "
            "WHERE s._source_file_id = %s GROUP BY 1, 2, 3, 4, 5, 6"
        ).format(staging),
        (sorted(names), list(CORPORATE_ORG_TYPES), source_file_id),
    ).fetchall()
    out: dict[str, Profile] = defaultdict(Profile)
    for name, occupation, state, zip3, committee, is_corporate, n in rows:
        out[name].add(state, zip3, committee, occupation, int(n), corporate=bool(is_corporate))
    return out


def _existing_names(conn: psycopg.Connection, names: list[str]) -> dict[str, int]:
    """Existing non-generic employers that share a first word or the letters of a new name."""
    firsts = sorted({n.split()[0] for n in names})
    compacts = sorted({n.replace(" ", "") for n in names})
    rows = conn.execute(
        "SELECT canonical_name, employer_key FROM core.employer WHERE NOT is_generic "
        "AND (split_part(canonical_name, ' ', 1) = ANY(%s) OR replace(canonical_name, ' ', '') = ANY(%s))",
        (firsts, compacts),
    ).fetchall()
    return {str(name): int(key) for name, key in rows}


def _existing_pacs(conn: psycopg.Connection, existing: Mapping[str, int], firsts: set[str]) -> dict[str, str]:
    """Corporate PAC (at least half of the rows) of the existing employers whose first word is in ``firsts``."""
    keys = {key: name for name, key in existing.items() if name.split()[0] in firsts}
    if not keys:
        return {}
    profiles: dict[str, Profile] = defaultdict(Profile)
    for key, committee, is_corporate, n in conn.execute(
        "SELECT c.employer_key, k.committee_id, k.organization_type = ANY(%s), count(*) "
        "FROM core.contribution c JOIN core.committee k ON k.committee_key = c.recipient_committee_key "
        "WHERE c.employer_key = ANY(%s) AND c.deleted_at IS NULL GROUP BY 1, 2, 3",
        (list(CORPORATE_ORG_TYPES), list(keys)),
    ).fetchall():
        profiles[keys[int(key)]].add(None, None, committee, None, int(n), corporate=bool(is_corporate))
    return {name: pac for name, p in profiles.items() if (pac := p.corporate_pac())}


def _existing_profiles(conn: psycopg.Connection, keys: Mapping[str, int]) -> dict[str, Profile]:
    if not keys:
        return {}
    names = {key: name for name, key in keys.items()}
    out: dict[str, Profile] = defaultdict(Profile)
    rows = conn.execute(
        "SELECT c.employer_key, c.occupation, c.state, left(c.zip5, 3), k.committee_id, "
        "k.organization_type = ANY(%s), count(*) "
        "FROM core.contribution c JOIN core.committee k ON k.committee_key = c.recipient_committee_key "
        "WHERE c.employer_key = ANY(%s) AND c.deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6",
        (list(CORPORATE_ORG_TYPES), list(names)),
    ).fetchall()
    for key, occupation, state, zip3, committee, is_corporate, n in rows:
        out[names[int(key)]].add(state, zip3, committee, occupation, int(n), corporate=bool(is_corporate))
    return out
