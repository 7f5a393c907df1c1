"""Candidate pairs of employer names with the blocks in the database: the client's memory stays flat.

:func:`~fecflow.normalize.employer_similarity.candidate_pairs` builds its blocks (same letters,
leading words, initials, typo keys, ...) as Python dicts over every name: about 100 MB per 130,000
names, 2.9 GB of client memory at 16M generated rows (issue #18). :func:`write_candidate_pairs` asks
PostgreSQL for the same blocks, one kind at a time, over a table of names, reads them through a
server-side cursor and writes the pairs it finds to a temp table; the client holds one block, a
buffer of found pairs, the generic words and the corporate PACs. Each kind's rule is the same
function the in-memory version calls (:mod:`fecflow.normalize.employer_similarity`), and the kinds
are taken in the same order, so both give the same pairs
(``tests/integration/normalize_core/test_employer_blocking.py`` compares them on the real sample's
names and on generated ones).

The names table has ``name text COLLATE "C"`` (unique) and ``longest integer``. Names are the
employer map's output: upper case, words separated by single spaces (split here by
``string_to_array(name, ' ')``, in Python by ``str.split()``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import psycopg
from psycopg import sql

from fecflow.db.statements import CopyBuffer, execute, stream
from fecflow.normalize.employer_similarity import (
    KINDS,
    STOP_WORDS,
    TYPO_GROUP_LIMIT,
    Candidate,
    acronym_form,
    brand_groups,
    brand_pairs,
    leading_pair_ok,
    may_be_cut,
    truncation_ok,
    typo_pairs,
)

_GENERIC = """
    SELECT w FROM (
        SELECT DISTINCT split_part(n.name, ' ', 1) AS first, w
          FROM {names} n, unnest((string_to_array(n.name, ' '))[2:]) AS w
         WHERE n.name <> '') x
     GROUP BY w HAVING count(*) >= 3
"""
# letters_key in SQL: the letters and digits, a number glued to a one-word name of 8+ letters dropped.
_SPACING = """
    SELECT array_agg(name) FROM (
        SELECT name, CASE WHEN name ~ '^[A-Z]{{8,}}[0-9]+$' THEN substring(name FROM '^[A-Z]+')
                          ELSE replace(name, ' ', '') END AS letters
          FROM {names} WHERE name <> '') s
     GROUP BY letters HAVING count(*) > 1
"""
_BY_LETTERS = """
    SELECT replace(name, ' ', '') COLLATE "C" AS letters, name, longest FROM {names}
     WHERE name <> '' ORDER BY 1, 2
"""
_LEADING = """
    SELECT p.name, n.name FROM {names} n
     CROSS JOIN LATERAL generate_series(1, cardinality(string_to_array(n.name, ' ')) - 1) AS k
      JOIN {names} p ON p.name = array_to_string((string_to_array(n.name, ' '))[1:k], ' ')
     WHERE n.name <> ''
"""
_PRESENT = "SELECT name FROM {names} WHERE name = ANY(%s)"
_ACRONYM = """
    SELECT a.name, l.name FROM {names} a JOIN (
        SELECT n.name, (SELECT string_agg(left(w, 1), '' ORDER BY i)
                          FROM unnest(string_to_array(n.name, ' ')) WITH ORDINALITY AS u(w, i)
                         WHERE w <> ALL(%(stop)s)) AS initials
          FROM {names} n WHERE cardinality(string_to_array(n.name, ' ')) >= 3) l ON l.initials = a.name
     WHERE length(a.name) BETWEEN 3 AND 5 AND strpos(a.name, ' ') = 0
"""
# _typo_keys in SQL: a multi-word name blanks each word of 4+ letters in turn (keyed by its
# position); a one-word name of 5+ letters, no digits, gives itself and itself less each letter.
_TYPO = """
    WITH keys AS (
        SELECT i - 1 AS pos, array_to_string(s.w[1:i - 1] || '_'::text || s.w[i + 1:], ' ') AS key, n.name
          FROM {names} n
         CROSS JOIN LATERAL (SELECT string_to_array(n.name, ' ') AS w) s
         CROSS JOIN LATERAL generate_subscripts(s.w, 1) AS i
         WHERE cardinality(s.w) > 1 AND length(s.w[i]) >= 4
        UNION ALL
        SELECT -1, k.key, n.name FROM {names} n
         CROSS JOIN LATERAL (
            SELECT n.name AS key
            UNION
            SELECT overlay(n.name PLACING '' FROM j FOR 1) FROM generate_series(1, length(n.name)) AS j) k
         WHERE strpos(n.name, ' ') = 0 AND length(n.name) >= 5 AND n.name !~ '[0-9]'
    )
    SELECT array_agg(name) FROM keys GROUP BY pos, key HAVING count(*) BETWEEN 2 AND %(limit)s
