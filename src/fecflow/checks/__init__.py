"""Validations and reconciliations: every check returns a list of :class:`CheckResult`.

Modules, one concept each:

``result``          CheckResult (name, scope, observed, expected, tolerance, status, message) and helpers
``tolerances``      the thresholds: defaults, ``[checks]`` in a TOML file, ``NAME=VALUE`` overrides
``schema``          staged fields parse (field counts, required fields, dates, amounts, ids)
``accounting``      lines = staged + rejected; staging vs core rows and dollars; unique SUB_IDs
``reconciliation``  itemized contributions vs the FEC summary files (webk / weball)
``scores``          score ranges, credible intervals, minimum support, one current row
``gate``            run a gate after a stage: record in ops, log, alert, raise ValidationFailed
``alert``           the JSON POST to FECFLOW_ALERT_WEBHOOK (once per failed run)

Thresholds and what each check means for the data: ``docs/data/validation.md``.
"""

from fecflow.checks.gate import GATES, GateScope, check_gate, evaluate_gate, run_gate, scope_of_run
from fecflow.checks.result import CheckResult
from fecflow.checks.scores import ScoreSlot
from fecflow.checks.tolerances import Tolerances, load_tolerances

__all__ = [
    "GATES",
    "CheckResult",
    "GateScope",
    "ScoreSlot",
    "Tolerances",
    "check_gate",
    "evaluate_gate",
    "load_tolerances",
    "run_gate",
    "scope_of_run",
]
