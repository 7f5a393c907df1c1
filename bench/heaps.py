"""Vocabulary growth in real itcont files: Heaps' law fits (issue #18, cost growth).

    python bench/heaps.py [ITCONT ...]      # default: the two real itcont samples in tests/fixtures

For growing prefixes of each file (1k, 2k, 4k, ... rows), counts distinct employers, donors (name +
ZIP5), recipient committees and occupations, and fits ``distinct = K * rows ** beta`` by least squares
in log-log (numpy), with R^2. A beta well below 1 means a full cycle has far fewer distinct values per
row than a small sample; the benchmark file (resampled from one sample) has at most the sample's
distinct values, so its per-distinct-value steps are flattered by a factor this fit estimates.
"""

from __future__ import annotations

import gzip
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT = (
    REPO / "tests" / "fixtures" / "bulk" / "2020" / "indiv20.zip",
    REPO / "tests" / "fixtures" / "samples" / "bulk-2018-cycle" / "itcont_head10000.txt",
)
# itcont columns: CMTE_ID 0, NAME 7, ZIP_CODE 10, EMPLOYER 11, OCCUPATION 12
FIELDS = {"employer": (11,), "donor": (7, 10), "committee": (0,), "occupation": (12,)}


def lines(path: Path) -> Iterator[str]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.endswith(".txt"))
            with z.open(name) as f:
                for raw in f:
                    yield raw.decode("latin-1")
    else:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="latin-1") as f:
            yield from f


def curve(path: Path) -> list[tuple[int, dict[str, int]]]:
    seen: dict[str, set[str]] = {k: set() for k in FIELDS}
    points, mark, n = [], 1000, 0
    for n, line in enumerate(lines(path), 1):
        cols = line.rstrip("\r\n").split("|")
        if len(cols) < 21:
            continue
        for name, idx in FIELDS.items():
            value = "|".join(cols[i].strip().upper()[:5] if i == 10 else cols[i].strip().upper() for i in idx)
            if value.strip("|"):
                seen[name].add(value)
        if n == mark:
            points.append((n, {k: len(v) for k, v in seen.items()}))
            mark *= 2
    if not points or points[-1][0] != n:
        points.append((n, {k: len(v) for k, v in seen.items()}))
    return points


def fit(points: list[tuple[int, dict[str, int]]], name: str) -> tuple[float, float, float]:
    x = np.log([p[0] for p in points])
    y = np.log([max(1, p[1][name]) for p in points])
    beta, log_k = np.polyfit(x, y, 1)
    predicted = beta * x + log_k
    r2 = 1 - float(((y - predicted) ** 2).sum()) / float(((y - y.mean()) ** 2).sum())
    return float(beta), float(np.exp(log_k)), r2


def main(argv: list[str]) -> int:
    for path in [Path(a) for a in argv] or list(DEFAULT):
        points = curve(path)
        print(f"\n{path.name}: {points[-1][0]:,} rows")
        print(f"{'rows':>8} " + " ".join(f"{k:>10}" for k in FIELDS))
        for rows, counts in points:
            print(f"{rows:>8,} " + " ".join(f"{counts[k]:>10,}" for k in FIELDS))
        for name in FIELDS:
            beta, k, r2 = fit(points, name)
            at_60m = k * 60e6**beta
            print(f"  {name:<10} beta {beta:.3f}  K {k:.2f}  R^2 {r2:.3f}  -> {at_60m:,.0f} distinct at 60M rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
