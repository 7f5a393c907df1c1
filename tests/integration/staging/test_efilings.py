"""E-filings end to end against a real PostgreSQL: every sample filing and the 52-filing day staged,
counted, exported byte for byte, recorded as filings (amendment chains) and reconciled (#21)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest

from fecflow.config import Settings
from fecflow.db import ops
from fecflow.errors import ValidationFailed
from fecflow.pipeline.efilings import ingest_efilings
from fecflow.sources.http import RetryPolicy
from fecflow.sources.storage import RawStorage
from fecflow.staging.efilings import export_filing

SAMPLE_IDS = [1229017, 1236235, 1260488, 13360, 1385191, 1527862, 1544132, 1550126, 1550548, 27789]
EFILINGS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "efilings"
INVALID_ID = 1509712  # the filing_invalid_version.fec sample, under the id its header names


@pytest.fixture
def mirror(tmp_path: Path, shared_samples: Path) -> Path:
    """A file:// mirror built from the bundled filings: electronic/YYYYMMDD.zip and posted/ID.fec."""
    root = tmp_path / "mirror"
    (root / "electronic").mkdir(parents=True)
    (root / "posted").mkdir()
    src = shared_samples / "efilings"
    shutil.copy(src / "20180616.zip", root / "electronic")
    for filing_id in SAMPLE_IDS:
        shutil.copy(src / f"{filing_id}.fec", root / "posted")
    shutil.copy(src / "filing_invalid_version.fec", root / "posted" / f"{INVALID_ID}.fec")
    return root


def _settings(tmp_path: Path, mirror: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        efiling_base_url=(mirror / "electronic").as_uri(),
        efiling_filing_base_url=(mirror / "posted").as_uri(),
    )


def _ingest(db_url: str, settings: Settings, *, days=(), ids=()):
    with psycopg.connect(db_url) as conn, httpx.Client() as client:
        run_id = ops.start_run(conn, "test-efilings", {})
        return ingest_efilings(
            conn, settings, run_id=run_id, days=list(days), filing_ids=list(ids), client=client,
            storage=RawStorage.from_settings(settings), policy=RetryPolicy(max_attempts=1),
        )


def _original(mirror: Path, filing_id: int) -> bytes:
    path = mirror / "posted" / f"{filing_id}.fec"
    if path.exists():
        return path.read_bytes()
    with zipfile.ZipFile(mirror / "electronic" / "20180616.zip") as zf:
        return zf.read(f"{filing_id}.fec")


#: (filing, summary line) -> (summary = itemized amount, non-memo itemized rows), measured on the samples
RECONCILED = {
    (1229017, "11(a)(i)"): ("9364.17", 86),
    (1544132, "11(a)(i)"): ("301030.36", 1316),
    (1544132, "12"): ("6000.00", 1),
    (27789, "11(a)(i)"): ("149408.52", 2626),
    (1550548, "11(a)(i)"): ("103071.78", 76),
    (1550126, "11(a)(i)"): ("2500.00", 4),
    (13360, "11(a)(i)"): ("14285.95", 139),
    (1527862, "18"): ("5000.00", 1),
}
UNITEMIZED = {(1229017, "11(a)(ii)"): "4395.97", (1544132, "11(a)(ii)"): "126752.29", (27789, "11(a)(ii)"): "30638.00"}
EXCERPT = 1385191  # an F3PN excerpt: its summary page without the itemized rows behind it


