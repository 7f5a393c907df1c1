"""The donor-name shortcut (:func:`donor_name_sql`) gives what the full rule gives, for any string."""

from __future__ import annotations

import gzip

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normalize_samples import EARLY_2020

from fecflow.catalog import FILES
from fecflow.normalize.typed_rows import donor_name_full_sql, donor_name_sql

pytestmark = pytest.mark.integration

# Letters, digits, the punctuation and whitespace FEC names carry, and a few non-ASCII letters.
ALPHABET = "ABCZabcz09 ,.'-&/()\t\u00a0\u00c9\u00e9\u00d1\u00df#"

COMPARE = f"""
SELECT n, {donor_name_sql("n")}, {donor_name_full_sql("n")}
FROM unnest(%s::text[]) AS u(n)
WHERE {donor_name_sql("n")} IS DISTINCT FROM {donor_name_full_sql("n")}
"""  # noqa: S608 (fixed fragments)
NORMALIZED = f"SELECT n, {donor_name_sql('n')} FROM unnest(%s::text[]) AS u(n)"  # noqa: S608


def _mismatches(conn: psycopg.Connection, names: list[str]) -> list[tuple[str, str, str]]:
    return conn.execute(COMPARE, (names,)).fetchall()


def test_shortcut_matches_the_rule_on_hand_picked_names(conn: psycopg.Connection) -> None:
    names = [
        "SMITH, JOHN",
        "SMITH, JOHN A. MR.",
        "O'BRIEN, J. P.",
        "  SMITH,  JOHN ",
        "JOHN . SMITH",
        "SMITH,JOHN.",
        ".",
        "",
        "DE LA CRUZ, MAR\u00cdA",
        "SMITH\tJOHN",
        "SMITH, JOHN JR..",
        "smith, john a.",
    ]
    assert _mismatches(conn, names) == []
    got = dict(conn.execute(NORMALIZED, (names,)).fetchall())
    assert got["SMITH, JOHN A. MR."] == "SMITH, JOHN A MR"
    assert got["  SMITH,  JOHN "] == "SMITH, JOHN"
    assert got["JOHN . SMITH"] == "JOHN SMITH"
    assert got["smith, john a."] == "SMITH, JOHN A"


def test_shortcut_matches_the_rule_on_the_real_sample(conn: psycopg.Connection) -> None:
    index = [c.raw for c in FILES["indiv"].columns].index("NAME")
    with gzip.open(EARLY_2020 / "itcont.txt.gz", "rt", encoding="utf-8", errors="replace") as fh:
        names = sorted({line.rstrip("\n").split("|")[index] for line in fh})
    assert len(names) > 10_000
    assert _mismatches(conn, names) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=ALPHABET, max_size=24), min_size=1, max_size=40))
def test_shortcut_matches_the_rule_on_any_string(conn: psycopg.Connection, names: list[str]) -> None:
    assert _mismatches(conn, names) == []
