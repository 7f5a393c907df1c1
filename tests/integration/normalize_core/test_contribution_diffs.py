"""A later snapshot of the real 2020 itcont: removed, re-amounted, re-dated and new rows, exactly."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from normalize_samples import EARLY_2020, EARLY_AT, Stager, col, read_rows

from fecflow.normalize import contributions
from fecflow.normalize.dimensions import CANDIDATE_ID_RE
from fecflow.normalize.step import normalize_cycle
from support.staging_loader import read_sample_lines, write_lines

pytestmark = pytest.mark.integration

N_REMOVED, M_AMOUNT, K_DATE, P_NEW = 37, 23, 11, 13
I_DT, I_AMT, I_SUB = col("indiv", "TRANSACTION_DT"), col("indiv", "TRANSACTION_AMT"), col("indiv", "SUB_ID")


def _fields(line: bytes) -> list[bytes]:
    return line.split(b"|")


def _later_snapshot(lines: list[bytes]) -> tuple[list[bytes], dict[str, set[int]]]:
    """Remove N, change the amount of M, the date of K (to another year), add P fresh SUB_IDs."""
    rng = random.Random(2020)
    picks = rng.sample(range(len(lines)), N_REMOVED + M_AMOUNT + K_DATE + P_NEW)
    removed = set(picks[:N_REMOVED])
    amount = set(picks[N_REMOVED : N_REMOVED + M_AMOUNT])
    date = set(picks[N_REMOVED + M_AMOUNT : N_REMOVED + M_AMOUNT + K_DATE])
    templates = picks[N_REMOVED + M_AMOUNT + K_DATE :]
    out: list[bytes] = []
    ids: dict[str, set[int]] = {"removed": set(), "amount": set(), "date": set(), "new": set()}
    for i, line in enumerate(lines):
        f = _fields(line)
        sub_id = int(f[I_SUB])
        if i in removed:
            ids["removed"].add(sub_id)
            continue
        if i in amount:
            f[I_AMT] = str(int(f[I_AMT]) + 1000).encode()
            ids["amount"].add(sub_id)
        if i in date:
            month_day, year = f[I_DT][:4], int(f[I_DT][4:])
            f[I_DT] = month_day.replace(b"0229", b"0228") + str(year - 1).encode()  # a year earlier
            ids["date"].add(sub_id)
        out.append(b"|".join(f))
    for n, i in enumerate(templates):
        f = _fields(lines[i])
        sub_id = 9_100_000_000_000_000_000 + n
        f[I_SUB] = str(sub_id).encode()
        ids["new"].add(sub_id)
        out.append(b"|".join(f))
    return out, ids


def _count(conn: psycopg.Connection, query: str, params: tuple = ()) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


def test_later_snapshot_is_applied_as_exact_diff(
    conn: psycopg.Connection, stage: Stager, run_id: int, tmp_path: Path
) -> None:
    stage(EARLY_2020 / "cm.txt", "cm", 2020, EARLY_AT)
    stage(EARLY_2020 / "itcont.txt.gz", "indiv", 2020, EARLY_AT)
    first = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm", "indiv"])
    assert first.units[1].tables["core.contribution"]["inserted"] == 70671

    lines = read_sample_lines(EARLY_2020 / "itcont.txt.gz")
    later, ids = _later_snapshot(lines)
    before = {
        sub_id: (amount, date)
        for sub_id, amount, date in conn.execute(
            "SELECT sub_id, amount, transaction_date FROM core.contribution WHERE sub_id = ANY(%s)",
            (sorted(ids["amount"] | ids["date"]),),
        )
    }
    second_at = EARLY_AT + dt.timedelta(days=7)
    stage(write_lines(tmp_path / "itcont_later.txt.gz", later), "indiv", 2020, second_at)
    result = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["indiv"])
    counts = result.units[0].tables
    c = counts["core.contribution"]
    assert (c["inserted"], c["updated"], c["deleted"], c["restored"]) == (
        P_NEW,
        M_AMOUNT + K_DATE,
        N_REMOVED,
        0,
    )
    assert c["unchanged"] == 70671 - N_REMOVED - M_AMOUNT - K_DATE
    assert counts["core.contribution_history"] == {
        "insert": P_NEW,
        "update": M_AMOUNT + K_DATE,
        "delete": N_REMOVED,
        "restore": 0,
    }

    # One row per SUB_ID, all of them; removed ones soft-deleted by this run.
    assert _count(conn, "SELECT count(*) FROM core.contribution") == 70671 + P_NEW
    assert _count(conn, "SELECT count(DISTINCT sub_id) FROM core.contribution") == 70671 + P_NEW
    deleted = {
        r[0] for r in conn.execute("SELECT sub_id FROM core.contribution WHERE deleted_at IS NOT NULL")
    }
    assert deleted == ids["removed"]
    assert (
        _count(conn, "SELECT count(*) FROM core.contribution WHERE deleted_by_run_id = %s", (run_id,))
        == N_REMOVED
    )

    # Amount changes: history holds old and new amounts.
    history = {
        sub_id: (old, new)
        for sub_id, old, new in conn.execute(
            "SELECT sub_id, old_values, new_values FROM core.contribution_history WHERE change = 'update'"
        )
    }
    assert set(history) == ids["amount"] | ids["date"]
    for sub_id in ids["amount"]:
        old, new = history[sub_id]
        assert Decimal(str(new["amount"])) - Decimal(str(old["amount"])) == 1000
        assert Decimal(str(old["amount"])) == before[sub_id][0]
    # Date changes: moved a year back, into the earlier year's partition.
    for sub_id in ids["date"]:
        old, new = history[sub_id]
        assert old["transaction_date"] == before[sub_id][1].isoformat()
        assert dt.date.fromisoformat(new["transaction_date"]).year == before[sub_id][1].year - 1
        row = conn.execute(
            "SELECT tableoid::regclass::text, transaction_date FROM core.contribution WHERE sub_id = %s",
            (sub_id,),
        ).fetchone()
        assert row is not None
        assert row[0] == f"core.contribution_y{row[1].year}" and row[1].year == before[sub_id][1].year - 1
    assert _count(conn, "SELECT count(*) FROM core.contribution_history WHERE change = 'insert'") == P_NEW
    deletes = conn.execute(
        "SELECT sub_id, old_values FROM core.contribution_history WHERE change = 'delete'"
    ).fetchall()
    assert {r[0] for r in deletes} == ids["removed"] and all("amount" in r[1] for r in deletes)

    # A rerun changes nothing.
    snapshot_of_core = conn.execute(
        "SELECT count(*), sum(amount), count(deleted_at), (SELECT count(*) FROM core.contribution_history) "
        "FROM core.contribution"
    ).fetchone()
    again = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["indiv"])
    assert not again.changed
    assert (
        conn.execute(
            "SELECT count(*), sum(amount), count(deleted_at), (SELECT count(*) FROM core.contribution_history) "
            "FROM core.contribution"
        ).fetchone()
        == snapshot_of_core
    )

    # The original again (a third, newer snapshot): removed rows come back, changes revert, new rows go.
    stage(write_lines(tmp_path / "itcont_again.txt", lines), "indiv", 2020, second_at + dt.timedelta(days=7))
    third = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["indiv"]).units[0].tables
    c3 = third["core.contribution"]
    assert (c3["inserted"], c3["updated"], c3["deleted"], c3["restored"]) == (
        0,
        M_AMOUNT + K_DATE,
        P_NEW,
        N_REMOVED,
    )
    assert _count(conn, "SELECT count(*) FROM core.contribution WHERE deleted_at IS NULL") == 70671
    restored = conn.execute(
        "SELECT count(*) FROM core.contribution_history WHERE change = 'restore' AND sub_id = ANY(%s)",
        (sorted(ids["removed"]),),
    ).fetchone()
    assert restored == (N_REMOVED,)


def test_a_failure_leaves_no_half_normalized_state(
    conn: psycopg.Connection, stage: Stager, run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage(EARLY_2020 / "itpas2.txt", "pas2", 2020, EARLY_AT)
    real = contributions._apply_diff

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)  # every row written ...
        raise RuntimeError("disk full")  # ... then the unit fails

    monkeypatch.setattr(contributions, "_apply_diff", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["pas2"])
    for table in ("core.contribution", "core.committee", "core.candidate", "core.employer"):
        assert _count(conn, f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
    audit = conn.execute(
        "SELECT status, error FROM ops.ingest_run_audits WHERE stage = 'normalize' AND scope = 'pas2:2020'"
    ).fetchall()
    assert audit == [("failed", "RuntimeError: disk full")]

    monkeypatch.setattr(contributions, "_apply_diff", real)
    again = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["pas2"])
    assert again.units[0].status == "normalized"
    assert _count(conn, "SELECT count(*) FROM core.contribution") == 3159


def test_pas2_takes_over_its_rows_from_oth_without_duplicates(
    conn: psycopg.Connection, stage: Stager, run_id: int
) -> None:
    # oth normalized first (as with `--files oth`): every itpas2 SUB_ID is already there, as oth.
    stage(EARLY_2020 / "itoth.txt.gz", "oth", 2020, EARLY_AT)
    stage(EARLY_2020 / "itpas2.txt", "pas2", 2020, EARLY_AT)
    normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["oth"])
    assert _count(conn, "SELECT count(*) FROM core.contribution WHERE source = 'oth'") == 50921
    pas2 = (
        normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["pas2"])
        .units[0]
        .tables["core.contribution"]
    )
    assert pas2["taken_over_from_oth"] == 3159 and pas2["inserted"] == 0 and pas2["updated"] == 3159
    assert _count(conn, "SELECT count(*) FROM core.contribution") == 50921
    assert _count(conn, "SELECT count(DISTINCT sub_id) FROM core.contribution") == 50921
    with_candidate = sum(
        1
        for r in read_rows(EARLY_2020 / "itpas2.txt", "pas2")
        if re.fullmatch(CANDIDATE_ID_RE, r[col("pas2", "CAND_ID")])
    )
    assert with_candidate > 3000  # the others have no (well-formed) CAND_ID
    linked = "SELECT count(*) FROM core.contribution WHERE source = 'pas2' AND candidate_key IS NOT NULL"
    assert _count(conn, linked) == with_candidate
    # oth again (forced): the pas2-owned rows are left alone, nothing is deleted.
    oth = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["oth"], force=True).units[0].tables
    c = oth["core.contribution"]
    assert (c["owned_by_pas2"], c["deleted"], c["inserted"], c["updated"]) == (3159, 0, 0, 0)
    assert _count(conn, "SELECT count(*) FROM core.contribution WHERE deleted_at IS NOT NULL") == 0


@pytest.mark.parametrize(
    "max_share", [contributions.KEYED_DIFF_MAX_SHARE, -1.0], ids=["changed-lines", "all-lines"]
)
def test_later_snapshot_with_faulty_lines_same_either_way(
    conn: psycopg.Connection,
    stage: Stager,
    run_id: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    max_share: float,
) -> None:
    """Typing only the changed lines gives the counts, rejects and rows that typing every line gives."""
    stage(EARLY_2020 / "cm.txt", "cm", 2020, EARLY_AT)
    stage(EARLY_2020 / "itcont.txt.gz", "indiv", 2020, EARLY_AT)
    normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm", "indiv"])
    lines = read_sample_lines(EARLY_2020 / "itcont.txt.gz")
    later = [_fields(line) for line in lines]
    gone = [int(later[100][I_SUB]), int(later[200][I_SUB])]
    later[100][I_AMT] = b"n/a"  # rejected: its SUB_ID leaves the scope
    later[200][I_SUB] = b"BAD"  # rejected: its SUB_ID leaves the scope
    later[400][I_DT] = b"13452019"  # kept undated, raw date kept: changed
    repeat = list(later[300])
    repeat[I_AMT] = str(int(repeat[I_AMT]) + 5).encode()  # the same SUB_ID again, later: it wins
    later.append(repeat)
    monkeypatch.setattr(contributions, "KEYED_DIFF_MAX_SHARE", max_share)
    stage(
        write_lines(tmp_path / "itcont_faulty.txt", [b"|".join(f) for f in later]),
        "indiv",
        2020,
        EARLY_AT + dt.timedelta(days=7),
    )
    result = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["indiv"])
    c = result.units[0].tables["core.contribution"]
    assert {k: c[k] for k in ("inserted", "updated", "deleted", "restored", "unchanged")} == {
        "inserted": 0,
        "updated": 2,
        "deleted": 2,
        "restored": 0,
        "unchanged": 70_667,
    }
    assert (c["rejected"], c["duplicate_sub_id_lines"], c["undated"]) == (2, 1, 1)
    assert result.units[0].tables["snapshot"] == {"lines": 70_672, "records": 70_669}
    assert (
        _count(
            conn,
            "SELECT count(*) FROM core.contribution WHERE deleted_at IS NOT NULL AND sub_id = ANY(%s)",
            (gone,),
        )
        == 2
    )
    assert _count(
        conn, "SELECT amount FROM core.contribution WHERE sub_id = %s", (int(repeat[I_SUB]),)
    ) == int(repeat[I_AMT])
    assert conn.execute(
        "SELECT transaction_date, transaction_date_raw FROM core.contribution WHERE sub_id = %s",
        (int(later[400][I_SUB]),),
    ).fetchone() == (None, "13452019")
    assert _count(conn, "SELECT count(*) FROM ops.rejected_row WHERE reason LIKE 'normalize:%%'") == 2
