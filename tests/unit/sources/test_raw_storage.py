"""RawStorage on a local directory and on a real S3-protocol server (moto in server mode)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fecflow.config import Settings
from fecflow.errors import ConfigError, StorageError
from fecflow.sources.bulk import PreviousVersion, fetch_bulk_file, plan_bulk_downloads
from fecflow.sources.http import sha256_file
from fecflow.sources.storage import RawStorage, bulk_key

CM20 = Path(__file__).resolve().parents[2] / "fixtures" / "bulk" / "2020" / "cm20.zip"
CM20_SHA = "6d11b5769fceceac72d60d68ce613b7c1cef48b7a73d457a5e1a8e86a16ac323"  # tests/fixtures/PROVENANCE.md


def test_bulk_key_layout():
    assert bulk_key(2020, "cm20.zip", CM20_SHA) == "bulk/2020/cm20.zip/6d11b5769fceceac-cm20.zip"
    assert bulk_key(None, "cm_header_file.csv", "A" * 64).startswith("bulk/data_dictionaries/cm_header")


# --- local --------------------------------------------------------------------------------------------
def test_local_put_open_exists_get(tmp_path):
    storage = RawStorage(str(tmp_path / "raw"))
    key = bulk_key(2020, "cm20.zip", CM20_SHA)
    uri = storage.uri_for(key)
    assert storage.is_local and not storage.exists(uri)

    assert storage.put_file(CM20, key) == uri == str(tmp_path / "raw" / key)
    assert storage.exists(uri) and storage.size(uri) == CM20.stat().st_size
    with storage.open(uri) as fh:
        assert fh.read(4) == b"PK\x03\x04"
    copy = storage.get_to_local(uri, tmp_path / "work" / "cm20.zip")
    assert sha256_file(copy) == CM20_SHA
    assert [p.name for p in (tmp_path / "raw" / "bulk/2020/cm20.zip").iterdir()] == [Path(key).name]
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["cm20.zip"]  # no temp files left


def test_local_default_root_from_settings(tmp_path):
    storage = RawStorage.from_settings(Settings.from_env(home=tmp_path / "home", raw_storage=None))
    assert storage.root_uri == str((tmp_path / "home" / "raw").resolve())
    storage = RawStorage.from_settings(Settings.from_env(raw_storage=f"file://{tmp_path}/elsewhere"))
    assert storage.root_uri == str(tmp_path / "elsewhere")


def test_local_errors(tmp_path):
    storage = RawStorage(str(tmp_path / "raw"))
    with pytest.raises(StorageError):
        storage.open(str(tmp_path / "raw" / "missing.zip"))
    with pytest.raises(StorageError):
        storage.get_to_local(str(tmp_path / "raw" / "missing.zip"), tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
    for bad in ("../escape.zip", "/abs.zip", "bulk/../../x", ""):
        with pytest.raises(StorageError, match="Invalid storage key"):
            storage.uri_for(bad)
    with pytest.raises(StorageError, match="not a local path"):
        storage.exists("s3://bucket/key")
    with pytest.raises(ConfigError):
        RawStorage("ftp://example.org/raw")


# --- S3 (moto server) ----------------------------------------------------------------------------------
def test_s3_put_open_exists_get(s3_server, s3_bucket, tmp_path):
    storage = RawStorage(f"s3://{s3_bucket}/fec/raw", s3_endpoint_url=s3_server.endpoint_url,
                         storage_options=s3_server.storage_options)
    key = bulk_key(2020, "cm20.zip", CM20_SHA)
    uri = storage.uri_for(key)
    assert uri == f"s3://{s3_bucket}/fec/raw/{key}"
    assert not storage.is_local and not storage.exists(uri)

    assert storage.put_file(CM20, key) == uri
    assert storage.exists(uri) and storage.size(uri) == CM20.stat().st_size
    with storage.open(uri) as fh:
        assert fh.read(4) == b"PK\x03\x04"
        fh.seek(-22, 2)  # seekable: the end-of-central-directory record is at the end
        assert fh.read(4) == b"PK\x05\x06"
    local = storage.get_to_local(uri, tmp_path / "back" / "cm20.zip")
    assert sha256_file(local) == CM20_SHA
    # the object really is in the bucket, under the prefix
    listed = s3_server.boto3_client().list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"fec/raw/{key}"]


def test_s3_from_settings_and_missing_bucket(s3_server, tmp_path):
    settings = Settings.from_env(raw_storage="s3://no-such-bucket-fecflow/raw",
                                 s3_endpoint_url=s3_server.endpoint_url)
    storage = RawStorage.from_settings(settings, **s3_server.storage_options)
    assert storage.root_uri == "s3://no-such-bucket-fecflow/raw"
    with pytest.raises(StorageError) as err:
        storage.put_file(CM20, "bulk/2020/cm20.zip/x-cm20.zip")
    assert "no-such-bucket-fecflow" in str(err.value)
    with pytest.raises(StorageError):
        storage.open("s3://no-such-bucket-fecflow/raw/missing")
    with pytest.raises(ConfigError):
        RawStorage("s3://")


def test_bulk_fetch_into_s3(fec_server, http_client, policy, s3_server, s3_bucket):
    storage = RawStorage(f"s3://{s3_bucket}/raw", s3_endpoint_url=s3_server.endpoint_url,
                         storage_options=s3_server.storage_options)
    target = plan_bulk_downloads([2020], ["webk"], fec_server.bulk_base_url)[0]
    first = fetch_bulk_file(http_client, target, storage, previous=None, policy=policy)
    assert first.status == "new" and first.storage_uri.startswith(f"s3://{s3_bucket}/raw/bulk/2020/webk20.zip/")
    assert storage.size(first.storage_uri) == first.download.bytes
    previous = PreviousVersion(None, None, first.sha256, first.download.bytes, first.storage_uri)
    again = fetch_bulk_file(http_client, target, storage, previous=previous, policy=policy)
    assert again.status == "unchanged" and again.reason == "same sha256"
