"""The data of each explorer page, as plain dicts: the HTML, JSON and CSV forms all render these.

Everything is read through :mod:`fecflow.pipeline.reports`, the module ``fecflow explain`` and
``fecflow scores export`` read through, so a page shows the numbers those commands print.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import psycopg

from fecflow.errors import DataError
from fecflow.pipeline import reports

PAGE_SIZE = 20
ENTITY_TOP = 10

# The tables of each page that ``?format=csv&table=NAME`` returns (the first is the default).
CSV_TABLES: dict[str, tuple[str, ...]] = {
    "home": ("most_evidence", "distribution"),
    "search": ("results",),
    "entity": ("summary", "recipients", "flows", "trend", "history", "employers", "strings"),
    "runs": ("runs", "validations"),
}
SUMMARY_FIELDS = (
    "entity_type",
    "entity_id",
    "name",
    "party",
    "method_version",
    "as_of",
    "window_start",
    "window_end",
    "score",
    "ci_low",
    "ci_high",
    "dem_amount",
    "rep_amount",
    "other_amount",
    "n_contributions",
    "n_donors",
    "reason",
    "n_effective",
    "direct_amount",
    "flowed_amount",
    "own_pac_amount",
    "base_donor_share",
    "base_dollar_share",
    "preliminary_amount",
    "preliminary_share",
)


class NotFound(Exception):
    """An id that names nothing (or nothing the explorer shows): the page answers 404."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def home(conn: psycopg.Connection, method: str) -> dict[str, Any]:
    fresh = reports.freshness(conn, method)
    as_of = fresh["as_of"]
    return {
        "freshness": fresh,
        "distribution": reports.score_distribution(conn, method, as_of) if as_of else [],
        "most_evidence": reports.most_evidence(conn, method, as_of) if as_of else [],
    }


def search(conn: psycopg.Connection, q: str, kind: str | None, page: int) -> dict[str, Any]:
    kinds = (kind,) if kind else reports.SEARCH_KINDS
    rows = reports.search_entities(conn, q, kinds=kinds, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return {
        "q": q,
        "kind": kind,
        "page": page,
        "page_size": PAGE_SIZE,
        "has_next": len(rows) > PAGE_SIZE,
        "results": rows[:PAGE_SIZE],
    }


def entity(
    conn: psycopg.Connection,
    entity_type: str,
    entity_id: str,
    method: str,
    page: int = 1,
) -> dict[str, Any]:
    """Score, support, v2 components, recipients, trend and history of one entity (read-only).

    The recipient lines are those stored at score time, or computed from the slot's kept context;
    a slot scored before either existed shows its score without lines (``lines_kept`` False), since
    recomputing them would need temp tables, which a read-only transaction refuses.
    """
    try:
        ref = reports.resolve_entity(conn, entity_type, entity_id)
    except DataError as exc:
        raise NotFound(exc.message, exc.hint) from None
    data: dict[str, Any] = {
        "entity": dataclasses.asdict(ref),
        "method_version": method,
        "explained": None,
        "no_score": None,
        "recipient_side": None,
    }
    data["entity"].pop("key")
    try:
        ex = reports.explain_entity(
            conn, entity_type, ref.entity_id, method_version=method, top=ENTITY_TOP, recompute=False,
            omit_missing=True,
        )  # fmt: skip
    except DataError as exc:
        data["no_score"] = exc.message
        if entity_type == "committee":
            data["recipient_side"] = reports.recipient_side(conn, ref.key, method)
        ex = None
    if ex is not None:
        row = ex.score
        summary = {
            "entity_type": entity_type,
            "entity_id": ref.entity_id,
            "name": ref.name,
            "party": ref.party,
            "method_version": ex.method_version,
            "as_of": ex.as_of,
            **{k: row.get(k) for k in SUMMARY_FIELDS if k in row},
        }
        passed_on = {f.committee_id for f in ex.flows}
        data["explained"] = {
            "summary": summary,
            "computed": {"valid_from": row["valid_from"], "run_id": row["run_id"]},
            "recipients_title": ex.recipients_title,
            "lines_kept": ex.lines_kept,
            "recipients": [
                dataclasses.asdict(r) | {"passed_on": r.recipient_id in passed_on} for r in ex.recipients
            ],
            "flows": [dataclasses.asdict(f) for f in ex.flows],
            "own_pac": ex.own_pac,
            "strings": [dataclasses.asdict(s) for s in ex.strings[:25]],
            "strings_total": len(ex.strings),
        }
    data["trend"] = reports.score_trend(conn, entity_type, ref.key, method)
    data["history"] = reports.score_history(conn, entity_type, ref.key, method)
    data["employers"] = []
    data["page"] = page
    if entity_type == "industry" and ex is not None:
        rows = reports.industry_employers(
            conn, ref.key, method, ex.as_of, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        data["employers"], data["has_next"] = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return data


def runs(conn: psycopg.Connection, page: int) -> dict[str, Any]:
    rows = reports.recent_runs(conn, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    shown = rows[:PAGE_SIZE]
    validations = reports.run_validations(conn, [r["run_id"] for r in shown[:5]])
    return {
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        "runs": shown,
        "validations": validations,
    }


def csv_table(page: str, data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The rows of one table of a page's data (``table`` already checked against CSV_TABLES)."""
    if page == "entity":
        ex = data.get("explained") or {}
        if table == "summary":
            return [ex["summary"]] if ex else []
        if table in ("recipients", "flows", "strings"):
            return list(ex.get(table, []))
        return list(data.get(table, []))
    return list(data.get(table, []))
