"""The one counting-rule table: complete, consistent, and the cases every total depends on."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fecflow.normalize.rules import (
    CATEGORIES,
    FILER_SIDES,
    RULE_VERSION,
    RULES,
    render_counting_rules_doc,
    rule_for,
    rules_for_sql,
)

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "data" / "counting-rules.md"
TYPES_CSV = ROOT / "src" / "fecflow" / "normalize" / "data" / "fec_transaction_type_codes.csv"


def _reference_codes() -> list[str]:
    with TYPES_CSV.open(newline="") as fh:
        return [row["transaction_type"] for row in csv.DictReader(fh)]


def test_every_reference_code_has_a_rule_for_both_memo_values() -> None:
    codes = _reference_codes()
    assert len(codes) == 103
    keys = {(r.transaction_type, r.memo) for r in RULES}
    missing = [(c, m) for c in codes for m in (False, True) if (c, m) not in keys]
    assert not missing
    assert len(RULES) == len(keys) == 2 * len(codes)  # no duplicates, no codes outside the list


def test_rules_are_internally_consistent() -> None:
    for r in RULES:
        assert r.category in CATEGORIES
        assert r.sign in (-1, 0, 1)
        assert r.reason.strip()
        if r.memo:
            assert r.category == "memo" and not r.counts_as_contribution and r.sign == 0
        if r.counts_as_contribution:
            assert r.category in {"contribution", "earmarked_contribution", "refund"}
        if r.category == "refund" and not r.memo:
            assert r.is_refund and r.sign == -1 and r.counts_as_contribution


@pytest.mark.parametrize("code", ["15", "15E", "11", "10", "24K", "24Z"])
def test_money_rows_count(code: str) -> None:
    rule = rule_for(code, "")
    assert rule.counts_as_contribution and rule.sign == 1 and not rule.is_refund


def test_earmarks_count_at_the_final_recipient() -> None:
    rule = rule_for("15E", None)
    assert rule.category == "earmarked_contribution" and rule.counts_as_contribution
    assert "conduit" in rule.reason


@pytest.mark.parametrize("code", ["24T", "24I", "15I", "15T"])
def test_conduit_pass_throughs_never_count(code: str) -> None:
    rule = rule_for(code, None)
    assert rule.category == "conduit_passthrough" and not rule.counts_as_contribution


@pytest.mark.parametrize("code", ["15", "15E", "22Y", "24K", "10"])
def test_memo_rows_never_count_but_keep_a_reason(code: str) -> None:
    rule = rule_for(code, "X")
    assert rule.memo and rule.category == "memo" and not rule.counts_as_contribution and rule.sign == 0
    assert rule.reason.startswith("MEMO_CD = X")


def test_refund_type_marks_the_refund_not_the_sign() -> None:
    rule = rule_for("22Y", "")
    assert rule.category == "refund" and rule.is_refund and rule.sign == -1 and rule.counts_as_contribution
    assert rule_for("22Y", "X").is_refund  # kept on the memo twin, which still never counts
    # net giving = sum(sign * amount): a positive 22Y of 50 nets a 15 of 100 to 50; a reversed refund adds back
    rows = [("15", 100), ("22Y", 50), ("22Y", -20), ("15", 70)]
    net = sum(rule_for(t).sign * amount for t, amount in rows if rule_for(t).counts_as_contribution)
    assert net == 100 - 50 + 20 + 70


def test_candidate_self_funding_is_not_a_donor_signal() -> None:
    rule = rule_for("15C")
    assert rule.category == "candidate_self" and not rule.counts_as_contribution


def test_independent_expenditures_have_their_own_categories() -> None:
    assert rule_for("24E").category == "independent_expenditure_for"
    assert rule_for("24A").category == "independent_expenditure_against"
    assert not rule_for("24E").counts_as_contribution and not rule_for("24A").counts_as_contribution


@pytest.mark.parametrize("code", ["15J", "18J", "30J", "32F"])
def test_jfc_allocations_are_memos_even_without_memo_code(code: str) -> None:
    rule = rule_for(code, "")
    assert rule.category == "memo" and not rule.counts_as_contribution and rule.sign == 0


@pytest.mark.parametrize(("code", "category"), [("18G", "transfer"), ("18K", "transfer"), ("22Z", "transfer"),
                                                ("24G", "transfer"), ("16C", "loan"), ("20C", "loan")])  # fmt: skip
def test_transfers_and_loans_never_count(code: str, category: str) -> None:
    rule = rule_for(code)
    assert rule.category == category and not rule.counts_as_contribution


def test_unknown_or_blank_types_never_count() -> None:
    for code in ("ZZ", "", None):
        rule = rule_for(code)
        assert rule.category == "other" and not rule.counts_as_contribution
    assert rule_for("ZZ", "X").category == "memo"


def test_lower_case_and_spaces_are_tolerated() -> None:
    assert rule_for(" 15e ", "x") == rule_for("15E", "X")


def test_rules_for_sql_rows() -> None:
    rows = rules_for_sql()
    assert len(rows) == len(RULES)
    assert {row[0] for row in rows} == {RULE_VERSION}
    assert ("15E", False) in {(row[1], row[2]) for row in rows}
    assert all(len(row) == 9 for row in rows)


@pytest.mark.parametrize(
    ("code", "side"),
    [
        ("15", "recipient"), ("15E", "recipient"), ("18K", "recipient"), ("22Y", "recipient"), ("22Z", "recipient"),
        ("24K", "giver"), ("24Z", "giver"), ("24E", "giver"), ("24A", "giver"), ("24T", "giver"),
        ("17R", "giver"), ("17Z", "giver"), ("22H", "giver"), ("20C", "recipient"),
    ],
)  # fmt: skip
def test_filer_side_says_who_gave(code: str, side: str) -> None:
    # A refund or repayment points at the side of the original money: 22Y (the recipient refunds a
    # donor) is recipient-filed, 17R (the giver gets its contribution back) giver-filed.
    assert rule_for(code).filer_side == side
    assert rule_for(code, "X").filer_side == side  # memo twins keep it (attribution)


def test_filer_side_is_only_recipient_or_giver_and_unknown_types_are_receipts() -> None:
    assert {r.filer_side for r in RULES} == set(FILER_SIDES)
    assert rule_for("ZZ").filer_side == "recipient"


def test_counting_rules_doc_is_current() -> None:
    expected = render_counting_rules_doc()
    assert DOC.exists() and DOC.read_text() == expected, (
        "docs/data/counting-rules.md is stale: write render_counting_rules_doc() to it"
    )
    for code in _reference_codes():
        assert f"| `{code}` |" in expected
