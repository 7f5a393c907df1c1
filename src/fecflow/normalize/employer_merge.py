"""A snapshot's new employer names -> the employers they are (the database side of issue #19).

:func:`similar_names` takes the per-string map of a snapshot's new strings (temp table ``_emp_map``)
and decides, with :mod:`fecflow.normalize.employer_similarity`, which of their names are another
name's employer: another new name of the snapshot, or an employer already in ``core.employer`` (which never moves,
so a new string joins an existing cluster without renumbering it). Rows are read only where a
decision needs them:

1. corporate PACs: per new name, the committee of a corporation (``core.committee``
   ``organization_type`` C or W) that at least half of its rows went to, in SQL over the snapshot's
   counts that link_employers already made;
2. existing employers that could pair with a new name: those sharing its first word or its letters
   (``core.employer``, joined in SQL into the names table ``_sim_name``), and their corporate PAC
   shares (``core.contribution`` by ``employer_key``);
3. candidate pairs from the names alone, kept when they touch a new name: the blocks are made by the
   server over ``_sim_name`` (:mod:`fecflow.normalize.employer_blocking`), so the client holds the
   pairs, not every name;
4. profiles (state, ZIP3, recipient, occupation counts) of the names in a candidate pair only: from
   the staged snapshot for new strings, from ``core.contribution`` for existing employers.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from itertools import groupby
from typing import Any, NamedTuple

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from fecflow.catalog import FILES
from fecflow.db.statements import CopyBuffer, stream, stream_batches
from fecflow.normalize.dimensions import execute
from fecflow.normalize.employer_blocking import write_candidate_pairs
from fecflow.normalize.employer_similarity import (
    Candidate,
    Decision,
    Neighbor,
    Profile,
    agreeing_edges,
    visit_stars,
    weak_form,
)
from fecflow.normalize.employers import alias_rows

log = logging.getLogger(__name__)

CORPORATE_ORG_TYPES = ("C", "W")  # cm ORG_TP: corporation, corporation without capital stock


def similar_names(conn: psycopg.Connection, file_type: str, source_file_id: int) -> int:
    """``_emp_joined``: each name of a new string (``_emp_map``, the per-string map of the snapshot's
    new strings) that joins another name's employer, with the decision's target, score and evidence.
    Returns how many joined."""
    started = time.perf_counter()
    execute(conn, _JOINED)
    # Curated names take part too, as fixed centers.
    new = execute(
        conn,
        "CREATE TEMP TABLE _sim_raw ON COMMIT DROP AS SELECT raw_employer, name FROM _emp_map WHERE bucket IS NULL",
    )
    if not new:
        execute(conn, "DROP TABLE _sim_raw")
        return 0
    execute(conn, "ALTER TABLE _sim_raw ADD PRIMARY KEY (raw_employer)")
    execute(conn, "ANALYZE _sim_raw")
    staging = sql.Identifier("staging", FILES[file_type].staging_table)
    execute(conn, _SIM_NAMES)
    execute(conn, "ALTER TABLE _sim_name ADD PRIMARY KEY (name)")
    execute(conn, _EXISTING_NAMES)
    execute(conn, "ANALYZE _sim_name")
    pac_of = _corporate_pacs(conn)
    pac_of.update(_existing_pacs(conn, {n.split()[0] for n in pac_of}))
    strings_started = time.perf_counter()
    write_candidate_pairs(conn, "_sim_name", pac_of, "_sim_pair")
    strings_s = time.perf_counter() - strings_started
    pairs = execute(conn, _KEEP_PAIRS_OF_NEW_NAMES)
    joined = _decide(conn, staging, source_file_id)
    counts = conn.execute(
        "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM _sim_name"
    )
    n_new, n_existing = counts.fetchone() or (0, 0)
    execute(conn, "DROP TABLE _sim_raw, _sim_name, _sim_pair")
    log.info(
        "similar employer names: %d new names, %d existing in reach, %d candidate pairs, %d joined "
        "(%.2f s, of which candidate pairs %.2f s)",
        n_new,
        n_existing,
        pairs,
        joined,
        time.perf_counter() - started,
        strings_s,
    )
    return joined


_JOINED = """
    CREATE TEMP TABLE _emp_joined (name text PRIMARY KEY, target text NOT NULL, score numeric(3, 2) NOT NULL,
                                   evidence jsonb NOT NULL) ON COMMIT DROP
