"""Accounting on the real 2020 sample: lines and dollars balance; lost, altered and stale rows fail."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fecflow.checks import accounting
from fecflow.checks.accounting import (
    check_core_accounting,
    check_provenance,
    check_staging_accounting,
    check_unique_sub_ids,
)
from fecflow.checks.schema import check_schema
from fecflow.checks.tolerances import Tolerances, load_tolerances
from fecflow.config import Settings
from integration.checks.checks_helpers import failed_names, only
from integration.checks.faults import add_field_count_rejects, core_amount, indiv_sub_ids, truncate_staged
from integration.checks.sample_db import CYCLE, FILES, NORMALIZED, Sample

pytestmark = pytest.mark.integration
INDIV_LINES = 70_671


def test_real_sample_balances(sample: Sample, tolerances: Tolerances) -> None:
    for file_type in FILES:
        staged = check_staging_accounting(sample.conn, sample.sfid(file_type), tolerances)
        assert [r.status for r in staged] == ["passed"] * 4, [r.describe() for r in staged]
    for file_type in NORMALIZED:
        core = check_core_accounting(sample.conn, sample.sfid(file_type), tolerances)
        assert core and all(r.status == "passed" for r in core), [r.describe() for r in core]
    assert check_unique_sub_ids(sample.conn, CYCLE).status == "passed"
    provenance = check_provenance(sample.conn, CYCLE)
    assert (provenance.status, provenance.observed) == ("passed", 0)
    indiv = check_staging_accounting(sample.conn, sample.sfid("indiv"), tolerances)
    assert only(indiv, "accounting.lines_balance").observed == INDIV_LINES
    core = check_core_accounting(sample.conn, sample.sfid("indiv"), tolerances)
    assert only(core, "accounting.amount_total").observed == Decimal("31528113.00")  # sum of TRANSACTION_AMT
    assert only(core, "accounting.amounts_by_committee").details["committees"] == 960
    # all 3,159 pas2 SUB_IDs are also in oth: the pas2 rows own them and oth still balances
    oth = check_core_accounting(sample.conn, sample.sfid("oth"), tolerances)
    assert only(oth, "accounting.core_rows").details["staged_rows"] == 50_921


def _describe_all(sample: Sample, file_type: str, tolerances: Tolerances) -> list[dict[str, object]]:
    return [r.describe() for r in check_core_accounting(sample.conn, sample.sfid(file_type), tolerances)]


def test_the_multiset_test_vouches_only_for_identical_rows_and_says_what_the_full_comparison_says(
    sample: Sample, tolerances: Tolerances, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Aggregates of (SUB_ID, amount) on both sides, no join: for indiv and pas2 of the real sample they
    vouch for the snapshot and the results equal the full join's, message for message. oth holds
    pas2-owned SUB_IDs, so it goes to the full comparison."""
    info = {ft: accounting.source_file_info(sample.conn, sample.sfid(ft)) for ft in NORMALIZED}
    vouched = {
        ft: accounting._same_rows(sample.conn, info[ft]) is not None for ft in ("indiv", "pas2", "oth")
    }
    assert vouched == {"indiv": True, "pas2": True, "oth": False}
    fast = {ft: _describe_all(sample, ft, tolerances) for ft in ("indiv", "pas2")}
    monkeypatch.setattr(accounting, "_same_rows", lambda conn, info: None)
    assert fast == {ft: _describe_all(sample, ft, tolerances) for ft in ("indiv", "pas2")}


def test_swapped_amounts_and_padded_amounts_go_to_the_full_comparison(
    sample: Sample, tolerances: Tolerances
) -> None:
    """Two rows of one committee trading amounts keep every count and sum: only the row hash sees it.
    The full comparison then decides (per-committee sums equal: it passes, as it always did)."""
    indiv = accounting.source_file_info(sample.conn, sample.sfid("indiv"))
    pair = sample.conn.execute(
        "SELECT a.sub_id, b.sub_id FROM core.contribution a JOIN core.contribution b "
        "ON b.recipient_committee_key = a.recipient_committee_key AND b.amount <> a.amount AND b.sub_id > a.sub_id "
        "WHERE a.source = 'indiv' AND b.source = 'indiv' ORDER BY a.sub_id, b.sub_id LIMIT 1"
    ).fetchone()
    assert pair is not None
    sample.execute(
        "UPDATE core.contribution c SET amount = o.amount FROM core.contribution o "
        "WHERE (c.sub_id, o.sub_id) IN ((%(a)s, %(b)s), (%(b)s, %(a)s))",
        {"a": pair[0], "b": pair[1]},
    )
    assert accounting._same_rows(sample.conn, indiv) is None
    assert not failed_names(check_core_accounting(sample.conn, sample.sfid("indiv"), tolerances))
    sample.execute(
        "UPDATE core.contribution c SET amount = o.amount FROM core.contribution o "
        "WHERE (c.sub_id, o.sub_id) IN ((%(a)s, %(b)s), (%(b)s, %(a)s))",
        {"a": pair[0], "b": pair[1]},
    )
    assert accounting._same_rows(sample.conn, indiv) is not None
    # normalize trims blanks around an amount, the full comparison does not count such a row's dollars
    sample.execute(
        "UPDATE staging.indiv SET transaction_amt = ' ' || transaction_amt WHERE _source_file_id = %s AND sub_id = %s",
        (sample.sfid("indiv"), str(pair[0])),
    )
    assert accounting._same_rows(sample.conn, indiv) is None
    total = only(
        check_core_accounting(sample.conn, sample.sfid("indiv"), tolerances), "accounting.amount_total"
    )
    assert total.details["difference"] != 0


