"""Which ``core.contribution`` rows are money for leaning, and who paid whom: SQL fragments used everywhere.

The counting-rule table decides, and nothing here repeats a rule: normalization stamps every row
with ``counts_as_contribution``, ``is_refund`` and ``filer_side`` from ``ref.counting_rule``, so memo
rows, conduit pass-throughs (24T/24I), transfers, loans, independent expenditures and candidate
self-funding never count. On top of that the leaning engine drops soft-deleted rows, rows outside the window (both ends inclusive) and rows whose
recipient is a conduit (ActBlue, WinRed: never the recipient). Refunds are netted: ``net = -amount``
for refund types (the type, not the sign of the amount, marks a refund), so a negative refund adds
back.

Orientation. A row is filed by CMTE_ID (``recipient_committee_key``); ``contributor_committee_key`` is
the other committee (OTHER_ID). ``filer_side``, stamped on every row from ``ref.counting_rule``, says
which side the filer is on: ``giver`` for contributions made (24K, 24P, 24U, 24Z) and the refunds the
giver gets back (17R, 17Z): committee-to-committee money counts on the giver's side
(``docs/data/counting-rules.md``); ``recipient`` for receipts (15, 15E, 10, 18U, ...) and their refunds
(22Y, ...). The view ``core.contribution_flow`` orients rows the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fecflow.scores.windows import Window

_GIVER_FILED = "c.filer_side = 'giver'"

# The rows the engine reads (alias ``c``): core.contribution's, and, when %(include_preliminary)s, the
# preliminary e-filed rows that count today (core.efiling_preliminary: keyed as bulk rows by
# normalize; a row superseded by its processed bulk row is not there, so each dollar counts once).
# ``preliminary`` tells them apart. With the parameter false the second branch is never read.
COUNTED_SOURCE = (
    "(SELECT source, donor_key, employer_key, recipient_committee_key, contributor_committee_key, candidate_key,"
    " amount, is_refund, counts_as_contribution, deleted_at, transaction_date, filer_side, false AS preliminary"
    " FROM core.contribution UNION ALL"
    " SELECT source, donor_key, employer_key, recipient_committee_key, contributor_committee_key, candidate_key,"
    " amount, is_refund, counts_as_contribution, NULL::timestamptz, transaction_date, filer_side, true"
    " FROM core.efiling_preliminary WHERE %(include_preliminary)s AND recipient_committee_key IS NOT NULL)"
)

# Table alias ``c`` is core.contribution (or COUNTED_SOURCE).
PAYER = f"CASE WHEN {_GIVER_FILED} THEN c.recipient_committee_key ELSE c.contributor_committee_key END"
PAYEE = f"CASE WHEN {_GIVER_FILED} THEN c.contributor_committee_key ELSE c.recipient_committee_key END"
NET_AMOUNT = "CASE WHEN c.is_refund THEN -c.amount ELSE c.amount END"

# Parameters: window_start, window_end, conduit_keys (and include_preliminary: see counted_params).
COUNTED_WHERE = (
    "c.counts_as_contribution AND c.deleted_at IS NULL "
    "AND c.transaction_date BETWEEN %(window_start)s AND %(window_end)s "
    f"AND coalesce({PAYEE}, -1) <> ALL(%(conduit_keys)s::bigint[])"
)


def counted_params(
    window: Window, conduit_keys: Sequence[int], *, include_preliminary: bool = False
) -> dict[str, Any]:
    return {
        "window_start": window.start,
        "window_end": window.end,
        "conduit_keys": list(conduit_keys),
        "include_preliminary": include_preliminary,
    }
