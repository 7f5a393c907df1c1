"""The reference files shipped in normalize/data: parsed correctly, unchanged from their sources."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fecflow.normalize.reference import (
    read_committee_types,
    read_naics,
    read_parties,
    read_transaction_types,
    reference_rows,
)

DATA = Path(__file__).resolve().parents[3] / "src" / "fecflow" / "normalize" / "data"


def test_naics_levels_titles_and_sector_ranges() -> None:
    naics = {n.code: n for n in read_naics()}
    assert 2100 < len(naics) < 2200
    assert {n.level for n in naics.values()} == {2, 3, 4, 5, 6}
    for code in ("31", "32", "33"):
        assert naics[code].title == "Manufacturing" and naics[code].parent_code is None
    assert naics["44"].title == naics["45"].title == "Retail Trade"
    assert naics["48"].title == naics["49"].title == "Transportation and Warehousing"
    assert naics["111"].title == "Crop Production"  # 'Crop ProductionT ' in the file
    assert naics["541110"].title == "Offices of Lawyers"
    assert not [n for n in naics.values() if re.search(r"[a-z)]T$", n.title) or n.title != n.title.strip()]


def test_naics_parents_exist_and_chain_up_to_a_sector() -> None:
    naics = {n.code: n for n in read_naics()}
    for n in naics.values():
        if n.level == 2:
            assert n.parent_code is None
        else:
            assert n.parent_code in naics and naics[n.parent_code].level < n.level
    chain = ["541110"]
    while (parent := naics[chain[-1]].parent_code) is not None:
        chain.append(parent)
    assert chain == ["541110", "54111", "5411", "541", "54"]
    assert naics["311"].parent_code == "31" and naics["334"].parent_code == "33"


def test_parties_have_alignment() -> None:
    parties = {code: alignment for code, _name, alignment in read_parties()}
    assert parties["DEM"] == parties["DFL"] == parties["DNL"] == "D"
    assert parties["REP"] == parties["GOP"] == "R"
    for code in ("GRE", "LIB", "IND", "CRV", "D/C", "ICD", "UNK", "W"):
        assert parties[code] == "O"
    assert {a for a in parties.values()} == {"D", "R", "O"}


def test_code_lists() -> None:
    assert len(read_transaction_types()) == 103
    assert dict(read_committee_types())["O"].startswith("Independent Expenditure-Only")
    rows = reference_rows()
    assert list(rows) == [
        "ref.naics",
        "ref.transaction_type",
        "ref.committee_type",
        "ref.party",
        "ref.generic_employer",
        "ref.employer_industry_rule",
        "ref.counting_rule",
        "core.industry",
    ]


def test_copied_files_match_their_recorded_sha256() -> None:
    """Files copied byte-for-byte from upstream keep the hash normalize/data/PROVENANCE.md records."""
    provenance = (DATA / "PROVENANCE.md").read_text()
    for name in (
        "2022_NAICS_Structure.csv",
        "fec_transaction_type_codes.csv",
        "fec_committee_type_codes.csv",
        "fec_party_codes.csv",
    ):
        digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        assert f"| `{name}` |" in provenance and digest in provenance, name
