"""The fast forms of the ID patterns (no bounded repetition) accept exactly what the patterns accept."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fecflow.catalog import FILES
from fecflow.catalog.ids import CANDIDATE_ID, CANDIDATE_OR_COMMITTEE_ID, COMMITTEE_ID, SUB_ID
from fecflow.checks.schema import UNBOUNDED_FORMS

# Characters IDs are made of, and some they are not (no newline: Python's $ also matches before one).
ALPHABET = "0123456789CHSPAZcx -_."


def _fast(pattern: str, value: str) -> bool:
    regex, shortest, longest = UNBOUNDED_FORMS[pattern]
    return shortest <= len(value) <= longest and re.search(regex, value) is not None


def test_every_id_pattern_has_a_fast_form() -> None:
    patterns = {spec.id_pattern(c.raw) for spec in FILES.values() for c in spec.columns} - {None}
    assert patterns and patterns <= set(UNBOUNDED_FORMS)


@pytest.mark.parametrize("pattern", sorted(UNBOUNDED_FORMS))
@settings(max_examples=400)
@given(
    value=st.one_of(
        st.text(alphabet=ALPHABET, max_size=22),
        # near misses: valid-looking ids of every length around the expected one
        st.builds(
            lambda head, n: head + "1" * n, st.sampled_from(["", "C", "H", "S", "P", "X"]), st.integers(0, 21)
        ),
    )
)
def test_fast_form_agrees_with_the_pattern(pattern: str, value: str) -> None:
    assert _fast(pattern, value) == (re.search(pattern, value) is not None)


def test_fast_forms_on_real_shapes() -> None:
    committee, candidate = COMMITTEE_ID, CANDIDATE_ID
    assert (
        _fast(committee, "C00401224")
        and not _fast(committee, "C0040122")
        and not _fast(committee, "H0CA12345")
    )
    assert _fast(candidate, "H0CA12345") and not _fast(candidate, "C00401224")
    assert not _fast(candidate, "HARTFIELD"), "a word in a candidate id column is not an id"
    either = FILES["ccl"].id_pattern("CAND_ID")
    assert either == CANDIDATE_OR_COMMITTEE_ID
    assert _fast(either, "C00401224") and _fast(either, "P80001571") and not _fast(either, "C0040122A")
    sub_id = SUB_ID
    assert _fast(sub_id, "4041820191649418123") and not _fast(sub_id, "404182019164941812")