def test_lost_tail_unbalances_the_lines(sample: Sample, tolerances: Tolerances) -> None:
    lost = truncate_staged(sample, "indiv", keep=INDIV_LINES - 100)
    assert lost == 100
    results = check_staging_accounting(sample.conn, sample.sfid("indiv"), tolerances)
    assert failed_names(results) == {
        "accounting.lines_balance",
        "accounting.audit_counts",
        "accounting.line_numbers",
    }
    balance = only(results, "accounting.lines_balance")
    assert (balance.observed, balance.expected) == (INDIV_LINES - 100, INDIV_LINES)
    assert only(results, "accounting.line_numbers").observed == {"first": 1, "last": INDIV_LINES - 100}
    # the other files are untouched
    assert not failed_names(check_staging_accounting(sample.conn, sample.sfid("pas2"), tolerances))


def test_reject_rate_over_tolerance_fails_and_can_be_overridden(
    sample: Sample, tolerances: Tolerances, tmp_path: Path
) -> None:
    add_field_count_rejects(sample, "indiv", 100)
    results = check_staging_accounting(sample.conn, sample.sfid("indiv"), tolerances)
    assert failed_names(results) == {"accounting.reject_rate"}  # the lines still balance
    rate = only(results, "accounting.reject_rate")
    assert rate.observed == pytest.approx(100 / (INDIV_LINES + 100)) and rate.tolerance == 0.001
    assert only(results, "accounting.lines_balance").observed == INDIV_LINES + 100

    relaxed = load_tolerances(
        Settings(_env_file=None),
        ["reject_rate=0.05", "field_count_reject_rate=0.05"],
        cwd=tmp_path,
    )
    assert not failed_names(check_staging_accounting(sample.conn, sample.sfid("indiv"), relaxed))
    assert not failed_names(check_schema(sample.conn, sample.sfid("indiv"), relaxed))


def test_rows_lost_between_staging_and_core_fail(sample: Sample, tolerances: Tolerances) -> None:
    gone = indiv_sub_ids(sample, 5)
    soft = indiv_sub_ids(sample, 1, offset=2000)
    lost_dollars = core_amount(sample, gone + soft)
    assert sample.execute("DELETE FROM core.contribution WHERE sub_id = ANY(%s)", (gone,)) == 5
    assert (
        sample.execute("UPDATE core.contribution SET deleted_at = now() WHERE sub_id = ANY(%s)", (soft,)) == 1
    )
    results = check_core_accounting(sample.conn, sample.sfid("indiv"), tolerances)
    assert failed_names(results) == {
        "accounting.core_rows",
        "accounting.amounts_by_committee",
        "accounting.amount_total",
    }
    rows = only(results, "accounting.core_rows")
    assert rows.observed == 6
    assert rows.details["examples"] == [str(s) for s in gone]  # the first five, in file order
    total = only(results, "accounting.amount_total")
    assert total.details["difference"] == -lost_dollars


def test_altered_amount_fails_within_its_committee(sample: Sample, tolerances: Tolerances) -> None:
    row = sample.conn.execute(
        "SELECT c.sub_id, s.cmte_id FROM core.contribution c JOIN staging.pas2 s ON s.sub_id = c.sub_id::text "
        "WHERE c.source = 'pas2' ORDER BY c.sub_id LIMIT 1"
    ).fetchone()
    assert row is not None
    sub_id, committee = row
    sample.execute("UPDATE core.contribution SET amount = amount + 100 WHERE sub_id = %s", (sub_id,))
    results = check_core_accounting(sample.conn, sample.sfid("pas2"), tolerances)
    assert failed_names(results) == {"accounting.amounts_by_committee", "accounting.amount_total"}
    by_committee = only(results, "accounting.amounts_by_committee")
    assert by_committee.observed == 1
    assert by_committee.details["worst"][0]["committee_id"] == committee
    assert by_committee.details["worst"][0]["difference"] == Decimal("100.00")
    assert only(results, "accounting.amount_total").details["difference"] == Decimal("100.00")
    generous = tolerances.with_values({"amount_committee_abs": 100, "amount_total_abs": 100}, origin="test")
    assert not failed_names(check_core_accounting(sample.conn, sample.sfid("pas2"), generous))


def test_stale_and_duplicate_core_rows_fail(sample: Sample, tolerances: Tolerances) -> None:
    copy_columns = (
        "source, cycle, recipient_committee_key, transaction_type, amount, rule_version, category, "
        "counts_as_contribution, is_refund, row_hash, source_file_id"
    )
    victim = indiv_sub_ids(sample, 1)[0]
    # a row that left the snapshot but was never soft-deleted
    sample.execute(
        f"INSERT INTO core.contribution (sub_id, transaction_date, {copy_columns}) "  # noqa: S608
        f"SELECT 4999999999999999998, transaction_date, {copy_columns} FROM core.contribution WHERE sub_id = %s",
        (victim,),
    )
    # the same SUB_ID twice (another date: the database cannot see it)
    sample.execute(
        f"INSERT INTO core.contribution (sub_id, transaction_date, {copy_columns}) "  # noqa: S608
        f"SELECT sub_id, transaction_date - 1, {copy_columns} FROM core.contribution WHERE sub_id = %s",
        (victim,),
    )
    results = check_core_accounting(sample.conn, sample.sfid("indiv"), tolerances)
    stale = only(results, "accounting.stale_core_rows")
    assert stale.status == "failed" and stale.details["examples"] == ["4999999999999999998"]
    unique = check_unique_sub_ids(sample.conn, CYCLE)
    assert unique.status == "failed" and unique.details["examples"] == [str(victim)]


def test_rows_rejected_by_normalize_are_accounted_for(sample: Sample, tolerances: Tolerances) -> None:
    """A staged row normalize could not type is in ops.rejected_row, not in core: both gates still pass."""
    sub_id = indiv_sub_ids(sample, 1)[0]
    sample.execute(
        "INSERT INTO ops.rejected_row (source_file_id, line_number, reason, detail, raw) "
        "SELECT s._source_file_id, s._line_number, 'normalize: invalid TRANSACTION_AMT', 'test', '\\x00'::bytea "
        "FROM staging.indiv s WHERE s._source_file_id = %s AND s.sub_id = %s",
        (sample.sfid("indiv"), str(sub_id)),
    )
    sample.execute("DELETE FROM core.contribution WHERE sub_id = %s", (sub_id,))
    sample.execute(
        "UPDATE staging.indiv SET transaction_amt = 'N/A' WHERE _source_file_id = %s AND sub_id = %s",
        (sample.sfid("indiv"), str(sub_id)),
    )
    core = check_core_accounting(sample.conn, sample.sfid("indiv"), tolerances)
    assert not failed_names(core), [r.describe() for r in core]
    assert only(core, "accounting.core_rows").details["rejected_by_normalize"] == 1
    assert not failed_names(check_staging_accounting(sample.conn, sample.sfid("indiv"), tolerances))


def test_master_rows_missing_from_core_fail(sample: Sample, tolerances: Tolerances) -> None:
    sample.execute("UPDATE core.committee SET is_placeholder = true WHERE committee_id = 'C00401224'")
    result = only(
        check_core_accounting(sample.conn, sample.sfid("cm"), tolerances), "accounting.core_entities"
    )
    assert (result.status, result.observed, result.details["examples"]) == ("failed", 1, ["C00401224"])


def test_dangling_provenance_fails(sample: Sample) -> None:
    """core.contribution's run and source-file columns have no foreign keys: the check catches what they would."""
    victims = indiv_sub_ids(sample, 2)
    sample.execute("UPDATE core.contribution SET last_run_id = 987654 WHERE sub_id = %s", (victims[0],))
    sample.execute(
        "UPDATE core.contribution SET deleted_by_run_id = 987655, source_file_id = 987656 WHERE sub_id = %s",
        (victims[1],),
    )
    result = check_provenance(sample.conn, CYCLE)
    assert (result.status, result.observed) == ("failed", 3)
    assert result.details["examples"] == [
        "deleted_by_run_id 987655",
        "last_run_id 987654",
        "source_file_id 987656",
    ]
