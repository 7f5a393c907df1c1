"""Employer strings -> canonical employers or generic buckets (pure; works on distinct strings).

Three steps, each visible in :class:`EmployerMatch.method`:

1. :func:`normalize_employer_string` (idempotent): ASCII upper case, punctuation and spacing variants
   removed, ``&``/AND and THE dropped, initials joined (``J. M.`` -> JM), parenthesised notes and
   ``DBA ...`` tails dropped, common abbreviations expanded (UNIV -> UNIVERSITY, DEPT -> DEPARTMENT,
   UNITED STATES -> US, ...), clear state codes expanded (``STATE OF CA`` -> ``STATE OF CALIFORNIA``),
   university sub-units cut, truncated last words completed (``CORPORAT`` -> CORPORATION), trailing
   legal forms dropped (INC, LLC, LLP, CORP, CO, COMPANY, LTD, PC, PLLC, PA, LP, NA, PLC, US/USA,
   ``.COM`` ...; GROUP / HOLDINGS only when two words remain).
2. Generic values become **buckets**, not employers: RETIRED, SELF-EMPLOYED, NOT EMPLOYED, HOMEMAKER,
   STUDENT, INFORMATION REQUESTED, NONE (blank, N/A, NONE). Exact patterns come from
   ``data/generic_employers.csv`` (also loaded into ``ref.generic_employer``); a few rules catch
   combinations (``NONE - HOMEMAKER``) and prefixes (``SELF - ACME LLC``, ``RETIRED EXECUTIVE``).
3. A curated alias list (``data/employer_aliases.csv``) maps spellings and subsidiaries of large
   employers to one canonical name (PWC -> PRICEWATERHOUSECOOPERS, AMAZON COM SERVICES -> AMAZON);
   ``prefix`` aliases match whole leading words (``DELOITTE TAX`` -> DELOITTE). Everything else is its
   own canonical employer under its normalized string.

This map is per string. Which of its names are one employer (typos, spacing and cut variants,
acronyms, units of one firm) is decided with the rows, by :mod:`fecflow.normalize.employer_similarity`.
Measured on two hand-labelled sets of real pairs (``tests/fixtures/employers_labeled.csv`` and the
held-out ``tests/fixtures/employers_heldout/``); see ``docs/data/employers-and-industries.md``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

#: Bump when this module, industries.py or their data files (curated aliases, generic patterns, industry
#: rules) change what they return for a string already mapped: normalize then maps again every alias and
#: industry an older version decided (normalize/employer_map.py, recorded in ``map_version`` columns).
EMPLOYER_MAP_VERSION = "2026.2"

#: Entries of each per-string cache (normalized strings, matches, industries). About 250 bytes each:
#: 262,144 entries held 65 MB per cache once a large snapshot filled them (issue #18's memory goal).
STRING_CACHE = 65_536

BUCKETS = (
    "RETIRED",
    "SELF-EMPLOYED",
    "NOT EMPLOYED",
    "HOMEMAKER",
    "STUDENT",
    "INFORMATION REQUESTED",
    "NONE",
)

# Confidence of each way of matching (also documented in docs/data/employers-and-industries.md).
CONFIDENCE = {
    "blank": 1.0,
    "bucket": 1.0,
    "bucket_rule": 0.9,
    "occupation_bucket": 0.85,
    "alias": 1.0,
    "alias_prefix": 0.9,
    "exact": 1.0,
    "normalized": 0.9,
}


@dataclass(frozen=True, slots=True)
class EmployerMatch:
    """Where one raw employer string goes. Exactly one of ``canonical_name`` / ``bucket`` is set."""

    canonical_name: str | None
    bucket: str | None
    method: (
        str  # blank | bucket | bucket_rule | occupation_bucket | alias | alias_prefix | exact | normalized
    )
    confidence: float
    normalized: str = ""


# ------------------------------------------------------------------------------------ normalization
_ABBREVIATIONS = {
    "UNIV": "UNIVERSITY",
    "DEPT": "DEPARTMENT",
    "ASSN": "ASSOCIATION",
    "ASN": "ASSOCIATION",
    "ASSOCATION": "ASSOCIATION",
    "ASSOCIATON": "ASSOCIATION",
    "INTL": "INTERNATIONAL",
    "NATL": "NATIONAL",
    "GOVT": "GOVERNMENT",
    "MGMT": "MANAGEMENT",
    "MGT": "MANAGEMENT",
    "SVCS": "SERVICES",
    "SVC": "SERVICES",
    "SRVS": "SERVICES",
    "SRVC": "SERVICES",
    "SRVCS": "SERVICES",
    "SERV": "SERVICES",
    "SERVS": "SERVICES",
    "CTR": "CENTER",
    "HOSP": "HOSPITAL",
    "HLTH": "HEALTH",
    "MED": "MEDICAL",
    "MFG": "MANUFACTURING",
    "INS": "INSURANCE",
    "LABS": "LABORATORIES",
    "BROS": "BROTHERS",
    "CNTY": "COUNTY",
    "SCHL": "SCHOOL",
    "TWP": "TOWNSHIP",
    "COOP": "COOPERATIVE",
}

# Trailing words that name a legal form (or a region qualifier), not the employer. Dropped repeatedly
# from the end while at least one word remains. GROUP and HOLDINGS are dropped only when two or more
# words remain ("ROGERS GROUP INC" = "ROGERS GROUP", "CARLYLE GROUP" stays; "PNC FINANCIAL SERVICES
# GROUP" = "PNC FINANCIAL SERVICES").
_SUFFIXES = {
    "INC", "INCORPORATED", "LLC", "LLP", "LLLP", "LC", "CORP", "CORPORATION", "CO", "COS", "COMPANY",
    "COMPANIES", "LTD", "LIMITED", "PC", "PLLC", "PA", "LP", "PLC", "NA", "GMBH", "SARL", "US", "USA", "COM", "NET", "ORG", "GOV", "EDU", "IO", "ACA", "FLCA", "PCA",
}  # fmt: skip
_MULTI_SUFFIXES = (("NORTH", "AMERICA"),)
# Words left dangling at the end by truncation ("NATIONAL CONFECTIONERS ASSOCIATION OF").
_DANGLING = {"OF", "AND", "FOR", "AT", "THE", "TO"}
_WEAK_SUFFIXES = {"GROUP", "HOLDINGS", "HOLDING"}

# Long words a truncated last word is completed to (filers cut employer text at 20, 25 or ~38
# characters): "GENERAL DYNAMICS CORPORAT", "UNIVERSITY OF ARIZON". Each with the shortest prefix that
# is never a complete word itself (COOPER is not COOPERATIVE, ADMIN not ADMINISTRATION); state names
# only right after OF.
_COMPLETIONS = {
    "CORPORATION": 5, "INCORPORATED": 6, "UNIVERSITY": 5, "ASSOCIATION": 9, "INTERNATIONAL": 7,
    "MANAGEMENT": 7, "DEPARTMENT": 7, "GOVERNMENT": 7, "INSTITUTE": 7, "FOUNDATION": 6,
    "LABORATORIES": 7, "TECHNOLOGIES": 7, "COOPERATIVE": 7, "COUNCIL": 5,
}  # fmt: skip

STATES = {
    "AL": "ALABAMA", "AK": "ALASKA", "AZ": "ARIZONA", "AR": "ARKANSAS", "CA": "CALIFORNIA",
    "CO": "COLORADO", "CT": "CONNECTICUT", "DE": "DELAWARE", "FL": "FLORIDA", "GA": "GEORGIA",
    "HI": "HAWAII", "ID": "IDAHO", "IL": "ILLINOIS", "IN": "INDIANA", "IA": "IOWA", "KS": "KANSAS",
    "KY": "KENTUCKY", "LA": "LOUISIANA", "ME": "MAINE", "MD": "MARYLAND", "MA": "MASSACHUSETTS",
    "MI": "MICHIGAN", "MN": "MINNESOTA", "MS": "MISSISSIPPI", "MO": "MISSOURI", "MT": "MONTANA",
    "NE": "NEBRASKA", "NV": "NEVADA", "NH": "NEW HAMPSHIRE", "NJ": "NEW JERSEY", "NM": "NEW MEXICO",
    "NY": "NEW YORK", "NC": "NORTH CAROLINA", "ND": "NORTH DAKOTA", "OH": "OHIO", "OK": "OKLAHOMA",
    "OR": "OREGON", "PA": "PENNSYLVANIA", "RI": "RHODE ISLAND", "SC": "SOUTH CAROLINA",
    "SD": "SOUTH DAKOTA", "TN": "TENNESSEE", "TX": "TEXAS", "UT": "UTAH", "VT": "VERMONT",
    "VA": "VIRGINIA", "WA": "WASHINGTON", "WV": "WEST VIRGINIA", "WI": "WISCONSIN", "WY": "WYOMING",
}  # fmt: skip
_STATE_NAMES = set(STATES.values())
_STATE_COMPLETIONS = tuple(sorted({w for name in _STATE_NAMES for w in name.split() if len(w) >= 6}))
_STATE_FIRST_WORDS = {name.split()[0] for name in _STATE_NAMES}
# A state code is expanded only where it clearly is one: after OF, after a compass word, or first
# and followed by a government word (NM HOUSE, NY STATE SENATE).
_COMPASS = {"NORTHERN", "SOUTHERN", "EASTERN", "WESTERN", "CENTRAL", "NORTH", "SOUTH", "EAST", "WEST"}
# After a compass word only codes that are not also words or legal forms ("SOUTHERN CO" is a company).
_COMPASS_SAFE_CODES = set(STATES) - {
    "CO",
    "PA",
    "IN",
    "OR",
    "ME",
    "DE",
    "OK",
    "HI",
    "ID",
    "OH",
    "AL",
    "LA",
    "MA",
}
_GOVERNMENT_WORDS = {
    "HOUSE",
    "SENATE",
    "STATE",
    "DEPARTMENT",
    "LEGISLATURE",
    "GENERAL",
    "SUPREME",
    "ASSEMBLY",
}
_LOCAL_GOVERNMENT = {"CITY", "COUNTY", "TOWN", "VILLAGE", "TOWNSHIP", "BOROUGH"}
# Sub-units after a university's name are cut: "UNIVERSITY OF WASHINGTON SCHOOL OF MEDICINE" is the
# University of Washington; "DUKE UNIV MED CTR" is Duke University.
_UNIVERSITY_UNITS = (
    ("SCHOOL", "OF"), ("COLLEGE", "OF"), ("DIVISION", "OF"), ("DEPARTMENT", "OF"), ("HEALTH", "SYSTEM"),
    ("HEALTH", "SYSTEMS"), ("MEDICAL", "CENTER"), ("MEDICAL", "SCHOOL"),
)  # fmt: skip

_PARENS = re.compile(r"\([^)]*\)|\([^)]*$")
_DOMAIN = re.compile(r"\.(COM|NET|ORG|GOV|EDU|IO)\b")
_INITIALISM = re.compile(r"\b(?:[A-Z]\.){2,}")
_APOSTROPHES = re.compile(r"['`\u2019]")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")


def _ascii_upper(raw: str) -> str:
    text = unicodedata.normalize("NFKD", raw)
    return text.encode("ascii", "ignore").decode("ascii").upper()


def _complete_truncated(word: str, after_of: bool) -> str:
    hits = [
        w
        for w, shortest in _COMPLETIONS.items()
        if len(word) >= shortest and w.startswith(word) and w != word
    ]
    if after_of and len(word) >= 5:
        hits += [w for w in _STATE_COMPLETIONS if w.startswith(word) and w != word]
    return hits[0] if len(hits) == 1 else word


def _tokens(raw: str) -> list[str]:
    text = _ascii_upper(raw)
    text = _PARENS.sub(" ", text)
    text = _DOMAIN.sub(r" \1", text)
    text = text.replace("&", " AND ").replace("+", " AND ").replace("@", " AT ")
    text = _INITIALISM.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _APOSTROPHES.sub("", text)
    return _NON_ALNUM.sub(" ", text).split()


def _strip_suffixes(tokens: list[str]) -> list[str]:
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for multi in _MULTI_SUFFIXES:
            n = len(multi)
            if len(tokens) > n and tuple(tokens[-n:]) == multi:
                del tokens[-n:]
                changed = True
                break
        if not changed and (
            tokens[-1] in _SUFFIXES
            or tokens[-1] in _DANGLING
            or (tokens[-1] in _WEAK_SUFFIXES and len(tokens) > 2)
        ):
            tokens.pop()
            changed = True
    return tokens


def _merge_initials(tokens: list[str]) -> list[str]:
    """Runs of single letters become one word: J M SMUCKER -> JM SMUCKER, U S -> US, N A -> NA."""
    out: list[str] = []
    run: list[str] = []
    for tok in [*tokens, ""]:
        if len(tok) == 1 and tok.isalpha():
            run.append(tok)
            continue
        if run:
            out.append("".join(run))
            run = []
        if tok:
            out.append(tok)
    return out


def _expand_states(tokens: list[str]) -> list[str]:
    out = list(tokens)
    for j, tok in enumerate(tokens):
        if tok not in STATES:
            continue
        prev = tokens[j - 1] if j else ""
        nxt = tokens[j + 1] if j + 1 < len(tokens) else ""
        if (
            prev == "OF"
            or (prev in _COMPASS and tok in _COMPASS_SAFE_CODES)
            or (j == 0 and nxt in _GOVERNMENT_WORDS)
        ):
            out[j] = STATES[tok]
    return " ".join(out).split()


def _cut_university_unit(tokens: list[str]) -> list[str]:
    if "UNIVERSITY" not in tokens:
        return tokens
    at = tokens.index("UNIVERSITY")
    first = at + 3 if tokens[at + 1 : at + 2] == ["OF"] else at + 1  # earliest position of a unit
    if at == 0 and first == at + 1:
        return tokens  # "UNIVERSITY HOSPITALS ...": no name before the unit
    for i in range(first, len(tokens) - 1):
        if (tokens[i], tokens[i + 1]) in _UNIVERSITY_UNITS:
            return tokens[:i]
    return tokens


@lru_cache(maxsize=STRING_CACHE)
def normalize_employer_string(raw: str | None) -> str:
    """Upper-case, punctuation-free, abbreviation-expanded, suffix-stripped form of an employer."""
    if not raw:
        return ""
    tokens = _tokens(raw)
    # DBA: keep the legal name before it ("COMPASS BANK DBA BBVA COMPASS" -> COMPASS BANK).
    for i in range(1, len(tokens)):
        if tokens[i] == "DBA" or tokens[i : i + 3] == ["D", "B", "A"]:
            tokens = tokens[:i]
            break
    if len(tokens) > 1:  # BROWNSTEIN HYATT FARBER (&) SCHRECK; THE HOME DEPOT
        tokens = [t for t in tokens if t not in {"AND", "THE"}] or tokens
    tokens = _merge_initials(tokens)
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if tok == "UNITED" and tokens[i + 1 : i + 2] == ["STATES"]:
            out.append("US")
            continue
        if tok == "STATES" and i and tokens[i - 1] == "UNITED":
            continue
        if tok == "CO" and tokens[i + 1 : i + 2] == ["OP"]:
            out.append("COOPERATIVE")
            continue
        if tok == "OP" and i and tokens[i - 1] == "CO":
            continue
        if tok == "ASSOC":
            tok = "ASSOCIATION" if tokens[i + 1 : i + 2] == ["OF"] else "ASSOCIATES"
        elif tok == "U" and i == 0 and tokens[1:2] == ["OF"]:
            tok = "UNIVERSITY"
        out.append(_ABBREVIATIONS.get(tok, tok))
    if not out:
        return ""
    out = _expand_states(out)
    if len(out) >= 2 and out[0] == "UNIVERSITY" and out[1] in _STATE_FIRST_WORDS:
        out.insert(1, "OF")  # UNIVERSITY TEXAS -> UNIVERSITY OF TEXAS
    return " ".join(_clean_tail(_cut_university_unit(out)))


def _clean_tail(tokens: list[str]) -> list[str]:
    """Strip legal suffixes, a local government's state ("CITY OF BERKELEY, CA") and complete a
    truncated last word, repeatedly: each step can expose work for another (idempotent result)."""
    while True:
        before = list(tokens)
        tokens = _strip_suffixes(tokens)
        if tokens[0] in _LOCAL_GOVERNMENT and len(tokens) > 3 and tokens[-1] in STATES:
            tokens = tokens[:-1]
        tokens[-1] = _complete_truncated(tokens[-1], after_of=len(tokens) > 1 and tokens[-2] == "OF")
        if tokens == before:
            return tokens


# ------------------------------------------------------------------------------------------ buckets
def _read_data(name: str) -> list[dict[str, str]]:
    text = resources.files("fecflow.normalize").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def generic_employer_patterns() -> dict[str, str]:
    """Normalized employer string -> bucket, from ``data/generic_employers.csv``."""
    return {row["pattern"]: row["bucket"] for row in _read_data("generic_employers.csv")}


# Words that may make up a purely generic employer value, and what each says.
_GENERIC_VOCAB = {
    **dict.fromkeys(["RETIRED", "RETIREE", "RETIRE", "RET", "RETD", "RETIRD", "SEMI"], "RETIRED"),
    **dict.fromkeys(["HOMEMAKER", "HOMEMAKERS", "HOUSEWIFE", "HOUSEHUSBAND"], "HOMEMAKER"),
    **dict.fromkeys(["STUDENT", "STUDENTS"], "STUDENT"),
    **dict.fromkeys(["SELF", "SELFEMPLOYED", "MYSELF", "SLEF", "SEL", "SEKF"], "SELF-EMPLOYED"),
    **dict.fromkeys(
        ["UNEMPLOYED", "UMEMPLOYED", "NOTEMPLOYED", "NONEMPLOYED", "NOTEMPLOYEDNONE"], "NOT EMPLOYED"
    ),
    **dict.fromkeys(
        [
            "REQUESTED",
            "REQUEST",
            "INFORMATION",
            "INFO",
            "BEST",
            "EFFORT",
            "EFFORTS",
            "REFUSED",
            "DECLINED",
            "UNKNOWN",
            "PROVIDED",
            "AVAILABLE",
            "GIVEN",
            "LISTED",
            "PENDING",
            "DISCLOSED",
            "OBTAINED",
        ],
        "INFORMATION REQUESTED",
    ),  # fmt: skip
    **dict.fromkeys(
        [
            "NONE",
            "NA",
            "N",
            "A",
            "NO",
            "NULL",
            "NOT",
            "NNOT",
            "NON",
            "APPLICABLE",
            "EMPLOYED",
            "EMPLOYEED",
            "EMPLOYE",
            "EMPLOY",
            "EMOLOYED",
            "EMP",
            "EMPLOYER",
            "EMPLOYMENT",
            "CURRENTLY",
            "PER",
            "AT",
            "THIS",
            "TIME",
            "FULL",
            "PART",
            "AND",
        ],
        "",
    ),  # fmt: skip
}
_NOT_WORDS = {"NOT", "NNOT", "NON", "NO"}
_EMPLOY_WORDS = {"EMPLOYED", "EMPLOYEED", "EMPLOYE", "EMPLOY", "EMOLOYED", "EMP", "EMPLOYMENT"}
_BUCKET_PRIORITY = (
    "RETIRED",
    "HOMEMAKER",
    "STUDENT",
    "SELF-EMPLOYED",
    "NOT EMPLOYED",
    "INFORMATION REQUESTED",
)

# Words that make "RETIRED ..." / "... STUDENT" an organisation rather than a person's status.
_ORG_WORDS = {
    "ASSOCIATION", "SYSTEM", "SYSTEMS", "FUND", "COMMUNITY", "COMMUNITIES", "HOME", "HOMES", "LIVING",
    "PLAN", "BOARD", "LOAN", "UNION", "CENTER", "SERVICES", "HOUSING", "COUNCIL", "FEDERATION",
}  # fmt: skip
_SELF_SEPARATED = re.compile(r"^\s*SELF\s*[-/,:;(.]\s*(?!HELP\b|STORAGE\b|SERVICE)")
_SELF_TRAILING = re.compile(r"(\(\s*SELF\s*\)|[/-]\s*SELF)\s*$")


def _classify_generic(tokens: list[str]) -> str | None:
    """The bucket of a value made only of generic words ("NONE - HOMEMAKER", "N/A RETIRED")."""
    if not tokens or any(t not in _GENERIC_VOCAB for t in tokens):
        return None
    votes = {_GENERIC_VOCAB[t] for t in tokens}
    if any(t in _NOT_WORDS and nxt in _EMPLOY_WORDS for t, nxt in zip(tokens, tokens[1:], strict=False)):
        votes.add("NOT EMPLOYED")
    for bucket in _BUCKET_PRIORITY:
        if bucket in votes:
            return bucket
    return "NONE"


def _bucket_by_rule(raw_upper: str, tokens: list[str]) -> str | None:
    """Prefix/suffix forms: SELF - ACME LLC, SELF EMPLOYED DENTIST, RETIRED EXECUTIVE, ..."""
    if tokens and tokens[0] == "EMPLOYER" and "OCCUPATION" in tokens:  # "EMPLOYER: RETIRED OCCUPATION: X"
        inner = tokens[1 : tokens.index("OCCUPATION")]
        return _classify_generic(inner)
    if _SELF_SEPARATED.match(raw_upper) or _SELF_TRAILING.search(raw_upper):
        return "SELF-EMPLOYED"
    if (
        len(tokens) >= 2
        and tokens[0] in {"SELF", "SELFEMPLOYED"}
        and (tokens[0] == "SELFEMPLOYED" or tokens[1] in _EMPLOY_WORDS or tokens[1].startswith("EMPLOY"))
    ):
        return "SELF-EMPLOYED"
    if len(tokens) >= 2 and tokens[-2:] == ["SELF", "EMPLOYED"]:
        return "SELF-EMPLOYED"
    if tokens and tokens[0] in {"RETIRED", "RETIREE", "SEMIRETIRED"} and not _ORG_WORDS.intersection(tokens):
        return "RETIRED"
    if tokens and tokens[-1] == "STUDENT" and len(tokens) <= 3 and not _ORG_WORDS.intersection(tokens):
        return "STUDENT"
    return None


def bucket_of(raw: str | None) -> tuple[str, str] | None:
    """(bucket, method) when a raw employer or occupation value is generic, else None."""
    if raw is None or not raw.strip():
        return ("NONE", "blank")
    key = normalize_employer_string(raw)
    if not key:
        return ("NONE", "bucket")
    exact = generic_employer_patterns().get(key)
    if exact:
        return (exact, "bucket")
    tokens = key.split()
    combo = _classify_generic(tokens)
    if combo:
        return (combo, "bucket")
    rule = _bucket_by_rule(_ascii_upper(raw), tokens)
    if rule:
        return (rule, "bucket_rule")
    return None


# ------------------------------------------------------------------------------------------ aliases
@cache
def _alias_rows() -> tuple[tuple[str, str, str], ...]:
    return tuple((r["pattern"], r["canonical_name"], r["match"]) for r in _read_data("employer_aliases.csv"))


@cache
def _alias_tables() -> tuple[dict[str, str], dict[tuple[str, ...], str]]:
    exact: dict[str, str] = {}
    prefix: dict[tuple[str, ...], str] = {}
    for pattern, canonical, match in _alias_rows():
        if match == "prefix":
            prefix[tuple(pattern.split())] = canonical
        else:
            exact[pattern] = canonical
    return exact, prefix


def alias_rows() -> list[tuple[str, str, str]]:
    """(pattern, canonical_name, match) of the curated alias list."""
    return list(_alias_rows())


def _lookup_alias(key: str) -> tuple[str, str] | None:
    exact, prefix = _alias_tables()
    hit = exact.get(key)
    if hit is not None:
        return hit, "alias"
    tokens = tuple(key.split())
    for n in range(len(tokens), 0, -1):
        hit = prefix.get(tokens[:n])
        if hit is not None:
            return hit, "alias" if n == len(tokens) else "alias_prefix"
    return None


# ------------------------------------------------------------------------------------- public API
_INFORMATIONLESS = {"NONE", "INFORMATION REQUESTED"}
_PERSON_BUCKETS = {"RETIRED", "HOMEMAKER", "STUDENT", "NOT EMPLOYED", "SELF-EMPLOYED"}


def _match_employer(raw: str | None) -> EmployerMatch:
    generic = bucket_of(raw)
    key = normalize_employer_string(raw)
    if generic is not None:
        bucket, method = generic
        return EmployerMatch(None, bucket, method, CONFIDENCE[method], key)
    alias = _lookup_alias(key)
    if alias is not None:
        canonical, method = alias
        return EmployerMatch(canonical, None, method, CONFIDENCE[method], key)
    method = "exact" if raw is not None and raw.strip() == key else "normalized"
    return EmployerMatch(key, None, method, CONFIDENCE[method], key)


_cached_match = lru_cache(maxsize=STRING_CACHE)(_match_employer)


def canonicalize_employer(raw: str | None, occupation: str | None = None) -> EmployerMatch:
    """The canonical employer (or generic bucket) of one raw employer string.

    ``occupation`` only fills in a status the employer field left blank: employer blank / NONE /
    INFORMATION REQUESTED with occupation RETIRED (or HOMEMAKER, STUDENT, NOT EMPLOYED,
    SELF-EMPLOYED) gives that bucket (method ``occupation_bucket``).
    """
    match = _cached_match(raw)
    if occupation and match.bucket in _INFORMATIONLESS:
        occ = bucket_of(occupation)
        if occ is not None and occ[0] in _PERSON_BUCKETS:
            return EmployerMatch(
                None, occ[0], "occupation_bucket", CONFIDENCE["occupation_bucket"], match.normalized
            )
    return match


def build_employer_map(distinct_raw: Iterable[str]) -> dict[str, EmployerMatch]:
    """Map every distinct raw employer string (duplicates are fine, they are skipped). Not through
    the cache: the strings are distinct, and caching them only held memory."""
    out: dict[str, EmployerMatch] = {}
    for raw in distinct_raw:
        if raw not in out:
            out[raw] = _match_employer(raw)
    return out
