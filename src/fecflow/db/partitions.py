"""Partitions made on demand: yearly ones of ``core.contribution``, one per stage batch in ``staging``.

``core.contribution``: RANGE on ``transaction_date``, one partition per calendar year
(``core.contribution_y2020`` holds 2020-01-01 .. 2020-12-31). Rows with no valid date (blank,
unparseable, or outside the plausible range) have ``transaction_date`` NULL and land in
``core.contribution_default``. Years are created before rows for them are inserted.

``staging.<type>``: RANGE on ``(_source_file_id, _batch_id)``, one leaf per stage batch
(``staging.indiv_s12_b345`` holds batch 345 of source file 12). A batch creates its leaf in its own
transaction, COPYs into it with ``FREEZE`` (the rows are written frozen and all-visible, so the
first reader does not rewrite every page to set hint bits, which with data checksums costs a
full-page image per page once a checkpoint has begun) and attaches it just before its commit. The
leaf's CHECK constraint states its bounds, so the attach does not scan it. Queries select by
``_source_file_id``, which prunes to the file's leaves; unstaging a file drops its leaves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import psycopg
from psycopg import sql

from fecflow.errors import ConfigError, LockHeld

PARTITION_RE = re.compile(r"^contribution_(y\d{4}|default)$")
STAGING_LEAF_RE = re.compile(r"^(?P<table>[a-z][a-z0-9_]*?)_s(?P<source_file>\d+)_b(?P<batch>\d+)$")
DEFAULT_PARTITION = "contribution_default"
#: How long unstaging waits for the exclusive lock a partition's DROP takes on ``staging.<type>``.
DROP_LOCK_TIMEOUT = "5min"
#: Partition key of every bulk staging table (models and migration 0013).
STAGING_PARTITION = "RANGE (_source_file_id, _batch_id)"


def is_partition_name(name: str | None) -> bool:
    """A partition made on demand (not in the models): a year of core.contribution, a staging leaf."""
    return bool(name) and bool(PARTITION_RE.match(name or "") or STAGING_LEAF_RE.match(name or ""))


def partition_name(year: int) -> str:
    return f"contribution_y{year:04d}"


def ensure_year_partitions(conn: psycopg.Connection, years: Iterable[int]) -> list[str]:
    """Create missing yearly partitions; return the names created."""
    existing = {
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'core.contribution'::regclass"
        )
    }
    created = []
    for year in sorted(set(years)):
        name = partition_name(year)
        if name in existing:
            continue
        conn.execute(
            sql.SQL("CREATE TABLE {} PARTITION OF core.contribution FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier("core", name),
                sql.Literal(f"{year:04d}-01-01"),
                sql.Literal(f"{year + 1:04d}-01-01"),
            )
        )
        created.append(name)
    return created


# --- staging: one leaf per stage batch ----------------------------------------------------------------


def staging_leaf_name(table: str, source_file_id: int, batch_id: int) -> str:
    return f"{table}_s{source_file_id}_b{batch_id}"


def create_staging_leaf(conn: psycopg.Connection, table: str, source_file_id: int, batch_id: int) -> sql.Identifier:
    """Create the (not yet attached) leaf of one batch in the caller's transaction; return its name.

    ``LIKE ... INCLUDING INDEXES`` gives it the parent's BRIN index, which the attach then adopts
    instead of building one; the CHECK constraint implies the partition bounds (no scan at attach).
    """
    leaf = sql.Identifier("staging", staging_leaf_name(table, source_file_id, batch_id))
    try:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {leaf} (LIKE {parent} INCLUDING INDEXES, "
                "CONSTRAINT batch CHECK (_source_file_id = {sf} AND _batch_id = {batch}))"
            ).format(
                leaf=leaf,
                parent=sql.Identifier("staging", table),
                sf=sql.Literal(source_file_id),
                batch=sql.Literal(batch_id),
            )
        )
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ConfigError(
            f"The database role may not create staging.{table}'s partitions: "
            f"{str(exc).strip().splitlines()[0]}.",
            hint=f"Stage as the role that owns staging.{table} (the one that ran `fecflow db upgrade`), "
            "or give this role CREATE on schema staging and ownership of the staging tables.",
        ) from None
    return leaf


def attach_staging_leaf(conn: psycopg.Connection, table: str, source_file_id: int, batch_id: int) -> None:
    """Attach a batch's leaf (in the caller's transaction: the rows appear at its commit).

    Takes SHARE UPDATE EXCLUSIVE on the parent until the commit: concurrent attaches wait for each
    other, readers do not.
    """
    conn.execute(
        sql.SQL("ALTER TABLE {parent} ATTACH PARTITION {leaf} FOR VALUES FROM ({sf}, {batch}) TO ({sf}, {end})").format(
            parent=sql.Identifier("staging", table),
            leaf=sql.Identifier("staging", staging_leaf_name(table, source_file_id, batch_id)),
            sf=sql.Literal(source_file_id),
            batch=sql.Literal(batch_id),
            end=sql.Literal(batch_id + 1),
        )
    )


def staging_leaves(conn: psycopg.Connection, table: str, source_file_id: int | None = None) -> list[str]:
    """The attached leaves of ``staging.<table>`` (of one source file if given), in batch order."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s)",
        (f"staging.{table}",),
    ).fetchall()
    leaves = []
    for (name,) in rows:
        match = STAGING_LEAF_RE.match(name)
        if match is None or match["table"] != table:
            continue
        if source_file_id is None or int(match["source_file"]) == source_file_id:
            leaves.append((int(match["source_file"]), int(match["batch"]), name))
    return [name for _, _, name in sorted(leaves)]


def drop_staging_leaves(conn: psycopg.Connection, table: str, source_file_id: int) -> int:
    """Drop the leaves of one source file in the caller's transaction; return the bytes they held.

    A DROP of a partition takes ACCESS EXCLUSIVE on the parent until the commit: it waits for
    queries on ``staging.<table>`` to end (the pipeline lock keeps runs from overlapping), for at
    most :data:`DROP_LOCK_TIMEOUT`, then fails with :class:`~fecflow.errors.LockHeld` instead of
    hanging behind a session that never ends. The space goes back to the file system at the
    commit; no VACUUM is needed.
    """
    freed = 0
    previous, _ = conn.execute(
        "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)", (DROP_LOCK_TIMEOUT,)
    ).fetchone() or ("0", None)
    try:
        for name in staging_leaves(conn, table, source_file_id):
            row = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (f"staging.{name}",)).fetchone()
            freed += int(row[0]) if row and row[0] is not None else 0
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("staging", name)))
    except psycopg.errors.LockNotAvailable:
        raise LockHeld(
            f"Could not drop the staged rows of source file {source_file_id}: another session has been "
            f"reading staging.{table} for {DROP_LOCK_TIMEOUT}.",
            hint="See who with `SELECT pid, state, query FROM pg_stat_activity`; end that session, then run "
            "the command again (nothing was changed).",
        ) from None
    conn.execute("SELECT set_config('lock_timeout', %s, true)", (previous,))
    return freed
