"""read_header_file / check_header_matches on the shapes real FEC header copies come in."""

from __future__ import annotations

import pytest

from fecflow.catalog import get_file_spec
from fecflow.errors import DataError
from fecflow.parse import check_header_matches, read_header_file

CCL = "CAND_ID,CAND_ELECTION_YR,FEC_ELECTION_YR,CMTE_ID,CMTE_TP,CMTE_DSGN,LINKAGE_ID"


@pytest.mark.parametrize(
    "raw",
    [CCL.encode(), (CCL + "\n").encode(), (CCL + "\r\n").encode(), ("\ufeff" + CCL + "\r\n\r\n").encode(),
     CCL.replace(",", " , ").encode()],
)
def test_header_shapes(raw):
    names = read_header_file(raw)
    assert names == CCL.split(",")
    check_header_matches(get_file_spec("ccl"), names)


def test_header_names_compare_case_insensitively():
    check_header_matches(get_file_spec("ccl"), [n.lower() for n in CCL.split(",")])


@pytest.mark.parametrize("raw", [b"", b"\r\n\n", CCL.encode() + b"\nX,Y\n", b"A,,B", b"\xff\xfe"])
def test_unreadable_headers(raw):
    with pytest.raises(DataError):
        read_header_file(raw)


def test_mismatch_names_every_differing_position():
    names = CCL.split(",")
    names[3] = "COMMITTEE_ID"
    with pytest.raises(DataError) as info:
        check_header_matches(get_file_spec("ccl"), names)
    assert "#4: expected 'CMTE_ID', got 'COMMITTEE_ID'" in str(info.value)
    assert info.value.hint and "catalog" in info.value.hint


def test_mismatch_in_column_count():
    with pytest.raises(DataError, match="expected 7 columns, got 8"):
        check_header_matches(get_file_spec("ccl"), [*CCL.split(","), "EXTRA"])
