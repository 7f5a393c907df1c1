"""Export of current scores, and explanations of single entities."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fecflow.errors import ConfigError, DataError
from fecflow.scores import METHOD_V1, compute_scores
from fecflow.scores.explain import NotStored, explain_entity
from fecflow.scores.export import EXPORT_COLUMNS, export_scores
from integration.scores.core_rows import CoreRows

pytestmark = pytest.mark.integration

AS_OF = dt.date(2019, 3, 31)


@pytest.fixture
def scored(core: CoreRows, conn: psycopg.Connection) -> CoreRows:
    core.campaign("H8DEM0001", "DEM", "C00000001")
    core.campaign("H8REP0001", "REP", "C00000003")
    core.campaign("H8GRE0001", "GRE", "C00000005")
    core.committee("C00000020", committee_type="Q", name="ROADS PAC")
    core.employer("MICROSOFT")
    core.employer("QUIET LLC")
    core.map_employer("MICROSOFT", "5415")
    core.industry("54")
    for donor, recipient, amount in (
        ("A", "C00000001", 500),
        ("B", "C00000001", 250),
        ("C", "C00000003", 100),
        ("A", "C00000003", 50),
    ):
        core.give(recipient, amount, "2018-05-01", donor=donor, employer="MICROSOFT")
    core.give("C00000005", 100, "2018-05-01", donor="Q", employer="QUIET LLC")
    core.give("C00000003", 1000, "2018-05-01", source="pas2", contributor="C00000020", candidate="H8REP0001")
    core.commit()
    compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V1)
    return core


def test_csv_export_has_one_row_per_entity_with_the_documented_columns(
    scored: CoreRows, conn: psycopg.Connection, tmp_path: Path
) -> None:
    out = tmp_path / "scores.csv"
    result = export_scores(conn, as_of=AS_OF, output=out, method_version=METHOD_V1)
    with out.open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS
        rows = list(reader)
    assert result.rows == len(rows)
    by_id = {(r["entity_type"], r["entity_id"]): r for r in rows}
    ms = by_id[("employer", "MICROSOFT")]
    # D 750, R 150 over 3 donors: share 1/6 -> Beta(1.5, 3.5) -> 0.3
    assert ms["score"] == "0.30000" and ms["dem_amount"] == "750.00" and ms["rep_amount"] == "150.00"
    assert (ms["n_contributions"], ms["n_donors"], ms["window_start"], ms["window_end"]) == (
        "4",
        "3",
        "2017-04-01",
        "2019-03-31",
    )
    assert ms["reason"] == "" and ms["method_version"] and ms["party"] == ""
    quiet = by_id[("employer", "QUIET LLC")]
    assert quiet["score"] == "" and quiet["reason"].startswith("no_partisan_money")
    pac = by_id[("committee", "C00000020")]
    assert pac["entity_name"] == "ROADS PAC" and pac["score"] == "0.66667"  # one R contribution: 2/3
    assert by_id[("industry", "54")]["entity_name"] and by_id[("industry", "5415")]["score"] == "0.30000"
    assert ("candidate", "H8DEM0001") in by_id and by_id[("candidate", "H8DEM0001")]["party"] == "DEM"
    assert [(r["entity_type"], r["entity_id"]) for r in rows] == sorted(by_id)


def test_export_errors_are_clear(scored: CoreRows, conn: psycopg.Connection, tmp_path: Path) -> None:
    with pytest.raises(DataError) as missing:
        export_scores(conn, as_of=dt.date(2020, 1, 31), output=tmp_path / "x.csv", method_version=METHOD_V1)
    assert "fecflow scores compute --as-of 2020-01-31" in (missing.value.hint or "")
    assert not (tmp_path / "x.csv").exists()


def test_export_parquet_matches_csv(scored: CoreRows, conn: psycopg.Connection, tmp_path: Path) -> None:
    pq: Any = importlib.import_module("pyarrow.parquet")  # a dev dependency: `make test` installs it
    export_scores(conn, as_of=AS_OF, output=tmp_path / "s.csv", method_version=METHOD_V1)
    result = export_scores(conn, as_of=AS_OF, output=tmp_path / "s.parquet", fmt="parquet", method_version=METHOD_V1)
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.column_names == list(EXPORT_COLUMNS) and table.num_rows == result.rows
    assert str(table.schema.field("score").type) == "decimal128(6, 5)"
    assert str(table.schema.field("window_start").type) == "date32[day]"
    with (tmp_path / "s.csv").open(encoding="utf-8", newline="") as fh:
        from_csv = list(csv.DictReader(fh))

    def text(value: object) -> str:
        return "" if value is None else str(value)

    from_parquet = [{k: text(v) for k, v in row.items()} for row in table.to_pylist()]
    assert from_parquet == from_csv


def test_export_parquet_without_pyarrow_is_a_clear_error(
    scored: CoreRows, conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = importlib.import_module

    def no_pyarrow(name: str, package: str | None = None) -> object:
        if name.startswith("pyarrow"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", no_pyarrow)
    with pytest.raises(ConfigError) as no_arrow:
        export_scores(conn, as_of=AS_OF, output=tmp_path / "x.parquet", fmt="parquet", method_version=METHOD_V1)
    assert "fecflow[parquet]" in (no_arrow.value.hint or "")
    assert not list(tmp_path.iterdir())


def test_explain_employer_lists_recipients_with_alignment(scored: CoreRows, conn: psycopg.Connection) -> None:
    ex = explain_entity(conn, "employer", "microsoft", method_version=METHOD_V1)
    assert ex.entity.entity_id == "MICROSOFT" and ex.as_of == AS_OF
    assert ex.score["score"] == Decimal("0.30000")
    lines = [
        (r.recipient_id, r.side, r.basis, r.amount, r.n_contributions, r.n_donors) for r in ex.recipients
    ]
    assert lines == [
        ("C00000001", "D", "candidate", Decimal("750.00"), 2, 2),
        ("C00000003", "R", "candidate", Decimal("150.00"), 2, 2),
    ]
    assert sum(r.amount for r in ex.recipients if r.side == "D") == ex.score["dem_amount"]


def test_explain_committee_and_candidate(scored: CoreRows, conn: psycopg.Connection) -> None:
    pac = explain_entity(conn, "committee", "C00000020", as_of=AS_OF, method_version=METHOD_V1)
    assert [(r.recipient_id, r.side) for r in pac.recipients] == [("H8REP0001", "R")]
    cand = explain_entity(conn, "candidate", "H8REP0001", method_version=METHOD_V1)
    # H8REP0001's donors A and C: A also gave 500 to H8DEM0001 (the leave-one-out base).
    assert [(r.recipient_id, r.amount) for r in cand.recipients] == [("C00000001", Decimal("500.00"))]
    assert cand.score["reason"].startswith("insufficient_support")


def test_candidate_and_industry_lines_are_read_in_a_read_only_transaction(
    scored: CoreRows, conn: psycopg.Connection
) -> None:
    """Issue #17: lines of every entity type come from the slot's kept context, no temp table needed."""
    conn.commit()
    conn.execute("SET TRANSACTION READ ONLY")
    cand = explain_entity(conn, "candidate", "H8REP0001", method_version=METHOD_V1, recompute=False)
    industry = explain_entity(conn, "industry", "54", method_version=METHOD_V1, recompute=False)
    conn.rollback()
    assert [(r.recipient_id, r.amount, r.n_donors) for r in cand.recipients] == [("C00000001", Decimal("500.00"), 1)]
    # Industry 54 (sector of MICROSOFT's 5415): its people's money, recipient by recipient.
    assert [(r.recipient_id, r.side, r.amount, r.n_contributions, r.n_donors) for r in industry.recipients] == [
        ("C00000001", "D", Decimal("750.00"), 2, 2),
        ("C00000003", "R", Decimal("150.00"), 2, 2),
    ]
    conn.execute("DELETE FROM scores.context_slot")  # as if scored before migration 0011
    with pytest.raises(NotStored):
        explain_entity(conn, "industry", "54", method_version=METHOD_V1, recompute=False)
    assert explain_entity(conn, "industry", "54", method_version=METHOD_V1).recipients == industry.recipients
    conn.rollback()


