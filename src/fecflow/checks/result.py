"""What every check returns: a list of :class:`CheckResult`.

A result says what was measured (``observed``), what was allowed (``expected``, and ``tolerance`` when
the comparison is not exact), and the verdict: ``passed``, ``failed`` (the gate stops the run) or
``warning`` (a difference that is expected and explained, e.g. unitemized money). ``details`` carries
extra numbers for ``fecflow runs show`` and the alert; results are stored as JSON in
``ops.ingest_run_audits.validation``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Status = Literal["passed", "failed", "warning"]
STATUSES: tuple[Status, ...] = ("passed", "warning", "failed")


@dataclass(frozen=True)
class CheckResult:
    name: str  # dotted, family first: "accounting.lines_balance"
    scope: str  # what was checked: "indiv:2020 source_file=4", "cycle:2020", "committee:C00401224"
    observed: Any
    expected: Any
    tolerance: float | None
    status: Status
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimals become floats, dates ISO strings)."""
        payload: dict[str, Any] = {
            "name": self.name,
            "scope": self.scope,
            "observed": jsonable(self.observed),
            "expected": jsonable(self.expected),
            "tolerance": jsonable(self.tolerance),
            "status": self.status,
            "message": self.message,
        }
        if self.details:
            payload["details"] = jsonable(dict(self.details))
        return payload

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            name=str(data["name"]),
            scope=str(data.get("scope", "")),
            observed=data.get("observed"),
            expected=data.get("expected"),
            tolerance=data.get("tolerance"),
            status=data["status"],
            message=str(data.get("message", "")),
            details=dict(data.get("details") or {}),
        )

    def describe(self) -> str:
        """One line with the numbers, for logs, errors and alerts."""
        tol = f", tolerance {fmt(self.tolerance)}" if self.tolerance is not None else ""
        return (
            f"{self.name} ({self.scope}): observed {fmt(self.observed)}, expected {fmt(self.expected)}{tol}"
            f" - {self.message}"
        )


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def fmt(value: Any) -> str:
    """Numbers for humans: shares with 6 significant digits, money with cents."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {fmt(v)}" for k, v in value.items())
    return str(value)


def count_by_status(results: Iterable[CheckResult]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for result in results:
        counts[result.status] += 1
    return counts


def failed(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.failed]


# --- building results ---------------------------------------------------------------------------------
def at_most(
    name: str,
    scope: str,
    observed: float | Decimal | None,
    limit: float,
    message: str,
    *,
    details: Mapping[str, Any] | None = None,
) -> CheckResult:
    """Passed when ``observed <= limit`` (or nothing was observed)."""
    ok = observed is None or observed <= limit
    return CheckResult(
        name, scope, observed, f"<= {fmt(limit)}", limit, "passed" if ok else "failed", message, details or {}
    )


def at_least(
    name: str,
    scope: str,
    observed: float | Decimal | None,
    limit: float,
    message: str,
    *,
    details: Mapping[str, Any] | None = None,
) -> CheckResult:
    """Passed when ``observed >= limit`` (or nothing was observed)."""
    ok = observed is None or observed >= limit
    return CheckResult(
        name, scope, observed, f">= {fmt(limit)}", limit, "passed" if ok else "failed", message, details or {}
    )


def exactly(
    name: str,
    scope: str,
    observed: Any,
    expected: Any,
    message: str,
    *,
    details: Mapping[str, Any] | None = None,
) -> CheckResult:
    """Passed when ``observed == expected``; no tolerance."""
    status: Status = "passed" if observed == expected else "failed"
    return CheckResult(name, scope, observed, expected, None, status, message, details or {})


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole
