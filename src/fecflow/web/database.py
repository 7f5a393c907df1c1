"""Connections for the explorer: a small pool, one rolled-back transaction per request.

Every request gets a ``READ ONLY`` transaction (each connection carries ``statement_timeout``) rolled
back at the end, so the explorer never writes. An entity page reads the explanation lines stored at
score time (employers, committees) or computes them with plain SELECTs from the slot's kept context
(candidates, industries: :mod:`fecflow.scores.context`).

Answers that only change when a run writes (explanations, the home page) are cached per process
under the *data version*: the newest run id and finish time in ``ops.ingest_run``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg

from fecflow.db.engine import connect

log = logging.getLogger(__name__)
T = TypeVar("T")


class ConnectionPool:
    """Up to ``size`` open connections, handed out one per request (thread-safe)."""

    def __init__(self, url: str, *, size: int = 8, statement_timeout_ms: int = 5000) -> None:
        self.url = url
        self.statement_timeout_ms = statement_timeout_ms
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A connection inside a fresh transaction, rolled back afterwards whatever happened."""
        with self._slots:
            conn = self._take()
            healthy = False
            try:
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(
                    "SELECT set_config('statement_timeout', %s, true)", (str(self.statement_timeout_ms),)
                )
                yield conn
                healthy = True
            finally:
                self._give_back(conn, healthy)

    def _take(self) -> psycopg.Connection:
        try:
            conn = self._idle.get_nowait()
            if not conn.closed:
                return conn
        except queue.Empty:
            pass
        conn = connect(self.url, autocommit=True)
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(self.statement_timeout_ms),))
        conn.autocommit = False
        return conn

    def _give_back(self, conn: psycopg.Connection, healthy: bool) -> None:
        try:
            conn.rollback()
        except psycopg.Error:
            healthy = False
        if conn.closed or conn.broken:
            return
        if not healthy and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.close()
            return
        self._idle.put(conn)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class DataVersion:
    """Changes whenever a run starts or finishes: the key under which cached answers stay valid.

    Read from ``ops.ingest_run`` at most once per ``ttl_s`` seconds: an answer may be that much
    older than a run that just finished.
    """

    def __init__(self, ttl_s: float = 1.0) -> None:
        self._ttl = ttl_s
        self._value: tuple[Any, ...] = ()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def fresh(self) -> tuple[Any, ...] | None:
        """The version when it was read less than ``ttl_s`` ago (no database needed), else None."""
        with self._lock:
            return self._value if time.monotonic() - self._read_at < self._ttl else None

    def __call__(self, conn: psycopg.Connection) -> tuple[Any, ...]:
        now = time.monotonic()
        with self._lock:
            if now - self._read_at < self._ttl:
                return self._value
        row = conn.execute("SELECT max(run_id), max(finished_at), count(*) FROM ops.ingest_run").fetchone()
        with self._lock:
            self._value, self._read_at = (tuple(row) if row else ()), now
            return self._value


class AnswerCache:
    """A small LRU of computed answers keyed by (what, data version)."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The cached answer under ``key``, or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value
