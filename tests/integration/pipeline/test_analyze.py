"""steps.analyze_stale: ANALYZE only what changed since its statistics; leaf partitions one by one, and
the parent's table-wide statistics (ANALYZE ONLY on PostgreSQL 17+, a whole ANALYZE on 15/16)."""

from __future__ import annotations

import datetime as dt

import psycopg

from fecflow.pipeline import steps


def _make_tables(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE public.t_plain (k int)")
    conn.execute("CREATE TABLE public.t_parted (k int) PARTITION BY RANGE (k)")
    conn.execute(
        "CREATE TABLE public.t_parted_a PARTITION OF public.t_parted FOR VALUES FROM (0) TO (100000)"
    )
    conn.execute(
        "CREATE TABLE public.t_parted_b PARTITION OF public.t_parted FOR VALUES FROM (100000) TO (200000)"
    )
    conn.commit()


def test_fresh_loads_analyzed_once_and_the_parent_gets_table_wide_statistics(conn: psycopg.Connection) -> None:
    _make_tables(conn)
    tables = ["public.t_plain", "public.t_parted"]
    assert steps.stale_tables(conn, tables, since=dt.datetime.now(dt.UTC)) == []  # empty: nothing to plan
    conn.execute("INSERT INTO public.t_plain SELECT generate_series(1, 5000)")
    conn.execute("INSERT INTO public.t_parted SELECT generate_series(1, 5000)")
    conn.commit()
    started = dt.datetime.now(dt.UTC)
    # The parent's own statistics: ANALYZE ONLY where the server has it (17+), a whole ANALYZE on 15/16.
    assert steps.analyze_stale(conn, tables, since=started) == [
        "public.t_parted_a",
        "public.t_plain",
        "public.t_parted",
    ]
    parent_analyzed = conn.execute(
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = 't_parted'"
    ).fetchone()
    assert parent_analyzed is not None and parent_analyzed[0] > 0  # the table as a whole has statistics
    assert steps.stale_tables(conn, tables, since=started) == []

    # A first load that ANALYZEs the partition it filled in its own transaction (as normalize's bulk
    # path does): its rows count as changes only at commit, but its statistics are fresh.
    conn.execute("INSERT INTO public.t_parted SELECT generate_series(100000, 105000)")
    conn.execute("ANALYZE public.t_parted_b")
    conn.commit()
    assert steps.stale_tables(conn, tables, since=started) == []

    # Many more rows since: stale again.
    conn.execute("INSERT INTO public.t_plain SELECT generate_series(1, 5000)")
    conn.commit()
    assert steps.stale_tables(conn, tables, since=started) == ["public.t_plain"]
