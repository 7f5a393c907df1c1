"""Score checks (scores gate) over the current rows (``valid_to IS NULL``) of ``scores.leaning_score``.

Scope: the (method version, ``as_of``) slots a scoring run wrote, or every current row.

* ``scores.range``: scores and interval bounds lie in [0, 1]. Exact (0 violations).
* ``scores.interval``: a non-NULL score has both bounds and ``ci_low <= score <= ci_high``. Exact.
* ``scores.support``: a non-NULL score rests on enough support: at least the method's
  ``min_donors`` and ``min_contributions`` for the entity type (from ``scores.method.params``;
  ``score_min_donors`` / ``score_min_contributions`` when it does not say) and some net partisan money
  (``max(D, 0) + max(R, 0) > 0``). Exact.
* ``scores.null_reason``: a NULL score has a reason. Exact.
* ``scores.one_open_row``: at most one current row per entity, method version, ``as_of`` and window
  (an entity that dropped out has none). Exact.

The database already refuses scores outside [0, 1] and NULL scores without reason (check
constraints); the checks still run so a relaxed schema or another writer cannot slip through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from fecflow.checks.result import CheckResult, exactly
from fecflow.checks.tolerances import Tolerances
from fecflow.db.statements import one

SAMPLE = 5
_ENTITY_KEY = sql.SQL("coalesce(s.candidate_key, s.committee_key, s.employer_key, s.industry_key)")


@dataclass(frozen=True)
class ScoreSlot:
    method_version: str
    as_of: dt.date

    def __str__(self) -> str:
        return f"{self.method_version} as_of={self.as_of.isoformat()}"


def _minimum(param: str, fallback: float) -> sql.Composable:
    """The method's minimum for the row's entity type: params->param->entity_type, or a number."""
    p = sql.Literal(param)
    return sql.SQL(
        "coalesce(CASE WHEN jsonb_typeof(m.params->{p}) = 'object' "
        "AND jsonb_typeof(m.params->{p}->s.entity_type) = 'number' THEN (m.params->{p}->>s.entity_type)::numeric "
        "WHEN jsonb_typeof(m.params->{p}) = 'number' THEN (m.params->>{p})::numeric END, {f})"
    ).format(p=p, f=sql.Literal(fallback))


def check_scores(
    conn: psycopg.Connection, tolerances: Tolerances, slots: Sequence[ScoreSlot] = ()
) -> list[CheckResult]:
    """All score checks over the current rows of ``slots`` (every current row when empty)."""
    scope, where = _current_rows(slots)
    total, scored, found = _count_violations(conn, where, _violations(tolerances))
    base: dict[str, Any] = {"current_rows": total, "scored": scored, "null_scores": total - scored}

    def result(name: str, message: str) -> CheckResult:
        count, examples = found[name]
        if count:
            message += f" (e.g. {'; '.join(examples)})"
        return exactly(f"scores.{name}", scope, count, 0, message, details={**base, "examples": examples})

    return [
        result(
            "range", f"{found['range'][0]:,} of {total:,} current rows have a score or bound outside [0, 1]"
        ),
        result(
            "interval",
            f"{found['interval'][0]:,} of {scored:,} scores lack a credible interval around them (ci_low <= score <= ci_high)",
        ),
        result(
            "support",
            f"{found['support'][0]:,} of {scored:,} scores rest on less than the method's minimum support "
            "(donors, contributions, net partisan money)",
        ),
        result(
            "null_reason", f"{found['null_reason'][0]:,} of {total - scored:,} NULL scores have no reason"
        ),
        _one_open_row(conn, scope, where),
    ]


def _current_rows(slots: Sequence[ScoreSlot]) -> tuple[str, sql.Composable]:
    """The checks' scope text and the filter of the current rows of ``slots`` (all when empty)."""
    if not slots:
        return "scores (all current rows)", sql.SQL("s.valid_to IS NULL")
    where = sql.SQL("s.valid_to IS NULL AND (s.method_version, s.as_of) IN ({})").format(
        sql.SQL(", ").join(
            sql.SQL("({}, {})").format(sql.Literal(s.method_version), sql.Literal(s.as_of)) for s in slots
        )
    )
    return "scores " + ", ".join(str(s) for s in slots), where


