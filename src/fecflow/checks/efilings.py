"""E-filing checks: every staged filing's lines balance, and each report agrees with itself.

``efiling.lines_balance``: lines = parsed + quarantined for every filing (a quarantined filing is a
warning naming its reason). ``efiling.summary_reconciles``: for F3, F3X and F3P, the non-memo itemized
rows of a summary line that holds itemized money only (11(a)(i), 17(a)(i)) add up to that line, to
the cent; a mismatch fails with both numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from fecflow.checks.result import CheckResult, Status
from fecflow.normalize.efilings import summary_rows


def check_efilings(conn: psycopg.Connection, filing_ids: Sequence[int]) -> list[CheckResult]:
    results: list[CheckResult] = []
    verdict: Status
    staged = conn.execute(
        "SELECT filing_id, lines, parsed, rejected, status, error, version FROM staging.efiling "
        "WHERE filing_id = ANY(%s) ORDER BY filing_id",
        (list(filing_ids),),
    ).fetchall()
    for filing_id, lines, parsed, rejected, status, error, version in staged:
        balanced = lines == parsed + rejected
        if not balanced:
            verdict = "failed"
            message = "lines do not balance"
        elif status == "quarantined":
            verdict = "warning"
            message = f"quarantined: {error}"
        else:
            verdict = "passed"
            message = f"{parsed} parsed, {rejected} quarantined (version {version})"
        results.append(
            CheckResult("efiling.lines_balance", f"efiling:{filing_id}", parsed + rejected, lines, None,
                        verdict, message, {"parsed": parsed, "rejected": rejected})
        )
    for row in summary_rows(conn, filing_ids):
        if row["rule"] != "equal":
            continue
        scope = f"efiling:{row['filing_id']} {row['form_type']} line {row['line']}"
        if row["status"] == "match":
            verdict, message = "passed", f"{row['itemized_rows']} itemized rows add up to the summary line"
        elif row["status"] == "missing":
            verdict, message = "warning", "the summary line is blank or not a number"
        else:
            diff = (row["itemized_amount"] or 0) - (row["summary_amount"] or 0)
            verdict = "failed"
            message = (
                f"itemized rows add up to {row['itemized_amount']}, the summary says {row['summary_amount']} "
                f"(difference {diff})"
            )
        results.append(
            CheckResult("efiling.summary_reconciles", scope, row["itemized_amount"], row["summary_amount"], 0.0,
                        verdict, message, {"itemized_rows": row["itemized_rows"], "label": row["label"]})
        )
    conn.commit()
    return results
