"""bulk: planning URLs from the catalog, and fetching with delta detection into raw storage."""

from __future__ import annotations

import dataclasses
import shutil
import zipfile
from pathlib import Path

import pytest

from fecflow.errors import ConfigError, IntegrityError, UnknownFileType, UnsafeArchive
from fecflow.sources.bulk import BulkTarget, PreviousVersion, fetch_bulk_file, plan_bulk_downloads
from fecflow.sources.http import sha256_file
from fecflow.sources.storage import RawStorage
from support.http_server import Fault

CM = "/files/bulk-downloads/2020/cm20.zip"


def _target(base_url: str, file_type: str = "cm", cycle: int = 2020) -> BulkTarget:
    return plan_bulk_downloads([cycle], [file_type], base_url)[0]


def _previous(outcome) -> PreviousVersion:
    d = outcome.download
    return PreviousVersion(d.etag, d.last_modified, d.sha256, d.bytes, outcome.storage_uri)


def _stored_files(storage: RawStorage) -> list[str]:
    root = Path(storage.root_uri)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- planning ---------------------------------------------------------------------------------------
def test_plan_builds_fec_urls_per_cycle_and_type():
    base = "https://www.fec.gov/files/bulk-downloads/"
    targets = plan_bulk_downloads([2020, 2022], ["cm", "indiv", "weball"], base)
    assert [(t.file_type, t.cycle, t.url) for t in targets] == [
        ("cm", 2020, "https://www.fec.gov/files/bulk-downloads/2020/cm20.zip"),
        ("cm", 2022, "https://www.fec.gov/files/bulk-downloads/2022/cm22.zip"),
        ("indiv", 2020, "https://www.fec.gov/files/bulk-downloads/2020/indiv20.zip"),
        ("indiv", 2022, "https://www.fec.gov/files/bulk-downloads/2022/indiv22.zip"),
        ("weball", 2020, "https://www.fec.gov/files/bulk-downloads/2020/weball20.zip"),
        ("weball", 2022, "https://www.fec.gov/files/bulk-downloads/2022/weball22.zip"),
    ]
    assert targets[2].member == "itcont.txt" and targets[4].member == "weball20.txt"
    assert targets[0].file_name == "cm20.zip" and targets[0].kind == "data"
    assert plan_bulk_downloads([2000], ["cm"], base)[0].url.endswith("/2000/cm00.zip")


def test_plan_with_headers_and_duplicates():
    targets = plan_bulk_downloads([2020, 2020], ["cm", "cm"], "file:///mirror", include_headers=True)
    assert [(t.kind, t.url) for t in targets] == [
        ("header", "file:///mirror/data_dictionaries/cm_header_file.csv"),
        ("data", "file:///mirror/2020/cm20.zip"),
    ]
    assert targets[0].cycle is None
    assert targets[0].storage_key("ab" * 32) == "bulk/data_dictionaries/cm_header_file.csv/" + "ab" * 8 + (
        "-cm_header_file.csv"
    )


@pytest.mark.parametrize("cycle", [2019, 1978, 0, -2020, True])
def test_plan_refuses_bad_cycles(cycle):
    with pytest.raises(ConfigError, match="even year") as err:
        plan_bulk_downloads([cycle], ["cm"], "http://x")
    assert err.value.hint


def test_plan_refuses_unknown_file_types_with_a_hint():
    with pytest.raises(UnknownFileType) as err:
        plan_bulk_downloads([2020], ["cm", "itcont"], "http://x")
    assert "indiv" in (err.value.hint or "") and "cm" in (err.value.hint or "")
    with pytest.raises(ConfigError):
        plan_bulk_downloads([], ["cm"], "http://x")


# --- fetching ---------------------------------------------------------------------------------------
def test_first_fetch_is_new_and_stored_content_addressed(fec_server, http_client, policy, local_storage):
    outcome = fetch_bulk_file(http_client, _target(fec_server.bulk_base_url), local_storage,
                              previous=None, policy=policy)
    sha = sha256_file(fec_server.file_path(CM))
    assert outcome.status == "new" and outcome.changed and outcome.reason == "first download"
    assert outcome.sha256 == sha
    assert outcome.storage_uri == f"{local_storage.root_uri}/bulk/2020/cm20.zip/{sha[:16]}-cm20.zip"
    assert Path(outcome.storage_uri).read_bytes() == fec_server.file_path(CM).read_bytes()
    assert outcome.download.path is None  # the temporary working copy is gone
    assert _stored_files(local_storage) == [f"bulk/2020/cm20.zip/{sha[:16]}-cm20.zip"]


def test_delta_304_is_unchanged_and_stores_nothing(fec_server, http_client, policy, local_storage):
    target = _target(fec_server.bulk_base_url)
    first = fetch_bulk_file(http_client, target, local_storage, previous=None, policy=policy)
    stored = _stored_files(local_storage)
    mtime = Path(first.storage_uri).stat().st_mtime_ns

    again = fetch_bulk_file(http_client, target, local_storage, previous=_previous(first), policy=policy)
    assert again.status == "unchanged" and again.reason == "304 Not Modified" and not again.changed
    assert again.download.not_modified and again.storage_uri == first.storage_uri
    assert again.sha256 == first.sha256 and again.bytes == first.bytes  # carried over from the previous
    assert again.download.bytes is None and again.download.sha256 is None
    assert fec_server.requests_for(CM)[-1].headers["if-none-match"] == first.download.etag
    assert _stored_files(local_storage) == stored
    assert Path(first.storage_uri).stat().st_mtime_ns == mtime