"""


# The names of the snapshot's new strings (``is_new``; ``longest``: their longest raw spelling), then
# the existing non-generic employers that share a first word or the letters of one (``employer_key``;
# longest 0 unless the name is new too). The pairs are found over this table, in the database
# (:mod:`fecflow.normalize.employer_blocking`).
_SIM_NAMES = """
    CREATE TEMP TABLE _sim_name ON COMMIT DROP AS
    SELECT name COLLATE "C" AS name, max(longest) AS longest, true AS is_new, NULL::bigint AS employer_key
      FROM _emp_map WHERE bucket IS NULL GROUP BY name
"""
_EXISTING_NAMES = """
    INSERT INTO _sim_name (name, longest, is_new, employer_key)
    SELECT e.canonical_name, 0, false, e.employer_key FROM core.employer e
     WHERE NOT e.is_generic
       AND (split_part(e.canonical_name, ' ', 1) IN (SELECT split_part(name, ' ', 1) FROM _sim_name)
            OR replace(e.canonical_name, ' ', '') IN (SELECT replace(name, ' ', '') FROM _sim_name))
    ON CONFLICT (name) DO UPDATE SET employer_key = excluded.employer_key
"""


# Only the pairs that touch a new name are decided, each with what the decision needs of its names
# (read back ordered as PairSet orders them: by a, then b).
_KEEP_PAIRS_OF_NEW_NAMES = """
    CREATE TEMP TABLE _sim_pair_new ON COMMIT DROP AS
    SELECT p.a, p.b, p.kind, na.is_new AS a_new, na.employer_key AS a_key, na.longest AS a_longest,
           nb.is_new AS b_new, nb.employer_key AS b_key, nb.longest AS b_longest
      FROM _sim_pair p JOIN _sim_name na ON na.name = p.a JOIN _sim_name nb ON nb.name = p.b
     WHERE na.is_new OR nb.is_new
"""
_PAIRS = """
    SELECT a, b, kind, a_new, a_key, a_longest, b_new, b_key, b_longest FROM _sim_pair_new ORDER BY a, b
"""


class _Name(NamedTuple):
    is_new: bool
    employer_key: int | None
    longest: int


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


#: Candidate pairs whose names' profiles are read at once (:func:`_decide`).
PAIR_BATCH = 2_000

# The agreeing edges (``seq``: their order) and their names, as star clusters need them.
_EDGES = """
    CREATE TEMP TABLE _sim_edge (seq bigint NOT NULL, a text NOT NULL, b text NOT NULL, kind text NOT NULL,
        state float8, zip3 float8, recipient float8, occupation float8, corporate_pac float8, states int)
    ON COMMIT DROP;
    CREATE TEMP TABLE _sim_node_seen (name text NOT NULL, fixed bool NOT NULL, weak bool NOT NULL,
        rows bigint NOT NULL, is_new bool NOT NULL) ON COMMIT DROP
"""
_EVIDENCE = ("state", "zip3", "recipient", "occupation", "corporate_pac", "states")

# Each name with its neighbors, in the order star clusters visit names (visit_key: fixed first, weak
# forms last, rows desc, then name; "C" compares UTF-8 bytes, which is Python's code point order) and
# each name's edges in edge order. A fixed name needs no neighbors.
_VISITS = """
    WITH v AS (
        SELECT name, fixed, row_number() OVER (ORDER BY fixed DESC, weak, rows DESC, name COLLATE "C") AS visit
          FROM _sim_node
    ), adjacent AS (
        SELECT a AS name, b AS other, seq, kind, state, zip3, recipient, occupation, corporate_pac, states
          FROM _sim_edge
        UNION ALL
        SELECT b, a, seq, kind, state, zip3, recipient, occupation, corporate_pac, states FROM _sim_edge
    )
    SELECT v.visit, v.name, v.fixed, j.other, j.kind, j.state, j.zip3, j.recipient, j.occupation,
           j.corporate_pac, j.states
      FROM v LEFT JOIN adjacent j ON j.name = v.name AND NOT v.fixed
     ORDER BY v.visit, j.seq
