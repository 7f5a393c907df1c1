"""Similar employer names -> one employer, when the strings *and* the rows agree (pure; issue #19).

The per-string map (:mod:`fecflow.normalize.employers`) gives every raw string a name; this module
decides which of those names are one employer. Two steps, so that rows are read only for the few
names a candidate pair touches:

1. :func:`candidate_pairs` (names only, blocking, no all-pairs loop): six kinds of string evidence,

   - ``spacing``: the same letters and digits, spaced differently (``NORTHROP GRUMMAN`` /
     ``NORTHROPGRUMMAN``; a number glued to a one-word name of 8+ letters is ignored);
   - ``truncation``: a raw string cut at a field limit (its longest raw spelling has 34+ characters,
     FEC's field holds 38; or exactly 20, 25 or 30, where some filers cut, and then inside a word)
     whose letters are a prefix of a longer name;
   - ``typo``: the same words but one, a small edit of the other (optimal string alignment distance
     1, or 2 for words of 8+ letters; no digits, no place names), found by :mod:`rapidfuzz` within
     groups of names that share all their other words (one-word names: within their deletion
     neighbourhood);
   - ``leading_words``: all words of a short name lead a longer one (``JACKSON NATIONAL`` /
     ``JACKSON NATIONAL LIFE``), when the short name has a *distinctive* word (see
     :func:`generic_words`) and the longer one does not add ``OF <place>`` or a word that names a
     separate body (``HOSPITAL``, ``LOCAL``, ``CHAPTER``, ...);
   - ``shared_brand``: the same distinctive first word, and the same corporate PAC gets at least half
     of each name's rows (``DUKE ENERGY CAROLINAS`` / ``DUKE ENERGY PROGRESS``);
   - ``acronym``: a 3-5 letter name equal to the initials of a longer one (``NHRA``).

2. :func:`resolve` (row evidence): a pair is accepted only when its rows agree as its kind demands
   (:data:`ROW_RULES`): shared states, shared ZIP3, shared recipient committees, shared occupations
   (histogram overlap of each), a shared corporate PAC. Same-name firms in different places stay apart. Accepted pairs form
   *star* clusters: names are visited existing employers and curated names first, then full forms
   before acronyms and cut strings, then largest first; a name joins the best-scoring center it was paired with, or becomes a center itself. A
   name never joins through another non-center, so clusters do not chain, and an existing employer
   is never moved: a new string joins it without renumbering anything.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from itertools import combinations

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from fecflow.normalize.employers import STATES

#: Longest raw spelling at which a string counts as cut at a field limit (FEC's EMPLOYER holds 38).
TRUNCATED_AT = 34
#: Shorter limits some filers' software cuts at; such a string counts as cut only inside a word.
SHORT_CUTS = frozenset({20, 25, 30})
#: Names per typo group (a larger one, e.g. "_ ELECTRIC COOPERATIVE", is skipped).
TYPO_GROUP_LIMIT = 5000
_TYPO_RATIO = 85.0  # rapidfuzz ratio (0-100) on the letters of two names, to look closer
#: Words an acronym skips, and never distinctive.
STOP_WORDS = frozenset({"OF", "AND", "THE", "FOR", "AT", "IN", "ON", "DE", "LA"})
# A longer name adding one of these words names another body, not a unit of the shorter one.
_SEPARATE_BODY = {
    "HOSPITAL", "HOSPITALS", "LOCAL", "CHAPTER", "PAC", "FCU", "CREDIT", "AUXILIARY", "ALUMNI",
    "RETIREES", "FOUNDATION", "SCHOOL", "SCHOOLS", "DISTRICT", "COLLEGE", "UNIVERSITY",
}  # fmt: skip
_PLACE_WORDS = set(STATES) | {w for name in STATES.values() for w in name.split()}
_DIGITS = re.compile(r"\d")
# A number glued to the end of a one-word name of 8+ letters (NORTHROPGRUMMAN5616: a site or staff code).
_GLUED_NUMBER = re.compile(r"([A-Z]{8,})\d+")

_NATIONAL_STATES = 3  # an employer with rows in this many states says little by its place

#: Score of each kind of string evidence (the string's share of a decision's score).
STRING_SCORE = {
    "spacing": 0.97, "truncation": 0.93, "typo": 0.9, "leading_words": 0.85, "shared_brand": 0.8, "acronym": 0.8,
}  # fmt: skip


@dataclass(slots=True)
class Profile:
    """What the rows of one name say: counts by state, ZIP3, recipient committee and occupation."""

    rows: int = 0
    states: Counter[str] = field(default_factory=Counter)
    zip3: Counter[str] = field(default_factory=Counter)
    recipients: Counter[str] = field(default_factory=Counter)
    occupations: Counter[str] = field(default_factory=Counter)
    corporate: Counter[str] = field(default_factory=Counter)  # rows to corporate PACs, by committee

    def add(
        self,
        state: str | None,
        zip_code: str | None,
        recipient: str | None,
        occupation: str | None,
        n: int,
        *,
        corporate: bool = False,
    ) -> None:
        """Count ``n`` rows; ``corporate``: the recipient is a corporation's PAC (ORG_TP C or W)."""
        self.rows += n
        if recipient and corporate:
            self.corporate[recipient] += n
        if state:
            self.states[state.strip().upper()] += n
        if zip_code and len(zip_code.strip()) >= 3:
            self.zip3[zip_code.strip()[:3]] += n
        if recipient:
            self.recipients[recipient] += n
        if occupation and occupation.strip():
            self.occupations[" ".join(occupation.upper().split())] += n

    def corporate_pac(self) -> str | None:
        """The corporate PAC that at least half of these rows went to, if any."""
        if not self.corporate:
            return None
        pac, n = max(self.corporate.items(), key=lambda kv: (kv[1], kv[0]))
        return pac if 2 * n >= self.rows else None