def test_explain_unknown_or_unscored_entity_is_a_clear_error(
    scored: CoreRows, conn: psycopg.Connection
) -> None:
    with pytest.raises(DataError) as unknown:
        explain_entity(conn, "employer", "MICRO", method_version=METHOD_V1)
    assert "No employer 'MICRO'" in unknown.value.message and "MICROSOFT" in (unknown.value.hint or "")
    scored.employer("NO MONEY INC")
    scored.commit()
    with pytest.raises(DataError) as unscored:
        explain_entity(conn, "employer", "NO MONEY INC", method_version=METHOD_V1)
    assert "fecflow scores compute" in (unscored.value.hint or "")
    with pytest.raises(DataError):
        explain_entity(conn, "employer", "MICROSOFT", as_of=dt.date(2020, 6, 30), method_version=METHOD_V1)
    with pytest.raises(DataError, match="Unknown entity type"):
        explain_entity(conn, "donor", "X", method_version=METHOD_V1)


def test_explain_employer_lists_the_strings_merged_into_it(scored: CoreRows, conn: psycopg.Connection) -> None:
    """Issue #19: `explain employer X` shows which raw EMPLOYER strings make up X, with their rows."""
    key = scored.employers["MICROSOFT"]
    conn.execute(
        "INSERT INTO core.employer_alias (raw_employer, employer_key, method, confidence, map_version, score, evidence) "
        "VALUES ('MICROSOFT CORP', %(k)s, 'alias', 1.0, 'test', NULL, NULL), "
        "('MICROSFT', %(k)s, 'similar', 0.9, 'test', 0.87, '{\"kind\": \"typo\"}'), "
        "('MICROSOFT NEVER USED', %(k)s, 'exact', 1.0, 'test', NULL, NULL)",
        {"k": key},
    )
    conn.execute(
        "UPDATE core.contribution SET raw_employer = CASE WHEN amount >= 250 THEN 'MICROSOFT CORP' ELSE 'MICROSFT' END "
        "WHERE employer_key = %s",
        (key,),
    )
    conn.commit()
    strings = explain_entity(conn, "employer", "MICROSOFT", method_version=METHOD_V1).strings
    assert [(s.raw_employer, s.method, s.kind, s.rows) for s in strings] == [
        ("MICROSFT", "similar", "typo", 2),
        ("MICROSOFT CORP", "alias", None, 2),
        ("MICROSOFT NEVER USED", "exact", None, 0),
    ]
    assert strings[0].score == Decimal("0.87")
    assert explain_entity(conn, "committee", "C00000020", as_of=AS_OF, method_version=METHOD_V1).strings == []
