"""Compute leaning scores for one window and record them with validity ranges.

``compute_scores`` reads ``core`` and ``ref`` only (never normalize's code), aggregates in SQL,
applies the formula per entity in Python (a few thousand entities; Beta quantiles are cached), and
stores the rows with :func:`fecflow.scores.store.store_scores`. It records an ``ops`` audit row
(stage ``scores``) and commits once, at the end: score rows and audit together.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

import psycopg

from fecflow.db import ops
from fecflow.errors import ConfigError
from fecflow.scores.alignment import AlignmentStats, build_alignment
from fecflow.scores.context import store_context
from fecflow.scores.engine_v2 import build_graph_tables, iter_rows_v2
from fecflow.scores.entities import iter_support
from fecflow.scores.explanations import store_explanations
from fecflow.scores.facts import build_facts
from fecflow.scores.formula import Support, assess
from fecflow.scores.method import (
    DEFAULT_PARAMS,
    DEFAULT_PARAMS_V2,
    ENTITY_TYPES,
    METHOD_DEFAULT,
    METHOD_V2,
    METHOD_VERSIONS,
    MethodParams,
    register_method,
)
from fecflow.scores.preliminary import preliminary_amounts
from fecflow.scores.store import ScoreRow, StoreCounts, store_scores
from fecflow.scores.windows import DEFAULT_LOOKBACK_MONTHS, Window, window_ending

log = logging.getLogger(__name__)

AUDIT_STAGE = ops.Stage.SCORES


@dataclass(frozen=True)
class EntityCounts:
    scored: int = 0
    unscored: int = 0

    @property
    def total(self) -> int:
        return self.scored + self.unscored


@dataclass(frozen=True)
class ScoreResult:
    method_version: str
    as_of: dt.date
    window: Window
    fact_rows: int
    entities: dict[str, EntityCounts]
    stored: StoreCounts
    alignment: AlignmentStats
    seconds: float
    audit_id: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, object]:
        """Flat, JSON-friendly counts (stored in the audit row; the pipeline keeps the int/str ones)."""
        flat: dict[str, object] = {
            "method_version": self.method_version,
            "as_of": self.as_of.isoformat(),
            "window_start": self.window.start.isoformat(),
            "window_end": self.window.end.isoformat(),
            "fact_rows": self.fact_rows,
        }
        for entity_type, counts in self.entities.items():
            flat[f"{entity_type}_scored"] = counts.scored
            flat[f"{entity_type}_unscored"] = counts.unscored
        flat |= {
            "opened": self.stored.opened,
            "closed": self.stored.closed,
            "unchanged": self.stored.unchanged,
            "alignment_iterations": self.alignment.iterations,
            "alignment_converged": self.alignment.converged,
            "alignment": self.alignment.committees,
            "seconds": round(self.seconds, 3),
        }
        return flat


def score_entities(
    conn: psycopg.Connection, entity_type: str, params: MethodParams = DEFAULT_PARAMS
) -> Iterator[ScoreRow]:
    """The scored rows of one entity type, from the ``_sc_fact`` of the current transaction."""
    for key, dem, rep, other, n_contributions, n_donors in iter_support(conn, entity_type):
        support = Support(dem, rep, other, n_contributions, n_donors)
        yield ScoreRow(entity_type, key, support, assess(support, entity_type, params))


@dataclass(frozen=True)
class _Prepared:
    """A method's per-window tables, built: how many counted rows, the alignment, and the rows per type."""

    fact_rows: int
    alignment: AlignmentStats
    rows_of: Callable[[str], Iterator[ScoreRow]]


def _prepare(
    conn: psycopg.Connection, method_version: str, window: Window, timings: dict[str, float], preliminary: bool
) -> _Prepared:
    """Register the method and build its temp tables for ``window`` (timed into ``timings``)."""
    mark = time.perf_counter()
    if method_version == METHOD_V2:
        register_method(conn, method_version, DEFAULT_PARAMS_V2)
        flows, graph = build_graph_tables(conn, window, DEFAULT_PARAMS_V2, include_preliminary=preliminary)
        timings["graph"] = time.perf_counter() - mark
        return _Prepared(
            graph.fact_rows,
            AlignmentStats(graph.conduit_keys, graph.alignment, 1, graph.closed == 0, preliminary),
            lambda entity_type: iter_rows_v2(conn, entity_type, flows, DEFAULT_PARAMS_V2),
        )
    register_method(conn, method_version, DEFAULT_PARAMS)
    alignment = build_alignment(conn, window, DEFAULT_PARAMS, include_preliminary=preliminary)
    timings["alignment"] = time.perf_counter() - mark
    mark = time.perf_counter()
    fact_rows = build_facts(conn, window, alignment)
    timings["facts"] = time.perf_counter() - mark
    return _Prepared(
        fact_rows, alignment, lambda entity_type: score_entities(conn, entity_type, DEFAULT_PARAMS)
    )