@dataclass(frozen=True, slots=True)
class Candidate:
    """Two names the strings say may be one employer."""

    a: str
    b: str
    kind: str


@dataclass(frozen=True, slots=True)
class Decision:
    """A name joins ``target``: how (``kind``), how surely (``score``) and on what evidence."""

    name: str
    target: str
    kind: str
    score: float
    evidence: dict[str, float]


# ------------------------------------------------------------------------------- string evidence
def _compact(name: str) -> str:
    return name.replace(" ", "")


def generic_words(names: Iterable[str], spread: int = 3) -> set[str]:
    """Words that many unrelated names share: a word is generic when the names holding it (not as
    their first word) start with ``spread`` or more different first words (RADIOLOGY, ELECTRIC,
    ASSOCIATES); a brand (NEXTERA, JACKSON) mostly leads its own names."""
    firsts: dict[str, set[str]] = defaultdict(set)
    for name in names:
        words = name.split()
        for word in words[1:]:
            seen = firsts[word]
            if len(seen) < spread:
                seen.add(words[0])
    return {w for w, seen in firsts.items() if len(seen) >= spread} | STOP_WORDS


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w not in STOP_WORDS)


def _typo_words(a: str, b: str) -> bool:
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return False
    differ = [(x, y) for x, y in zip(wa, wb, strict=True) if x != y]
    if not differ or len(differ) > 2:
        return False
    return all(_typo_word(x, y) for x, y in differ)


def _typo_word(x: str, y: str) -> bool:
    """One word a small edit of the other: OSA distance 1 (2 from 8 letters), no digits, no places."""
    if min(len(x), len(y)) < 4 or _DIGITS.search(x + y) or x in _PLACE_WORDS or y in _PLACE_WORDS:
        return False
    return OSA.distance(x, y) <= (2 if min(len(x), len(y)) >= 8 else 1)


def _cut_mid_word(short: str, long: str) -> bool:
    """``short`` is ``long`` cut inside a word (PRICEWATERHOUSECOOPE / PRICEWATERHOUSECOOPERS)."""
    ws, wl = short.split(), long.split()
    k = len(ws) - 1
    return len(wl) > k and wl[:k] == ws[:k] and wl[k].startswith(ws[k]) and wl[k] != ws[k]


def _leading_ok(short: str, long: str, generic: set[str]) -> bool:
    ws, wl = short.split(), long.split()
    extra = wl[len(ws) :]
    if not extra or wl[: len(ws)] != ws:
        return False
    if all(w in generic for w in ws) or (len(ws) == 1 and len(ws[0]) < 5 and generic):
        return False  # nothing distinctive: RADIOLOGY ASSOCIATES + OF MACON is another practice
    if extra[0] == "OF" or _SEPARATE_BODY.intersection(extra) or _PLACE_WORDS.intersection(extra):
        return False
    return not any(_DIGITS.search(w) for w in extra)


