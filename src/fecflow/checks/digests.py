"""Per-column digests of ``core.contribution``: equal digests, identical loaded data.

Used by ``make bench``'s backfill row (repeated runs must load the same data) and by
``tests/integration/normalize/test_core_digests.py`` (a speed-up of staging or normalize must load
exactly what the recorded digests of the real 2020 sample say).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

# Run bookkeeping and surrogate ids: they differ between two loads of the same data.
DIGEST_SKIPPED = frozenset({"contribution_id", "source_file_id", "first_run_id", "last_run_id", "deleted_by_run_id"})

_COLUMNS = (
    "SELECT attname FROM pg_attribute WHERE attrelid = 'core.contribution'::regclass "
    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
)
# A *_key column is compared as the grouping it makes (each key replaced by the smallest SUB_ID
# carrying it), so keys numbered from another sequence position still compare equal.
_KEY_DIGEST = sql.SQL(
    "SELECT md5(string_agg(coalesce(m.canon::text, '-'), ',' ORDER BY c.sub_id, c.source)) "
    "FROM core.contribution c LEFT JOIN (SELECT {k} AS k, min(sub_id) AS canon "
    "FROM core.contribution GROUP BY {k}) m ON m.k = c.{k}"
)
_VALUE_DIGEST = sql.SQL(
    "SELECT md5(string_agg(coalesce({k}::text, '-'), ',' ORDER BY sub_id, source)) FROM core.contribution"
)


def contribution_digests(conn: psycopg.Connection) -> dict[str, str]:
    """md5 of each column of core.contribution (but DIGEST_SKIPPED) in SUB_ID order."""
    columns = [r[0] for r in conn.execute(_COLUMNS).fetchall() if r[0] not in DIGEST_SKIPPED]
    digests: dict[str, str] = {}
    for column in columns:
        template = _KEY_DIGEST if column.endswith("_key") else _VALUE_DIGEST
        row = conn.execute(template.format(k=sql.Identifier(column))).fetchone()
        digests[column] = row[0] if row and row[0] else ""
    return digests
