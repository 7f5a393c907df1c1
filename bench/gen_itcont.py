"""Generate a large, realistic itcont-shaped file for benchmarks (no network, reproducible).

Resamples lines of a real FEC individual-contributions file with a seeded RNG, gives every output
line a fresh unique 19-digit SUB_ID (last field) and shifts TRANSACTION_DT (field 14, MMDDYYYY) by a
random number of days within +-365 (blank or invalid dates are kept as they are). Lines are written
with LF endings. Same ``--seed`` and sample -> byte-identical output (same sha256).

    python bench/gen_itcont.py --rows 2000000 --seed 42 --out bench/data/itcont_2000000.txt

``--vocabulary heaps`` makes distinct employers and donors (NAME + ZIP5) grow with the row count as
they do in the real 2020 sample (Heaps' law fits of ``bench/heaps.py``: employers ``0.28 n^0.948``,
donors ``1.82 n^0.909``) instead of stopping at the sample's: whenever the curve is above the
count so far, the row gets a newly minted value (an employer made of two real employers' words, a
donor of one real row's last name, another's first name and a third's ZIP), and otherwise, with
the share of minted values in the vocabulary, a minted value seen before. Committees and
occupations stay the sample's (new committee ids would have no master record).

The output contains real contributor names and addresses: benchmark/test use only (52 U.S.C.
30111(a)(4)); ``bench/data/`` is git-ignored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import random
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import TypeVar

# The real 2020 individual-contributions sample bundled with the repository (tests/fixtures/PROVENANCE.md).
DEFAULT_SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bulk" / "2020" / "indiv20.zip"
FIELD_COUNT = 21
DATE_FIELD = 13  # TRANSACTION_DT, 0-based
SUB_ID_FIELD = 20  # SUB_ID, 0-based (last)
NAME_FIELD, ZIP_FIELD, EMPLOYER_FIELD = 7, 10, 11
# Heaps' law fits on the 2020 sample (bench/heaps.py, docs/data/ingestion.md): distinct = K * n^beta.
HEAPS = {"employer": (0.28, 0.948), "donor": (1.82, 0.909)}
MAX_SHIFT_DAYS = 365
WRITE_BATCH = 100_000
T = TypeVar("T")


def read_sample(path: Path) -> list[bytes]:
    """Lines (without LF) of a plain, ``.gz`` or ``.zip`` (first member) itcont file."""
    if not path.is_file():
        raise SystemExit(f"sample {path} is not a readable file (pass --sample PATH)")
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            raw = zf.read(zf.namelist()[0])
    else:
        raw = path.read_bytes()
    return raw.splitlines()


def parse_mmddyyyy(value: bytes) -> int | None:
    """Proleptic ordinal of an MMDDYYYY date, or None when blank/invalid."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return dt.date(int(value[4:]), int(value[:2]), int(value[2:4])).toordinal()
    except ValueError:
        return None


def iter_generated(sample_lines: list[bytes], rows: int, seed: int, vocabulary: str = "sample") -> Iterator[bytes]:
    """The output lines, each ending in LF."""
    rng = random.Random(seed)
    templates: list[tuple[list[bytes], int | None]] = []
    for line in sample_lines:
        fields = line.split(b"|")
        if len(fields) != FIELD_COUNT:
            continue
        templates.append((fields, parse_mmddyyyy(fields[DATE_FIELD])))
    if not templates:
        raise SystemExit("sample has no 21-field lines")

    picks = rng.choices(range(len(templates)), k=rows)
    shifts = rng.choices(range(-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS + 1), k=rows)
    # unique, always 19 digits, and within BIGINT (max 9223372036854775807) like real SUB_IDs
    sub_ids = rng.sample(range(10**18, 9 * 10**18), k=rows)

    date_cache: dict[int, bytes] = {}
    grow = Vocabulary(templates, random.Random(seed + 1)) if vocabulary == "heaps" else None
    for n, (pick, shift, sub_id) in enumerate(zip(picks, shifts, sub_ids, strict=True), 1):
        fields, ordinal = templates[pick]
        fields = fields.copy()
        if grow is not None:
            _mint(grow, fields, n)
        if ordinal is not None:
            new_ordinal = ordinal + shift
            text = date_cache.get(new_ordinal)
            if text is None:
                d = dt.date.fromordinal(new_ordinal)
                text = f"{d.month:02d}{d.day:02d}{d.year:04d}".encode()
                date_cache[new_ordinal] = text
            fields[DATE_FIELD] = text
        fields[SUB_ID_FIELD] = str(sub_id).encode()
        yield b"|".join(fields) + b"\n"


