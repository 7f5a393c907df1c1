"""Current leaning scores of one ``as_of`` and window, one row per entity, to CSV or Parquet.

``entity_id`` is the FEC id for candidates and committees, the canonical name for employers and the
NAICS code for industries. Entities without a score are included with an empty score and a reason.
The last ten columns are filled by lean-2026.2 (``--method``): effective evidence, direct and flowed
partisan money, an employer's own-PAC money with that PAC's own score and interval, and a candidate
donor base's coverage (shares of donors and dollars the score rests on).
CSV uses the standard library; Parquet needs pyarrow (the ``parquet`` extra:
``pip install 'fecflow[parquet]'``; ``make test`` installs it).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from fecflow.errors import ConfigError, DataError
from fecflow.scores.method import METHOD_DEFAULT
from fecflow.scores.preliminary import preliminary_share
from fecflow.scores.windows import DEFAULT_LOOKBACK_MONTHS, Window, window_ending
from fecflow.sources.output import atomic_output, check_output_target

EXPORT_COLUMNS = (
    "entity_type",
    "entity_id",
    "entity_name",
    "party",
    "score",
    "ci_low",
    "ci_high",
    "dem_amount",
    "rep_amount",
    "other_amount",
    "n_contributions",
    "n_donors",
    "window_start",
    "window_end",
    "method_version",
    "reason",
    # lean-2026.2 and later (empty for lean-2026.1): what the score rests on.
    "n_effective",
    "direct_amount",
    "flowed_amount",
    "own_pac_amount",
    "own_pac_committee_id",
    "own_pac_score",
    "own_pac_ci_low",
    "own_pac_ci_high",
    "base_donor_share",
    "base_dollar_share",
    # Dollars of the entity's counted rows from preliminary e-filed rows, and their share of D + R +
    # other (empty: computed without --include-preliminary).
    "preliminary_amount",
    "preliminary_share",
)
FORMATS = ("csv", "parquet")
_SHARE_OF = ("dem_amount", "rep_amount", "other_amount", "preliminary_amount")

CURRENT_SCORES_SQL = (
    "SELECT s.entity_type, "
    "CASE s.entity_type WHEN 'candidate' THEN k.candidate_id WHEN 'committee' THEN m.committee_id "
    "WHEN 'employer' THEN e.canonical_name ELSE i.naics_code END AS entity_id, "
    "coalesce(k.name, m.name, e.canonical_name, i.title) AS entity_name, "
    "coalesce(k.party, m.party) AS party, "
    "s.score, s.ci_low, s.ci_high, s.dem_amount, s.rep_amount, s.other_amount, s.n_contributions, s.n_donors, "
    "s.window_start, s.window_end, s.method_version, s.reason, "
    "s.n_effective, s.direct_amount, s.flowed_amount, s.own_pac_amount, pac.committee_id, "
    "ps.score, ps.ci_low, ps.ci_high, s.base_donor_share, s.base_dollar_share, s.preliminary_amount "
    "FROM scores.leaning_score s "
    "LEFT JOIN core.committee pac ON pac.committee_key = s.own_pac_committee_key "
    "LEFT JOIN scores.leaning_score ps ON ps.committee_key = s.own_pac_committee_key AND ps.valid_to IS NULL "
    "AND ps.method_version = s.method_version AND ps.as_of = s.as_of AND ps.window_start = s.window_start "
    "AND ps.window_end = s.window_end "
    "LEFT JOIN core.candidate k ON k.candidate_key = s.candidate_key "
    "LEFT JOIN core.committee m ON m.committee_key = s.committee_key "
    "LEFT JOIN core.employer e ON e.employer_key = s.employer_key "
    "LEFT JOIN core.industry i ON i.industry_key = s.industry_key "
    "WHERE s.valid_to IS NULL AND s.method_version = %(method)s AND s.as_of = %(as_of)s "
    "AND s.window_start = %(start)s AND s.window_end = %(end)s "
    "ORDER BY s.entity_type, entity_id"
)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    scored: int
    window: Window
    format: str


def fetch_current_scores(
    conn: psycopg.Connection, *, as_of: dt.date, window: Window, method_version: str = METHOD_DEFAULT
) -> list[tuple[Any, ...]]:
    """Current rows as tuples in :data:`EXPORT_COLUMNS` order, sorted by entity type and id."""
    params = {"method": method_version, "as_of": as_of, "start": window.start, "end": window.end}
    money = [EXPORT_COLUMNS.index(c) for c in ("dem_amount", "rep_amount", "other_amount", "preliminary_amount")]
    return [
        (*r, preliminary_share(dict(zip(_SHARE_OF, (r[i] for i in money), strict=True))))
        for r in conn.execute(CURRENT_SCORES_SQL, params)
    ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(rows: Sequence[Sequence[Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow([_text(v) for v in row])


def write_parquet(rows: Sequence[Sequence[Any]], path: Path) -> None:
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError as exc:
        raise ConfigError(
            "Parquet export needs pyarrow, which is not installed.",
            hint="pip install 'fecflow[parquet]' (or pyarrow), or use --format csv.",
        ) from exc
    score, money = pa.decimal128(6, 5), pa.decimal128(14, 2)
    types = (
        [pa.string()] * 4
        + [score] * 3
        + [money] * 3
        + [pa.int32()] * 2
        + [pa.date32()] * 2
        + [pa.string()] * 2
        + [pa.decimal128(12, 2)]
        + [money] * 3
        + [pa.string()]
        + [score] * 5
        + [money, score]
    )
    schema = pa.schema(list(zip(EXPORT_COLUMNS, types, strict=True)))
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in EXPORT_COLUMNS]
    table = pa.table([pa.array(list(c), type=t) for c, t in zip(columns, types, strict=True)], schema=schema)
    pq.write_table(table, str(path))


def export_scores(
    conn: psycopg.Connection,
    *,
    as_of: dt.date,
    output: Path,
    fmt: str = "csv",
    lookback_months: int = DEFAULT_LOOKBACK_MONTHS,
    method_version: str = METHOD_DEFAULT,
) -> ExportResult:
    """Write the current scores of ``as_of`` to ``output`` (atomically: a temp file, then rename)."""
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown export format {fmt!r}.", hint=f"Use one of: {', '.join(FORMATS)}.")
    output = check_output_target(output)  # before any query: a bad target is the first error
    window = window_ending(as_of, lookback_months)
    rows = fetch_current_scores(conn, as_of=as_of, window=window, method_version=method_version)
    if not rows:
        raise DataError(
            f"No {method_version} scores as of {as_of} for the window {window}.",
            hint=f"Run `fecflow scores compute --as-of {as_of} --lookback-months {lookback_months}` first.",
        )
    with atomic_output(output) as partial:
        (write_csv if fmt == "csv" else write_parquet)(rows, partial)
    score_at = EXPORT_COLUMNS.index("score")
    scored = sum(1 for r in rows if isinstance(r[score_at], Decimal))
    return ExportResult(output, len(rows), scored, window, fmt)
