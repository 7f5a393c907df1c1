"""Real itcont lines with the faults seen in FEC files: rejects, invalid dates, repeated SUB_IDs."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from normalize_samples import EARLY_2020, EARLY_AT, Stager, col

from fecflow.db.partitions import ensure_year_partitions
from fecflow.normalize.step import normalize_cycle
from support.staging_loader import read_sample_lines, write_lines

pytestmark = pytest.mark.integration

I_CMTE, I_DT, I_AMT = col("indiv", "CMTE_ID"), col("indiv", "TRANSACTION_DT"), col("indiv", "TRANSACTION_AMT")


def _with(line: bytes, index: int, value: bytes) -> bytes:
    fields = line.split(b"|")
    fields[index] = value
    return b"|".join(fields)


def _faulty_lines() -> tuple[list[bytes], dict[str, bytes]]:
    lines = [
        line
        for line in read_sample_lines(EARLY_2020 / "itcont.txt.gz")
        if line.split(b"|")[I_DT][4:] == b"2019"
    ][:190] + [
        line
        for line in read_sample_lines(EARLY_2020 / "itcont.txt.gz")
        if line.split(b"|")[I_DT][4:] == b"2018"
    ][:10]
    bad = {
        "sub_id": _with(lines[10], col("indiv", "SUB_ID"), b"4031X20191645090514"),
        "amount": _with(lines[11], I_AMT, b"12,50"),
        "cmte": _with(lines[12], I_CMTE, b""),
        "feb30": _with(lines[13], I_DT, b"02302019"),
        "y1918": _with(lines[14], I_DT, b"10171918"),
        "blank": _with(lines[15], I_DT, b""),
        "future": _with(lines[16], I_DT, b"01012916"),
        "decimal": _with(lines[17], I_AMT, b"-25.5"),
    }
    out = list(lines)
    for i, key in enumerate(bad, start=10):
        out[i] = bad[key]
    return out, bad


def test_untypable_rows_are_rejected_and_bad_dates_kept_undated(
    conn: psycopg.Connection, stage: Stager, run_id: int, tmp_path: Path
) -> None:
    lines, _bad = _faulty_lines()
    # 2019 already has a partition (rows for it are inserted, 2018 is bulk-attached).
    ensure_year_partitions(conn, [2019])
    conn.commit()
    sf = stage(write_lines(tmp_path / "itcont.txt", lines), "indiv", 2020, EARLY_AT)
    result = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["indiv"])
    c = result.units[0].tables["core.contribution"]
    assert (c["inserted"], c["rejected"], c["undated"]) == (197, 3, 4)
    rejects = conn.execute(
        "SELECT line_number, reason FROM ops.rejected_row WHERE source_file_id = %s ORDER BY line_number",
        (sf,),
    ).fetchall()
    assert rejects == [
        (11, "normalize: invalid SUB_ID"),
        (12, "normalize: invalid TRANSACTION_AMT"),
        (13, "normalize: missing CMTE_ID"),
    ]
    undated = conn.execute(
        "SELECT transaction_date_raw, tableoid::regclass::text FROM core.contribution WHERE transaction_date IS NULL "
        "ORDER BY 1 NULLS FIRST"
    ).fetchall()
    assert undated == [
        (None, "core.contribution_default"),
        ("01012916", "core.contribution_default"),
        ("02302019", "core.contribution_default"),
        ("10171918", "core.contribution_default"),
    ]
    assert conn.execute("SELECT amount FROM core.contribution WHERE amount = -25.5").fetchall() != []
    by_partition = dict(
        conn.execute("SELECT tableoid::regclass::text, count(*) FROM core.contribution GROUP BY 1").fetchall()
    )
    assert set(by_partition) == {
        "core.contribution_y2018",
        "core.contribution_y2019",
        "core.contribution_default",
    }
    # The bulk-attached partition carries every index and foreign key of core.contribution (migration 0004: 6, 4).
    indexes = conn.execute(
        "SELECT count(*) FROM pg_index WHERE indrelid = 'core.contribution_y2018'::regclass"
    ).fetchone()
    assert indexes == (6,)
    fks = conn.execute(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'core.contribution_y2018'::regclass AND contype = 'f'"
    ).fetchone()
    assert fks == (4,)
    # One id per line number (the block starts at 1 here): rejected lines 11-13 leave a gap.
    ids = conn.execute(
        "SELECT count(DISTINCT c.contribution_id), min(c.contribution_id), max(c.contribution_id), "
        "count(*) FILTER (WHERE c.contribution_id <> s._line_number) FROM core.contribution c "
        "JOIN staging.indiv s ON s._source_file_id = %s AND s.sub_id = c.sub_id::text",
        (sf,),
    ).fetchone()
    assert ids == (197, 1, 200, 0)
    # The identity continues after the claimed block (200 lines).
    nxt = conn.execute(
        "SELECT nextval(pg_get_serial_sequence('core.contribution', 'contribution_id'))"
    ).fetchone()
    assert nxt == (201,)
    conn.rollback()


def test_a_repeated_sub_id_keeps_the_last_line(
    conn: psycopg.Connection, stage: Stager, run_id: int, tmp_path: Path
) -> None:
    lines = read_sample_lines(EARLY_2020 / "itcont.txt.gz")[:50]
    lines.append(_with(lines[5], I_AMT, b"777"))  # the same SUB_ID again, later, another amount
    stage(write_lines(tmp_path / "itcont.txt", lines), "indiv", 2020, EARLY_AT)
    result = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["indiv"])
    c = result.units[0].tables["core.contribution"]
    assert (c["inserted"], c["duplicate_sub_id_lines"]) == (50, 1)
    sub_id = int(lines[5].split(b"|")[-1])
    assert conn.execute("SELECT amount FROM core.contribution WHERE sub_id = %s", (sub_id,)).fetchall() == [
        (777,)
    ]


def _partition_catalog(conn: psycopg.Connection, partition: str) -> list[tuple[str, str, bool, int]]:
    """Constraints and indexes of a partition, its own name replaced by ``P``."""
    rows = conn.execute(
        "SELECT conname, contype::text, conislocal, coninhcount FROM pg_constraint "
        "WHERE conrelid = ('core.' || %s)::regclass "
        "UNION ALL SELECT c.relname, 'index', true, 0 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = ('core.' || %s)::regclass ORDER BY 1",
        (partition, partition),
    ).fetchall()
    return [(str(name).replace(partition, "P"), kind, local, n) for name, kind, local, n in rows]


def test_bulk_first_load_attaches_big_years_and_inserts_small_ones(
    conn: psycopg.Connection, stage: Stager, run_id: int, tmp_path: Path
) -> None:
    sample = read_sample_lines(EARLY_2020 / "itcont.txt.gz")
    lines = [line for line in sample if line.split(b"|")[I_DT][4:] == b"2019"][:300]
    # One 2018 line: under 1% of the snapshot, too few for a bulk table of its own.
    lines.append(next(line for line in sample if line.split(b"|")[I_DT][4:] == b"2018"))
    i_tp = col("indiv", "TRANSACTION_TP")
    lines[20] = _with(lines[20], i_tp, b"ZZZ")  # a type the counting rules do not know
    lines[21] = _with(_with(lines[21], i_tp, b"ZZZ"), I_AMT, b"n/a")  # unknown type, and rejected
    stage(write_lines(tmp_path / "itcont.txt", lines), "indiv", 2020, EARLY_AT)
    result = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["indiv"])
    c = result.units[0].tables["core.contribution"]
    assert (c["inserted"], c["rejected"], c["unknown_transaction_type"], c["partitions_created"]) == (300, 1, 1, 2)
    assert result.units[0].tables["snapshot"] == {"lines": 301, "records": 300}
    by_partition = dict(
        conn.execute("SELECT tableoid::regclass::text, count(*) FROM core.contribution GROUP BY 1").fetchall()
    )
    assert by_partition == {"core.contribution_y2019": 299, "core.contribution_y2018": 1}
    # The attached partition (2019) carries exactly what PARTITION OF gave the inserted one (2018).
    assert _partition_catalog(conn, "contribution_y2019") == _partition_catalog(conn, "contribution_y2018")
    assert conn.execute(
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'core'::regnamespace "
        "AND (relname LIKE '\\_load\\_%%' OR relname = '_valid_date')"
    ).fetchone() == (0,)
    # Ids follow line numbers across the attached table and the inserted rest (line 22 was rejected).
    assert conn.execute(
        "SELECT count(DISTINCT contribution_id), max(contribution_id) - min(contribution_id) FROM core.contribution"
    ).fetchone() == (300, 300)
    assert conn.execute(
        "SELECT category, counts_as_contribution FROM core.contribution WHERE transaction_type = 'ZZZ'"
    ).fetchall() == [("other", False)]
    conn.rollback()
