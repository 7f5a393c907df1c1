"""CheckResult: JSON round trip, verdict helpers, one-line descriptions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from fecflow.checks.result import CheckResult, at_least, at_most, count_by_status, exactly, failed, share


def test_to_json_is_json_and_round_trips() -> None:
    result = CheckResult(
        "accounting.amount_total",
        "indiv:2020 source_file=4",
        Decimal("31528113.00"),
        Decimal("31528013.00"),
        0.01,
        "failed",
        "core vs staged",
        {"difference": Decimal("100.00"), "when": dt.date(2019, 3, 17), "worst": [{"c": Decimal("1.5")}]},
    )
    payload = result.to_json()
    text = json.dumps(payload)  # plain JSON, no custom encoder needed
    assert json.loads(text)["observed"] == 31528113.0
    assert payload["details"] == {"difference": 100.0, "when": "2019-03-17", "worst": [{"c": 1.5}]}
    back = CheckResult.from_json(json.loads(text))
    assert (back.name, back.scope, back.status, back.tolerance) == (result.name, result.scope, "failed", 0.01)
    assert back.failed


def test_details_are_left_out_when_empty() -> None:
    assert "details" not in exactly("x", "s", 0, 0, "m").to_json()


def test_helpers_decide_the_status() -> None:
    assert at_most("r", "s", 0.001, 0.001, "m").status == "passed"
    assert at_most("r", "s", 0.0011, 0.001, "m").status == "failed"
    assert at_least("r", "s", 0.998, 0.999, "m").status == "failed"
    assert at_least("r", "s", None, 0.999, "nothing to measure").status == "passed"
    assert exactly("r", "s", 70571, 70671, "m").status == "failed"
    assert exactly("r", "s", {"a": 1}, {"a": 1}, "m").status == "passed"
    assert at_most("r", "s", 0.002, 0.001, "m").expected == "<= 0.001"


def test_describe_names_the_numbers() -> None:
    text = exactly(
        "accounting.lines_balance", "indiv:2020 source_file=4", 70571, 70671, "lost rows"
    ).describe()
    assert text == (
        "accounting.lines_balance (indiv:2020 source_file=4): observed 70,571, expected 70,671 - lost rows"
    )
    assert "tolerance 0.001" in at_most("r", "s", 0.5, 0.001, "m").describe()


def test_counting_and_filtering() -> None:
    results = [
        exactly("a", "s", 1, 1, "m"),
        exactly("b", "s", 1, 2, "m"),
        CheckResult("c", "s", 1, None, None, "warning", "explained"),
    ]
    assert count_by_status(results) == {"passed": 1, "warning": 1, "failed": 1}
    assert [r.name for r in failed(results)] == ["b"]
    assert share(1, 4) == 0.25 and share(0, 0) is None
