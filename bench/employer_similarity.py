"""Time the employer similarity step on a full cycle's worth of distinct names (issue #19).

Distinct names are synthesized from the real 2020 sample: every real name, spelling variants of it
(typo, spacing, cut at 38 characters, legal-form-free short form) and new names drawn from the real
words (weighted by how often each occurs), until ``--names`` distinct names exist. Only
``candidate_pairs`` is timed here (the part that grows with the number of names); ``resolve`` works
on the candidate pairs and their rows only.

    python bench/employer_similarity.py --names 1500000
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import time
import zipfile
from collections import Counter
from pathlib import Path

from fecflow.normalize.employer_similarity import candidate_pairs
from fecflow.normalize.employers import build_employer_map

# The real 2020 individual-contributions sample bundled with the repository (tests/fixtures/PROVENANCE.md).
SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bulk" / "2020" / "indiv20.zip"


def real_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf, zf.open("itcont.txt") as raw_fh:
        fh = io.TextIOWrapper(raw_fh, encoding="utf-8", errors="replace")
        raw = {line.split("|")[11] for line in fh}
    return sorted({m.canonical_name for m in build_employer_map(raw).values() if m.canonical_name})


def synthesize(names: list[str], target: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    words = Counter(w for n in names for w in n.split())
    vocab, weights = zip(*words.items(), strict=True)
    cum = list(__import__("itertools").accumulate(weights))
    out: dict[str, int] = {n: len(n) for n in names}
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    while len(out) < target:
        base = rng.choice(names)
        roll = rng.random()
        if roll < 0.15:  # typo
            i = rng.randrange(len(base))
            name = base[:i] + rng.choice(letters) + base[i + 1 :]
        elif roll < 0.2:  # spacing
            name = base.replace(" ", "", 1)
        elif roll < 0.25:  # cut at the field limit
            name = (base + " " + " ".join(rng.choices(vocab, cum_weights=cum, k=3)))[:38].strip()
        else:  # a new name from real words
            name = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.choice((1, 2, 2, 3, 3, 3, 4))))
        out.setdefault(name, len(name) if roll >= 0.2 else max(len(name), 38 if roll < 0.25 else 0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1_500_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    names = synthesize(real_names(SAMPLE), args.names, args.seed)
    started = time.perf_counter()
    pairs = candidate_pairs(names)
    elapsed = time.perf_counter() - started
    kinds = Counter(p.kind for p in pairs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"candidate_pairs: {len(names)} names -> {len(pairs)} pairs in {elapsed:.1f} s; {dict(kinds)}")
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
