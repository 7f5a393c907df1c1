"""Small helpers for reading results in tests."""

from __future__ import annotations

from collections.abc import Iterable

from fecflow.checks.result import CheckResult


def only(results: Iterable[CheckResult], name: str, scope_contains: str = "") -> CheckResult:
    matches = [r for r in results if r.name == name and scope_contains in r.scope]
    assert len(matches) == 1, (name, scope_contains, [(r.name, r.scope) for r in results])
    return matches[0]


def failed_names(results: Iterable[CheckResult]) -> set[str]:
    return {r.name for r in results if r.status == "failed"}
