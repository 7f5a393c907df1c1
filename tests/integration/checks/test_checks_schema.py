"""Schema checks on the real 2020 sample: every staged file passes; each kind of bad field fails."""

from __future__ import annotations

import pytest
from psycopg import sql

from fecflow.checks.schema import check_schema, valid_date
from fecflow.checks.tolerances import Tolerances
from integration.checks.checks_helpers import failed_names, only
from integration.checks.faults import add_field_count_rejects
from integration.checks.sample_db import FILES, Sample

pytestmark = pytest.mark.integration
INDIV_LINES = 70_671


def test_every_real_file_passes(sample: Sample, tolerances: Tolerances) -> None:
    for file_type in FILES:
        results = check_schema(sample.conn, sample.sfid(file_type), tolerances)
        assert [r.status for r in results] == ["passed"] * 5, [r.describe() for r in results]
    indiv = check_schema(sample.conn, sample.sfid("indiv"), tolerances)
    dates = only(indiv, "schema.valid_dates")
    assert dates.observed == 1.0 and dates.details["TRANSACTION_DT"]["of"] == INDIV_LINES
    assert only(indiv, "schema.field_count_rejects").observed == 0
    # cm: two committees carry a committee id in CAND_ID (a known FEC quirk), accepted as well formed
    cm_ids = only(check_schema(sample.conn, sample.sfid("cm"), tolerances), "schema.valid_ids")
    assert cm_ids.details["CAND_ID"]["ok"] == cm_ids.details["CAND_ID"]["of"]


def test_blank_required_field_fails(sample: Sample, tolerances: Tolerances) -> None:
    blanked = sample.execute(
        "UPDATE staging.indiv SET cmte_id = NULL WHERE _source_file_id = %s AND _line_number %% 500 = 0",
        (sample.sfid("indiv"),),
    )
    result = only(check_schema(sample.conn, sample.sfid("indiv"), tolerances), "schema.required_fields")
    assert result.status == "failed"
    assert result.observed == pytest.approx((INDIV_LINES - blanked) / INDIV_LINES)
    assert "CMTE_ID" in result.message and f"{INDIV_LINES - blanked:,} of {INDIV_LINES:,}" in result.message


def test_impossible_dates_fail_unless_tolerated(sample: Sample, tolerances: Tolerances) -> None:
    sample.execute(
        "UPDATE staging.indiv SET transaction_dt = '02302019' WHERE _source_file_id = %s AND _line_number %% 50 = 0",
        (sample.sfid("indiv"),),
    )
    results = check_schema(sample.conn, sample.sfid("indiv"), tolerances)
    assert failed_names(results) == {"schema.valid_dates"}
    assert only(results, "schema.valid_dates").observed == pytest.approx(
        1 - (INDIV_LINES // 50) / INDIV_LINES
    )
    relaxed = tolerances.with_values({"date_valid_share": 0.95}, origin="test")
    assert not failed_names(check_schema(sample.conn, sample.sfid("indiv"), relaxed))


def test_amounts_that_are_not_numbers_fail(sample: Sample, tolerances: Tolerances) -> None:
    sample.execute(
        "UPDATE staging.indiv SET transaction_amt = replace(transaction_amt, '0', 'O') "
        "WHERE _source_file_id = %s AND _line_number %% 400 = 0 AND transaction_amt LIKE '%%0%%'",
        (sample.sfid("indiv"),),
    )
    results = check_schema(sample.conn, sample.sfid("indiv"), tolerances)
    assert failed_names(results) == {"schema.valid_amounts"}
    assert "TRANSACTION_AMT" in only(results, "schema.valid_amounts").message


def test_malformed_ids_fail(sample: Sample, tolerances: Tolerances) -> None:
    sample.execute(
        "UPDATE staging.oth SET sub_id = left(sub_id, 18) WHERE _source_file_id = %s AND _line_number %% 300 = 0",
        (sample.sfid("oth"),),
    )
    result = only(check_schema(sample.conn, sample.sfid("oth"), tolerances), "schema.valid_ids")
    assert result.status == "failed" and "SUB_ID" in result.message
    assert result.details["CMTE_ID"]["share"] == 1.0


def test_field_count_rejects_over_tolerance_fail(sample: Sample, tolerances: Tolerances) -> None:
    add_field_count_rejects(sample, "indiv", 100)
    result = only(check_schema(sample.conn, sample.sfid("indiv"), tolerances), "schema.field_count_rejects")
    assert result.status == "failed"
    assert result.observed == pytest.approx(100 / (INDIV_LINES + 100))
    assert "expected 21 fields" in result.message


_DATES = [
    # (value, column type, a calendar date?)
    ("02292020", "date_mmddyyyy", True),
    ("02302020", "date_mmddyyyy", False),
    ("02291900", "date_mmddyyyy", False),  # 1900 was no leap year: not in the common set, the test says no
    ("12312099", "date_mmddyyyy", True),
    ("01012100", "date_mmddyyyy", True),  # past the common years: decided by the calendar test
    ("02292100", "date_mmddyyyy", False),
    ("07041776", "date_mmddyyyy", True),
    ("00000000", "date_mmddyyyy", False),
    ("01010000", "date_mmddyyyy", False),
    ("13012020", "date_mmddyyyy", False),
    (" 01012020", "date_mmddyyyy", False),
    ("1012020", "date_mmddyyyy", False),
    ("01/31/2020", "date_mm_dd_yyyy", True),
    ("02/30/2020", "date_mm_dd_yyyy", False),
    ("01312020", "date_mm_dd_yyyy", False),
    ("01/01/2150", "date_mm_dd_yyyy", True),
]


def test_valid_date_with_its_common_date_set_says_what_the_calendar_test_says(sample: Sample) -> None:
    """The hashed set of common dates is a shortcut: every value gets the calendar test's answer."""
    for value, column_type, expected in _DATES:
        query = sql.SQL("SELECT {}").format(valid_date(sql.Literal(value), column_type))
        row = sample.conn.execute(query).fetchone()
        assert row is not None and row[0] is expected, (value, column_type)
