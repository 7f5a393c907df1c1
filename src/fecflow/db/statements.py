"""Running one SQL statement: its row count (timed in the DEBUG log), its single value, or its rows
read by column name.

Generic helpers for set-based work (``INSERT ... SELECT``, ``UPDATE``, ``MERGE``); statements are
``psycopg.sql`` compositions with named placeholders where they take values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

log = logging.getLogger(__name__)

Query = sql.SQL | sql.Composed | str


def execute(conn: psycopg.Connection, query: Query, params: Any = None) -> int:
    """Run one statement; return its row count (DEBUG-logs its duration)."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(query, params)
        count = max(cur.rowcount, 0)
    if log.isEnabledFor(logging.DEBUG):
        text = query if isinstance(query, str) else query.as_string(conn)
        log.debug("%.3fs %d rows: %s", time.perf_counter() - started, count, " ".join(text.split())[:100])
    return count


def scalar(conn: psycopg.Connection, query: Query, params: Any = None) -> Any:
    """The first column of the first row (None when there is no row)."""
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def one(conn: psycopg.Connection, query: Query, params: Any = None) -> dict[str, Any] | None:
    """The first row of ``query``, read by column name (None when there is no row)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def every(conn: psycopg.Connection, query: Query, params: Any = None) -> list[dict[str, Any]]:
    """Every row of ``query``, each read by column name."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


#: Rows per FETCH of :func:`stream`.
STREAM_BATCH = 5_000


def stream(
    conn: psycopg.Connection, query: Query, params: Any = None, *, name: str
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query`` through a server-side cursor, :data:`STREAM_BATCH` at a time: the client
    holds one batch, not the whole result. Between batches the connection is free for other
    statements (a COPY of what was made of the previous batch, for one); the cursor lives until the
    transaction ends or the generator is closed."""
    # A cursor is planned for its first 10% of rows by default (cursor_tuple_fraction): fast-start
    # plans, nested loops, that took minutes where the same query as a plain statement took a second.
    # All the rows are wanted, so the plan is made as for a plain statement.
    with conn.cursor(name=name) as cur:
        with local_settings(conn, {"cursor_tuple_fraction": "1"}):
            cur.execute(query, params)
        while batch := cur.fetchmany(STREAM_BATCH):
            yield from batch


def stream_batches(
    conn: psycopg.Connection, query: Query, params: Any = None, *, name: str, size: int = STREAM_BATCH
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``query`` (:func:`stream`) in lists of ``size``: for work that writes what it made
    of one list (a COPY) before it reads the next."""
    rows = stream(conn, query, params, name=name)
    while batch := list(islice(rows, size)):
        yield batch


#: Rows a :class:`CopyBuffer` holds before it writes them.
COPY_BUFFER = 5_000


class CopyBuffer:
    """Rows written to a table by ``COPY``, :data:`COPY_BUFFER` at a time: for work that makes rows
    while it reads a :func:`stream` (the connection is free between the stream's yields, not in the
    middle of a fetch). Call :meth:`flush` at the end."""

    def __init__(self, conn: psycopg.Connection, copy: Query, size: int = COPY_BUFFER) -> None:
        self._conn, self._copy, self._size = conn, copy, size
        self._rows: list[tuple[Any, ...]] = []
        self.written = 0

    def write(self, row: tuple[Any, ...]) -> None:
        self._rows.append(row)
        if len(self._rows) >= self._size:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            with self._conn.cursor() as cur, cur.copy(self._copy) as copy:
                for row in self._rows:
                    copy.write_row(row)
            self.written += len(self._rows)
        self._rows = []


@contextmanager
def local_settings(conn: psycopg.Connection, settings: Mapping[str, str]) -> Iterator[None]:
    """Apply ``settings`` (name -> value) in this transaction; restore the previous values after,
    unless the transaction failed (its settings are then rolled back with it)."""
    before: dict[str, str] = {}
    for name, value in settings.items():
        row = one(
            conn,
            "SELECT current_setting(%(name)s) AS before, set_config(%(name)s, %(value)s, true) AS now",
            {"name": name, "value": value},
        )
        if row is not None:
            before[name] = row["before"]
    try:
        yield
    finally:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
            for name, value in before.items():
                conn.execute("SELECT set_config(%(name)s, %(value)s, true)", {"name": name, "value": value})