def _score_all(
    prepared: _Prepared,
    timings: dict[str, float],
    entities: dict[str, EntityCounts],
    preliminary: dict[tuple[str, int], Decimal] | None,
) -> Iterator[ScoreRow]:
    """Every entity type's rows, as they come (the store writes them in batches: the client never
    holds all of them); fills ``entities`` with scored / unscored counts and ``timings`` with each
    type's seconds (its rows' storing included) as each type ends."""
    for entity_type in ENTITY_TYPES:
        mark = time.perf_counter()
        scored = unscored = 0
        for row in prepared.rows_of(entity_type):
            if preliminary is not None:
                row = replace(row, preliminary=preliminary.get((row.entity_type, row.entity_key), Decimal(0)))
            if row.leaning.score is None:
                unscored += 1
            else:
                scored += 1
            yield row
        entities[entity_type] = EntityCounts(scored, unscored)
        timings[entity_type] = time.perf_counter() - mark
        log.info("%s: %d scored, %d without a score (%.1fs)", entity_type, scored, unscored, timings[entity_type])


def compute_scores(
    conn: psycopg.Connection,
    *,
    run_id: int,
    as_of: dt.date,
    lookback_months: int = DEFAULT_LOOKBACK_MONTHS,
    method_version: str = METHOD_DEFAULT,
    include_preliminary: bool = False,
) -> ScoreResult:
    """Score every candidate, committee, employer and industry with money in the window ending at ``as_of``.

    ``include_preliminary``: count the e-filed rows no processed bulk row has superseded yet
    (``core.efiling_preliminary``) beside ``core.contribution``, and store per entity how many of
    its dollars came from them (:mod:`fecflow.scores.preliminary`).
    """
    started = time.perf_counter()
    if method_version not in METHOD_VERSIONS:
        raise ConfigError(
            f"Unknown leaning method {method_version!r}.", hint=f"Use one of: {', '.join(METHOD_VERSIONS)}."
        )
    window = window_ending(as_of, lookback_months)
    audit_id = ops.start_audit(
        conn, run_id, AUDIT_STAGE, scope=ops.ScoreScope(method_version, as_of, str(window))
    )
    timings: dict[str, float] = {}
    try:
        prepared = _prepare(conn, method_version, window, timings, include_preliminary)
        preliminary = preliminary_amounts(conn, method_version) if include_preliminary else None
        entities: dict[str, EntityCounts] = {}
        mark = time.perf_counter()
        rows = _score_all(prepared, timings, entities, preliminary)
        stored = store_scores(conn, rows, run_id=run_id, method_version=method_version, as_of=as_of, window=window)
        timings["store"] = time.perf_counter() - mark - sum(timings.get(t, 0.0) for t in ENTITY_TYPES)
        mark = time.perf_counter()
        store_explanations(conn, run_id=run_id, method_version=method_version, as_of=as_of, window=window)
        store_context(
            conn,
            run_id=run_id,
            method_version=method_version,
            as_of=as_of,
            window=window,
            include_preliminary=include_preliminary,
        )
        timings["explanations"] = time.perf_counter() - mark
    except BaseException as exc:
        conn.rollback()
        ops.finish_audit(
            conn, audit_id, "failed", window_start=window.start, window_end=window.end, error=str(exc)
        )
        raise
    result = ScoreResult(
        method_version=method_version,
        as_of=as_of,
        window=window,
        fact_rows=prepared.fact_rows,
        entities=entities,
        stored=stored,
        alignment=prepared.alignment,
        seconds=time.perf_counter() - started,
        audit_id=audit_id,
        timings=timings,
    )
    # Commits the score rows together with the audit row.
    ops.finish_audit(
        conn, audit_id, "succeeded", window_start=window.start, window_end=window.end, counts=result.counts
    )
    log.info(
        "scores %s as of %s (%s): %d opened, %d closed, %d unchanged in %.1fs",
        method_version, as_of, window, stored.opened, stored.closed, stored.unchanged, result.seconds,
    )  # fmt: skip
    return result
