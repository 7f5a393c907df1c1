"""Staging straight from raw storage on S3 (a real S3-protocol server): no local copy of the zip."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from fecflow.db import ops
from fecflow.sources.storage import RawStorage
from fecflow.staging.payload import open_payload

pytestmark = pytest.mark.integration


def test_stage_a_zip_stored_on_s3_with_two_workers(
    stager, shared_samples: Path, s3_server, s3_bucket
) -> None:
    source = shared_samples / "bulk-2020-early-snapshot-2019-03" / "zips" / "oth20.zip"
    storage = RawStorage(
        f"s3://{s3_bucket}/raw",
        s3_endpoint_url=s3_server.endpoint_url,
        storage_options=s3_server.storage_options,
    )
    uri = storage.put_file(source, "bulk/2020/oth20.zip/0123456789abcdef-oth20.zip")
    with psycopg.connect(stager.db_url) as conn:
        sfid = ops.record_source_file(
            conn,
            url="https://example.test/oth20.zip",
            cycle=2020,
            file_type="oth",
            member="itoth.txt",
            status="downloaded",
            sha256=stager.sha256(source.read_bytes()),
            storage_uri=uri,
            run_id=stager.run_id,
        )
    payload = open_payload(uri, opener=lambda: storage.open(uri), label=uri)
    assert (payload.kind, payload.member) == ("zip", "itoth.txt")

    result = stager.stage(payload, "oth", source_file_id=sfid, workers=2)

    original = stager.payload_bytes(source)
    assert result.batches == 2 and result.lines == 50921 and result.sha256 == stager.sha256(original)
    stager.assert_balanced("oth", sfid)
    assert stager.export(sfid) == original
