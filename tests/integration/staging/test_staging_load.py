"""The staging load: idempotence, replace, crash safety, resume, parallel batches, windows, locks."""

from __future__ import annotations

import gzip
import shutil
import threading
import zipfile
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

import fecflow.staging.batch as batch_module
import fecflow.staging.coverage as coverage_module
from fecflow.catalog import FILES
from fecflow.db.partitions import staging_leaves
from fecflow.errors import ConfigError, DataError, LockHeld
from fecflow.staging.load import STAGE_LOCK_CLASS, stage_source_file, unstage_source_file

pytestmark = pytest.mark.integration

E20 = "bulk-2020-early-snapshot-2019-03"


@pytest.fixture
def cm_txt(shared_samples: Path, tmp_path: Path) -> Path:
    path = tmp_path / "cm.txt"
    shutil.copyfile(shared_samples / E20 / "extracted" / "cm.txt", path)
    return path


def stage_audits(stager, sfid: int) -> list[dict]:
    return [a for a in stager.audits(sfid) if a["stage"] == "stage"]


# --- idempotence ------------------------------------------------------------------------------------


def test_staging_twice_skips_the_second_time(stager, cm_txt: Path) -> None:
    first = stager.stage(cm_txt, "cm")
    rows = stager.staged_rows("cm", first.source_file_id)
    assert rows == first.loaded == 11605

    second = stager.stage(cm_txt, "cm")

    assert second.source_file_id == first.source_file_id  # the same local file is registered once
    assert second.skipped and second.skip_reason == "already staged"
    assert (second.lines, second.loaded, second.batches) == (first.lines, first.loaded, 0)
    assert stager.staged_rows("cm", first.source_file_id) == rows
    statuses = [a["status"] for a in stage_audits(stager, first.source_file_id)]
    assert statuses == ["succeeded", "skipped"]


def test_same_sha256_as_a_staged_file_is_skipped(stager, cm_txt: Path, tmp_path: Path) -> None:
    first = stager.stage(cm_txt, "cm")
    copy = tmp_path / "again" / "cm.txt"
    copy.parent.mkdir()
    shutil.copyfile(cm_txt, copy)

    second = stager.stage(copy, "cm")

    assert second.source_file_id != first.source_file_id
    assert second.skipped and second.duplicate_of == first.source_file_id
    assert second.skip_reason == f"same sha256 as source file {first.source_file_id}, already staged"
    assert stager.staged_rows("cm", second.source_file_id) == 0


def test_replace_reloads_with_the_same_counts(stager, shared_samples: Path) -> None:
    path = shared_samples / "masters-2022-cycle" / "cn.txt"
    first = stager.stage(path, "cn")
    again = stager.stage(path, "cn", replace=True)

    assert not again.skipped and again.loaded == first.loaded
    assert stager.staged_rows("cn", first.source_file_id) == first.loaded
    audits = stage_audits(stager, first.source_file_id)
    assert [a["status"] for a in audits] == ["succeeded", "succeeded"]
    assert "superseded_by_run_id" in audits[0]["counts"]
    assert "superseded_by_run_id" not in audits[1]["counts"]
    stager.assert_balanced("cn", first.source_file_id)
    assert stager.export(first.source_file_id) == path.read_bytes()
    assert stager.stage(path, "cn").skipped


def test_replace_clears_rejects_and_raw_lines(stager, tmp_path: Path) -> None:
    path = tmp_path / "ccl.txt"
    path.write_bytes(b"a|b|c|d|e|f|g\r\nbad line\ncaf\xe9|b|c|d|e|f|g\n")
    first = stager.stage(path, "ccl")
    assert (first.loaded, first.rejected, first.recoded) == (2, 1, 1)
    stager.stage(path, "ccl", replace=True)
    stager.assert_balanced("ccl", first.source_file_id)
    with psycopg.connect(stager.db_url) as conn:
        raw_lines = conn.execute(
            "SELECT line_number, reason FROM staging.raw_line WHERE source_file_id = %s ORDER BY 1",
            (first.source_file_id,),
        ).fetchall()
    assert raw_lines == [(1, "crlf"), (3, "recoded")]
    assert stager.export(first.source_file_id) == path.read_bytes()