def _violations(tolerances: Tolerances) -> dict[str, sql.Composable]:
    """Each check's condition on one score row: true when the row violates it."""
    return {
        "range": sql.SQL(
            "s.score NOT BETWEEN 0 AND 1 OR s.ci_low NOT BETWEEN 0 AND 1 OR s.ci_high NOT BETWEEN 0 AND 1"
        ),
        "interval": sql.SQL(
            "s.score IS NOT NULL AND (s.ci_low IS NULL OR s.ci_high IS NULL "
            "OR s.ci_low > s.score OR s.score > s.ci_high)"
        ),
        "support": sql.SQL(
            "s.score IS NOT NULL AND (s.n_donors < {d} OR s.n_contributions < {c} "
            "OR greatest(s.dem_amount, 0) + greatest(s.rep_amount, 0) <= 0)"
        ).format(
            d=_minimum("min_donors", tolerances.score_min_donors),
            c=_minimum("min_contributions", tolerances.score_min_contributions),
        ),
        "null_reason": sql.SQL("s.score IS NULL AND nullif(btrim(s.reason), '') IS NULL"),
    }


def _count_violations(
    conn: psycopg.Connection, where: sql.Composable, violations: dict[str, sql.Composable]
) -> tuple[int, int, dict[str, tuple[int, list[str]]]]:
    """One pass over the rows: (rows, scored rows, per check: violations and examples)."""
    measures: list[sql.Composable] = [
        sql.SQL("count(*) AS total"),
        sql.SQL("count(*) FILTER (WHERE s.score IS NOT NULL) AS scored"),
    ]
    for name, condition in violations.items():
        measures.append(
            sql.SQL("count(*) FILTER (WHERE {}) AS {}").format(condition, sql.Identifier(f"{name}_count"))
        )
        measures.append(
            sql.SQL(
                "(array_agg(s.entity_type || ' ' || {k} || ' ' || s.as_of ORDER BY s.score_id) FILTER (WHERE {c}))[1:{n}] AS {a}"
            ).format(k=_ENTITY_KEY, c=condition, n=sql.Literal(SAMPLE), a=sql.Identifier(f"{name}_examples"))
        )
    query = sql.SQL(
        "SELECT {} FROM scores.leaning_score s LEFT JOIN scores.method m USING (method_version) WHERE {}"
    ).format(sql.SQL(", ").join(measures), where)
    row = one(conn, query)
    assert row is not None
    found = {
        name: (int(row[f"{name}_count"]), [str(x) for x in (row[f"{name}_examples"] or [])]) for name in violations
    }
    return int(row["total"]), int(row["scored"]), found


def _one_open_row(conn: psycopg.Connection, scope: str, where: sql.Composable) -> CheckResult:
    query = sql.SQL(
        "SELECT count(*), (array_agg(entity ORDER BY entity))[1:{n}] FROM ("
        "SELECT s.entity_type || ' ' || {k} || ' ' || s.method_version || ' ' || s.as_of AS entity "
        "FROM scores.leaning_score s WHERE {w} "
        "GROUP BY s.entity_type, {k}, s.method_version, s.as_of, s.window_start, s.window_end "
        "HAVING count(*) > 1) d"
    ).format(k=_ENTITY_KEY, w=where, n=sql.Literal(SAMPLE))
    row = conn.execute(query).fetchone()
    assert row is not None
    count, examples = int(row[0]), [str(x) for x in (row[1] or [])]
    message = f"{count:,} entities have more than one current row for one method, as_of and window"
    if count:
        message += f" (e.g. {'; '.join(examples)})"
    return exactly("scores.one_open_row", scope, count, 0, message, details={"examples": examples})