"""


def find_candidate_pairs(conn: psycopg.Connection, names: str, pac_of: Mapping[str, str]) -> list[Candidate]:
    """:func:`~fecflow.normalize.employer_similarity.candidate_pairs` over the table ``names``
    (a temp table's name), the blocks made by the server; ``pac_of`` as there. For tests and small
    inputs: normalize keeps the pairs in the database (:func:`write_candidate_pairs`)."""
    write_candidate_pairs(conn, names, pac_of, "_blocked_pairs")
    rows = conn.execute("SELECT a, b, kind FROM _blocked_pairs ORDER BY a, b").fetchall()
    execute(conn, "DROP TABLE _blocked_pairs")
    return [Candidate(str(a), str(b), str(kind)) for a, b, kind in rows]


def write_candidate_pairs(conn: psycopg.Connection, names: str, pac_of: Mapping[str, str], into: str) -> int:
    """Find the candidate pairs of the names in table ``names`` and write them to a new temp table
    ``into`` (``a``, ``b``, ``kind``; ``a < b``, one row per pair with the first kind that found it,
    as :class:`~fecflow.normalize.employer_similarity.PairSet`). Returns the number of pairs. The
    client holds one block and at most :data:`~fecflow.db.statements.COPY_BUFFER` found pairs at a
    time: pairs grow faster than names (3-5 letter names meet the initials of ever more longer
    names)."""

    def query(text: str) -> sql.Composed:
        return sql.SQL(text).format(names=sql.Identifier(names))

    generic = {str(w) for (w,) in conn.execute(query(_GENERIC)).fetchall()} | STOP_WORDS
    execute(
        conn,
        'CREATE TEMP TABLE _pairs_found (a text COLLATE "C", b text COLLATE "C", prio smallint) ON COMMIT DROP',
    )
    out = _PairWriter(conn)
    for (group,) in stream(conn, query(_SPACING), name="_blocks_spacing"):
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                out.keep(a, b, "spacing")
    for name, longest, other in _truncations(stream(conn, query(_BY_LETTERS), name="_blocks_letters")):
        if truncation_ok(name, longest, other):
            out.keep(name, other, "truncation")
    for short, name in stream(conn, query(_LEADING), name="_blocks_leading"):
        if leading_pair_ok(short, name, pac_of, generic):
            out.keep(short, name, "leading_words")
    present = {str(n) for (n,) in conn.execute(query(_PRESENT), (list(pac_of),)).fetchall()}
    for brand in brand_groups(pac_of, generic, present):
        for a, b in brand_pairs(brand):
            out.keep(a, b, "shared_brand")
    for short, name in stream(conn, query(_ACRONYM), {"stop": sorted(STOP_WORDS)}, name="_blocks_acronym"):
        if acronym_form(short):
            out.keep(short, name, "acronym")
    for (group,) in stream(conn, query(_TYPO), {"limit": TYPO_GROUP_LIMIT}, name="_blocks_typo"):
        for a, b in typo_pairs(sorted(group)):
            out.keep(a, b, "typo")
    out.flush()
    found = execute(
        conn,
        sql.SQL(
            "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT DISTINCT ON (a, b) a, b, (%s::text[])[prio] AS kind "
            "FROM _pairs_found ORDER BY a, b, prio"
        ).format(sql.Identifier(into)),
        (list(KINDS),),
    )
    execute(conn, "DROP TABLE _pairs_found")
    return found


class _PairWriter:
    """Found pairs, written to ``_pairs_found`` as (a, b) in order with the kind's priority."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._out = CopyBuffer(conn, "COPY _pairs_found (a, b, prio) FROM STDIN")

    def keep(self, a: str, b: str, kind: str) -> None:
        self._out.write((a, b, KINDS.index(kind) + 1) if a < b else (b, a, KINDS.index(kind) + 1))

    def flush(self) -> None:
        self._out.flush()


def _truncations(rows: Iterator[tuple[str, str, int]]) -> Iterator[tuple[str, int, str]]:
    """(cut name, its longest spelling, longer name) from the names ordered by their letters: the
    names whose letters start with a cut name's letters follow it, so one pass with a stack of the
    open cut names finds every pair (``truncation``; equal letters are ``spacing``)."""
    stack: list[tuple[str, list[tuple[str, int]]]] = []

    def close(letters: str, group: list[tuple[str, int]]) -> Iterator[tuple[str, int, str]]:
        while stack and not letters.startswith(stack[-1][0]):
            stack.pop()
        for _, cut in stack:
            for name, longest in cut:
                for other, _ in group:
                    yield name, longest, other
        eligible = [(name, longest) for name, longest in group if may_be_cut(longest)]
        if eligible:
            stack.append((letters, eligible))

    current: str | None = None
    group: list[tuple[str, int]] = []
    for letters, name, longest in rows:
        if letters != current:
            if current is not None:
                yield from close(current, group)
            current, group = letters, []
        group.append((name, int(longest)))
    if current is not None:
        yield from close(current, group)
