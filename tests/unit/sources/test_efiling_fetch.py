"""E-filings: planning daily-archive and single-filing URLs, fetching them through the bulk download
path (HTTP server on 127.0.0.1 and a file:// mirror), and reading filings safely out of archives (#21)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from fecflow.errors import ConfigError, DataError, HttpStatusError, UnsafeArchive
from fecflow.sources.bulk import PreviousVersion, fetch_bulk_file
from fecflow.sources.efilings import (
    filing_id_from_name,
    iter_filings,
    parse_day_range,
    plan_efiling_downloads,
)
from fecflow.sources.storage import RawStorage
from support.http_server import Fault, FecHttpServer

EFILINGS = Path(__file__).resolve().parents[2] / "fixtures" / "efilings"
DAY = "/electronic/20180616.zip"


@pytest.fixture
def efiling_server(tmp_path: Path):
    root = tmp_path / "www"
    (root / "electronic").mkdir(parents=True)
    shutil.copy(EFILINGS / "20180616.zip", root / "electronic")
    shutil.copytree(EFILINGS, root / "posted", ignore=shutil.ignore_patterns("*.zip"))
    with FecHttpServer(root) as server:
        yield server


def _plan(server_or_base: str, days=(), ids=()):
    return plan_efiling_downloads(
        list(days), list(ids), daily_base_url=f"{server_or_base}/electronic", filing_base_url=f"{server_or_base}/posted"
    )


def test_day_ranges_and_bad_ones():
    assert parse_day_range("2018-06-16") == [dt.date(2018, 6, 16)]
    assert parse_day_range("2018-06-30..2018-07-02") == [dt.date(2018, 6, 30), dt.date(2018, 7, 1), dt.date(2018, 7, 2)]
    for bad in ("2018-6-16x", "2018-06-16..", "2018-06-16..2018-06-15", "2000-01-01..2010-01-01"):
        with pytest.raises(ConfigError):
            parse_day_range(bad)


def test_plan_urls_keys_and_duplicates():
    targets = _plan("https://example.test", days=[dt.date(2018, 6, 16)] * 2, ids=[1229017, 1229017])
    assert [(t.file_type, t.url, t.file_name) for t in targets] == [
        ("efiling_daily", "https://example.test/electronic/20180616.zip", "20180616.zip"),
        ("efiling", "https://example.test/posted/1229017.fec", "1229017.fec"),
    ]
    assert targets[0].storage_key("ab" * 32) == "efiling/daily/20180616.zip/" + "ab" * 8 + "-20180616.zip"
    assert targets[1].storage_key("cd" * 32).startswith("efiling/filings/1229017.fec/")
    with pytest.raises(ConfigError):
        _plan("https://example.test")
    with pytest.raises(ConfigError):
        _plan("https://example.test", ids=[0])


def test_fetch_over_http_retries_stores_then_asks_only_if_changed(efiling_server, http_client, policy, local_storage):
    efiling_server.script(DAY, Fault.cut_body(0.3))
    day, single = _plan(efiling_server.base_url, days=[dt.date(2018, 6, 16)], ids=[1544132])
    first = fetch_bulk_file(http_client, day, local_storage, previous=None, policy=policy)
    original = (EFILINGS / "20180616.zip").read_bytes()
    assert first.status == "new" and first.sha256 == hashlib.sha256(original).hexdigest()
    assert Path(first.storage_uri).read_bytes() == original
    assert "/efiling/daily/20180616.zip/" in first.storage_uri
    previous = PreviousVersion(first.download.etag, first.download.last_modified, first.sha256, first.bytes,
                               first.storage_uri)
    again = fetch_bulk_file(http_client, day, local_storage, previous=previous, policy=policy)
    assert again.status == "unchanged" and again.reason == "304 Not Modified"
    assert efiling_server.requests_for(DAY)[-1].headers.get("if-none-match") == first.download.etag
    filing = fetch_bulk_file(http_client, single, local_storage, previous=None, policy=policy)
    assert Path(filing.storage_uri).read_bytes() == (EFILINGS / "1544132.fec").read_bytes()


def test_a_missing_filing_is_a_terminal_error(efiling_server, http_client, policy, local_storage):
    (target,) = _plan(efiling_server.base_url, ids=[999])
    with pytest.raises(HttpStatusError, match="404"):
        fetch_bulk_file(http_client, target, local_storage, previous=None, policy=policy)
    assert not any(Path(local_storage.root_uri).rglob("*.fec"))


def test_file_mirror_built_from_the_fixtures(tmp_path, http_client, policy, local_storage):
    mirror = tmp_path / "mirror"
    (mirror / "electronic").mkdir(parents=True)
    shutil.copy(EFILINGS / "20180616.zip", mirror / "electronic")
    shutil.copytree(EFILINGS, mirror / "posted", ignore=shutil.ignore_patterns("*.zip"))
    day, single = _plan(mirror.as_uri(), days=[dt.date(2018, 6, 16)], ids=[27789])
    got = fetch_bulk_file(http_client, day, local_storage, previous=None, policy=policy)
    assert got.status == "new" and got.download.attempts == 1
    with local_storage.open(got.storage_uri) as stream:
        filings = list(iter_filings(stream, file_type=day.file_type, file_name=day.file_name, label="day"))
    assert len(filings) == 52 and len({f.filing_id for f in filings}) == 52
    with zipfile.ZipFile(EFILINGS / "20180616.zip") as zf:
        assert sum(len(f.data) for f in filings) == sum(i.file_size for i in zf.infolist()) == 629_463
    one = fetch_bulk_file(http_client, single, local_storage, previous=None, policy=policy)
    with local_storage.open(one.storage_uri) as stream:
        (payload,) = iter_filings(stream, file_type=single.file_type, file_name=single.file_name, label="one")
    assert payload.filing_id == 27789 and payload.member is None
    assert payload.data == (EFILINGS / "27789.fec").read_bytes()


def _archive(members: list[tuple[str, bytes]]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    buf.seek(0)
    return buf


def test_hostile_or_odd_archives_are_refused_before_any_filing_is_read():
    sample = (EFILINGS / "1236235.fec").read_bytes()
    with pytest.raises(UnsafeArchive, match="unsafe"):
        list(iter_filings(_archive([("../../1.fec", sample)]), file_type="efiling_daily", file_name="d.zip", label="d"))
    bomb = _archive([("2.fec", b"\x1c" * (64 * 1024 * 1024))])
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        list(iter_filings(bomb, file_type="efiling_daily", file_name="d.zip", label="d"))
    with pytest.raises(DataError, match="not named FILING_ID.fec"):
        list(iter_filings(_archive([("1.fec", sample), ("readme.txt", b"x")]), file_type="efiling_daily",
                          file_name="d.zip", label="d"))
    with pytest.raises(DataError, match="not named FILING_ID.fec"):
        list(iter_filings(io.BytesIO(sample), file_type="efiling", file_name="x.fec", label="x"))


def test_filing_ids_come_only_from_digit_names():
    assert filing_id_from_name("1238371.fec") == 1238371
    assert filing_id_from_name("day/1238371.FEC") == 1238371
    assert filing_id_from_name("1238371.fec.txt") is None
    assert filing_id_from_name("abc.fec") is None
    assert filing_id_from_name("0.fec") is None and filing_id_from_name("9" * 20 + ".fec") is None


def test_raw_storage_keeps_the_same_bytes_once(tmp_path, http_client, policy):
    storage = RawStorage(str(tmp_path / "raw"))
    (target,) = _plan((tmp_path / "m").as_uri(), ids=[1236235])
    (tmp_path / "m" / "posted").mkdir(parents=True)
    shutil.copy(EFILINGS / "1236235.fec", tmp_path / "m" / "posted")
    a = fetch_bulk_file(http_client, target, storage, previous=None, policy=policy)
    b = fetch_bulk_file(http_client, target, storage, previous=None, policy=policy)
    assert a.storage_uri == b.storage_uri
    assert len([p for p in Path(storage.root_uri).rglob("*") if p.is_file()]) == 1