# --- crash safety and resume ------------------------------------------------------------------------


class Boom(Exception):
    pass


def fail_after_first_block() -> tuple[list[int], object]:
    calls: list[int] = []
    lock = threading.Lock()

    def progress(lines: int, size: int) -> None:
        with lock:
            calls.append(lines)
            crash = len(calls) == 2
        if crash:
            raise Boom("simulated crash in the middle of the COPY")

    return calls, progress


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failure_mid_copy_leaves_nothing_and_a_rerun_completes(stager, cm_txt: Path, workers: int) -> None:
    sfid = stager.register(cm_txt, "cm")
    calls, progress = fail_after_first_block()

    with pytest.raises(Boom):
        stager.stage(
            cm_txt, "cm", source_file_id=sfid, workers=workers, progress=progress, block_size=64 * 1024
        )

    assert len(calls) == 2 if workers == 1 else len(calls) >= 2  # other batches stop at their next block
    assert stager.staged_rows("cm", sfid) == 0
    audits = stage_audits(stager, sfid)
    assert len(audits) == workers and {a["status"] for a in audits} == {"failed"}
    assert any("simulated crash" in (a["error"] or "") for a in audits)
    with psycopg.connect(stager.db_url) as conn:
        assert conn.execute("SELECT count(*) FROM ops.rejected_row").fetchone() == (0,)

    rerun = stager.stage(cm_txt, "cm", source_file_id=sfid, workers=workers)

    assert not rerun.skipped and (rerun.lines, rerun.loaded, rerun.rejected) == (11605, 11605, 0)
    stager.assert_balanced("cm", sfid)
    assert stager.export(sfid) == cm_txt.read_bytes()


def test_batches_left_running_by_a_dead_process_are_marked_failed(stager, cm_txt: Path) -> None:
    sfid = stager.register(cm_txt, "cm")
    with psycopg.connect(stager.db_url) as conn:
        conn.execute(
            "INSERT INTO ops.ingest_run_audits (run_id, stage, scope, source_file_id) VALUES (%s, 'stage', 'cm', %s)",
            (stager.run_id, sfid),
        )
    stager.stage(cm_txt, "cm", source_file_id=sfid)
    first = stage_audits(stager, sfid)[0]
    assert first["status"] == "failed" and first["error"].startswith("interrupted")


@pytest.mark.parametrize("kind", ["plain", "gzip", "zip"])
def test_only_missing_line_ranges_are_loaded_again(stager, cm_txt: Path, tmp_path: Path, kind: str) -> None:
    path = _as_kind(cm_txt, tmp_path, kind)
    first = stager.stage(path, "cm", workers=3)
    sfid = first.source_file_id
    assert first.batches == 3
    audits = stage_audits(stager, sfid)
    lost = audits[1]  # pretend the middle batch never committed
    with psycopg.connect(stager.db_url) as conn:
        conn.execute("DELETE FROM staging.cm WHERE _batch_id = %s", (lost["audit_id"],))
        conn.execute(
            "UPDATE ops.ingest_run_audits SET status = 'failed', error = 'lost' WHERE audit_id = %s",
            (lost["audit_id"],),
        )

    resumed = stager.stage(path, "cm", source_file_id=sfid)

    assert resumed.batches == 1
    assert resumed.lines == lost["lines_read"]
    new = stage_audits(stager, sfid)[-1]
    for key in ("first_line", "last_line", "first_byte", "end_byte"):
        assert new["counts"][key] == lost["counts"][key], key
    assert new["sha256"] == first.sha256  # the payload hash, carried over from the other batches
    stager.assert_balanced("cm", sfid)
    assert stager.export(sfid) == cm_txt.read_bytes()
    assert stager.stage(path, "cm", source_file_id=sfid).skip_reason == "already staged"