def test_same_sha256_without_validators_is_unchanged(fec_server, http_client, policy, local_storage):
    target = _target(fec_server.bulk_base_url)
    first = fetch_bulk_file(http_client, target, local_storage, previous=None, policy=policy)
    stored = _stored_files(local_storage)
    # The server no longer recognises our validators (e.g. a CDN switched): 200 with the same bytes.
    previous = dataclasses.replace(_previous(first), etag='"stale"', last_modified=None)
    again = fetch_bulk_file(http_client, target, local_storage, previous=previous, policy=policy)
    assert fec_server.requests_for(CM)[-1].headers["if-none-match"] == '"stale"'
    assert again.status == "unchanged" and again.reason == "same sha256"
    assert again.download.status == 200 and again.storage_uri == first.storage_uri
    assert _stored_files(local_storage) == stored


def test_same_sha256_but_previous_copy_missing_is_stored_again(fec_server, http_client, policy, tmp_path):
    target = _target(fec_server.bulk_base_url)
    first = fetch_bulk_file(http_client, target, RawStorage(str(tmp_path / "old")), previous=None, policy=policy)
    shutil.rmtree(tmp_path / "old")
    new_storage = RawStorage(str(tmp_path / "new"))
    previous = dataclasses.replace(_previous(first), etag=None, last_modified=None)
    again = fetch_bulk_file(http_client, target, new_storage, previous=previous, policy=policy)
    assert again.status == "unchanged" and "stored again" in again.reason
    assert again.storage_uri and new_storage.exists(again.storage_uri)


def test_changed_file_is_stored_beside_the_old_version(fec_server, http_client, policy, local_storage):
    target = _target(fec_server.bulk_base_url)
    first = fetch_bulk_file(http_client, target, local_storage, previous=None, policy=policy)
    # FEC republishes: a new, valid archive at the same URL (here: another real FEC zip's bytes)
    shutil.copyfile(fec_server.file_path("/files/bulk-downloads/2020/ccl20.zip"), fec_server.file_path(CM))
    again = fetch_bulk_file(http_client, target, local_storage, previous=_previous(first), policy=policy)
    assert again.status == "changed" and again.changed
    assert again.sha256 != first.sha256 and again.storage_uri != first.storage_uri
    assert local_storage.exists(first.storage_uri) and local_storage.exists(again.storage_uri)
    assert len(_stored_files(local_storage)) == 2


def test_work_dir_keeps_the_verified_download(fec_server, http_client, policy, local_storage, tmp_path):
    outcome = fetch_bulk_file(http_client, _target(fec_server.bulk_base_url, "webl"), local_storage,
                              previous=None, policy=policy, work_dir=tmp_path / "work")
    assert outcome.download.path == tmp_path / "work" / "webl20.zip"
    assert zipfile.ZipFile(outcome.download.path).namelist() == ["webl20.txt"]


def test_header_file_target(fec_server, http_client, policy, local_storage):
    header = plan_bulk_downloads([2020], ["cm"], fec_server.bulk_base_url, include_headers=True)[0]
    outcome = fetch_bulk_file(http_client, header, local_storage, previous=None, policy=policy)
    assert outcome.status == "new"
    assert "/bulk/data_dictionaries/cm_header_file.csv/" in outcome.storage_uri
    assert Path(outcome.storage_uri).read_text().startswith("CMTE_ID,")


def test_faults_are_retried_during_a_fetch(fec_server, http_client, policy, local_storage):
    fec_server.script(CM, Fault.error(503), Fault.cut_body(0.5))
    outcome = fetch_bulk_file(http_client, _target(fec_server.bulk_base_url), local_storage,
                              previous=None, policy=policy)
    assert outcome.status == "new" and outcome.download.attempts == 3
    assert outcome.sha256 == sha256_file(fec_server.file_path(CM))


def test_truncated_zip_is_never_stored(fec_server, http_client, policy, local_storage):
    fec_server.script(CM, Fault.truncated(0.5))
    with pytest.raises(IntegrityError):
        fetch_bulk_file(http_client, _target(fec_server.bulk_base_url), local_storage, previous=None,
                        policy=policy)
    assert _stored_files(local_storage) == []


def test_unsafe_zip_is_never_stored(fec_server, http_client, policy, local_storage):
    with zipfile.ZipFile(fec_server.file_path(CM), "w") as zf:
        zf.writestr(zipfile.ZipInfo("/etc/cron.d/x"), b"* * * * * root true\n")
    with pytest.raises(UnsafeArchive):
        fetch_bulk_file(http_client, _target(fec_server.bulk_base_url), local_storage, previous=None,
                        policy=policy)
    assert _stored_files(local_storage) == []


def test_file_mirror_base_url(served_root, http_client, policy, local_storage):
    base = (served_root / "files" / "bulk-downloads").as_uri()
    target = _target(base, "cn")
    assert target.url.startswith("file:///")
    first = fetch_bulk_file(http_client, target, local_storage, previous=None, policy=policy)
    assert first.status == "new" and first.download.sha256 == sha256_file(
        served_root / "files/bulk-downloads/2020/cn20.zip"
    )
    again = fetch_bulk_file(http_client, target, local_storage, previous=_previous(first), policy=policy)
    assert again.status == "unchanged" and again.reason == "304 Not Modified"
    # without validators the same bytes are recognised by their sha256
    same = fetch_bulk_file(http_client, target, local_storage,
                           previous=dataclasses.replace(_previous(first), last_modified=None), policy=policy)
    assert same.status == "unchanged" and same.reason == "same sha256"
