"""Similar employer names: string evidence finds candidates, row evidence decides (issue #19)."""

from __future__ import annotations

import pytest

from fecflow.normalize.employer_similarity import (
    Candidate,
    Profile,
    candidate_pairs,
    cluster_rows,
    generic_words,
    resolve,
)


def _profile(*rows: tuple[str, str, str, str], corporate: bool = False) -> Profile:
    """rows: (state, zip, recipient, occupation), one row each."""
    p = Profile()
    for state, zip_code, recipient, occupation in rows:
        p.add(state, zip_code, recipient, occupation, 1, corporate=corporate)
    return p


def _kinds(names: dict[str, int], pac_of: dict[str, str] | None = None) -> dict[tuple[str, str], str]:
    return {(c.a, c.b): c.kind for c in candidate_pairs(names, pac_of)}


@pytest.mark.parametrize(
    ("a", "b", "longest_a", "kind"),
    [
        ("NORTHROP GRUMMAN", "NORTHROPGRUMMAN", 16, "spacing"),
        ("NEW YORK CITY HEALTH HOSPITALS CORPO", "NEW YORK CITY HEALTH HOSPITALS", 38, "leading_words"),
        (
            "NEW YORK CITY HEALTH HOSPITALS CORPO",
            "NEW YORK CITY HEALTH HOSPITALS CORPORATE",
            38,
            "truncation",
        ),
        ("PRICEWATERHOUSECOOPE", "PRICEWATERHOUSECOOPERS", 20, "truncation"),
        ("NORTHROP GRUNMAN", "NORTHROP GRUMMAN", 16, "typo"),
        ("BRIDGEPOINT EDUCTION", "BRIDGEPOINT EDUCATION", 20, "typo"),
        ("MI REGIONAL COUNCIL", "NE REGIONAL COUNCIL", 19, None),  # short words are not typos
        ("IUOE LOCAL L0463", "IUOE LOCAL L0624", 16, None),  # numbers are not typos
        ("STATE OF IOWA", "STATE OF OHIO", 13, None),  # places are not typos
        ("JACKSON NATIONAL", "JACKSON NATIONAL LIFE", 16, "leading_words"),
        ("RADIOLOGY ASSOCIATES", "RADIOLOGY ASSOCIATES OF MACON", 20, None),  # OF <place>: another practice
        ("ACME", "ACME HOSPITAL", 4, None),  # a separate body
        ("MONTGOMERY COUNTY", "MONTGOMERY COUNTY COMMUNITY COLLEGE", 17, None),
        ("NHRA", "NEWPORT HARBOR RADIOLOGY ASSOCIATES", 4, "acronym"),
    ],
)
def test_string_evidence(a: str, b: str, longest_a: int, kind: str | None) -> None:
    found = _kinds({a: longest_a, b: len(b)})
    key = (a, b) if a < b else (b, a)
    assert found.get(key) == kind


def test_generic_words_are_shared_by_unrelated_names() -> None:
    names = [f"{town} RADIOLOGY ASSOCIATES" for town in ("AUSTIN", "DAKOTA", "TEXAS", "HOUSTON")]
    names += ["NEXTERA ENERGY", "NEXTERA ENERGY RESOURCES", "NEXTERA POWER"]
    generic = generic_words(names)
    assert {"RADIOLOGY", "ASSOCIATES"} <= generic
    assert "NEXTERA" not in generic


def test_shared_brand_needs_one_corporate_pac() -> None:
    names = {"DUKE ENERGY CAROLINAS": 21, "DUKE ENERGY PROGRESS": 20, "DUKE REALTY": 11}
    pacs = {"DUKE ENERGY CAROLINAS": "C1", "DUKE ENERGY PROGRESS": "C1", "DUKE REALTY": "C2"}
    kinds = _kinds(names, pacs)
    assert kinds == {("DUKE ENERGY CAROLINAS", "DUKE ENERGY PROGRESS"): "shared_brand"}