"""


def _decide(conn: psycopg.Connection, staging: sql.Identifier, source_file_id: int) -> int:
    """``_emp_joined`` from star clusters over the pairs (``_sim_pair_new``) whose rows agree; returns
    how many new names joined.

    Pairs are read :data:`PAIR_BATCH` at a time, with the profiles of their names; the agreeing edges
    and their names go to the database as found (:class:`StarGraph`), and star clusters read them
    back in visiting order. The client holds one batch of pairs and the set of centers: not every
    pair, the profile of every name (half a GB at 8M rows) nor every agreeing edge (200 MB at 16M
    generated rows).
    """
    _profile_rows(conn, staging, source_file_id)
    curated = {canonical for _, canonical, _ in alias_rows()}
    graph = StarGraph(conn)
    for batch in stream_batches(conn, _PAIRS, name="_sim_pairs", size=PAIR_BATCH):
        info: dict[str, _Name] = {}
        for a, b, _, a_new, a_key, a_longest, b_new, b_key, b_longest in batch:
            info[a] = _Name(bool(a_new), a_key, int(a_longest))
            info[b] = _Name(bool(b_new), b_key, int(b_longest))
        existing = {n: int(i.employer_key) for n, i in info.items() if i.employer_key is not None}
        batch_fixed = (existing.keys() | curated) & info.keys()
        profiles = _staged_profiles(conn, {n for n, i in info.items() if i.is_new})
        for name, p in _existing_profiles(conn, existing).items():
            _merge(profiles.setdefault(name, Profile()), p)
        candidates = [Candidate(str(a), str(b), str(kind)) for a, b, kind, *_ in batch]
        written: set[str] = set()
        for c, ev in agreeing_edges(candidates, profiles, batch_fixed):
            graph.edge(c, ev)
            for n in (c.a, c.b):
                if n not in written:  # a name is in many batches, always with the same facts
                    written.add(n)
                    rows = profiles[n].rows if n in profiles else 0
                    graph.node(
                        n, fixed=n in batch_fixed, longest=info[n].longest, rows=rows, is_new=info[n].is_new
                    )
    execute(conn, "DROP TABLE _sim_profile, _sim_pair_new")
    joined = CopyBuffer(conn, "COPY _emp_joined (name, target, score, evidence) FROM STDIN")
    for d in graph.decisions():
        evidence = Jsonb({"kind": d.kind, "name": d.name, "joined": d.target, **d.evidence})
        joined.write((d.name, d.target, d.score, evidence))
    joined.flush()
    # Only a fixed name is never new (an existing employer): every decision is a new name's, but the
    # table says so rather than this comment.
    dropped = execute(
        conn, "DELETE FROM _emp_joined j USING _sim_node n WHERE n.name = j.name AND NOT n.is_new"
    )
    execute(conn, "DROP TABLE _sim_edge, _sim_node")
    return joined.written - dropped


class StarGraph:
    """Star clusters with the edges in the database: the agreeing edges (``_sim_edge``, in the order
    given) and the facts of their names (``_sim_node``) are written as found; :meth:`decisions`
    streams them back in visiting order (:data:`_VISITS`) through :func:`visit_stars`, the rule
    :func:`~fecflow.normalize.employer_similarity.star_clusters` applies in memory."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        execute(conn, _EDGES)
        self._edges = CopyBuffer(
            conn,
            sql.SQL("COPY _sim_edge (seq, a, b, kind, {}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, _EVIDENCE))
            ),
        )
        self._nodes = CopyBuffer(conn, "COPY _sim_node_seen (name, fixed, weak, rows, is_new) FROM STDIN")
        self._seq = 0

    def edge(self, c: Candidate, ev: Mapping[str, float]) -> None:
        self._seq += 1
        self._edges.write((self._seq, c.a, c.b, c.kind, *(ev[k] for k in _EVIDENCE)))

    def node(self, name: str, *, fixed: bool, longest: int, rows: int, is_new: bool) -> None:
        """A name of an edge (again is fine: the same facts each time)."""
        self._nodes.write((name, fixed, weak_form(name, longest), rows, is_new))

    def decisions(self) -> Iterator[Decision]:
        """The star clusters' decisions, in visiting order (``_sim_edge`` and ``_sim_node`` stay)."""
        self._edges.flush()
        self._nodes.flush()
        execute(
            self._conn,
            "CREATE TEMP TABLE _sim_node ON COMMIT DROP AS "
            "SELECT DISTINCT ON (name) * FROM _sim_node_seen ORDER BY name",
        )
        execute(self._conn, "DROP TABLE _sim_node_seen")
        execute(self._conn, "ANALYZE _sim_node, _sim_edge")
        yield from visit_stars(_visits(stream(self._conn, _VISITS, name="_sim_visits")))