def _typo_groups(names: list[str]) -> Iterable[list[str]]:
    """Names that may differ by a typo in one word: multi-word names grouped by all their words but
    one (``BRIDGEPOINT _``), one-word names by their deletion neighbourhood (SymSpell-style keys:
    the word and the word less one letter). Linear in the names; no all-pairs loop."""
    # Two passes keep memory small: count the keys by hash first, then group only the names whose
    # key's hash is seen twice or more (a key of one name never makes a group; a hash collision only
    # lets a key into the second pass, where the keys themselves group).
    seen: Counter[int] = Counter(hash(key) for name in names for key in _typo_keys(name))
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    for name in names:
        for key in _typo_keys(name):
            if seen[hash(key)] > 1:
                groups[key].append(name)
    del seen
    for group in groups.values():
        if 1 < len(group) <= TYPO_GROUP_LIMIT:
            yield group


def _typo_keys(name: str) -> Iterable[tuple[int, str]]:
    """:func:`_typo_groups`' keys of one name (word position or -1, the name with that word blanked
    or the one word less a letter)."""
    words = name.split()
    if len(words) == 1:
        word = words[0]
        if len(word) >= 5 and not _DIGITS.search(word):
            for key in {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}:
                yield (-1, key)
        return
    for i, word in enumerate(words):
        if len(word) >= 4:
            yield (i, " ".join(words[:i] + ["_"] + words[i + 1 :]))


def typo_pairs(group: list[str]) -> Iterable[tuple[str, str]]:
    """Pairs of a group whose names differ by a small edit (rapidfuzz ratio first, then the rule)."""
    compact = [_compact(n) for n in group]
    for i, (name, c) in enumerate(zip(group, compact, strict=True)):
        hits = process.extract(c, compact[i + 1 :], scorer=fuzz.ratio, score_cutoff=_TYPO_RATIO, limit=None)
        for _, _, j in hits:
            other = group[i + 1 + j]
            if _typo_words(name, other) or (" " not in name and " " not in other and _typo_word(name, other)):
                yield name, other


class PairSet:
    """Candidate pairs as they are found, kind by kind: a pair keeps the first kind that found it
    (the order of :data:`KINDS`)."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, str], str] = {}

    def keep(self, a: str, b: str, kind: str) -> None:
        self._kinds.setdefault((a, b) if a < b else (b, a), kind)

    def candidates(self) -> list[Candidate]:
        return [Candidate(a, b, kind) for (a, b), kind in sorted(self._kinds.items())]


#: The kinds of string evidence, in the order they are looked for (a pair keeps the first).
KINDS = ("spacing", "truncation", "leading_words", "shared_brand", "acronym", "typo")


def letters_key(name: str) -> str:
    """``spacing``'s block: the letters and digits of a name (a glued site number dropped)."""
    glued = _GLUED_NUMBER.fullmatch(name)
    return glued.group(1) if glued else _compact(name)


def may_be_cut(longest: int) -> bool:
    """A name whose longest raw spelling (``longest`` characters) may have been cut at a field limit."""
    return longest >= TRUNCATED_AT or longest in SHORT_CUTS


def truncation_ok(name: str, longest: int, other: str) -> bool:
    """``other``'s letters start with those of ``name`` (which :func:`may_be_cut`): is it ``truncation``?"""
    return longest >= TRUNCATED_AT or _cut_mid_word(name, other)


def leading_pair_ok(short: str, name: str, pac_of: Mapping[str, str], generic: set[str]) -> bool:
    """``short`` is ``name``'s leading words: is it ``leading_words``? (A shared corporate PAC makes
    every word distinctive.)"""
    same_pac = short in pac_of and pac_of.get(short) == pac_of.get(name)
    return _leading_ok(short, name, set() if same_pac else generic)


def brand_groups(pac_of: Mapping[str, str], generic: set[str], present: set[str]) -> Iterable[list[str]]:
    """``shared_brand``'s blocks: the ``present`` names of one corporate PAC and distinctive first word."""
    by_brand: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, pac in pac_of.items():
        first = name.split()[0] if name else ""
        if len(first) >= 2 and first not in generic and name in present:
            by_brand[(pac, first)].append(name)
    return by_brand.values()


