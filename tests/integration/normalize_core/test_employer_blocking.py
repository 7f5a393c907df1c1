"""The blocks made by the server give the same candidate pairs as the blocks made in memory."""

from __future__ import annotations

import csv
import gzip
import random

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normalize_samples import EARLY_2020, col

from fecflow.normalize.employer_blocking import find_candidate_pairs
from fecflow.normalize.employer_similarity import candidate_pairs
from fecflow.normalize.employers import alias_rows, build_employer_map
from support.samples import SAMPLES

pytestmark = pytest.mark.integration


def _db_pairs(conn: psycopg.Connection, names: dict[str, int], pac_of: dict[str, str]) -> list:
    conn.execute("DROP TABLE IF EXISTS _names_under_test")
    conn.execute(
        'CREATE TEMP TABLE _names_under_test (name text COLLATE "C" PRIMARY KEY, longest integer NOT NULL)'
    )
    with conn.cursor() as cur, cur.copy("COPY _names_under_test (name, longest) FROM STDIN") as copy:
        for name, longest in names.items():
            copy.write_row((name, longest))
    return find_candidate_pairs(conn, "_names_under_test", pac_of)


def _names_of(raw: set[str]) -> dict[str, int]:
    """Employer names as normalize makes them: name -> its longest raw spelling."""
    longest: dict[str, int] = {}
    for string, m in build_employer_map(raw).items():
        if m.canonical_name:
            longest[m.canonical_name] = max(longest.get(m.canonical_name, 0), len(string.strip()))
    return longest


def _some_pacs(names: dict[str, int], seed: int) -> dict[str, str]:
    """A corporate PAC for about one name in five, few PACs (so brands share them)."""
    rnd = random.Random(seed)
    return {n: f"C0000000{rnd.randrange(8)}" for n in sorted(names) if rnd.random() < 0.2}


def test_same_pairs_on_the_real_samples_employers(conn: psycopg.Connection) -> None:
    index = col("indiv", "EMPLOYER")
    raw: set[str] = set()
    for path in (EARLY_2020 / "itcont.txt.gz", SAMPLES / "bulk-2018-cycle" / "extracted" / "itcont.txt.gz"):
        if path.exists():
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
                raw |= {line.split("|")[index] for line in fh if line.count("|") > index}
    with open("tests/fixtures/employers_labeled.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            raw |= {row["raw_a"], row["raw_b"]}
    names = _names_of(raw)
    names.update(dict.fromkeys((c for _, c, _ in alias_rows() if c not in names), 0))  # existing: longest 0
    assert len(names) > 5_000
    pac_of = _some_pacs(names, seed=7)
    expected = candidate_pairs(names, pac_of)
    kinds = {c.kind for c in expected}
    assert kinds == {"spacing", "truncation", "leading_words", "shared_brand", "acronym", "typo"}, kinds
    assert _db_pairs(conn, names, pac_of) == expected


# Names made from a few real-looking employers by the changes each kind of evidence looks for: a
# word dropped or added, a typo, a cut, spaces removed, a glued number, initials.
_BASES = ["NORTHROP GRUMMAN", "FIRST NATIONAL BANK OF TEXAS", "ACME HEALTHCARE SERVICES", "BRIDGEPOINT",
          "DUKE ENERGY CAROLINAS", "JACKSON NATIONAL LIFE", "RADIOLOGY ASSOCIATES", "AMERICAN AIRLINES"]  # fmt: skip


def _vary(base: str, how: int, at: int) -> str:
    words = base.split()
    i = at % len(words)
    word = words[i]
    match how:
        case 0:
            return base
        case 1:  # leading words
            return " ".join(words[: max(1, len(words) - 1)])
        case 2:  # a word added
            return f"{base} {['HOLDINGS', 'HOSPITAL', 'LIFE', 'OF OHIO', 'PROGRESS'][at % 5]}"
        case 3:  # typo: a letter dropped or doubled
            typo = word[:-1] if at % 2 else word + word[-1]
            return " ".join([*words[:i], typo, *words[i + 1 :]])
        case 4:  # cut
            return base[: max(3, len(base) - 1 - at % 6)].strip()
        case 5:  # spacing
            return base.replace(" ", "")
        case 6:  # glued number
            return f"{base.replace(' ', '')}{at}"
        case _:  # initials
            return "".join(w[0] for w in words if w not in {"OF", "AND", "THE"})


@given(
    variants=st.lists(
        st.tuples(
            st.sampled_from(_BASES),
            st.integers(0, 7),
            st.integers(0, 40),
            st.sampled_from([0, 20, 25, 30, 34, 38]),
        ),
        min_size=8,
        max_size=40,
    ),
    seed=st.integers(0, 3),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_same_pairs_on_generated_names(
    conn: psycopg.Connection, variants: list[tuple[str, int, int, int]], seed: int
) -> None:
    names = {_vary(base, how, at): longest for base, how, at, longest in variants}
    # One PAC per first word for most names (shared_brand), none for the rest.
    pac_of = {n: f"C{(len(n.split()[0]) + seed) % 3:08d}" for n in names if (len(n) + seed) % 4}
    assert _db_pairs(conn, names, pac_of) == candidate_pairs(names, pac_of)
