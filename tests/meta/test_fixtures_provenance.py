"""Every fixture file is accounted for in tests/fixtures/PROVENANCE.md, with the bytes it records."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ROW = re.compile(r"^\| `([^`]+)` \| (\d+) \| ([0-9a-f]{64}) \|$")


def recorded() -> dict[str, tuple[int, str]]:
    text = (FIXTURES / "PROVENANCE.md").read_text(encoding="utf-8")
    table = text[text.index("## All checksums") :]
    return {m[1]: (int(m[2]), m[3]) for line in table.splitlines() if (m := ROW.match(line))}


def present() -> set[str]:
    return {
        p.relative_to(FIXTURES).as_posix()
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md" and "__pycache__" not in p.parts
    }


def test_every_fixture_file_is_in_the_checksum_table() -> None:
    assert present() - set(recorded()) == set()


def test_every_table_row_names_a_file_that_exists() -> None:
    assert set(recorded()) - present() == set()


def test_fixture_bytes_match_the_table() -> None:
    wrong = []
    for name, (size, sha256) in recorded().items():
        data = (FIXTURES / name).read_bytes()
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            wrong.append(name)
    assert wrong == []
    assert len(recorded()) >= 60  # the 2020 zips, 2018/2020/2022 samples, e-filings, API pages
