"""load_reference on a real, migrated PostgreSQL database."""

from __future__ import annotations

import psycopg
import pytest

from fecflow.normalize.reference import load_reference, reference_rows
from fecflow.normalize.rules import RULE_VERSION

pytestmark = pytest.mark.integration

TABLES = (
    "ref.naics",
    "ref.transaction_type",
    "ref.committee_type",
    "ref.party",
    "ref.generic_employer",
    "ref.employer_industry_rule",
    "ref.counting_rule",
    "core.industry",
)


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    out = {}
    for table in TABLES:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - fixed table names
        assert row is not None
        out[table] = int(row[0])
    return out


def test_load_twice_is_idempotent(conn: psycopg.Connection) -> None:
    first = load_reference(conn)
    counts = _counts(conn)
    assert first == counts == {t: len(rows) for t, rows in reference_rows().items()}
    second = load_reference(conn)
    assert second == first and _counts(conn) == counts
    rule_ids = conn.execute("SELECT min(rule_id), max(rule_id) FROM ref.employer_industry_rule").fetchone()
    load_reference(conn)
    assert (
        conn.execute("SELECT min(rule_id), max(rule_id) FROM ref.employer_industry_rule").fetchone()
        == rule_ids
    )


def test_loaded_content(conn: psycopg.Connection) -> None:
    load_reference(conn)
    assert conn.execute("SELECT alignment FROM ref.party WHERE code = 'DFL'").fetchone() == ("D",)
    assert conn.execute("SELECT alignment FROM ref.party WHERE code = 'REP'").fetchone() == ("R",)
    assert conn.execute("SELECT alignment FROM ref.party WHERE code = 'GRE'").fetchone() == ("O",)
    earmark = conn.execute(
        "SELECT category, counts_as_contribution, sign FROM ref.counting_rule "
        "WHERE rule_version = %s AND transaction_type = '15E' AND NOT memo",
        (RULE_VERSION,),
    ).fetchone()
    assert earmark == ("earmarked_contribution", True, 1)
    refund = conn.execute(
        "SELECT is_refund, sign FROM ref.counting_rule WHERE rule_version = %s AND transaction_type = '22Y' AND NOT memo",
        (RULE_VERSION,),
    ).fetchone()
    assert refund == (True, -1)
    assert conn.execute(
        "SELECT bucket FROM ref.generic_employer WHERE pattern = 'SELF EMPLOYED'"
    ).fetchone() == ("SELF-EMPLOYED",)
    assert conn.execute(
        "SELECT naics_code FROM ref.employer_industry_rule WHERE method = 'curated' AND pattern = 'BOEING'"
    ).fetchone() == ("336411",)


def test_naics_parent_chain_in_sql(conn: psycopg.Connection) -> None:
    load_reference(conn)
    rows = conn.execute(
        """
        WITH RECURSIVE up(code, parent_code, depth) AS (
            SELECT code, parent_code, 0 FROM ref.naics WHERE code = '541110'
            UNION ALL
            SELECT n.code, n.parent_code, up.depth + 1 FROM ref.naics n JOIN up ON n.code = up.parent_code
        )
        SELECT code FROM up ORDER BY depth
        """
    ).fetchall()
    assert [r[0] for r in rows] == ["541110", "54111", "5411", "541", "54"]
    orphans = conn.execute(
        "SELECT count(*) FROM ref.naics WHERE level > 2 AND parent_code IS NULL"
    ).fetchone()
    assert orphans == (0,)
    industry = conn.execute("SELECT title, level FROM core.industry WHERE naics_code = '33'").fetchone()
    assert industry == ("Manufacturing", 2)


def test_reload_updates_changed_rows(conn: psycopg.Connection) -> None:
    load_reference(conn)
    conn.execute("UPDATE ref.party SET alignment = 'O' WHERE code = 'DFL'")
    conn.execute("UPDATE ref.counting_rule SET counts_as_contribution = false WHERE transaction_type = '15'")
    conn.commit()
    load_reference(conn)
    assert conn.execute("SELECT alignment FROM ref.party WHERE code = 'DFL'").fetchone() == ("D",)
    assert conn.execute(
        "SELECT bool_and(counts_as_contribution) FROM ref.counting_rule WHERE transaction_type = '15' AND NOT memo"
    ).fetchone() == (True,)
