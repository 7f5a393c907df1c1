"""On-demand yearly partitions of ``core.contribution``.

Partitioning: RANGE on ``transaction_date``, one partition per calendar year
(``core.contribution_y2020`` holds 2020-01-01 .. 2020-12-31). Rows with no valid date (blank,
unparseable, or outside the plausible range) have ``transaction_date`` NULL and land in
``core.contribution_default``. Years are created before rows for them are inserted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import psycopg
from psycopg import sql

PARTITION_RE = re.compile(r"^contribution_(y\d{4}|default)$")
DEFAULT_PARTITION = "contribution_default"


def is_partition_name(name: str | None) -> bool:
    return bool(name) and bool(PARTITION_RE.match(name or ""))


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
