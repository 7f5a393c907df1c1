"""What employer similarity changes for users, on the real 2020 sample (issue #19): before / after.

Counted money as the scores count it: individual rows (ENTITY_TP IND), MEMO_CD not X, transaction
types whose rule counts as a contribution, refunds left out. "Before" is the per-string map alone
(normalization, buckets, curated aliases); "after" adds the similarity decisions normalize now stores
(:func:`fecflow.normalize.employer_similarity.cluster_rows`). An employer's industry is decided as
normalize decides it: from its name and its most common occupation.

    .venv/bin/python scripts/employer_effect.py [--without-aliases]
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

from fecflow.normalize.employer_similarity import cluster_rows
from fecflow.normalize.employers import build_employer_map
from fecflow.normalize.industries import map_industry
from fecflow.normalize.rules import rule_for

# The bundled real 2020 bulk zips (tests/fixtures/PROVENANCE.md).
BULK_2020 = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bulk" / "2020"
MIN_DONORS = 3  # the scoring minimum
_PUNCT = re.compile(r"[^A-Z0-9, ]+")


def _member_lines(archive: Path, member: str, encoding: str) -> list[str]:
    with zipfile.ZipFile(archive) as zf, zf.open(member) as raw:
        return list(io.TextIOWrapper(raw, encoding=encoding))


def _rows(archive: Path) -> list[list[str]]:
    return [line.rstrip("\n").split("|") for line in _member_lines(archive, "itcont.txt", "utf-8")]


def _corporate_pacs(archive: Path) -> set[str]:
    lines = _member_lines(archive, "cm.txt", "latin-1")
    return {f[0] for f in (line.split("|") for line in lines) if f[12] in ("C", "W")}


def _figures(rows: list[list[str]], employer_of: dict[str, str], buckets: set[str]) -> dict[str, float]:
    dollars: Counter[str] = Counter()
    donors: dict[str, set[str]] = defaultdict(set)
    occupations: dict[str, Counter[str]] = defaultdict(Counter)
    for f in rows:
        rule = rule_for(f[5], f[18])
        if f[6] != "IND" or f[18] == "X" or not rule.counts_as_contribution or rule.is_refund:
            continue
        employer = employer_of.get(f[11])
        if not employer or employer in buckets:
            continue
        dollars[employer] += float(f[14])
        donors[employer].add(" ".join(_PUNCT.sub(" ", f[7].upper()).split()) + "|" + f[10][:5])
        occupations[employer][f[12]] += 1
    total = sum(dollars.values())
    supported = sum(v for e, v in dollars.items() if len(donors[e]) >= MIN_DONORS)
    coded = sum(
        v for e, v in dollars.items() if map_industry(e, occupations[e].most_common(1)[0][0]) is not None
    )
    return {
        "employers": len(dollars),
        "employers_3plus": sum(1 for e in dollars if len(donors[e]) >= MIN_DONORS),
        "dollars_in_3plus": supported / total,
        "industry_coverage": coded / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--without-aliases", action="store_true", help="empty the curated alias list")
    args = parser.parse_args()
    if args.without_aliases:
        from fecflow.normalize import employers as em

        em._alias_rows = lambda: ()  # type: ignore[assignment]
        em._alias_tables.cache_clear()
        em._cached_match.cache_clear()
    rows = _rows(BULK_2020 / "indiv20.zip")
    matches = build_employer_map(f[11] for f in rows)
    buckets = {m.bucket for m in matches.values() if m.bucket}
    before = {raw: (m.canonical_name or m.bucket or "") for raw, m in matches.items()}
    counted = Counter((f[11], f[12] or None, f[9] or None, f[10] or None, f[0]) for f in rows)
    after = cluster_rows(
        [(*k, n) for k, n in counted.items()], corporate_pacs=_corporate_pacs(BULK_2020 / "cm20.zip")
    )
    b, a = _figures(rows, before, buckets), _figures(rows, after, buckets)
    print("| measure | before | after |\n|---|---|---|")
    for key in b:
        fmt = "{:.3f}" if isinstance(b[key], float) else "{:,}"
        print(f"| {key} | {fmt.format(b[key])} | {fmt.format(a[key])} |")


if __name__ == "__main__":
    main()
