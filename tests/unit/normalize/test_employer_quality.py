"""Employer resolution measured on both label sets, with and without the curated aliases (issue #19).

``tests/fixtures/employers_labeled.csv`` (the first set) is what the curated lists were written
from. ``tests/fixtures/employers_heldout/pairs.csv`` was labelled by hand from the rows of two 2018
itcont excerpts under ``RULES.md`` (written before labelling) and is never tuned on: no alias, rule
or threshold may be added because a pair there needs it. Its hashes are pinned, so a changed label
is a new set, declared as such. Figures are printed (``pytest -s``) and in
docs/data/employers-and-industries.md.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fecflow.normalize import employers as em
from fecflow.normalize.employer_similarity import RowCounts, cluster_rows, count_itcont_rows
from fecflow.normalize.employers import EmployerMatch

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HELDOUT = FIXTURES / "employers_heldout"
EXCERPTS_2018 = FIXTURES / "samples" / "bulk-2018-cycle"  # the rows pairs.csv was labelled from
PINNED = {
    "itcont_head10000.txt": "a11e1f743441763f32ef4dc7cfd745b8f60c088dcf22d67ce01017c0c2b1ec88",
    "itcont_insight_sample.txt": "9e5b05991e51647ff1e246b71f98209c6aee927f23d1adf2181f88e450dab53f",
    "pairs.csv": "086f999b4b2c67b68e51525de69a7426577f028da452f57cccf7c6c8d1c6a842",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def heldout_pairs() -> list[dict[str, str]]:
    return _rows(HELDOUT / "pairs.csv")


@pytest.mark.parametrize("name", sorted(PINNED))
def test_heldout_files_are_pinned(name: str) -> None:
    folder = HELDOUT if name == "pairs.csv" else EXCERPTS_2018
    assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == PINNED[name]


def test_heldout_pairs_are_real_labelled_and_disjoint_from_the_first_set() -> None:
    rows = heldout_pairs()
    assert len(rows) >= 500
    assert sum(r["same"] == "1" for r in rows) >= 150
    assert {r["same"] for r in rows} == {"0", "1"}
    real: set[str] = set()
    for name in ("itcont_head10000.txt", "itcont_insight_sample.txt"):
        with (EXCERPTS_2018 / name).open(encoding="utf-8") as fh:
            real.update(line.split("|")[11] for line in fh)
    assert not [s for r in rows for s in (r["raw_a"], r["raw_b"]) if s not in real]
    first = {frozenset((r["raw_a"], r["raw_b"])) for r in _rows(FIXTURES / "employers_labeled.csv")}
    assert not [r for r in rows if frozenset((r["raw_a"], r["raw_b"])) in first]


def _group(match: EmployerMatch) -> tuple[str, str]:
    return ("employer", match.canonical_name) if match.canonical_name else ("bucket", match.bucket or "")


def string_only_scores(rows: list[dict[str, str]]) -> tuple[float, float]:
    """Precision and recall of the string-only map (normalization, buckets, curated aliases)."""
    tp = fp = fn = 0
    for row in rows:
        predicted = _group(em.canonicalize_employer(row["raw_a"])) == _group(
            em.canonicalize_employer(row["raw_b"])
        )
        truth = row["same"] == "1"
        tp += predicted and truth
        fp += predicted and not truth
        fn += truth and not predicted
    return tp / (tp + fp), tp / (tp + fn)


def test_string_only_map_on_heldout_pairs() -> None:
    """The per-string map alone (what a pair needs no rows for): precise, and far from the recall goal."""
    precision, recall = string_only_scores(heldout_pairs())
    print(f"\nheld-out pairs, string-only map: precision={precision:.3f} recall={recall:.3f}")
    assert precision >= 0.98


# ------------------------------------------------------------------ the decisions normalize stores
GOAL_PRECISION = 0.98
GOAL_RECALL = 0.85


def _counted_rows(paths: list[Path]) -> list[RowCounts]:
    """(employer, occupation, state, zip, committee, n) of itcont files, as normalize counts them."""
    lines: list[str] = []
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            lines.extend(fh)
    return count_itcont_rows(lines)


def _corporate_pacs(paths: list[Path]) -> set[str]:
    """Committee ids of corporations' PACs (cm ORG_TP C or W)."""
    out: set[str] = set()
    for path in paths:
        with path.open(encoding="latin-1") as fh:
            out.update(f[0] for f in (line.split("|") for line in fh) if f[12] in ("C", "W"))
    return out


@contextmanager
def _without_aliases() -> Iterator[None]:
    """The curated alias list emptied (what the code does on names nobody curated)."""
    original = em._alias_rows
    em._alias_rows = lambda: ()  # type: ignore[assignment]
    em._alias_tables.cache_clear()
    em._cached_match.cache_clear()
    try:
        yield
    finally:
        em._alias_rows = original  # type: ignore[assignment]
        em._alias_tables.cache_clear()
        em._cached_match.cache_clear()


def _scores(rows: list[dict[str, str]], mapped: dict[str, str]) -> tuple[float, float]:
    tp = fp = fn = 0
    for row in rows:
        predicted = mapped[row["raw_a"]] == mapped[row["raw_b"]]
        truth = row["same"] == "1"
        tp += predicted and truth
        fp += predicted and not truth
        fn += truth and not predicted
    return tp / (tp + fp), tp / (tp + fn)


def _measure(
    label: str, pairs: list[dict[str, str]], rows: list[RowCounts], pacs: set[str]
) -> dict[str, tuple[float, float]]:
    out = {"with aliases": _scores(pairs, cluster_rows(rows, corporate_pacs=pacs))}
    with _without_aliases():
        out["without aliases"] = _scores(pairs, cluster_rows(rows, corporate_pacs=pacs))
    for how, (precision, recall) in out.items():
        print(f"\n{label}, {how}: precision={precision:.3f} recall={recall:.3f}")
    return out


def test_heldout_pairs_meet_the_goal(shared_samples: Path) -> None:
    """On strings nobody tuned to: precision >= 0.98 and recall >= 0.85, with and without aliases."""
    rows = _counted_rows([EXCERPTS_2018 / "itcont_head10000.txt", EXCERPTS_2018 / "itcont_insight_sample.txt"])
    pacs = _corporate_pacs([shared_samples / "bulk-2018-cycle/extracted/cm.txt"])
    for precision, recall in _measure("held-out pairs", heldout_pairs(), rows, pacs).values():
        assert precision >= GOAL_PRECISION
        assert recall >= GOAL_RECALL


def test_first_set_with_similarity(shared_samples: Path) -> None:
    """The first set through the same decisions (its strings come from the 2020 and 2018 samples)."""
    extracted = [
        shared_samples / "bulk-2020-early-snapshot-2019-03/extracted/itcont.txt.gz",
        shared_samples / "bulk-2018-cycle/extracted/itcont_head10000.txt",
        shared_samples / "bulk-2018-cycle/extracted/itcont_insight_sample.txt",
    ]
    pacs = _corporate_pacs(
        [
            shared_samples / d / "extracted/cm.txt"
            for d in ("bulk-2018-cycle", "bulk-2020-early-snapshot-2019-03")
        ]
    )
    scores = _measure("first set", _rows(FIXTURES / "employers_labeled.csv"), _counted_rows(extracted), pacs)
    precision, recall = scores["with aliases"]
    assert precision >= GOAL_PRECISION
    assert recall >= GOAL_RECALL
    assert scores["without aliases"][0] >= GOAL_PRECISION  # recall without aliases: printed, not a goal
