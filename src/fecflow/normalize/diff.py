"""Snapshot diffs: a typed later snapshot (``_snap``) -> the scope's rows in ``core.contribution``.

The scope is one (cycle, source). Compared **by SUB_ID** with the scope's rows already in core:
new rows are inserted; rows whose ``row_hash`` (md5 of the raw staging columns) or rule version
changed are updated in place (a changed date moves the row to its new partition); rows of the scope
missing from the snapshot are soft-deleted (``deleted_at``, ``deleted_by_run_id``) and restored when
they come back; unchanged rows are not touched. Every change of a later snapshot is one
``core.contribution_history`` row (the first load of a scope is the baseline: its inserts are not
repeated there).

itpas2 rows are also in itoth (same SUB_ID): :func:`resolve_overlaps` gives them to pas2 first.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from fecflow.db.statements import execute
from fecflow.normalize.typed_rows import CONTENT_COLUMNS

# Shown in every update's old/new values, changed or not.
ALWAYS_SHOWN = ["amount", "transaction_date"]
# _snap / _delta helper columns that are not core columns (and row_hash: not a value worth showing).
HIDDEN = ["line", "sub_id", "row_hash", "rule_missing", "committee_id_raw", "key", "status"]


def resolve_overlaps(
    conn: psycopg.Connection, params: dict[str, Any], *, snap: str = "_snap"
) -> dict[str, int]:
    """One row per SUB_ID: itpas2 rows are also in itoth (same SUB_ID); the pas2 row owns them.

    ``snap``: the table with the snapshot's SUB_IDs (``_snap``, or ``_keys`` for a keyed diff).

    pas2 takes over oth-owned rows of its SUB_IDs (the diff then updates them: candidate key and
    hash). oth leaves out the SUB_IDs a current pas2 row owns (counted, not stored twice: 24K money
    would count double) and takes back rows that pas2 soft-deleted but oth still has.
    """
    source = params["source"]
    if source == "pas2":
        taken = execute(
            conn,
            sql.SQL(
                "UPDATE core.contribution c SET source = 'pas2' FROM {} n "
                "WHERE c.sub_id = n.sub_id AND c.source = 'oth' AND c.cycle = %(cycle)s"
            ).format(sql.Identifier(snap)),
            params,
        )
        return {"taken_over_from_oth": taken}
    if source == "oth":
        owned = execute(
            conn,
            sql.SQL(
                "DELETE FROM {} n USING core.contribution c WHERE c.sub_id = n.sub_id AND c.source = 'pas2' "
                "AND c.cycle = %(cycle)s AND c.deleted_at IS NULL"
            ).format(sql.Identifier(snap)),
            params,
        )
        taken = execute(
            conn,
            sql.SQL(
                "UPDATE core.contribution c SET source = 'oth' FROM {} n "
                "WHERE c.sub_id = n.sub_id AND c.source = 'pas2' AND c.cycle = %(cycle)s"
            ).format(sql.Identifier(snap)),
            params,
        )
        return {"owned_by_pas2": owned, "taken_over_from_pas2": taken}
    return {}


def first_load_counts(inserted: int) -> dict[str, int]:
    """``core.contribution`` counts of a scope's first load: all inserted, nothing there before."""
    return {
        "inserted": inserted,
        "updated": 0,
        "deleted": 0,
        "restored": 0,
        "unchanged": 0,
        "scope_rows_before": 0,
    }


def no_history() -> dict[str, int]:
    """``core.contribution_history`` counts before any change (a first load writes none)."""
    return {"insert": 0, "update": 0, "delete": 0, "restore": 0}


def snapshot_old(conn: psycopg.Connection, params: dict[str, Any]) -> int:
    """Temp table ``_old``: SUB_ID, hash, rule version and deletion of the scope's core rows; their count."""
    rows = execute(
        conn,
        "CREATE TEMP TABLE _old ON COMMIT DROP AS SELECT sub_id, row_hash, rule_version, deleted_at "
        "FROM core.contribution WHERE cycle = %(cycle)s AND source = %(source)s",
        params,
    )
    execute(conn, "ANALYZE _old")
    return rows