def _visits(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[str, bool, list[Neighbor]]]:
    """(name, fixed, neighbors) from the rows of :data:`_VISITS`, one name at a time."""
    for _, group in groupby(rows, key=lambda row: row[0]):
        visit = list(group)
        neighbors: list[Neighbor] = [
            (other, kind, dict(zip(_EVIDENCE, values, strict=True)))
            for _, _, _, other, kind, *values in visit
            if other is not None
        ]
        yield str(visit[0][1]), bool(visit[0][2]), neighbors


def _profile_rows(conn: psycopg.Connection, staging: sql.Identifier, source_file_id: int) -> None:
    """``_sim_profile``: the staged snapshot's rows of the new names in a pair (``_sim_pair_new``),
    counted by occupation, state, ZIP3 and recipient, in one pass over the snapshot."""
    execute(
        conn,
        "CREATE TEMP TABLE _sim_touched ON COMMIT DROP AS "
        "SELECT a AS name FROM _sim_pair_new WHERE a_new UNION SELECT b FROM _sim_pair_new WHERE b_new",
    )
    execute(conn, "ANALYZE _sim_touched")
    execute(
        conn,
        sql.SQL(
            "CREATE TEMP TABLE _sim_profile ON COMMIT DROP AS "
            "SELECT r.name, s.occupation, s.state, left(s.zip_code, 3) AS zip3, s.cmte_id, "
            "k.committee_id IS NOT NULL AS corporate, count(*) AS n "
            "FROM {} s JOIN _sim_raw r ON r.raw_employer = s.employer JOIN _sim_touched t ON t.name = r.name "
            "LEFT JOIN core.committee k ON k.committee_id = s.cmte_id AND k.organization_type = ANY(%s) "
            "WHERE s._source_file_id = %s GROUP BY 1, 2, 3, 4, 5, 6"
        ).format(staging),
        (list(CORPORATE_ORG_TYPES), source_file_id),
    )
    execute(conn, "CREATE INDEX ON _sim_profile (name)")
    execute(conn, "ANALYZE _sim_profile")
    execute(conn, "DROP TABLE _sim_touched")


def _staged_profiles(conn: psycopg.Connection, names: set[str]) -> dict[str, Profile]:
    """Profiles of the new ``names`` among ``names``, from ``_sim_profile``."""
    out: dict[str, Profile] = defaultdict(Profile)
    for name, occupation, state, zip3, committee, is_corporate, n in conn.execute(
        "SELECT name, occupation, state, zip3, cmte_id, corporate, n FROM _sim_profile WHERE name = ANY(%s)",
        (sorted(names),),
    ):
        out[name].add(state, zip3, committee, occupation, int(n), corporate=bool(is_corporate))
    return out


def _existing_pacs(conn: psycopg.Connection, firsts: set[str]) -> dict[str, str]:
    """Corporate PAC (at least half of the rows) of the existing employers in ``_sim_name`` whose first
    word is in ``firsts``."""
    keys = {
        int(key): str(name)
        for name, key in conn.execute(
            "SELECT name, employer_key FROM _sim_name WHERE employer_key IS NOT NULL "
            "AND split_part(name, ' ', 1) = ANY(%s)",
            (sorted(firsts),),
        ).fetchall()
    }
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
