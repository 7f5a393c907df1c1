"""Validity-range bookkeeping for ``scores.leaning_score``: nothing is overwritten or deleted.

Rows are current while ``valid_to IS NULL``; at most one current row per entity, method version,
``as_of`` and window. A recomputation writes its rows to a temp table, then in one transaction:

* current rows whose values differ from the new ones, or whose entity has no new row, are closed
  (``valid_to = now()``);
* new rows with no identical current row are inserted (``valid_from = now()``, the same instant);
* identical rows stay untouched (their ``valid_from`` and ``run_id`` keep the first computation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

import psycopg

from fecflow.scores.formula import Leaning, Support
from fecflow.scores.windows import Window

ENTITY_KEY_COLUMN = {
    "candidate": "candidate_key",
    "committee": "committee_key",
    "employer": "employer_key",
    "industry": "industry_key",
}
# Filled by lean-2026.2 and later (NULL for lean-2026.1): what the score rests on.
EXTRA_COLUMNS = (
    "n_effective",
    "direct_amount",
    "flowed_amount",
    "own_pac_amount",
    "own_pac_committee_key",
    "base_donor_share",
    "base_dollar_share",
)
VALUE_COLUMNS = (
    "score",
    "ci_low",
    "ci_high",
    "dem_amount",
    "rep_amount",
    "other_amount",
    "n_contributions",
    "n_donors",
    "reason",
    *EXTRA_COLUMNS,
    "preliminary_amount",
)


def entity_key_sql(alias: str) -> str:
    """The entity's surrogate key: exactly one of the four key columns is set (a check says so)."""
    return (
        f"coalesce({alias}.candidate_key, {alias}.committee_key, {alias}.employer_key, {alias}.industry_key)"
    )


#: Score rows per COPY in :func:`store_scores`.
STORE_BATCH = 5_000

NO_EXTRA: tuple[Decimal | int | None, ...] = (None,) * len(EXTRA_COLUMNS)


@dataclass(frozen=True)
class ScoreRow:
    entity_type: str
    entity_key: int
    support: Support
    leaning: Leaning
    extra: tuple[Decimal | int | None, ...] = NO_EXTRA  # EXTRA_COLUMNS, in order
    preliminary: Decimal | None = None  # dollars from preliminary e-filed rows; None: not included

    def values(self) -> tuple[Decimal | int | str | None, ...]:
        s, lean = self.support, self.leaning
        return (
            lean.score,
            lean.ci_low,
            lean.ci_high,
            s.dem_amount,
            s.rep_amount,
            s.other_amount,
            s.n_contributions,
            s.n_donors,
            lean.reason,
            *self.extra,
            self.preliminary,
        )


@dataclass(frozen=True)
class StoreCounts:
    opened: int
    closed: int
    unchanged: int


_VALUES = ", ".join(VALUE_COLUMNS)
_COPY_NEW_SQL = f"COPY _sc_new (entity_type, entity_key, {_VALUES}) FROM STDIN"
_SAME_SLOT = (
    "s.method_version = %(method)s AND s.as_of = %(as_of)s AND s.window_start = %(start)s "
    "AND s.window_end = %(end)s AND s.valid_to IS NULL"
)
_SAME_ENTITY = f"s.entity_type = n.entity_type AND {entity_key_sql('s')} = n.entity_key"
_SAME_VALUES = f"({', '.join('s.' + c for c in VALUE_COLUMNS)}) IS NOT DISTINCT FROM ({', '.join('n.' + c for c in VALUE_COLUMNS)})"

_CLOSE_SQL = (
    "UPDATE scores.leaning_score s SET valid_to = now() "  # noqa: S608 - fixed fragments
    f"WHERE {_SAME_SLOT} AND NOT EXISTS (SELECT 1 FROM _sc_new n WHERE {_SAME_ENTITY} AND {_SAME_VALUES})"
)
_KEY_CASES = ", ".join(f"CASE WHEN n.entity_type = '{t}' THEN n.entity_key END" for t in ENTITY_KEY_COLUMN)
_OPEN_SQL = (
    "INSERT INTO scores.leaning_score (entity_type, candidate_key, committee_key, employer_key, industry_key, "  # noqa: S608 - fixed fragments
    f"method_version, as_of, window_start, window_end, valid_from, valid_to, {_VALUES}, run_id) "
    f"SELECT n.entity_type, {_KEY_CASES}, %(method)s, %(as_of)s, %(start)s, %(end)s, now(), NULL, "
    f"{', '.join('n.' + c for c in VALUE_COLUMNS)}, %(run_id)s FROM _sc_new n "
    f"WHERE NOT EXISTS (SELECT 1 FROM scores.leaning_score s WHERE {_SAME_SLOT} AND {_SAME_ENTITY}) "
    "ORDER BY n.entity_type, n.entity_key"
)


def store_scores(
    conn: psycopg.Connection,
    rows: Iterable[ScoreRow],
    *,
    run_id: int,
    method_version: str,
    as_of: dt.date,
    window: Window,
) -> StoreCounts:
    """Close changed current rows, open new ones, leave identical ones; return the three counts."""
    conn.execute("DROP TABLE IF EXISTS _sc_new")
    conn.execute(
        "CREATE TEMP TABLE _sc_new (entity_type text NOT NULL, entity_key bigint NOT NULL, "
        "score numeric(6,5), ci_low numeric(6,5), ci_high numeric(6,5), dem_amount numeric(14,2), "
        "rep_amount numeric(14,2), other_amount numeric(14,2), n_contributions integer, n_donors integer, "
        "reason text, n_effective numeric(12,2), direct_amount numeric(14,2), flowed_amount numeric(14,2), "
        "own_pac_amount numeric(14,2), own_pac_committee_key bigint, base_donor_share numeric(6,5), "
        "base_dollar_share numeric(6,5), preliminary_amount numeric(14,2), PRIMARY KEY (entity_type, entity_key)) "
        "ON COMMIT DROP"
    )
    # In batches, one COPY each: ``rows`` may be read from this connection (a server-side cursor,
    # :func:`fecflow.db.statements.stream`), which cannot fetch while a COPY is open.
    total = 0
    iterator = iter(rows)
    with conn.cursor() as cur:
        while batch := list(islice(iterator, STORE_BATCH)):
            with cur.copy(_COPY_NEW_SQL) as copy:
                for row in batch:
                    copy.write_row((row.entity_type, row.entity_key, *row.values()))
            total += len(batch)
    conn.execute("ANALYZE _sc_new")
    slot = {
        "method": method_version,
        "as_of": as_of,
        "start": window.start,
        "end": window.end,
        "run_id": run_id,
    }
    closed = conn.execute(_CLOSE_SQL, slot).rowcount
    opened = conn.execute(_OPEN_SQL, slot).rowcount
    return StoreCounts(opened=opened, closed=closed, unchanged=total - opened)