def brand_pairs(group: list[str]) -> Iterable[tuple[str, str]]:
    """The ``shared_brand`` pairs of one block (no name of a separate body)."""
    for a, b in combinations(sorted(group), 2):
        if not _SEPARATE_BODY.intersection(a.split() + b.split()):
            yield a, b


def acronym_form(name: str) -> bool:
    """A name that may be an acronym of a longer name (3-5 letters)."""
    return 3 <= len(name) <= 5 and name.isalpha()


def candidate_pairs(names: Mapping[str, int], pac_of: Mapping[str, str] | None = None) -> list[Candidate]:
    """Pairs of names with string evidence of being one employer, with the blocks in memory.

    ``names``: every name -> the length of its longest raw spelling (truncation evidence);
    ``pac_of``: name -> the corporate PAC that gets at least half of its rows (for ``shared_brand``
    and distinctiveness; names without one are left out). Cost is about linear in the names plus
    ``rapidfuzz`` work within groups of at most a few thousand; memory too. Normalize finds the same
    pairs with the blocks in the database (:mod:`fecflow.normalize.employer_blocking`).
    """
    pac_of = pac_of or {}
    listed = sorted(n for n in names if n)
    generic = generic_words(listed)
    out = PairSet()
    by_compact: dict[str, list[str]] = defaultdict(list)
    by_letters: dict[str, list[str]] = defaultdict(list)
    for name in listed:
        by_compact[_compact(name)].append(name)
        by_letters[letters_key(name)].append(name)
    for group in by_letters.values():
        for a, b in combinations(group, 2):
            out.keep(a, b, "spacing")
    compacts = sorted(by_compact)
    for name in listed:
        if not may_be_cut(names[name]):
            continue
        c = _compact(name)
        at = bisect.bisect_right(compacts, c)
        while at < len(compacts) and compacts[at].startswith(c):
            for other in by_compact[compacts[at]]:
                if truncation_ok(name, names[name], other):
                    out.keep(name, other, "truncation")
            at += 1
    present = set(listed)
    for name in listed:
        words = name.split()
        for k in range(1, len(words)):
            short = " ".join(words[:k])
            if short in present and leading_pair_ok(short, name, pac_of, generic):
                out.keep(short, name, "leading_words")
    for group in brand_groups(pac_of, generic, present):
        for a, b in brand_pairs(group):
            out.keep(a, b, "shared_brand")
    by_initials: dict[str, list[str]] = defaultdict(list)
    for name in listed:
        words = name.split()
        if len(words) >= 3:
            by_initials[_initials(words)].append(name)
    for name in listed:
        if acronym_form(name):
            for other in by_initials.get(name, ()):
                out.keep(name, other, "acronym")
    for group in _typo_groups(listed):
        for a, b in typo_pairs(group):
            out.keep(a, b, "typo")
    return out.candidates()


# ---------------------------------------------------------------------------------- row evidence
def _overlap(x: Counter[str], y: Counter[str]) -> float:
    nx, ny = sum(x.values()), sum(y.values())
    if not nx or not ny:
        return 0.0
    return sum(min(x[k] / nx, y[k] / ny) for k in x.keys() & y.keys())


def row_evidence(pa: Profile, pb: Profile) -> dict[str, float]:
    """Histogram overlap (0-1) of two names' states, ZIP3s, recipients, occupations and corporate PACs
    (the share of each name's rows given to corporate PACs both gave to), and the larger number of
    states either has rows in."""
    return {
        "state": round(_overlap(pa.states, pb.states), 3),
        "zip3": round(_overlap(pa.zip3, pb.zip3), 3),
        "recipient": round(_overlap(pa.recipients, pb.recipients), 3),
        "occupation": round(_overlap(pa.occupations, pb.occupations), 3),
        "corporate_pac": round(_shared_share(pa, pb), 3),
        "states": max(len(pa.states), len(pb.states)),
    }


def _shared_share(pa: Profile, pb: Profile) -> float:
    """Share of each name's rows given to corporate PACs both gave to (the smaller of the two)."""
    shared = pa.corporate.keys() & pb.corporate.keys()
    if not shared or not pa.rows or not pb.rows:
        return 0.0
    return min(sum(pa.corporate[k] for k in shared) / pa.rows, sum(pb.corporate[k] for k in shared) / pb.rows)


