"""Read-only reports over core, scores and ops: industry mapping coverage and the run summary.

Also the read-only query functions of the lower layers that the CLI shows (``explain``, ``scores
export``, ``staging export``, ``db status``): ``cli`` imports ``pipeline``, never the steps' own
packages, so each reader (the CLI now, the explorer next) reaches them through this one module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fecflow.db import ops
from fecflow.db.statements import every
from fecflow.db.status import DatabaseSummary, database_summary
from fecflow.scores import METHOD_DEFAULT, METHOD_VERSIONS
from fecflow.scores.browse import (
    SEARCH_KINDS,
    freshness,
    industry_employers,
    latest_as_of,
    most_evidence,
    recipient_side,
    score_distribution,
    score_history,
    score_trend,
    search_entities,
)
from fecflow.scores.explain import EntityRef, Explanation, NotStored, explain_entity, resolve_entity
from fecflow.scores.export import FORMATS as SCORE_FORMATS
from fecflow.scores.export import ExportResult, export_scores
from fecflow.scores.method import ENTITY_TYPES
from fecflow.scores.preliminary import preliminary_note
from fecflow.sources.output import atomic_output, check_output_target
from fecflow.staging.export import export_source_file

__all__ = [
    "ENTITY_TYPES",
    "METHOD_DEFAULT",
    "METHOD_VERSIONS",
    "SCORE_FORMATS",
    "SEARCH_KINDS",
    "DatabaseSummary",
    "EntityRef",
    "ExportResult",
    "Explanation",
    "MappingReport",
    "NotStored",
    "atomic_output",
    "check_output_target",
    "database_summary",
    "explain_entity",
    "freshness",
    "industry_employers",
    "latest_as_of",
    "most_evidence",
    "preliminary_note",
    "recipient_side",
    "recent_runs",
    "resolve_entity",
    "run_validations",
    "score_distribution",
    "score_history",
    "score_trend",
    "search_entities",
    "export_scores",
    "export_source_file",
    "mapping_report",
    "staged_files",
    "top_leaning",
]


@dataclass(frozen=True)
class MappingReport:
    total_dollars: float
    by_class: dict[str, tuple[float, int]]  # class -> (dollars, rows)

    def share(self, cls: str) -> float:
        return self.by_class.get(cls, (0.0, 0))[0] / self.total_dollars if self.total_dollars else 0.0

    @property
    def real_employer_coverage(self) -> float:
        """Share of dollars from donors with a real (non-bucket) employer mapped to an industry."""
        mapped = self.by_class.get("industry", (0.0, 0))[0]
        unmapped = self.by_class.get("employer_unmapped", (0.0, 0))[0]
        return mapped / (mapped + unmapped) if mapped + unmapped else 0.0


MAPPING_SQL = """
SELECT CASE
         WHEN c.employer_key IS NULL THEN 'no_employer'
         WHEN e.is_generic THEN 'bucket'
         WHEN ei.industry_key IS NOT NULL THEN 'industry'
         ELSE 'employer_unmapped'
       END AS cls,
       coalesce(sum(c.amount), 0)::float8 AS dollars,
       count(*) AS n
FROM core.contribution c
LEFT JOIN core.employer e ON e.employer_key = c.employer_key
LEFT JOIN core.employer_industry ei ON ei.employer_key = c.employer_key
WHERE c.source = 'indiv' AND c.counts_as_contribution AND NOT c.is_refund AND c.deleted_at IS NULL
  AND (%(cycle)s::int IS NULL OR c.cycle = %(cycle)s::int)
GROUP BY 1
"""


def mapping_report(conn: psycopg.Connection, cycle: int | None = None) -> MappingReport:
    by_class = {
        str(r["cls"]): (float(r["dollars"]), int(r["n"])) for r in every(conn, MAPPING_SQL, {"cycle": cycle})
    }
    return MappingReport(sum(v[0] for v in by_class.values()), by_class)


def staged_files(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Per staged source file: type, cycle, lines, loaded, rejected, window."""
    return ops.staged_file_totals(conn)


TOP_SQL = """
SELECT coalesce(e.canonical_name, i.naics_code || ' ' || i.title) AS name, s.score::float8 AS score,
       s.ci_low::float8 AS ci_low, s.ci_high::float8 AS ci_high, s.dem_amount::float8 AS dem,
       s.rep_amount::float8 AS rep, s.n_donors, s.as_of
FROM scores.leaning_score s
LEFT JOIN core.employer e ON e.employer_key = s.employer_key
LEFT JOIN core.industry i ON i.industry_key = s.industry_key
WHERE s.entity_type = %(entity)s AND s.valid_to IS NULL AND s.score IS NOT NULL
  AND s.as_of = (SELECT max(as_of) FROM scores.leaning_score WHERE entity_type = %(entity)s AND valid_to IS NULL)
ORDER BY s.score {direction}, (s.dem_amount + s.rep_amount) DESC, name
LIMIT %(limit)s
"""


def top_leaning(
    conn: psycopg.Connection, entity: str, *, republican: bool, limit: int = 5
) -> list[dict[str, Any]]:
    """Most Republican-leaning (``republican=True``) or most Democratic-leaning scored entities."""
    query = TOP_SQL.format(direction="DESC" if republican else "ASC")
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"entity": entity, "limit": limit}).fetchall()


def recent_runs(conn: psycopg.Connection, *, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
    """The newest runs: command, status, times, rows rejected while staging, gates run."""
    return ops.runs_with_totals(conn, limit=limit, offset=offset)


def run_validations(conn: psycopg.Connection, run_ids: list[int]) -> list[dict[str, Any]]:
    """The validation results recorded by the gates of ``run_ids`` (failures and warnings first)."""
    return ops.run_validations(conn, run_ids)