def apply_diff(
    conn: psycopg.Connection,
    params: dict[str, Any],
    *,
    snap_rows: int,
    scope_rows: int,
    gone: str | None = None,
) -> dict[str, dict[str, int]]:
    """Insert / update / soft-delete / restore core rows of the scope (cycle, source) from ``_snap``.

    After :func:`snapshot_old` (``scope_rows``: what it returned). ``snap_rows``: the snapshot's rows
    (the caller counted them), so the unchanged ones need no count. ``gone``: None when ``_snap``
    holds every row of the snapshot (the scope's live rows missing from it are gone), else a table
    of the SUB_IDs gone (``_snap`` then holds only the lines that changed: ``normalize_contributions``).
    """
    history = no_history()
    if scope_rows == 0:
        inserted = _first_load(conn, params)
        execute(conn, "DROP TABLE _old")
        return {"contribution": first_load_counts(inserted), "history": history}
    by_status = _build_delta(conn, gone)
    inserted = _insert_new(conn, params, history)
    changed = _update_changed(conn, params, history)
    deleted = _soft_delete_gone(conn, params, history)
    restored = int(by_status.get("restored", 0))
    if changed != restored + int(by_status.get("changed", 0)):  # pragma: no cover - a broken invariant
        raise AssertionError(f"updated {changed} rows, expected {by_status}")
    execute(conn, "DROP TABLE _old, _delta")
    # Every _snap row is new, changed, restored or unchanged.
    unchanged = snap_rows - inserted - changed
    return {
        "contribution": {
            "inserted": inserted,
            "updated": int(by_status.get("changed", 0)),
            "deleted": deleted,
            "restored": restored,
            "unchanged": unchanged,
            "scope_rows_before": scope_rows,
        },
        "history": history,
    }


def _insert_columns() -> tuple[sql.Composed, sql.Composed]:
    """The content columns of core.contribution, bare and as ``n.<col>``."""
    return (
        sql.SQL(", ").join(sql.Identifier(c) for c in CONTENT_COLUMNS),
        sql.SQL(", ").join(sql.Identifier("n", c) for c in CONTENT_COLUMNS),
    )


def _first_load(conn: psycopg.Connection, params: dict[str, Any]) -> int:
    """First load of this cycle and source: the baseline, one plain INSERT ... SELECT."""
    cols, n_cols = _insert_columns()
    return execute(
        conn,
        sql.SQL(
            "INSERT INTO core.contribution ({cols}, source, cycle, source_file_id, first_run_id, last_run_id) "
            "SELECT {n_cols}, %(source)s, %(cycle)s, %(sf)s, %(run_id)s, %(run_id)s FROM _snap n"
        ).format(cols=cols, n_cols=n_cols),
        params,
    )


def _build_delta(conn: psycopg.Connection, gone: str | None) -> dict[str, int]:
    """``_delta``: every row that is not unchanged, with its status; return the count per status."""
    # Every row that is not unchanged, with its status and its _snap columns (``key`` is the SUB_ID,
    # also for rows gone from the snapshot). The rest of the diff reads this small table: reading
    # _snap once per statement cost 1-3 s each at 2M rows.
    execute(
        conn,
        """
        CREATE TEMP TABLE _delta ON COMMIT DROP AS
        SELECT n.sub_id AS key,
               CASE WHEN o.sub_id IS NULL THEN 'new'
                    WHEN o.deleted_at IS NOT NULL THEN 'restored'
                    ELSE 'changed' END AS status,
               n.*
        FROM _snap n LEFT JOIN _old o ON o.sub_id = n.sub_id
        WHERE o.sub_id IS NULL
           OR o.deleted_at IS NOT NULL
           OR o.row_hash <> n.row_hash OR o.rule_version <> n.rule_version
        """,
    )
    execute(
        conn,
        "INSERT INTO _delta (key, status) SELECT o.sub_id, 'gone' FROM _old o "
        "WHERE o.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM _snap k WHERE k.sub_id = o.sub_id)"
        if gone is None
        else sql.SQL("INSERT INTO _delta (key, status) SELECT g.sub_id, 'gone' FROM {} g").format(
            sql.Identifier(gone)
        ),
    )
    by_status: dict[str, int] = dict(
        conn.execute("SELECT status, count(*) FROM _delta GROUP BY status").fetchall()
    )
    execute(conn, "CREATE INDEX ON _delta (status)")
    execute(conn, "ANALYZE _delta")
    return by_status