def _agrees(kind: str, ev: Mapping[str, float]) -> bool:
    """The rows a kind of string evidence needs (precision first: place always, more for weaker kinds)."""
    place = ev["state"] > 0 or ev["zip3"] > 0
    if kind in ("spacing", "truncation"):
        return place or ev["recipient"] > 0
    if kind == "typo":
        local = ev["state"] > 0 and (ev["zip3"] > 0 or ev["recipient"] > 0 or ev["occupation"] > 0)
        return local or (ev["states"] >= _NATIONAL_STATES and ev["recipient"] > 0)
    if kind == "leading_words":
        return (ev["state"] > 0 and (ev["zip3"] > 0 or ev["recipient"] > 0)) or ev["corporate_pac"] >= 0.5
    if kind == "shared_brand":
        return ev["corporate_pac"] >= 0.5
    if kind == "acronym":
        return ev["zip3"] > 0 and ev["recipient"] > 0
    raise ValueError(kind)


ROW_RULES = {
    "spacing": "a shared state or ZIP3, or a shared recipient",
    "truncation": "a shared state or ZIP3, or a shared recipient",
    "typo": "a shared state, and a shared ZIP3, recipient or occupation; or, for an employer with rows in "
    "3+ states (no place signal), a shared recipient",
    "leading_words": "a shared state, and a shared ZIP3 or recipient; or a shared corporate PAC",
    "shared_brand": "a corporate PAC that gets at least half of both names' rows",
    "acronym": "a shared ZIP3 and a shared recipient",
}


def _score(kind: str, ev: Mapping[str, float]) -> float:
    support = max(ev["corporate_pac"], (ev["state"] + ev["zip3"] + ev["recipient"] + ev["occupation"]) / 4)
    return round(STRING_SCORE[kind] * (0.6 + 0.4 * support), 2)


def weak_form(name: str, longest: int) -> bool:
    """A name that should not be a center while a full form is at hand: an acronym or a cut string
    (``longest``: the length of its longest raw spelling)."""
    return (" " not in name and len(name) <= 5) or longest >= TRUNCATED_AT


Edge = tuple[Candidate, dict[str, float]]


def agreeing_edges(
    candidates: Iterable[Candidate], profiles: Mapping[str, Profile], fixed: Set[str]
) -> Iterator[Edge]:
    """The candidates whose rows agree (:data:`ROW_RULES`), in order, with their row evidence
    (a pair of two ``fixed`` names is skipped: neither can join the other)."""
    empty = Profile()
    for c in candidates:
        if c.a in fixed and c.b in fixed:
            continue
        ev = row_evidence(profiles.get(c.a, empty), profiles.get(c.b, empty))
        if _agrees(c.kind, ev):
            yield c, ev


def resolve(
    candidates: Iterable[Candidate],
    profiles: Mapping[str, Profile],
    *,
    fixed: Iterable[str] = (),
    longest: Mapping[str, int] | None = None,
) -> dict[str, Decision]:
    """Star clusters from the candidates whose rows agree: name -> the center it joins
    (:func:`agreeing_edges`, then :func:`star_clusters`, with each name's rows from its profile)."""
    fixed = set(fixed)
    edges = list(agreeing_edges(candidates, profiles, fixed))
    rows = {name: p.rows for name, p in profiles.items()}
    return star_clusters(edges, rows, fixed=fixed, longest=longest)


def star_clusters(
    edges: Iterable[Edge],
    rows: Mapping[str, int],
    *,
    fixed: Iterable[str] = (),
    longest: Mapping[str, int] | None = None,
) -> dict[str, Decision]:
    """Name -> the center it joins, from the pairs whose rows agree (:func:`visit_stars`, with every
    edge in memory; normalize streams them from the database in the same order).

    ``fixed``: names that are centers whatever happens (existing employers, curated canonical
    names); ``longest`` as in :func:`candidate_pairs`.
    """
    longest = longest or {}
    fixed = set(fixed)
    adjacent: dict[str, list[Neighbor]] = defaultdict(list)
    for c, ev in edges:
        adjacent[c.a].append((c.b, c.kind, ev))
        adjacent[c.b].append((c.a, c.kind, ev))
    order = sorted(
        adjacent, key=lambda n: visit_key(n, fixed=n in fixed, rows=rows.get(n, 0), longest=longest.get(n, 0))
    )
    return {d.name: d for d in visit_stars((n, n in fixed, adjacent[n]) for n in order)}