def test_rows_must_agree_same_name_in_other_places_stays_apart() -> None:
    here = _profile(("TX", "77002", "C9", "ATTORNEY"))
    there = _profile(("OR", "97401", "C8", "ATTORNEY"))
    pair = [Candidate("SMITH JONES", "SMITHJONES", "spacing")]
    assert resolve(pair, {"SMITH JONES": here, "SMITHJONES": there}) == {}
    near = _profile(("TX", "77005", "C7", "PARALEGAL"))
    decided = resolve(
        pair, {"SMITH JONES": _profile(*[("TX", "77002", "C9", "ATTORNEY")] * 3), "SMITHJONES": near}
    )
    assert decided["SMITHJONES"].target == "SMITH JONES"
    assert decided["SMITHJONES"].kind == "spacing"
    assert decided["SMITHJONES"].evidence["state"] == 1.0
    assert 0 < decided["SMITHJONES"].score <= 1


def test_acronym_needs_zip3_and_recipient() -> None:
    full = _profile(*[("CA", "92660", "C1", "RADIOLOGIST")] * 5)
    pair = [Candidate("NEWPORT HARBOR RADIOLOGY ASSOCIATES", "NHRA", "acronym")]
    same = resolve(
        pair, {"NEWPORT HARBOR RADIOLOGY ASSOCIATES": full, "NHRA": _profile(("CA", "92663", "C1", "MD"))}
    )
    assert same["NHRA"].target == "NEWPORT HARBOR RADIOLOGY ASSOCIATES"
    other_town = _profile(("GA", "30601", "C1", "RADIOLOGIST"))
    assert resolve(pair, {"NEWPORT HARBOR RADIOLOGY ASSOCIATES": full, "NHRA": other_town}) == {}


def test_clusters_are_stars_and_fixed_names_never_move() -> None:
    tx = ("TX", "75001", "C1", "ENGINEER")
    profiles = {
        "ACME WIDGETS": _profile(tx),
        "ACMEWIDGETS": _profile(tx, tx, tx),
        "ACME WIDGTES": _profile(tx),
    }
    pairs = [
        Candidate("ACME WIDGETS", "ACMEWIDGETS", "spacing"),
        Candidate("ACME WIDGETS", "ACME WIDGTES", "typo"),
    ]
    # ACMEWIDGETS has most rows but ACME WIDGETS already exists: the existing employer is the center.
    decided = resolve(pairs, profiles, fixed={"ACME WIDGETS"})
    assert {n: d.target for n, d in decided.items()} == {
        "ACMEWIDGETS": "ACME WIDGETS",
        "ACME WIDGTES": "ACME WIDGETS",
    }
    # Without it, the largest name is the center and ACME WIDGTES does not chain through ACME WIDGETS.
    decided = resolve(pairs, profiles)
    assert {n: d.target for n, d in decided.items()} == {"ACME WIDGETS": "ACMEWIDGETS"}


def test_cluster_rows_maps_raw_strings() -> None:
    rows = [
        ("NORTHROP GRUMMAN CORP", "ENGINEER", "VA", "22102", "C1", 5),
        ("NORTHROP GRUNMAN", "ENGINEER", "VA", "22101", "C1", 2),
        ("NORTHROP GRUNMAN", "ENGINEER", "CA", "90245", "C2", 1),
        ("RETIRED", "RETIRED", "VA", "22101", "C1", 9),
        ("SMITH CONSULTING", "CONSULTANT", "OR", "97401", "C3", 1),
        ("SMITHCONSULTING", "CONSULTANT", "FL", "33101", "C4", 1),
    ]
    mapped = cluster_rows(rows)
    assert mapped["NORTHROP GRUNMAN"] == mapped["NORTHROP GRUMMAN CORP"] == "NORTHROP GRUMMAN"
    assert mapped["RETIRED"] == "RETIRED"
    assert mapped["SMITH CONSULTING"] != mapped["SMITHCONSULTING"]  # same letters, nothing else shared
