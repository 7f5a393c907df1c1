"""bench/gen_itcont.py: reproducible, unique 19-digit SUB_IDs, dates shifted within a year."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
from pathlib import Path

import pytest

from fecflow.parse import ParseStats, iter_blocks

GENERATOR = Path(__file__).resolve().parents[3] / "bench" / "gen_itcont.py"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_itcont", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample(gen):
    return gen.read_sample(gen.DEFAULT_SAMPLE)


def date_within_a_year(gen, original: bytes, new: bytes) -> bool:
    """Valid dates move by at most 365 days; blank or invalid ones stay as they are."""
    if gen.parse_mmddyyyy(original) is None:
        return new == original
    before = dt.date(int(original[4:]), int(original[:2]), int(original[2:4]))
    after = dt.date(int(new[4:]), int(new[:2]), int(new[2:4]))
    return abs((after - before).days) <= 365


def test_same_seed_same_bytes_other_seed_other_bytes(gen, sample):
    one = b"".join(gen.iter_generated(sample, 3000, 7))
    assert one == b"".join(gen.iter_generated(sample, 3000, 7))
    assert one != b"".join(gen.iter_generated(sample, 3000, 8))


def test_generated_lines_are_valid_itcont(gen, sample):
    content = b"".join(gen.iter_generated(sample, 5000, 42))
    stats = ParseStats()
    for _ in iter_blocks(io.BytesIO(content), 21, stats=stats):
        pass
    assert stats.lines == 5000 == stats.loaded

    originals: dict[bytes, set[bytes]] = {}  # line without date and SUB_ID -> its dates in the sample
    for line in sample:
        fields = line.split(b"|")
        originals.setdefault(b"|".join(fields[:13] + fields[14:20]), set()).add(fields[13])
    sub_ids = set()
    for line in content.splitlines():
        fields = line.split(b"|")
        assert len(fields[20]) == 19 and fields[20].isdigit()
        sub_ids.add(fields[20])
        dates = originals[b"|".join(fields[:13] + fields[14:20])]  # every line comes from the sample
        assert any(date_within_a_year(gen, original, fields[13]) for original in dates)
    assert len(sub_ids) == 5000


def test_heaps_vocabulary_follows_the_fitted_curves_and_stays_parseable(gen, sample) -> None:
    rows = 150_000  # past the sample's 70,671 rows: where resampling alone stops adding values
    lines = list(gen.iter_generated(sample, rows, 7, "heaps"))
    assert lines == list(gen.iter_generated(sample, rows, 7, "heaps"))  # deterministic
    fields = [line.rstrip(b"\n").split(b"|") for line in lines]
    assert all(len(f) == gen.FIELD_COUNT for f in fields)
    employers = {f[gen.EMPLOYER_FIELD] for f in fields if f[gen.EMPLOYER_FIELD]}
    donors = {(f[gen.NAME_FIELD], f[gen.ZIP_FIELD][:5]) for f in fields}
    for kind, got in (("employer", len(employers)), ("donor", len(donors))):
        k, beta = gen.HEAPS[kind]
        assert 0.8 * k * rows**beta <= got <= 1.1 * k * rows**beta, (kind, got, k * rows**beta)
    plain = {f[gen.EMPLOYER_FIELD] for f in (line.split(b"|") for line in gen.iter_generated(sample, rows, 7))}
    assert len(employers) > 1.5 * len(plain)  # resampling alone stays at the sample's vocabulary
    stats = ParseStats()
    for _ in iter_blocks(io.BytesIO(b"".join(lines[:20_000])), 21, stats=stats):
        pass
    assert stats.lines == 20_000 == stats.loaded
