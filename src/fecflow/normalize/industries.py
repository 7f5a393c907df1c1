"""Canonical employer (+ occupation) -> NAICS 2022 code, with a method and a confidence (pure).

Rules are data in ``normalize/data/`` and are also loaded into ``ref.employer_industry_rule``:

1. ``curated`` (``employer_industry_curated.csv``): large employers by canonical name, confidence 0.95.
2. ``name_rule`` (``industry_name_rules.csv``): a regular expression on the normalized employer name
   (UNIVERSITY -> 6113, HOSPITAL -> 622, ... BANK -> 5221); file order is priority, first match wins;
   each rule has its own confidence.
3. ``occupation`` (``industry_occupation_rules.csv``): the donor's occupation (PHYSICIAN -> 6211,
   ATTORNEY -> 5411, ...), only when the employer says nothing; lower confidence. The same rules are
   tried on the employer string itself (employer and occupation are sometimes swapped: employer
   "PHYSICIAN"), at 0.8 x the rule's confidence.

Generic buckets (RETIRED, SELF-EMPLOYED, ...) and blanks are not employers: ``map_industry(None, ...)``
is None. Unknown stays None, visibly. See ``docs/data/employers-and-industries.md``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from fecflow.normalize.employers import STRING_CACHE, bucket_of, normalize_employer_string

CURATED_CONFIDENCE = 0.95
SWAPPED_FIELD_FACTOR = 0.8

# ref.employer_industry_rule.priority: lower runs first.
PRIORITY_CURATED = 10
PRIORITY_NAME_RULE = 100
PRIORITY_OCCUPATION = 1000


@dataclass(frozen=True, slots=True)
class IndustryMatch:
    naics_code: str
    method: str  # curated | name_rule | occupation
    confidence: float


@dataclass(frozen=True)
class _Rule:
    pattern: str
    regex: re.Pattern[str]
    naics_code: str
    confidence: float


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("fecflow.normalize").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def curated_industries() -> dict[str, str]:
    """Canonical employer name -> NAICS code."""
    return {r["canonical_employer"]: r["naics_code"] for r in _read("employer_industry_curated.csv")}


def _rules(name: str) -> tuple[_Rule, ...]:
    return tuple(
        _Rule(r["pattern"], re.compile(r["pattern"]), r["naics_code"], float(r["confidence"]))
        for r in _read(name)
    )


@cache
def name_rules() -> tuple[_Rule, ...]:
    return _rules("industry_name_rules.csv")


@cache
def occupation_rules() -> tuple[_Rule, ...]:
    return _rules("industry_occupation_rules.csv")


_APOSTROPHES = re.compile(r"['`\u2019]")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")


def normalize_occupation(raw: str | None) -> str:
    """Upper case ASCII words: 'M.D.' -> 'M D', "GOV'T AFFAIRS" -> 'GOVT AFFAIRS'."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii").upper()
    return " ".join(_NON_ALNUM.sub(" ", _APOSTROPHES.sub("", text)).split())


def _first(rules: tuple[_Rule, ...], text: str) -> _Rule | None:
    for rule in rules:
        if rule.regex.search(text):
            return rule
    return None


@lru_cache(maxsize=STRING_CACHE)
def _employer_industry(canonical: str) -> IndustryMatch | None:
    code = curated_industries().get(canonical)
    if code is not None:
        return IndustryMatch(code, "curated", CURATED_CONFIDENCE)
    key = normalize_employer_string(canonical)
    code = curated_industries().get(key)
    if code is not None:
        return IndustryMatch(code, "curated", CURATED_CONFIDENCE)
    rule = _first(name_rules(), key)
    if rule is not None:
        return IndustryMatch(rule.naics_code, "name_rule", rule.confidence)
    rule = _first(occupation_rules(), key)  # employer field holding an occupation ("PHYSICIAN")
    if rule is not None:
        return IndustryMatch(rule.naics_code, "occupation", round(rule.confidence * SWAPPED_FIELD_FACTOR, 2))
    return None


@lru_cache(maxsize=STRING_CACHE)
def occupation_industry(occupation: str | None) -> IndustryMatch | None:
    """The industry an occupation alone implies (None for generic values such as RETIRED)."""
    if not occupation or not occupation.strip() or bucket_of(occupation) is not None:
        return None
    rule = _first(occupation_rules(), normalize_occupation(occupation))
    if rule is None:
        return None
    return IndustryMatch(rule.naics_code, "occupation", rule.confidence)


def map_industry(canonical_employer: str | None, occupation: str | None) -> IndustryMatch | None:
    """NAICS code of a canonical employer, falling back to the occupation; None when unknown or generic."""
    if not canonical_employer:
        return None
    direct = _employer_industry(canonical_employer)
    if direct is not None:
        return direct
    return occupation_industry(occupation)


def industry_rules_for_sql() -> list[tuple[str, str, str, float, int]]:
    """Rows for ``ref.employer_industry_rule``: (method, pattern, naics_code, confidence, priority)."""
    rows: list[tuple[str, str, str, float, int]] = [
        ("curated", name, code, CURATED_CONFIDENCE, PRIORITY_CURATED)
        for name, code in curated_industries().items()
    ]
    rows += [
        ("name_rule", r.pattern, r.naics_code, r.confidence, PRIORITY_NAME_RULE + i)
        for i, r in enumerate(name_rules())
    ]
    rows += [
        ("occupation", r.pattern, r.naics_code, r.confidence, PRIORITY_OCCUPATION + i)
        for i, r in enumerate(occupation_rules())
    ]
    return rows
