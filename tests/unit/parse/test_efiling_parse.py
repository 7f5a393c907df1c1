"""parse.efiling: every line of every sample filing kept byte for byte and classified, fields named by
fecfile, unknown versions and unmapped records quarantined with a reason (#21)."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fecflow.parse.efiling import UNKNOWN_VERSION, UNMAPPED_RECORD, parse_filing, split_lines

EFILINGS = Path(__file__).resolve().parents[2] / "fixtures" / "efilings"

# filing: (version, lines, first form record) measured on the bundled samples
SAMPLES = {
    "1229017": ("8.2", 235, "F3N"),
    "1236235": ("8.2", 41, "F99"),
    "1260488": ("8.3", 45, "F99"),
    "13360": ("2.02", 169, "F3XA"),
    "1385191": ("8.3", 5, "F3PN"),
    "1527862": ("8.3", 2970, "F3PN"),
    "1544132": ("8.3", 3137, "F3N"),
    "1550126": ("8.3", 25, "F3A"),
    "1550548": ("8.3", 120, "F3XA"),
    "27789": ("3.00", 2839, "F3XA"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_line_is_kept_parsed_and_classified(name: str) -> None:
    data = (EFILINGS / f"{name}.fec").read_bytes()
    filing = parse_filing(data)
    version, lines, form = SAMPLES[name]
    assert (filing.version, len(filing.lines), filing.rejected, filing.error) == (version, lines, 0, None)
    assert b"".join(line.raw for line in filing.lines) == data
    assert [line.line_number for line in filing.lines] == list(range(1, lines + 1))
    assert filing.form_line is not None and filing.form_line.record_type == form
    assert filing.form_line.fields is not None and filing.form_line.fields["form_type"] == form


def test_fields_are_named_and_kept_as_text() -> None:
    filing = parse_filing((EFILINGS / "1229017.fec").read_bytes())
    first_sa = next(line for line in filing.lines if line.record_type == "SA11AI")
    assert first_sa.fields is not None
    assert first_sa.fields["contribution_amount"] == "1000.00"
    assert first_sa.fields["contributor_organization_name"] == "Coquille Indian Tribe"
    assert filing.header["report_number"] == "0"


def test_legacy_header_block_and_quoted_csv() -> None:
    legacy = parse_filing((EFILINGS / "13360.fec").read_bytes())
    kinds = Counter(line.record_type for line in legacy.lines)
    assert legacy.lines[0].record_type == "HDR" and legacy.header["fec_ver_#"] == "2.02"
    assert kinds["SA11A1"] == 139  # the header block's own schedule_counts say 139
    quoted = parse_filing((EFILINGS / "27789.fec").read_bytes())
    assert Counter(line.record_type for line in quoted.lines)["SA11A1"] == 2626
    assert quoted.header["report_id"] == "FEC-24088"


def test_f99_text_is_kept_as_text_lines() -> None:
    filing = parse_filing((EFILINGS / "1260488.fec").read_bytes())
    text = [line for line in filing.lines if line.record_type == "TEXT"]
    assert text[0].fields == {"text": "[BEGINTEXT]"} and text[-1].fields == {"text": "[ENDTEXT]"}
    assert len(text) == 43


def test_the_invalid_version_filing_is_quarantined_whole_with_a_clear_reason() -> None:
    data = (EFILINGS / "filing_invalid_version.fec").read_bytes()
    filing = parse_filing(data)
    assert filing.version == "180.5"
    assert filing.error is not None and "unknown .fec format version '180.5'" in filing.error
    assert filing.parsed == 0 and filing.rejected == len(filing.lines) == 469
    assert {line.reason for line in filing.lines} == {UNKNOWN_VERSION}
    assert b"".join(line.raw for line in filing.lines) == data


def test_an_unmapped_record_is_quarantined_and_the_rest_parsed() -> None:
    data = (EFILINGS / "1236235.fec").read_bytes()
    lines = split_lines(data)
    broken = b"".join([*lines[:2], b"ZZ9\x1cnot a form\n", *lines[2:]])
    filing = parse_filing(broken)
    assert [(line.line_number, line.reason) for line in filing.lines if line.rejected] == [(3, UNMAPPED_RECORD)]
    assert filing.parsed == len(lines)
    assert b"".join(line.raw for line in filing.lines) == broken


def test_crlf_lone_cr_latin1_and_no_final_newline_survive() -> None:
    data = (EFILINGS / "1236235.fec").read_bytes()
    lines = split_lines(data)
    odd = lines[0].replace(b"\n", b"\r\n") + lines[1].replace(b"MST", b"M\xe9T\rX") + lines[2].rstrip(b"\n")
    filing = parse_filing(odd)
    assert b"".join(line.raw for line in filing.lines) == odd
    assert filing.rejected == 0 and filing.lines[1].recoded


def test_the_daily_archive_parses_whole() -> None:
    with zipfile.ZipFile(EFILINGS / "20180616.zip") as zf:
        filings = [parse_filing(zf.read(name)) for name in zf.namelist()]
    assert len(filings) == 52
    assert sum(len(f.lines) for f in filings) == 3939 and sum(f.rejected for f in filings) == 0
    assert Counter(f.version for f in filings) == {"8.2": 52}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_no_input_loses_a_byte(data: bytes) -> None:
    filing = parse_filing(data)
    assert b"".join(line.raw for line in filing.lines) == data
    assert filing.parsed + filing.rejected == len(filing.lines)
