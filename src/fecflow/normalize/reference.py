"""Load every ``ref`` table (and ``core.industry``) from files shipped in ``normalize/data/``.

Everything is an idempotent upsert (``INSERT ... ON CONFLICT DO UPDATE``, parameterized,
``executemany``): running :func:`load_reference` twice leaves the same rows. Provenance and sha256 of
each data file: ``normalize/data/PROVENANCE.md``.

``core.industry`` gets one row per NAICS 2022 code (levels 2-6, ~2,100 rows): small, and scores can
then roll an employer's 6-digit code up to any level without a missing parent. (The employer dimension,
``core.employer`` / ``employer_alias`` / ``employer_industry``, is written per snapshot by
``normalize.contributions.link_employers`` with :func:`~fecflow.normalize.employers.build_employer_map`
and :func:`~fecflow.normalize.industries.map_industry`.)
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import psycopg

from fecflow.normalize.employers import generic_employer_patterns
from fecflow.normalize.industries import industry_rules_for_sql
from fecflow.normalize.rules import rules_for_sql

log = logging.getLogger(__name__)

DATA = "data"


def _text(name: str) -> str:
    return resources.files("fecflow.normalize").joinpath(DATA, name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------- NAICS
@dataclass(frozen=True)
class NaicsCode:
    code: str
    title: str
    level: int
    parent_code: str | None


# NAICS sectors published as ranges; each becomes one 2-digit code per number, with the sector title.
_SECTOR_RANGES = {"31-33": ("31", "32", "33"), "44-45": ("44", "45"), "48-49": ("48", "49")}


def _clean_title(raw: str) -> str:
    """Census marks non-leaf titles with a trailing 'T' footnote marker: 'Crop ProductionT '."""
    title = raw.strip()
    if len(title) > 1 and title.endswith("T") and (title[-2].islower() or title[-2] == ")"):
        title = title[:-1]
    return title.strip()


@cache
def read_naics() -> tuple[NaicsCode, ...]:
    """NAICS 2022 codes of levels 2-6 from ``2022_NAICS_Structure.csv``, parents before children.

    Header lines and blank separator rows are skipped; "31-33" etc. become "31", "32", "33"; every
    code's parent is the longest existing prefix (4-digit codes under "31" ... "33" find their
    3-digit parent; 3-digit codes find their 2-digit sector).
    """
    titles: dict[str, str] = {}
    for row in csv.reader(io.StringIO(_text("2022_NAICS_Structure.csv"))):
        if len(row) < 3:
            continue
        code, title = row[1].strip(), _clean_title(row[2])
        if code in _SECTOR_RANGES:
            for part in _SECTOR_RANGES[code]:
                titles[part] = title
        elif code.isdigit() and 2 <= len(code) <= 6:
            titles[code] = title
    out = []
    for code in sorted(titles, key=lambda c: (len(c), c)):
        parent = code[:-1]
        while parent and parent not in titles:
            parent = parent[:-1]
        out.append(NaicsCode(code, titles[code], len(code), parent or None))
    return tuple(out)


def naics_codes() -> frozenset[str]:
    return frozenset(n.code for n in read_naics())


# ---------------------------------------------------------------------------------- other ref files
def _read_csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_text(name))))


@cache
def party_alignment() -> dict[str, str]:
    """Party code -> 'D' / 'R' from ``data/party_alignment.csv``; every other code is 'O'."""
    return {row["party_code"]: row["alignment"] for row in _read_csv("party_alignment.csv")}


def read_parties() -> list[tuple[str, str, str]]:
    """(code, name, alignment) for every code in the FEC list plus the aligned extras."""
    alignment = party_alignment()
    rows = {r["party_code"]: r["party"] for r in _read_csv("fec_party_codes.csv")}
    for extra in _read_csv("party_alignment.csv"):
        rows.setdefault(extra["party_code"], extra["name"])
    return [(code, name, alignment.get(code, "O")) for code, name in sorted(rows.items())]


def read_transaction_types() -> list[tuple[str, str]]:
    rows = _read_csv("fec_transaction_type_codes.csv")
    return [(r["transaction_type"], r["transaction_type_description"]) for r in rows]


def read_committee_types() -> list[tuple[str, str]]:
    return [(r["committee_code"], r["committee_type"]) for r in _read_csv("fec_committee_type_codes.csv")]


# ------------------------------------------------------------------------------------------ loading
_UPSERTS: dict[str, str] = {
    "ref.naics": (
        "INSERT INTO ref.naics (code, title, level, parent_code) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (code) DO UPDATE SET title = EXCLUDED.title, level = EXCLUDED.level, "
        "parent_code = EXCLUDED.parent_code"
    ),
    "ref.transaction_type": (
        "INSERT INTO ref.transaction_type (code, description) VALUES (%s, %s) "
        "ON CONFLICT (code) DO UPDATE SET description = EXCLUDED.description"
    ),
    "ref.committee_type": (
        "INSERT INTO ref.committee_type (code, description) VALUES (%s, %s) "
        "ON CONFLICT (code) DO UPDATE SET description = EXCLUDED.description"
    ),
    "ref.party": (
        "INSERT INTO ref.party (code, name, alignment) VALUES (%s, %s, %s) "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, alignment = EXCLUDED.alignment"
    ),
    "ref.generic_employer": (
        "INSERT INTO ref.generic_employer (pattern, bucket) VALUES (%s, %s) "
        "ON CONFLICT (pattern) DO UPDATE SET bucket = EXCLUDED.bucket"
    ),
    "ref.employer_industry_rule": (
        "INSERT INTO ref.employer_industry_rule (method, pattern, naics_code, confidence, priority) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (method, pattern) DO UPDATE SET "
        "naics_code = EXCLUDED.naics_code, confidence = EXCLUDED.confidence, priority = EXCLUDED.priority"
    ),
    "ref.counting_rule": (
        "INSERT INTO ref.counting_rule (rule_version, transaction_type, memo, category, "
        "counts_as_contribution, is_refund, sign, reason, filer_side) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (rule_version, transaction_type, memo) DO UPDATE SET category = EXCLUDED.category, "
        "counts_as_contribution = EXCLUDED.counts_as_contribution, is_refund = EXCLUDED.is_refund, "
        "sign = EXCLUDED.sign, reason = EXCLUDED.reason, filer_side = EXCLUDED.filer_side"
    ),
    "core.industry": (
        "INSERT INTO core.industry (naics_code, title, level) VALUES (%s, %s, %s) "
        "ON CONFLICT (naics_code) DO UPDATE SET title = EXCLUDED.title, level = EXCLUDED.level"
    ),
}


def reference_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row :func:`load_reference` writes, per table (in load order)."""
    naics = read_naics()
    return {
        "ref.naics": [(n.code, n.title, n.level, n.parent_code) for n in naics],
        "ref.transaction_type": read_transaction_types(),
        "ref.committee_type": read_committee_types(),
        "ref.party": read_parties(),
        "ref.generic_employer": sorted(generic_employer_patterns().items()),
        "ref.employer_industry_rule": industry_rules_for_sql(),
        "ref.counting_rule": rules_for_sql(),
        "core.industry": [(n.code, n.title, n.level) for n in naics],
    }


def load_reference(conn: psycopg.Connection) -> dict[str, int]:
    """Upsert all reference tables in one transaction; returns the row count written per table."""
    counts: dict[str, int] = {}
    with conn.transaction(), conn.cursor() as cur:
        for table, rows in reference_rows().items():
            cur.executemany(_UPSERTS[table], rows)
            counts[table] = len(rows)
    log.info("reference data loaded: %s", counts, extra={"counts": counts, "stage": "reference"})
    return counts
