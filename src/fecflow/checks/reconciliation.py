"""Reconciliation: itemized contributions in core vs the FEC summary files of the same snapshot.

Per cycle, per recipient committee:

* **itemized** = live ``core.contribution`` rows from the individual-contributions file
  (``source = 'indiv'``) that count (``counts_as_contribution``), split into gross contributions and
  refunds (``is_refund``; the counting rule's type decides, not the sign). Types that the summary
  files report on other lines than "contributions from individuals" (:data:`OTHER_SUMMARY_LINES`:
  non-contribution/nonfederal accounts, national-party special accounts, inaugural donations and
  their refunds) are set aside and reported, not compared.
* **summary** = the current snapshot of ``webk`` (PACs and parties: ``INDV_CONTRIB`` and
  ``INDV_REFUNDS``), and for candidate committees ``weball`` (``TTL_INDIV_CONTRIB`` and
  ``INDIV_REFUNDS``) reached through the candidate's principal committee (``CAND_PCC`` in the current
  ``cn`` snapshot). A committee in both files is taken from ``webk``; a candidate listed twice (one
  person running for two offices with one committee) counts once.

What is expected, and therefore only a **warning**: itemized <= summary. Unitemized money
(contributions of $200 or less per donor and cycle) is only in the summaries, so a gap of any size
below the summary is normal; so are committees without a summary row (registered after the summary
snapshot, or candidates without a ``weball`` row) and the set-aside types.

What **fails**: itemized money *above* the summary, beyond ``reconciliation_excess_share`` of the
summary plus ``reconciliation_excess_abs`` dollars, compared separately for contributions and for
refunds (both have unitemized parts, so their nets cannot be compared directly):

* ``reconciliation.committees_over_summary``: fails when more than
  ``reconciliation_max_share_over`` of the reconciled committees are over (timing differences
  between the itemized and the summary snapshot make a few normal); the worst are listed, and each
  of the worst gets a ``reconciliation.committee`` warning scoped to it;
* ``reconciliation.itemized_vs_summary_total``: fails when the itemized contributions of all
  reconciled committees together exceed their summary total beyond the same tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from fecflow.checks.result import CheckResult, Status, share
from fecflow.checks.schema import nonempty, valid_amount
from fecflow.checks.tolerances import Tolerances
from fecflow.db.statements import every
from fecflow.normalize.snapshot import current_snapshot

# Transaction types the summary files report outside "contributions from individuals", with why.
OTHER_SUMMARY_LINES: dict[str, str] = {
    "10": "non-contribution (Super PAC / hybrid) or nonfederal account receipts",
    "20Y": "refunds of nonfederal receipts",
    "13": "inaugural committee donations",
    "23Y": "refunds of inaugural donations",
    **{
        t: "national party convention / headquarters / recount account receipts"
        for t in ("30", "30T", "31", "31T", "32", "32T")
    },
    **{t: "refunds from national party special accounts" for t in ("40Y", "40T", "41Y", "41T", "42Y", "42T")},
}
WORST_LISTED = 10


@dataclass(frozen=True)
class CommitteeReconciliation:
    committee_id: str
    summary_file: str | None  # webk | weball | None (no summary row)
    itemized: Decimal  # gross contributions, comparable types
    itemized_refunds: Decimal
    other_lines: Decimal  # net of OTHER_SUMMARY_LINES types, set aside
    summary: Decimal | None
    summary_refunds: Decimal | None

    def excess(self, tol: Tolerances) -> Decimal:
        """How far itemized exceeds summary beyond tolerance (contributions or refunds); <= 0 is fine."""
        if self.summary is None or self.summary_refunds is None:
            return Decimal(0)
        return max(
            _beyond(self.itemized, self.summary, tol),
            _beyond(self.itemized_refunds, self.summary_refunds, tol),
        )

    def explain_excess(self) -> str:
        """Which side exceeds its summary, in dollars."""
        parts = []
        if self.summary is not None and self.itemized > self.summary:
            parts.append(f"contributions ${self.itemized:,.2f} > summary ${self.summary:,.2f}")
        if self.summary_refunds is not None and self.itemized_refunds > self.summary_refunds:
            parts.append(
                f"refunds ${self.itemized_refunds:,.2f} > summary refunds ${self.summary_refunds:,.2f}"
            )
        return f"{self.committee_id} ({self.summary_file}): " + ("; ".join(parts) or "within tolerance")

    @property
    def net_itemized(self) -> Decimal:
        return self.itemized - self.itemized_refunds

    @property
    def net_summary(self) -> Decimal | None:
        if self.summary is None or self.summary_refunds is None:
            return None
        return self.summary - self.summary_refunds

    def to_json(self) -> dict[str, Any]:
        return {
            "committee_id": self.committee_id,
            "summary_file": self.summary_file,
            "itemized": self.itemized,
            "itemized_refunds": self.itemized_refunds,
            "summary": self.summary,
            "summary_refunds": self.summary_refunds,
            "other_summary_lines": self.other_lines,
        }


def _beyond(itemized: Decimal, summary: Decimal, tol: Tolerances) -> Decimal:
    allowed = abs(summary) * Decimal(str(tol.reconciliation_excess_share)) + Decimal(
        str(tol.reconciliation_excess_abs)
    )
    return itemized - summary - allowed


def _amount(col: str) -> sql.Composable:
    ident = sql.Identifier("x", col)
    return sql.SQL("CASE WHEN {} THEN {}::numeric ELSE 0 END").format(valid_amount(ident), ident)


_RECONCILE_SQL = sql.SQL(
    """
    WITH webk AS (
        SELECT DISTINCT ON (x.cmte_id) x.cmte_id AS committee_id, 'webk' AS summary_file,
               {webk_contrib} AS contrib, {webk_refunds} AS refunds
        FROM staging.webk x WHERE x._source_file_id = %(webk)s AND {webk_id}
        ORDER BY x.cmte_id, x._line_number
    ),
    weball AS (
        SELECT DISTINCT ON (cn.cand_pcc) cn.cand_pcc AS committee_id, 'weball' AS summary_file,
               {weball_contrib} AS contrib, {weball_refunds} AS refunds
        FROM staging.weball x
        JOIN staging.cn cn ON cn.cand_id = x.cand_id AND cn._source_file_id = %(cn)s
        WHERE x._source_file_id = %(weball)s AND {pcc}
          AND cn.cand_pcc NOT IN (SELECT committee_id FROM webk)
        ORDER BY cn.cand_pcc, {weball_contrib} DESC, x._line_number
    ),
    summary AS (SELECT * FROM webk UNION ALL SELECT * FROM weball),
    itemized AS (
        SELECT cm.committee_id,
               coalesce(sum(c.amount) FILTER (WHERE NOT c.is_refund AND c.transaction_type <> ALL(%(other)s)), 0) AS gross,
               coalesce(sum(c.amount) FILTER (WHERE c.is_refund AND c.transaction_type <> ALL(%(other)s)), 0) AS refunds,
               coalesce(sum(CASE WHEN c.is_refund THEN -c.amount ELSE c.amount END)
                        FILTER (WHERE c.transaction_type = ANY(%(other)s)), 0) AS other_lines
        FROM core.contribution c
        JOIN core.committee cm ON cm.committee_key = c.recipient_committee_key
        WHERE c.source = 'indiv' AND c.cycle = %(cycle)s AND c.deleted_at IS NULL AND c.counts_as_contribution
        GROUP BY cm.committee_id
    )
    SELECT i.committee_id, s.summary_file, i.gross, i.refunds AS itemized_refunds, i.other_lines,
       s.contrib AS summary, s.refunds AS summary_refunds
    FROM itemized i LEFT JOIN summary s USING (committee_id)
    ORDER BY i.committee_id
    """
)


def reconcile_committees(
    conn: psycopg.Connection, cycle: int
) -> tuple[list[CommitteeReconciliation], dict[str, int | None]]:
    """Per committee itemized vs summary numbers, and the summary snapshots used."""
    snapshots = {ft: current_snapshot(conn, cycle=cycle, file_type=ft) for ft in ("webk", "weball", "cn")}
    ids = {ft: (snap.source_file_id if snap else None) for ft, snap in snapshots.items()}
    if ids["webk"] is None and ids["weball"] is None:
        return [], ids  # nothing to reconcile against: no scan of the cycle's itemized rows (0.7 s at 2M)
    other_types = list(OTHER_SUMMARY_LINES)
    query = _RECONCILE_SQL.format(
        webk_contrib=_amount("indv_contrib"),
        webk_refunds=_amount("indv_refunds"),
        webk_id=nonempty(sql.Identifier("x", "cmte_id")),
        weball_contrib=_amount("ttl_indiv_contrib"),
        weball_refunds=_amount("indiv_refunds"),
        pcc=nonempty(sql.Identifier("cn", "cand_pcc")),
    )
    rows = every(
        conn,
        query,
        {"webk": ids["webk"], "weball": ids["weball"], "cn": ids["cn"], "cycle": cycle, "other": other_types},
    )
    committees = [
        CommitteeReconciliation(
            committee_id=str(r["committee_id"]),
            summary_file=r["summary_file"],
            itemized=Decimal(r["gross"]),
            itemized_refunds=Decimal(r["itemized_refunds"]),
            other_lines=Decimal(r["other_lines"]),
            summary=None if r["summary"] is None else Decimal(r["summary"]),
            summary_refunds=None if r["summary_refunds"] is None else Decimal(r["summary_refunds"]),
        )
        for r in rows
    ]
    return committees, ids


def check_reconciliation(conn: psycopg.Connection, cycle: int, tolerances: Tolerances) -> list[CheckResult]:
    """Itemized vs summary for one cycle (see the module docstring for what passes, warns, fails)."""
    scope = f"cycle:{cycle}"
    committees, snapshot_ids = reconcile_committees(conn, cycle)
    nothing = _nothing_to_reconcile(scope, cycle, committees, snapshot_ids)
    if nothing is not None:
        return [nothing]
    tol = tolerances
    reconciled = [c for c in committees if c.summary_file is not None]
    over = sorted((c for c in reconciled if c.excess(tol) > 0), key=lambda c: c.excess(tol), reverse=True)
    results = [_over_summary(scope, reconciled, over, tol, snapshot_ids), _total(scope, reconciled, tol)]
    results += [r for r in (_set_aside(scope, committees), _without_summary(scope, committees)) if r is not None]
    results += _worst_committees(scope, over, tol)
    return results


def _limits(tol: Tolerances) -> str:
    return f"{tol.reconciliation_excess_share:.0%} + ${tol.reconciliation_excess_abs:,.2f}"


def _nothing_to_reconcile(
    scope: str, cycle: int, committees: list[CommitteeReconciliation], snapshot_ids: dict[str, int | None]
) -> CheckResult | None:
    """A warning when no summary file is staged or no itemized money is counted; None otherwise."""
    if snapshot_ids["webk"] is None and snapshot_ids["weball"] is None:
        return CheckResult(
            "reconciliation.summary_files",
            scope,
            None,
            "a staged webk or weball snapshot",
            None,
            "warning",
            f"no webk/weball summary file is staged for {cycle}: itemized money was not reconciled",
        )
    if not committees:
        return CheckResult(
            "reconciliation.summary_files",
            scope,
            0,
            None,
            None,
            "warning",
            f"no counted individual contributions in core for {cycle}: nothing to reconcile",
        )
    return None


def _over_summary(
    scope: str,
    reconciled: list[CommitteeReconciliation],
    over: list[CommitteeReconciliation],
    tol: Tolerances,
    snapshot_ids: dict[str, int | None],
) -> CheckResult:
    """The share of reconciled committees with more itemized money than their summary."""
    share_over = share(len(over), len(reconciled))
    status: Status
    if over and share_over is not None and share_over > tol.reconciliation_max_share_over:
        status = "failed"
    elif over:
        status = "warning"
    else:
        status = "passed"
    message = (
        f"{len(over):,} of {len(reconciled):,} reconciled committees have more itemized money than their "
        f"summary (beyond {_limits(tol)})"
    )
    if over:
        message += "; worst: " + ", ".join(c.explain_excess() for c in over[:3])
        if status == "warning":
            message += "; within the allowed share of committees (timing between snapshots)"
    return CheckResult(
        "reconciliation.committees_over_summary",
        scope,
        share_over,
        f"<= {tol.reconciliation_max_share_over:g}",
        tol.reconciliation_max_share_over,
        status,
        message,
        {
            "over": len(over),
            "reconciled": len(reconciled),
            "worst": [c.to_json() for c in over[:WORST_LISTED]],
            "snapshots": snapshot_ids,
        },
    )


def _set_aside(scope: str, committees: list[CommitteeReconciliation]) -> CheckResult | None:
    """Itemized money of types the summaries report on other lines: set aside, not compared."""
    set_aside = [c for c in committees if c.other_lines != 0]
    if not set_aside:
        return None
    total_other = sum((c.other_lines for c in set_aside), Decimal(0))
    return CheckResult(
        "reconciliation.other_summary_lines",
        scope,
        total_other,
        None,
        None,
        "warning",
        f"${total_other:,.2f} net itemized in {len(set_aside):,} committees is of types the summaries report "
        "on other lines than individual contributions (10/20Y non-contribution and nonfederal accounts, "
        "30-32 national party accounts, 13 inaugural donations, and their refunds); set aside, not compared",
        {"committees": len(set_aside)},
    )


def _without_summary(scope: str, committees: list[CommitteeReconciliation]) -> CheckResult | None:
    """Committees with itemized money and no summary row: not reconciled."""
    unmatched = [c for c in committees if c.summary_file is None]
    if not unmatched:
        return None
    unmatched_total = sum((c.net_itemized + c.other_lines for c in unmatched), Decimal(0))
    return CheckResult(
        "reconciliation.committees_without_summary",
        scope,
        len(unmatched),
        None,
        None,
        "warning",
        f"{len(unmatched):,} committees (${unmatched_total:,.2f} net itemized) have no row in the webk/weball "
        "snapshot (registered after it, or candidates without a weball row); not reconciled",
        {"examples": [c.committee_id for c in unmatched[:WORST_LISTED]]},
    )


def _worst_committees(scope: str, over: list[CommitteeReconciliation], tol: Tolerances) -> list[CheckResult]:
    """One warning per committee furthest over its summary."""
    return [
        CheckResult(
            "reconciliation.committee",
            f"committee:{c.committee_id} ({scope})",
            {"itemized": c.itemized, "refunds": c.itemized_refunds},
            {"summary": c.summary, "refunds": c.summary_refunds},
            tol.reconciliation_excess_share,
            "warning",
            f"{c.explain_excess()}, beyond {_limits(tol)} (e.g. reports processed after the summary snapshot, "
            "amendments, or unitemized refunds netted in the summary)",
            c.to_json(),
        )
        for c in over[:WORST_LISTED]
    ]


def _total(scope: str, reconciled: list[CommitteeReconciliation], tol: Tolerances) -> CheckResult:
    itemized = sum((c.itemized for c in reconciled), Decimal(0))
    summary = sum((c.summary or Decimal(0) for c in reconciled), Decimal(0))
    itemized_net = sum((c.net_itemized for c in reconciled), Decimal(0))
    summary_net = sum((c.net_summary or Decimal(0) for c in reconciled), Decimal(0))
    excess = _beyond(itemized, summary, tol)
    gap = summary - itemized
    status: Status
    if excess > 0:
        status = "failed"
        message = (
            f"itemized contributions ${itemized:,.2f} exceed the summaries' ${summary:,.2f} "
            f"by more than {tol.reconciliation_excess_share:.0%}: money is counted twice or summaries are stale"
        )
    elif abs(gap) <= Decimal(str(tol.reconciliation_excess_abs)):
        status = "passed"
        message = f"itemized contributions ${itemized:,.2f} match the summaries' ${summary:,.2f}"
    else:
        status = "warning"
        ratio = f" ({itemized / summary:.1%} of it)" if summary else ""
        message = (
            f"itemized contributions ${itemized:,.2f} vs summaries ${summary:,.2f}{ratio}: the ${gap:,.2f} "
            "difference is unitemized money (contributions of $200 or less per donor and cycle), which only "
            "the summary files carry; itemized-only totals understate small donors"
        )
    return CheckResult(
        "reconciliation.itemized_vs_summary_total",
        scope,
        itemized,
        summary,
        tol.reconciliation_excess_share,
        status,
        message,
        {"itemized_net": itemized_net, "summary_net": summary_net, "committees": len(reconciled)},
    )