class Vocabulary:
    """Minted employers and donors that keep distinct counts on the Heaps curves (see the module doc)."""

    def __init__(self, templates: list[tuple[list[bytes], int | None]], rng: random.Random) -> None:
        self.rng = rng
        self.employers = sorted({t[0][EMPLOYER_FIELD] for t in templates if t[0][EMPLOYER_FIELD]})
        self.words = sorted({w for e in self.employers for w in e.split()})
        self.names = [t[0][NAME_FIELD] for t in templates if b"," in t[0][NAME_FIELD]]
        self.zips = [t[0][ZIP_FIELD] for t in templates if t[0][ZIP_FIELD]]
        self.minted_employers: list[bytes] = []
        self.minted_donors: list[tuple[bytes, bytes]] = []
        self.base = {"employer": len(self.employers), "donor": len({(t[0][NAME_FIELD], t[0][ZIP_FIELD][:5]) for t in templates})}

    def _pick(self, kind: str, n: int, minted: list[T], own: T, mint: Callable[[], T]) -> T:
        """A new value while the curve is above the count so far; else, with the minted values' share
        of the vocabulary, one of them seen before; else the row's own."""
        k, beta = HEAPS[kind]
        if self.base[kind] + len(minted) < k * n**beta:
            minted.append(mint())
            return minted[-1]
        if minted and self.rng.random() < len(minted) / (len(minted) + self.base[kind]):
            return self.rng.choice(minted)
        return own

    def _new_employer(self, own: bytes) -> bytes:
        a, b = self.rng.choice(self.employers).split(), self.rng.choice(self.employers).split()
        return b" ".join(a[:1] + b[1:] + [self.rng.choice(self.words)]) if a and b else own

    def _new_donor(self) -> tuple[bytes, bytes]:
        last = self.rng.choice(self.names).split(b",", 1)[0]
        first = self.rng.choice(self.names).split(b",", 1)[1]
        return last + b"," + first, self.rng.choice(self.zips)

    def employer(self, n: int, own: bytes) -> bytes:
        return self._pick("employer", n, self.minted_employers, own, lambda: self._new_employer(own))

    def donor(self, n: int, name: bytes, zip_code: bytes) -> tuple[bytes, bytes]:
        return self._pick("donor", n, self.minted_donors, (name, zip_code), self._new_donor)


def _mint(vocabulary: Vocabulary, fields: list[bytes], n: int) -> None:
    fields[EMPLOYER_FIELD] = vocabulary.employer(n, fields[EMPLOYER_FIELD])
    fields[NAME_FIELD], fields[ZIP_FIELD] = vocabulary.donor(n, fields[NAME_FIELD], fields[ZIP_FIELD])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--vocabulary", choices=("sample", "heaps"), default="sample",
        help="sample: the sample's employers and donors only; heaps: new ones as a real cycle grows",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    lines = iter_generated(read_sample(args.sample), args.rows, args.seed, args.vocabulary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    tmp = args.out.with_name(args.out.name + ".tmp")
    with tmp.open("wb") as fh:
        while chunk := b"".join(islice(lines, WRITE_BATCH)):
            digest.update(chunk)
            fh.write(chunk)
    tmp.replace(args.out)
    elapsed = time.perf_counter() - started
    print(f"rows={args.rows} bytes={args.out.stat().st_size} sha256={digest.hexdigest()} "
          f"path={args.out} seconds={elapsed:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