def test_inconsistent_batches_ask_for_replace(stager, cm_txt: Path) -> None:
    result = stager.stage(cm_txt, "cm")
    with psycopg.connect(stager.db_url) as conn:
        conn.execute(
            "UPDATE ops.ingest_run_audits SET counts = counts - 'first_byte' WHERE audit_id = %s",
            (result.audit_ids[0],),
        )
    with pytest.raises(DataError) as err:
        stager.stage(cm_txt, "cm", source_file_id=result.source_file_id)
    assert "--replace" in (err.value.hint or "")
    assert stager.stage(cm_txt, "cm", source_file_id=result.source_file_id, replace=True).loaded == 11605


# --- parallel batches -------------------------------------------------------------------------------


def _as_kind(source: Path, tmp_path: Path, kind: str) -> Path:
    if kind == "plain":
        return source
    if kind == "gzip":
        path = tmp_path / f"{source.name}.gz"
        path.write_bytes(gzip.compress(source.read_bytes()))
        return path
    path = tmp_path / "cm20.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(source, source.name)
    return path


@pytest.mark.parametrize("kind", ["plain", "gzip", "zip"])
def test_two_workers_stage_the_same_content_as_one(stager, cm_txt: Path, tmp_path: Path, kind: str) -> None:
    one = stager.stage(cm_txt, "cm", workers=1)
    other = _as_kind(cm_txt, tmp_path, kind)
    if kind == "plain":
        other = tmp_path / "copy" / "cm.txt"
        other.parent.mkdir()
        shutil.copyfile(cm_txt, other)
    two = stager.stage(other, "cm", workers=2, replace=True)  # replace: do not skip the same payload

    assert (one.batches, two.batches) == (1, 2)
    assert (two.lines, two.loaded, two.rejected, two.sha256, two.bytes) == (
        one.lines,
        one.loaded,
        one.rejected,
        one.sha256,
        one.bytes,
    )
    columns = ", ".join(["_line_number", *(c.staging_name for c in FILES["cm"].columns)])
    with psycopg.connect(stager.db_url) as conn:
        for a, b in ((one, two), (two, one)):
            diff = conn.execute(
                f"SELECT count(*) FROM (SELECT {columns} FROM staging.cm WHERE _source_file_id = %s "  # noqa: S608
                f"EXCEPT ALL SELECT {columns} FROM staging.cm WHERE _source_file_id = %s) d",
                (a.source_file_id, b.source_file_id),
            ).fetchone()
            assert diff == (0,)
    audits = stage_audits(stager, two.source_file_id)
    assert [a["counts"]["first_line"] for a in audits][0] == 1
    assert audits[0]["counts"]["last_line"] + 1 == audits[1]["counts"]["first_line"]
    assert audits[0]["counts"]["end_byte"] == audits[1]["counts"]["first_byte"]
    assert all(a["sha256"] == one.sha256 for a in audits)
    assert stager.export(two.source_file_id) == stager.export(one.source_file_id) == cm_txt.read_bytes()


def test_progress_reports_every_line_and_byte(stager, cm_txt: Path) -> None:
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def progress(lines: int, size: int) -> None:
        with lock:
            seen.append((lines, size))

    stager.stage(cm_txt, "cm", workers=2, progress=progress, block_size=128 * 1024)
    assert max(seen) == (11605, cm_txt.stat().st_size)


# --- windows, rejects, guards -----------------------------------------------------------------------


