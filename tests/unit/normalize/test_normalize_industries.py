"""Industry mapping: rules use real NAICS 2022 codes, behave as documented, and cover real dollars."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from fecflow.normalize.employers import build_employer_map, canonicalize_employer
from fecflow.normalize.industries import (
    IndustryMatch,
    curated_industries,
    industry_rules_for_sql,
    map_industry,
    name_rules,
    normalize_occupation,
    occupation_industry,
    occupation_rules,
)
from fecflow.normalize.reference import naics_codes
from fecflow.normalize.rules import rule_for

MIN_COVERAGE = 0.70


def test_every_naics_code_used_exists_in_naics_2022() -> None:
    codes = naics_codes()
    used = set(curated_industries().values())
    used |= {r.naics_code for r in name_rules()} | {r.naics_code for r in occupation_rules()}
    assert used and not used - codes, sorted(used - codes)


def test_curated_keys_are_canonical_employers() -> None:
    curated = curated_industries()
    assert len(curated) >= 300
    for name in curated:
        assert canonicalize_employer(name).canonical_name == name, name


def test_rule_rows_for_the_database() -> None:
    rows = industry_rules_for_sql()
    keys = [(method, pattern) for method, pattern, *_ in rows]
    assert len(keys) == len(set(keys)), "(method, pattern) is unique in ref.employer_industry_rule"
    assert {method for method, *_ in rows} == {"curated", "name_rule", "occupation"}
    for _method, _pattern, _code, confidence, priority in rows:
        assert 0 < confidence <= 1 and 0 < priority < 32767


@pytest.mark.parametrize(
    ("employer", "code", "method"),
    [
        ("PRICEWATERHOUSECOOPERS, LLP", "541211", "curated"),
        ("AMAZON.COM SERVICES LLC", "455219", "curated"),
        ("US ARMY", "928110", "curated"),
        ("UNIVERSITY OF OREGON", "6113", "name_rule"),
        ("AUSTIN COMMUNITY COLLEGE", "611210", "name_rule"),
        ("NEW HAVEN UNIFIED SCHOOL DISTRICT", "6111", "name_rule"),
        ("OVERLAKE HOSPITAL", "622", "name_rule"),
        ("CARTER LAW OFFICES", "5411", "name_rule"),
        ("FIRST NATIONAL BANK OF OMAHA", "5221", "name_rule"),
        ("ST. ELIZABETH ANN SETON CHURCH", "8131", "name_rule"),
        ("STATE OF VERMONT", "92", "name_rule"),
        ("CITY OF LOS ANGELES", "92", "name_rule"),
        ("DEPT. OF THE NAVY", "928110", "curated"),
        ("KING OF TEXAS ROOFING", "238160", "name_rule"),
        ("PIONEER REAL ESTATE", "531", "name_rule"),
        ("LITITZ MUTUAL INSURANCE COMPANY", "524", "name_rule"),
        ("GEORGIA EMC", "2211", "name_rule"),
        ("COYNE OIL CORPORATION", "211", "name_rule"),
        ("TEXAS ONCOLOGY, P.A.", "6211", "name_rule"),
        ("AMERICAN BANKERS ASSOCIATION", "813910", "curated"),
        ("NATIONAL CONFECTIONERS ASSOCIATION", "8139", "name_rule"),
        ("BRISTOL FIRE DEPT.", "922160", "name_rule"),
        ("STANLEY FORD GILMER", "441110", "name_rule"),
        ("FARMER", "111", "occupation"),  # employer field holding an occupation
    ],
)
def test_map_industry_examples(employer: str, code: str, method: str) -> None:
    canonical = canonicalize_employer(employer).canonical_name
    match = map_industry(canonical, None)
    assert match is not None and (match.naics_code, match.method) == (code, method), (employer, match)


@pytest.mark.parametrize(
    ("occupation", "code"),
    [
        ("PHYSICIAN", "6211"),
        ("M.D.", "6211"),
        ("ATTORNEY", "5411"),
        ("REGISTERED NURSE", "622"),
        ("TEACHER", "6111"),
        ("PROFESSOR", "6113"),
        ("CIVIL ENGINEER", "5413"),
        ("SOFTWARE ENGINEER", "5415"),
        ("REAL ESTATE BROKER", "531"),
        ("FARMER", "111"),
        ("DENTIST", "6212"),
        ("PHARMACIST", "456110"),
        ("CPA", "5412"),
        ("GOV'T AFFAIRS", "541820"),
    ],
)
def test_occupation_fallback(occupation: str, code: str) -> None:
    match = map_industry("SMITH AND JONES PARTNERS LTD CO", occupation)
    assert match is not None and match.method == "occupation" and match.naics_code == code
    assert match.confidence < 0.95
    assert occupation_industry(occupation) == match


def test_employer_beats_occupation_and_buckets_or_unknowns_stay_none() -> None:
    assert map_industry("BOEING", "ATTORNEY") == IndustryMatch("336411", "curated", 0.95)
    assert map_industry(None, "PHYSICIAN") is None  # bucket (RETIRED, SELF-EMPLOYED, ...) or blank
    assert map_industry("", "PHYSICIAN") is None
    assert map_industry("ZORBLAX", None) is None
    assert map_industry("ZORBLAX", "CHIEF EXECUTIVE OFFICER") is None
    assert map_industry("ZORBLAX", "RETIRED") is None
    assert occupation_industry("INFORMATION REQUESTED") is None
    assert normalize_occupation("M.D./Ph.D.") == "M D PH D"


def test_real_dollar_coverage(shared_samples: Path) -> None:
    """Share of itemized individual dollars (2020 sample) whose employer maps to a NAICS sector."""
    dollars: Counter[tuple[str, str]] = Counter()
    path = shared_samples / "bulk-2020-early-snapshot-2019-03/extracted/itcont.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            f = line.rstrip("\n").split("|")
            entity, tx_type, employer, occupation, amount, memo = f[6], f[5], f[11], f[12], f[14], f[18]
            rule = rule_for(tx_type, memo)
            if entity != "IND" or memo == "X" or not rule.counts_as_contribution or rule.is_refund:
                continue
            dollars[(employer, occupation)] += float(amount)
    employers = build_employer_map({e for e, _ in dollars})
    total = sum(dollars.values())
    bucket = real = mapped = 0.0
    by_method: Counter[str] = Counter()
    for (employer, occupation), amount in dollars.items():
        match = employers[employer]
        if match.bucket is not None:
            bucket += amount
            continue
        real += amount
        industry = map_industry(match.canonical_name, occupation)
        if industry is not None and len(industry.naics_code) >= 2:
            mapped += amount
            by_method[industry.method] += amount
    coverage = mapped / real
    print(
        f"\nreal-employer dollars mapped to a NAICS sector: {coverage:.3f}"
        f"\nall dollars: mapped {mapped / total:.3f}, bucket {bucket / total:.3f}, unmapped {(real - mapped) / total:.3f}"
        f"\nby method (share of real-employer dollars): "
        + ", ".join(f"{m} {v / real:.3f}" for m, v in by_method.most_common())
    )
    assert coverage >= MIN_COVERAGE