def _insert_new(conn: psycopg.Connection, params: dict[str, Any], history: dict[str, int]) -> int:
    """New SUB_IDs: insert them, with an ``insert`` history row each; return how many."""
    cols, n_cols = _insert_columns()
    inserted = execute(
        conn,
        sql.SQL(
            "INSERT INTO core.contribution ({cols}, source, cycle, source_file_id, first_run_id, last_run_id) "
            "SELECT {n_cols}, %(source)s, %(cycle)s, %(sf)s, %(run_id)s, %(run_id)s "
            "FROM _delta n WHERE n.status = 'new'"
        ).format(cols=cols, n_cols=n_cols),
        params,
    )
    history["insert"] = execute(
        conn,
        "INSERT INTO core.contribution_history (sub_id, change, new_values, run_id) "
        "SELECT n.sub_id, 'insert', jsonb_build_object('amount', n.amount, 'transaction_date', n.transaction_date, "
        "'transaction_type', n.transaction_type, 'recipient_committee_key', n.recipient_committee_key), %(run_id)s "
        "FROM _delta n WHERE n.status = 'new'",
        params,
    )
    return inserted


def _update_changed(conn: psycopg.Connection, params: dict[str, Any], history: dict[str, int]) -> int:
    """Changed and restored SUB_IDs: history (old vs new values of what changed), then the update."""
    history_rows = conn.execute(
        """
        INSERT INTO core.contribution_history (sub_id, change, old_values, new_values, run_id)
        SELECT v.sub_id, CASE WHEN v.status = 'restored' THEN 'restore' ELSE 'update' END,
               (SELECT jsonb_object_agg(e.key, v.o -> e.key) FROM jsonb_each(v.j) e
                 WHERE e.key = ANY(%(always)s) OR (v.o -> e.key) IS DISTINCT FROM e.value),
               (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(v.j) e
                 WHERE e.key = ANY(%(always)s) OR (v.o -> e.key) IS DISTINCT FROM e.value),
               %(run_id)s
        -- OFFSET 0 keeps the old row's JSON computed once per row: flattened, PostgreSQL rebuilt
        -- to_jsonb(c) for every key of every row (20,000 changed rows: 12.7 s).
        FROM (SELECT d.sub_id, d.status, to_jsonb(d) - %(hidden)s::text[] AS j, to_jsonb(c) AS o
              FROM _delta d
              JOIN core.contribution c ON c.sub_id = d.sub_id AND c.cycle = %(cycle)s AND c.source = %(source)s
              WHERE d.status IN ('changed', 'restored')
              OFFSET 0) v
        RETURNING change
        """,
        {**params, "always": ALWAYS_SHOWN, "hidden": HIDDEN},
    ).fetchall()
    history["update"] = sum(1 for (change,) in history_rows if change == "update")
    history["restore"] = sum(1 for (change,) in history_rows if change == "restore")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), sql.Identifier("n", c))
        for c in CONTENT_COLUMNS
        if c != "sub_id"
    )
    changed = execute(
        conn,
        sql.SQL(
            "UPDATE core.contribution c SET {assignments}, source_file_id = %(sf)s, last_run_id = %(run_id)s, "
            "deleted_at = NULL, deleted_by_run_id = NULL "
            "FROM _delta n WHERE n.status IN ('changed', 'restored') "
            "AND c.sub_id = n.sub_id AND c.cycle = %(cycle)s AND c.source = %(source)s"
        ).format(assignments=assignments),
        params,
    )
    return changed


def _soft_delete_gone(conn: psycopg.Connection, params: dict[str, Any], history: dict[str, int]) -> int:
    """SUB_IDs of the scope missing from this snapshot: soft-delete them; return how many."""
    history["delete"] = execute(
        conn,
        "INSERT INTO core.contribution_history (sub_id, change, old_values, run_id) "
        "SELECT c.sub_id, 'delete', jsonb_build_object('amount', c.amount, 'transaction_date', c.transaction_date, "
        "'transaction_type', c.transaction_type, 'recipient_committee_key', c.recipient_committee_key), %(run_id)s "
        "FROM core.contribution c JOIN _delta g ON g.key = c.sub_id AND g.status = 'gone' "
        "WHERE c.cycle = %(cycle)s AND c.source = %(source)s",
        params,
    )
    return execute(
        conn,
        "UPDATE core.contribution c SET deleted_at = now(), deleted_by_run_id = %(run_id)s FROM _delta g "
        "WHERE g.status = 'gone' AND c.sub_id = g.key AND c.cycle = %(cycle)s AND c.source = %(source)s",
        params,
    )