def test_window_ignores_invalid_and_blank_dates(stager, tmp_path: Path) -> None:
    def row(date: str, sub_id: int) -> bytes:
        fields = [
            "C00000001",
            "N",
            "M3",
            "P",
            "201901019000000001",
            "15",
            "IND",
            "DOE, JANE",
            "X",
            "DC",
            "20001",
            "",
            "",
            date,
            "100",
            "",
            "",
            "",
            "",
            "",
            str(sub_id),
        ]
        return "|".join(fields).encode()

    dates = ["03042019", "11212017", "02302019", "01011918", "01012916", "", "   ", "3/4/2019", "07042018"]
    path = tmp_path / "itcont.txt"
    path.write_bytes(b"\n".join(row(d, i) for i, d in enumerate(dates)) + b"\nshort|line\n")
    result = stager.stage(path, "indiv")
    assert (result.loaded, result.rejected) == (9, 1)
    assert (str(result.window_start), str(result.window_end)) == ("2017-11-21", "2019-03-04")
    (audit,) = stage_audits(stager, result.source_file_id)
    assert audit["counts"]["dates_invalid"] == 4 and audit["counts"]["dates_blank"] == 2
    assert audit["counts"]["rejects_by_reason"] == {"field_count": 1}


@pytest.mark.parametrize("workers", [1, 2])
def test_window_counts_agree_with_sql_over_the_staged_rows(
    stager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(coverage_module, "MIN_PART_BYTES", 1)
    rows = []
    for i, date in enumerate([b"03042019", b"0304201\xe9", b"", b"12312020", b"02292019", b"01011976"] * 50):
        fields = [
            b"C00000001",
            b"N",
            b"M3",
            b"P",
            b"201901019000000001",
            b"15",
            b"IND",
            b"DOE",
            b"X",
            b"DC",
            b"20001",
            b"",
            b"",
            date,
            b"100",
            b"",
            b"",
            b"",
            b"",
            b"",
            str(i).encode(),
        ]
        rows.append(b"|".join(fields))
        if i % 7 == 0:
            rows.append(b"a|b|c")  # rejected: a placeholder row while loading, never a blank date
    path = tmp_path / "itcont.txt"
    path.write_bytes(b"\r\n".join(rows[:40]) + b"\r\n" + b"\n".join(rows[40:]))
    result = stager.stage(path, "indiv", workers=workers, block_size=4096)
    assert result.batches == workers and result.recoded == 50

    from fecflow.staging.rows import date_window

    with psycopg.connect(stager.db_url) as conn:
        values = conn.execute(
            "SELECT transaction_dt, count(*) FROM staging.indiv WHERE _source_file_id = %s GROUP BY 1",
            (result.source_file_id,),
        ).fetchall()
    expected = date_window(values)
    audits = stage_audits(stager, result.source_file_id)
    assert sum(a["counts"]["dates_invalid"] for a in audits) == expected.invalid == 100
    assert sum(a["counts"]["dates_blank"] for a in audits) == expected.blank == 50
    assert (result.window_start, result.window_end) == (expected.start, expected.end)
    assert str(expected.start) == "1976-01-01" and str(expected.end) == "2020-12-31"
    assert stager.export(result.source_file_id) == path.read_bytes()


def test_file_type_must_match_the_source_file(stager, cm_txt: Path) -> None:
    sfid = stager.register(cm_txt, "cm")
    with pytest.raises(DataError, match="is a cm file, not cn"):
        stage_source_file(
            stager.db_url, run_id=stager.run_id, source_file_id=sfid, spec=FILES["cn"], path=cm_txt
        )


def test_a_file_being_staged_elsewhere_is_refused(stager, cm_txt: Path) -> None:
    sfid = stager.register(cm_txt, "cm")
    with psycopg.connect(stager.db_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", (STAGE_LOCK_CLASS, sfid))
        with pytest.raises(LockHeld):
            stager.stage(cm_txt, "cm", source_file_id=sfid)
    assert stager.stage(cm_txt, "cm", source_file_id=sfid).loaded == 11605


def test_many_copy_statements_per_batch(stager, cm_txt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_module, "ROWS_PER_COPY", 1000)
    data = cm_txt.read_bytes().replace(b"\n", b"\r\n", 3000)  # CRLF lines spread over statements
    path = cm_txt.with_name("crlf_cm.txt")
    path.write_bytes(data)
    result = stager.stage(path, "cm", block_size=16 * 1024)
    (audit,) = stage_audits(stager, result.source_file_id)
    assert audit["counts"]["copy_statements"] >= 11 and audit["counts"]["crlf"] == 3000
    stager.assert_balanced("cm", result.source_file_id)
    assert stager.export(result.source_file_id) == data


def _loader_url(stager, role: str) -> str:
    """A new non-superuser role with DML rights on ops and staging, as a URL."""
    from urllib.parse import urlsplit, urlunsplit

    with psycopg.connect(stager.db_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        for grant in (
            "GRANT USAGE ON SCHEMA ops, staging TO {}",
            "GRANT ALL ON ALL TABLES IN SCHEMA ops, staging TO {}",
            "GRANT ALL ON ALL SEQUENCES IN SCHEMA ops, staging TO {}",
        ):
            admin.execute(sql.SQL(grant).format(sql.Identifier(role)))
    parts = urlsplit(stager.db_url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))


def test_a_role_without_superuser_privileges_can_stage(stager, cm_txt: Path) -> None:
    loader_url = _loader_url(stager, "fecflow_loader")
    with psycopg.connect(stager.db_url, autocommit=True) as admin:  # what `db upgrade` as this role gives
        admin.execute("GRANT CREATE ON SCHEMA staging TO fecflow_loader")
        admin.execute("ALTER TABLE staging.cm OWNER TO fecflow_loader")
    sfid = stager.register(cm_txt, "cm")

    result = stage_source_file(
        loader_url, run_id=stager.run_id, source_file_id=sfid, spec=FILES["cm"], path=cm_txt, workers=2
    )

    assert result.loaded == 11605
    stager.assert_balanced("cm", sfid)


def test_a_role_that_may_not_create_partitions_gets_a_hint_and_stages_nothing(stager, cm_txt: Path) -> None:
    loader_url = _loader_url(stager, "fecflow_dml_only")  # DML rights only: no CREATE on schema staging
    sfid = stager.register(cm_txt, "cm")

    with pytest.raises(ConfigError, match="may not create staging.cm's partitions") as caught:
        stage_source_file(loader_url, run_id=stager.run_id, source_file_id=sfid, spec=FILES["cm"], path=cm_txt)

    assert "db upgrade" in (caught.value.hint or "")
    with psycopg.connect(stager.db_url) as conn:
        assert conn.execute("SELECT count(*) FROM staging.cm WHERE _source_file_id = %s", (sfid,)).fetchone() == (0,)
        statuses = conn.execute(
            "SELECT status FROM ops.ingest_run_audits WHERE source_file_id = %s", (sfid,)
        ).fetchall()
    assert statuses and all(s == ("failed",) for s in statuses)


def test_parents_are_checked_once_per_batch(stager, cm_txt: Path) -> None:
    sfid = stager.register(cm_txt, "cm")
    with psycopg.connect(stager.db_url) as conn:
        with pytest.raises(DataError, match="does not exist"):
            batch_module.check_parents_once(conn, sfid, 999_999)


def _first_read_buffers(db_url: str, table: str, source_file_id: int) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        (plan,) = conn.execute(
            sql.SQL(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*) FROM {} WHERE _source_file_id = %s"
            ).format(sql.Identifier("staging", table)),
            (source_file_id,),
        ).fetchone()
    top = plan[0]["Plan"]
    return {k: top[f"Shared {k.title()} Blocks"] for k in ("hit", "read", "dirtied")}


def test_each_batch_writes_its_own_frozen_leaf(stager, cm_txt: Path) -> None:
    """COPY ... FREEZE into a leaf the batch created: the first reader dirties no page (no hint bits
    to set, so no full-page images once a checkpoint has begun: docs/data/ingestion.md)."""
    sfid = stager.register(cm_txt, "cm")
    result = stage_source_file(
        stager.db_url, run_id=stager.run_id, source_file_id=sfid, spec=FILES["cm"], path=cm_txt, workers=2
    )

    with psycopg.connect(stager.db_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # pages clean, as once the checkpoint a large load starts has run
    buffers = _first_read_buffers(stager.db_url, "cm", sfid)  # before anything else reads the rows
    assert buffers["hit"] + buffers["read"] > 100  # it did read the rows
    assert buffers["dirtied"] == 0
    with psycopg.connect(stager.db_url) as conn:
        assert staging_leaves(conn, "cm", sfid) == [f"cm_s{sfid}_b{a}" for a in sorted(result.audit_ids)]
        per_leaf = conn.execute(
            "SELECT tableoid::regclass::text, _batch_id, count(*) FROM staging.cm WHERE _source_file_id = %s "
            "GROUP BY 1, 2 ORDER BY 2",
            (sfid,),
        ).fetchall()
    assert [leaf for leaf, _, _ in per_leaf] == [f"staging.cm_s{sfid}_b{b}" for _, b, _ in per_leaf]
    assert sum(n for _, _, n in per_leaf) == result.loaded == 11605 and len(per_leaf) == 2


def test_unstaging_drops_the_files_leaves(stager, cm_txt: Path) -> None:
    sfid = stager.register(cm_txt, "cm")
    first = stage_source_file(
        stager.db_url, run_id=stager.run_id, source_file_id=sfid, spec=FILES["cm"], path=cm_txt, workers=2
    )
    second = stage_source_file(
        stager.db_url, run_id=stager.run_id, source_file_id=sfid, spec=FILES["cm"], path=cm_txt, replace=True
    )

    with psycopg.connect(stager.db_url) as conn:
        assert staging_leaves(conn, "cm", sfid) == [f"cm_s{sfid}_b{a}" for a in second.audit_ids]
        for audit_id in first.audit_ids:
            gone = conn.execute("SELECT to_regclass(%s)", (f"staging.cm_s{sfid}_b{audit_id}",)).fetchone()
            assert gone == (None,)
        with conn.transaction():
            unstaged = unstage_source_file(conn, FILES["cm"], sfid, stager.run_id)
        assert unstaged.rows == 11605 and unstaged.bytes > 0
        assert staging_leaves(conn, "cm", sfid) == []
        assert conn.execute("SELECT count(*) FROM staging.cm WHERE _source_file_id = %s", (sfid,)).fetchone() == (0,)


def test_unstaging_behind_a_reader_fails_clearly_and_changes_nothing(stager, cm_txt: Path, monkeypatch) -> None:
    import fecflow.db.partitions as partitions

    sfid = stager.register(cm_txt, "cm")
    stage_source_file(stager.db_url, run_id=stager.run_id, source_file_id=sfid, spec=FILES["cm"], path=cm_txt)
    monkeypatch.setattr(partitions, "DROP_LOCK_TIMEOUT", "300ms")
    with psycopg.connect(stager.db_url) as reader, psycopg.connect(stager.db_url) as conn:
        reader.execute("SELECT count(*) FROM staging.cm WHERE _source_file_id = %s", (sfid,))  # lock held, open
        with pytest.raises(LockHeld, match=f"source file {sfid}") as caught:
            with conn.transaction():
                unstage_source_file(conn, FILES["cm"], sfid, stager.run_id)
        assert "pg_stat_activity" in (caught.value.hint or "")
        reader.rollback()
        assert conn.execute("SELECT count(*) FROM staging.cm WHERE _source_file_id = %s", (sfid,)).fetchone() == (
            11605,
        )
        assert conn.execute("SHOW lock_timeout").fetchone() != ("300ms",)  # not left behind
        with conn.transaction():
            assert unstage_source_file(conn, FILES["cm"], sfid, stager.run_id).rows == 11605