def test_every_sample_and_the_whole_day_are_staged_counted_exported_and_reconciled(
    db_url: str, tmp_path: Path, mirror: Path
) -> None:
    ids = [i for i in SAMPLE_IDS if i != EXCERPT] + [INVALID_ID]
    result = _ingest(db_url, _settings(tmp_path, mirror), days=[dt.date(2018, 6, 16)], ids=ids)
    assert len(result.staged) == 52 + len(ids)
    assert not [c for c in result.checks if c.failed]
    with psycopg.connect(db_url) as conn:
        audits = conn.execute(
            "SELECT a.lines_read, a.rows_loaded, a.rows_rejected, a.sha256, e.sha256, e.lines "
            "FROM ops.ingest_run_audits a JOIN staging.efiling e ON a.audit_id = e.audit_id "
            "WHERE a.stage = 'stage-efiling' AND a.status = 'succeeded'"
        ).fetchall()
        assert len(audits) == 52 + len(ids)
        for read, loaded, rejected, audit_sha, staged_sha, lines in audits:
            assert read == loaded + rejected == lines and audit_sha == staged_sha
        for staged in result.staged:
            original = _original(mirror, staged.filing_id)
            out = io.BytesIO()
            export = export_filing(conn, staged.filing_id, out)
            assert out.getvalue() == original, staged.filing_id
            assert export.matches and export.sha256 == hashlib.sha256(original).hexdigest()
            assert export.lines == staged.lines == original.count(b"\n") + (not original.endswith(b"\n"))
        day_lines = conn.execute(
            "SELECT count(*) FROM staging.efiling e JOIN staging.efiling_line l USING (filing_id) "
            "WHERE e.member IS NOT NULL"
        ).fetchone()
        assert day_lines == (3939,)
        bad = conn.execute(
            "SELECT status, version, parsed, rejected, error FROM staging.efiling WHERE filing_id = %s", (INVALID_ID,)
        ).fetchone()
        assert bad is not None and bad[:4] == ("quarantined", "180.5", 0, 469) and "180.5" in bad[4]
        assert conn.execute("SELECT count(*) FROM core.efiling WHERE filing_id = %s", (INVALID_ID,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM core.efiling").fetchone() == (52 + len(ids) - 1,)
        recon = {
            (r[0], r[1]): r[2:]
            for r in conn.execute(
                "SELECT filing_id, line, summary_amount, itemized_amount, itemized_rows, status FROM core.efiling_summary"
            ).fetchall()
        }
        amended = dict(conn.execute(
            "SELECT filing_id, amends_filing_id FROM core.efiling WHERE filing_id IN (1550126, 1550548, 27789)"
        ).fetchall())
    for key, (amount, rows) in RECONCILED.items():
        assert recon[key] == (Decimal(amount), Decimal(amount), rows, "match"), key
    for key, amount in UNITEMIZED.items():
        assert recon[key] == (Decimal(amount), None, None, "kept"), key
    assert {v[3] for v in recon.values()} == {"match", "kept"}
    assert amended == {1550126: 1542500, 1550548: 1531171, 27789: 24088}


def test_a_report_that_does_not_add_up_fails_with_the_numbers_after_everything_is_kept(
    db_url: str, tmp_path: Path, mirror: Path
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        _ingest(db_url, _settings(tmp_path, mirror), ids=[EXCERPT])
    assert "efiling:1385191 F3PN line 17(a)(i)" in failure.value.message
    assert "itemized rows add up to 0.00, the summary says 5191564.00" in failure.value.message
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT status, lines FROM staging.efiling").fetchall() == [("staged", 5)]
        validation = conn.execute(
            "SELECT status, validation FROM ops.ingest_run_audits WHERE stage = 'validate-efiling'"
        ).fetchone()
    assert validation is not None and validation[0] == "failed"
    failed = [v for v in validation[1] if v["status"] == "failed"]
    assert [(v["observed"], v["expected"]) for v in failed] == [(0.0, 5191564.0)]


def _retyped(data: bytes, *, form: bytes, report_id: bytes) -> bytes:
    """A filing's bytes with another form type on its form record and another report_id in its header."""
    lines = data.split(b"\n")
    header = lines[0].split(b"\x1c")
    header[5] = report_id
    lines[0] = b"\x1c".join(header)
    record = lines[1].split(b"\x1c")
    record[0] = form
    lines[1] = b"\x1c".join(record)
    return b"\n".join(lines)


def test_an_amendment_chain_resolves_to_its_latest_filing(db_url: str, tmp_path: Path, mirror: Path) -> None:
    """1550126 (F3A) amends 1542500; built here: the original 1542500 and a second amendment 1560001."""
    posted = mirror / "posted"
    sample = (posted / "1550126.fec").read_bytes()
    (posted / "1542500.fec").write_bytes(_retyped(sample, form=b"F3N", report_id=b""))
    (posted / "1560001.fec").write_bytes(_retyped(sample, form=b"F3A", report_id=b"FEC-1550126"))
    settings = _settings(tmp_path, mirror)
    _ingest(db_url, settings, ids=[1542500, 1550126])
    with psycopg.connect(db_url) as conn:
        first = dict(conn.execute("SELECT filing_id, superseded_by_filing_id FROM core.efiling").fetchall())
    assert first == {1542500: 1550126, 1550126: None}
    _ingest(db_url, settings, ids=[1560001])
    with psycopg.connect(db_url) as conn:
        chain = conn.execute(
            "SELECT filing_id, form_type, amends_filing_id, superseded_by_filing_id FROM core.efiling ORDER BY 1"
        ).fetchall()
    assert chain == [
        (1542500, "F3N", None, 1560001),
        (1550126, "F3A", 1542500, 1560001),
        (1560001, "F3A", 1550126, None),
    ]


def test_new_bytes_under_a_staged_filing_id_replace_its_lines(db_url: str, tmp_path: Path, mirror: Path) -> None:
    settings = _settings(tmp_path, mirror)
    _ingest(db_url, settings, ids=[1236235])
    again = _ingest(db_url, settings, ids=[1236235])
    assert [s.status for s in again.staged] == ["skipped"]
    path = mirror / "posted" / "1236235.fec"
    changed = path.read_bytes() + b"[BEGINTEXT]\nadded later\n[ENDTEXT]\n"
    path.write_bytes(changed)
    later = time.time() + 5  # a file:// mirror compares modification times in whole seconds
    os.utime(path, (later, later))
    third = _ingest(db_url, settings, ids=[1236235])
    assert [(s.status, s.lines) for s in third.staged] == [("staged", 44)]
    with psycopg.connect(db_url) as conn:
        out = io.BytesIO()
        assert export_filing(conn, 1236235, out).matches and out.getvalue() == changed
        replaced = conn.execute(
            "SELECT counts->>'replaced_sha256' FROM ops.ingest_run_audits WHERE stage = 'stage-efiling' "
            "AND status = 'succeeded' ORDER BY audit_id DESC LIMIT 1"
        ).fetchone()
    assert replaced == (hashlib.sha256(changed[: -len(b"[BEGINTEXT]\nadded later\n[ENDTEXT]\n")]).hexdigest(),)

    # Replaced again by bytes in an unknown version: quarantined, and no longer a filing record.
    shutil.copy(mirror / "posted" / f"{INVALID_ID}.fec", path)
    os.utime(path, (later + 5, later + 5))
    fourth = _ingest(db_url, settings, ids=[1236235])
    assert [s.status for s in fourth.staged] == ["quarantined"]
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM core.efiling WHERE filing_id = 1236235").fetchone() == (0,)


def _bulk_itcont_from(filing: bytes, *, count: int) -> tuple[list[bytes], dict[str, Decimal]]:
    """itcont.txt lines (the FEC's processed format) for the first ``count`` non-memo individual
    SA11AI rows of a filing, as the FEC would publish them: TRAN_ID and FILE_NUM kept, SUB_ID added."""
    lines, amounts = [], {}
    filing_id = 1229017
    for raw in filing.split(b"\n"):
        f = raw.decode().split("\x1c")
        if f[0] != "SA11AI" or f[5] != "IND" or f[42] == "X" or len(lines) == count:
            continue
        name = f"{f[7]}, {f[8]}".upper()
        date = f[19][4:8] + f[19][:4]  # YYYYMMDD -> MMDDYYYY
        sub_id = 4_000_000_000_000_000_000 + len(lines)
        fields = [f[1], "N", "12P", "P2018", "201805039111", "15", "IND", name, f[14].upper(), f[15], f[16],
                  f[23].upper(), f[24].upper(), date, f[20], "", f[2], str(filing_id), "", "", str(sub_id)]
        lines.append("|".join(fields).encode())
        amounts[f[2]] = Decimal(f[20])
    return lines, amounts


def test_preliminary_rows_are_superseded_by_the_processed_bulk_rows_each_dollar_once(
    db_url: str, tmp_path: Path, mirror: Path
) -> None:
    from fecflow.pipeline.args import NormalizeArgs
    from fecflow.pipeline.steps import normalize
    from support.staging_loader import stage_file, write_lines

    settings = _settings(tmp_path, mirror)
    first = _ingest(db_url, settings, ids=[1229017])
    counted = (
        "SELECT count(*), sum(amount) FROM core.efiling_preliminary WHERE committee_id = 'C00215905' "
        "AND counts_as_contribution"
    )
    with psycopg.connect(db_url) as conn:
        kinds = dict(conn.execute(
            "SELECT transaction_type || ':' || category, count(*) FROM core.efiling_transaction GROUP BY 1"
        ).fetchall())
        before = conn.execute(counted).fetchone()
    assert first.preliminary == 186 and first.superseded == 0
    assert kinds == {"15:contribution": 86, "15:memo": 80, "18K:transfer": 19, "22Y:refund": 1}
    assert before == (86 + 1, Decimal("9364.17") + Decimal("30.00"))  # 86 receipts and one 22Y refund

    bulk_lines, amounts = _bulk_itcont_from((mirror / "posted" / "1229017.fec").read_bytes(), count=40)
    itcont = write_lines(tmp_path / "itcont.txt", bulk_lines)
    with psycopg.connect(db_url) as conn:
        stage_file(conn, db_url, itcont, file_type="indiv", cycle=2018)
        run = ops.start_run(conn, "normalize", {"test": True})
        # The one normalize step (`fecflow normalize`, backfill, ingest-daily, replay-range) supersedes.
        normalize(conn, run_id=run, args=NormalizeArgs((2018,), ("indiv",)))
        audits = conn.execute(
            "SELECT status, counts->>'superseded' FROM ops.ingest_run_audits "
            "WHERE run_id = %s AND stage = 'normalize-efiling' AND scope = 'supersede'", (run,)
        ).fetchall()
    assert audits == [("succeeded", "40")]
    later = _ingest(db_url, settings, ids=[1229017])  # nothing left for the next e-filing run
    assert later.superseded == 0 and later.preliminary == 0
    with psycopg.connect(db_url) as conn:
        superseded = conn.execute(
            "SELECT t.transaction_id, t.amount, c.amount, c.sub_id = t.superseded_by_sub_id, t.superseded_run_id "
            "FROM core.efiling_transaction t JOIN core.contribution c ON c.sub_id = t.superseded_by_sub_id "
            "WHERE t.status = 'superseded'"
        ).fetchall()
        after = conn.execute(counted).fetchone()
        bulk = conn.execute(
            "SELECT count(*), sum(c.amount) FROM core.contribution c JOIN core.committee k "
            "ON k.committee_key = c.recipient_committee_key WHERE k.committee_id = 'C00215905' "
            "AND c.deleted_at IS NULL AND c.counts_as_contribution"
        ).fetchone()
        both = conn.execute(
            "SELECT count(*) FROM core.efiling_preliminary p JOIN core.contribution c "
            "ON c.transaction_id = p.transaction_id AND c.file_number = p.filing_id AND c.deleted_at IS NULL"
        ).fetchone()
    assert len(superseded) == 40 and {r[0] for r in superseded} == set(amounts)
    assert all(r[1] == r[2] == amounts[r[0]] and r[3] for r in superseded)
    assert {r[4] for r in superseded} == {run}
    assert bulk == (40, sum(amounts.values()))
    assert after is not None and before is not None and bulk is not None
    assert after[0] + bulk[0] == before[0] and after[1] + bulk[1] == before[1]  # each dollar once
    assert both == (0,)


def test_odd_bytes_go_through_the_database_and_come_back_exact(db_url: str) -> None:
    """A real filing with lines no parser should see: NUL, cp1252, CRLF, a lone CR in a quoted CSV
    record, an unknown record type, no final LF. Nothing is lost; export is byte-identical."""
    from fecflow.staging.efilings import stage_filing

    f99 = (EFILINGS_DIR / "1236235.fec").read_bytes().split(b"\n")
    odd = b"\n".join([
        f99[0].replace(b"NEA", b"N\xc9A") + b"\r",  # cp1252 in the header, CRLF
        f99[1],
        b"ZZ9\x1cno such record",
        b"TEXT\x1cC00003251\x1cnul \x00 byte",
        b"",
        b"F99\x1c\"quoted\rcarriage\"",
        b"last line without LF \xff",
    ])
    quoted = (EFILINGS_DIR / "27789.fec").read_bytes().split(b"\n")
    odd_csv = b"\n".join([quoted[0], quoted[1], b'"SA11A1","C00097485",IN\rD,"b"', b""])
    with psycopg.connect(db_url) as conn:
        run_id = ops.start_run(conn, "test-efilings", {})
        sf = ops.record_source_file(conn, url="file:///odd", file_type="efiling", status="local", run_id=run_id)
        for filing_id, data in ((9001, odd), (9002, odd_csv)):
            staged = stage_filing(conn, run_id=run_id, source_file_id=sf, filing_id=filing_id, member=None, data=data)
            assert staged.status == "staged" and staged.lines == staged.parsed + staged.rejected
            out = io.BytesIO()
            assert export_filing(conn, filing_id, out).matches and out.getvalue() == data
        reasons = conn.execute(
            "SELECT filing_id, line_number, reason FROM staging.efiling_reject ORDER BY 1, 2"
        ).fetchall()
        recoded = conn.execute(
            "SELECT filing_id, line_number FROM staging.efiling_line WHERE recoded ORDER BY 1, 2"
        ).fetchall()
    assert reasons == [
        (9001, 3, "unmapped_record"), (9001, 4, "nul_byte"), (9001, 7, "unmapped_record"), (9002, 3, "unparseable"),
    ]
    assert recoded == [(9001, 1)]  # line 7 (also cp1252) is quarantined: its raw bytes are what is kept


def test_scores_count_preliminary_rows_once_and_say_how_much(db_url: str, tmp_path: Path, mirror: Path) -> None:
    """Issue #21 item 6: `--include-preliminary` counts the e-filed rows no bulk row superseded, keyed as
    bulk rows; each score says how many of its dollars came from them; superseded rows count once."""
    from fecflow.pipeline.args import NormalizeArgs
    from fecflow.pipeline.steps import normalize
    from fecflow.scores import compute_scores
    from fecflow.scores.explain import explain_entity
    from fecflow.scores.windows import window_ending
    from support.staging_loader import stage_file, write_lines

    settings = _settings(tmp_path, mirror)
    _ingest(db_url, settings, ids=[1229017])
    bulk_lines, amounts = _bulk_itcont_from((mirror / "posted" / "1229017.fec").read_bytes(), count=40)
    with psycopg.connect(db_url) as conn:
        stage_file(conn, db_url, write_lines(tmp_path / "itcont.txt", bulk_lines), file_type="indiv", cycle=2018)
        normalize(conn, run_id=ops.start_run(conn, "normalize", {}), args=NormalizeArgs((2018,), ("indiv",)))
        # Keyed as the bulk rows are: the same donor key and employer for each superseded pair.
        pairs = conn.execute(
            "SELECT t.source, t.recipient_committee_key = c.recipient_committee_key, t.donor_key = c.donor_key, "
            "t.employer_key IS NOT DISTINCT FROM c.employer_key FROM core.efiling_transaction t "
            "JOIN core.contribution c ON c.sub_id = t.superseded_by_sub_id"
        ).fetchall()
        assert len(pairs) == 40 and set(pairs) == {("indiv", True, True, True)}
        as_of = conn.execute("SELECT max(transaction_date) FROM core.efiling_transaction").fetchone()[0]
        # What should count: the live preliminary rows of the window, net of refunds, by hand.
        expected = conn.execute(
            "SELECT count(*), sum(CASE WHEN is_refund THEN -amount ELSE amount END) FROM core.efiling_preliminary "
            "WHERE counts_as_contribution AND transaction_date BETWEEN %s AND %s AND recipient_committee_key IS NOT NULL",
            (window_ending(as_of).start, as_of),
        ).fetchone()
        assert expected[0] == 47 and expected[1] == Decimal("9364.17") + Decimal("30.00") - sum(amounts.values()) - 60

        # The filer as a DEM candidate's principal campaign committee: the candidate receives the money.
        cand = conn.execute(
            "INSERT INTO core.candidate (candidate_id, name, party, office) VALUES ('H8XX00001', 'TEST', 'DEM', 'H') "
            "RETURNING candidate_key"
        ).fetchone()[0]
        conn.execute(
            "UPDATE core.committee SET candidate_key = %s, candidate_id = 'H8XX00001', designation = 'P', "
            "committee_type = 'H' WHERE committee_id = 'C00215905'",
            (cand,),
        )
        conn.commit()

        without = compute_scores(conn, run_id=ops.start_run(conn, "scores", {}), as_of=as_of)
        rows = conn.execute("SELECT count(*), count(preliminary_amount) FROM scores.leaning_score").fetchone()
        assert rows[0] > 0 and rows[1] == 0  # NULL: preliminary rows not considered
        with_ = compute_scores(conn, run_id=ops.start_run(conn, "scores", {}), as_of=as_of, include_preliminary=True)
        assert with_.fact_rows - without.fact_rows == expected[0]  # the 40 superseded ones are not counted again
        ex = explain_entity(conn, "candidate", "H8XX00001", as_of=as_of)
        total = ex.score["dem_amount"] + ex.score["rep_amount"] + ex.score["other_amount"]
        # The candidate's score leaves out donors whose net gifts are not above zero: the one 22Y refund
        # (-$30) is such a donor's, so the candidate's preliminary dollars are the receipts without it.
        receipts = expected[1] + Decimal("30.00")
        assert ex.score["preliminary_amount"] == receipts
        assert ex.score["preliminary_share"] == (receipts / total).quantize(Decimal("0.00001"))
        assert total == sum(amounts.values()) + receipts  # bulk + preliminary receipts, each once
        conn.commit()

        # The rest of the report arrives processed: supersede, rescore; the money stays, its preliminary part goes.
        rest, all_amounts = _bulk_itcont_from((mirror / "posted" / "1229017.fec").read_bytes(), count=1000)
        stage_file(conn, db_url, write_lines(tmp_path / "itcont2.txt", rest), file_type="indiv", cycle=2018)
        normalize(conn, run_id=ops.start_run(conn, "normalize", {}), args=NormalizeArgs((2018,), ("indiv",)))
        left = conn.execute(
            "SELECT sum(CASE WHEN is_refund THEN -amount ELSE amount END) FROM core.efiling_preliminary "
            "WHERE counts_as_contribution AND committee_id = 'C00215905'"
        ).fetchone()[0]
        compute_scores(conn, run_id=ops.start_run(conn, "scores", {}), as_of=as_of, include_preliminary=True)
        after = explain_entity(conn, "candidate", "H8XX00001", as_of=as_of)
    assert len(all_amounts) > 40 and left == expected[1] - (sum(all_amounts.values()) - sum(amounts.values()))
    # Still e-filed only: the refund (its donor left out, as above) and the receipts the FEC's bulk
    # file of this test does not carry (only individuals, entity IND, were written into it).
    assert after.score["preliminary_amount"] == left + Decimal("30.00") < receipts
    assert after.score["dem_amount"] + after.score["rep_amount"] + after.score["other_amount"] == total