#: One edge seen from a name: the other name, the kind of string evidence, the row evidence.
Neighbor = tuple[str, str, Mapping[str, float]]


def visit_key(name: str, *, fixed: bool, rows: int, longest: int) -> tuple[bool, bool, int, str]:
    """The order star clusters visit names in: fixed names first, weak forms (:func:`weak_form`)
    last, then by rows (most first), then by name."""
    return (not fixed, weak_form(name, longest), -rows, name)


def visit_stars(visits: Iterable[tuple[str, bool, Iterable[Neighbor]]]) -> Iterator[Decision]:
    """The decisions of star clustering, from each name (in :func:`visit_key` order) with whether it
    is fixed and its neighbors (in edge order).

    A fixed name is a center whatever happens. Any other name joins its best neighbor that is a
    center already (highest score, then shortest name, then the first edge); with none it becomes a
    center. Only the set of centers is kept, so the edges can come from a stream.
    """
    centers: set[str] = set()
    for name, is_fixed, neighbors in visits:
        if is_fixed:
            centers.add(name)
            continue
        best: Decision | None = None
        for other, kind, ev in neighbors:
            if other in centers:
                d = Decision(name, other, kind, _score(kind, ev), dict(ev))
                if best is None or (d.score, -len(d.target)) > (best.score, -len(best.target)):
                    best = d
        if best is None:
            centers.add(name)
        else:
            yield best


# ------------------------------------------------------------------------------ both steps at once
RowCounts = tuple[str, str | None, str | None, str | None, str | None, int]


def count_itcont_rows(lines: Iterable[str]) -> list[RowCounts]:
    """Raw itcont lines grouped as :func:`cluster_rows` takes them: (employer, occupation, state, ZIP,
    recipient committee, n). For tools and tests that read files; normalize groups in SQL."""
    counts: Counter[tuple[str, str | None, str | None, str | None, str | None]] = Counter()
    for line in lines:
        f = line.rstrip("\n").split("|")
        counts[(f[11], f[12] or None, f[9] or None, f[10] or None, f[0])] += 1
    return [(*key, n) for key, n in counts.items()]


def cluster_rows(
    rows: Iterable[RowCounts], *, corporate_pacs: Iterable[str] = (), fixed: Iterable[str] = ()
) -> dict[str, str]:
    """Raw employer string -> its employer's name (a bucket's name for generic values), from counted
    rows ``(raw_employer, occupation, state, zip_code, recipient_committee_id, n)``;
    ``corporate_pacs``: the committee ids of corporations' PACs (cm ORG_TP C or W).

    The same decisions normalize stores, without a database: the per-string map, then
    :func:`candidate_pairs` and :func:`resolve` over the names it gives. ``fixed`` as in
    :func:`resolve` (curated canonical names are always fixed).
    """
    from fecflow.normalize.employers import alias_rows, build_employer_map

    counted = list(rows)
    corporate = set(corporate_pacs)
    matches = build_employer_map(r[0] for r in counted)
    name_of = {raw: (m.canonical_name or m.bucket or "") for raw, m in matches.items()}
    longest: dict[str, int] = {}
    profiles: dict[str, Profile] = defaultdict(Profile)
    for raw, occupation, state, zip_code, recipient, n in counted:
        m = matches[raw]
        if m.canonical_name is None:
            continue
        longest[m.canonical_name] = max(longest.get(m.canonical_name, 0), len(raw.strip()))
        profiles[m.canonical_name].add(
            state, zip_code, recipient, occupation, n, corporate=recipient in corporate
        )
    curated = {canonical for _, canonical, _ in alias_rows()}
    pac_of = {name: pac for name, p in profiles.items() if (pac := p.corporate_pac())}
    decisions = resolve(
        candidate_pairs(longest, pac_of),
        profiles,
        fixed={*fixed, *(curated & longest.keys())},
        longest=longest,
    )
    return {raw: (decisions[name].target if name in decisions else name) for raw, name in name_of.items()}
