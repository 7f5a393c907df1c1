"""The fetch step: download FEC bulk files and record every attempt in ``ops.source_file``.

``sources`` never touches the database, so this step is where the two meet: it reads the last usable
version of each URL (for conditional requests and sha256 comparison), lets ``sources.bulk`` fetch and
store the file, and records the outcome. A failed or corrupt download is recorded as ``failed`` and
is never used by later steps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx
import psycopg

from fecflow.config import Settings
from fecflow.db import ops
from fecflow.errors import FecflowError
from fecflow.sources.bulk import (
    BulkTarget,
    FetchOutcome,
    PreviousVersion,
    fetch_bulk_file,
    plan_bulk_downloads,
)
from fecflow.sources.http import RetryPolicy
from fecflow.sources.storage import RawStorage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchRecord:
    target: BulkTarget
    status: str  # new | changed | unchanged | failed
    reason: str
    source_file_id: int | None
    bytes: int | None
    sha256: str | None
    storage_uri: str | None
    seconds: float


def previous_version(conn: psycopg.Connection, url: str) -> PreviousVersion | None:
    """The last usable download of ``url`` (for a conditional request); ends the read transaction so
    no snapshot stays open while the download runs."""
    last = ops.last_usable_source_file(conn, url)
    conn.commit()
    if last is None:
        return None
    return PreviousVersion(
        etag=last.etag,
        last_modified=last.last_modified,
        sha256=last.sha256,
        bytes=last.bytes,
        storage_uri=last.storage_uri,
        member=last.member,
    )


def record_fetched(conn: psycopg.Connection, run_id: int, outcome: FetchOutcome) -> int:
    """A downloaded (or 304-unchanged) file as an ``ops.source_file`` row; returns its id."""
    dl = outcome.download
    return ops.record_source_file(
        conn,
        url=outcome.target.url,
        cycle=outcome.target.cycle,
        file_type=outcome.target.file_type,
        member=outcome.target.member,
        status="unchanged" if outcome.status == "unchanged" else "downloaded",
        http_status=dl.status,
        bytes=outcome.bytes,
        sha256=outcome.sha256,
        etag=dl.etag or (outcome.previous.etag if outcome.previous else None),
        last_modified=dl.last_modified or (outcome.previous.last_modified if outcome.previous else None),
        attempts=dl.attempts,
        elapsed_s=dl.elapsed_s,
        storage_uri=outcome.storage_uri,
        run_id=run_id,
    )


def record_fetch_failure(
    conn: psycopg.Connection, run_id: int, audit_id: int, target: BulkTarget, exc: FecflowError | OSError
) -> None:
    """A failed download: a ``failed`` source file (never used later) and a failed audit row."""
    message = exc.message if isinstance(exc, FecflowError) else f"{type(exc).__name__}: {exc}"
    sf_id = ops.record_source_file(
        conn,
        url=target.url,
        cycle=target.cycle,
        file_type=target.file_type,
        member=target.member,
        status="failed",
        http_status=getattr(exc, "status", None),
        run_id=run_id,
    )
    ops.finish_audit(conn, audit_id, "failed", error=message, counts={"source_file_id": sf_id})
    log.error("fetch %s failed: %s", target.url, message)


def fetch_bulk(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    run_id: int,
    cycles: Sequence[int],
    file_types: Sequence[str],
    client: httpx.Client,
    storage: RawStorage,
    policy: RetryPolicy,
    include_headers: bool = False,
    on_file: Callable[[FetchRecord], None] | None = None,
) -> list[FetchRecord]:
    """Fetch every (cycle, file type); stop at the first failure after recording it."""
    targets = plan_bulk_downloads(cycles, file_types, settings.bulk_base_url, include_headers=include_headers)
    records: list[FetchRecord] = []
    for target in targets:
        started = time.monotonic()
        audit_id = ops.start_audit(
            conn, run_id, ops.Stage.FETCH, scope=ops.UnitScope(target.file_type, target.cycle or None)
        )
        try:
            outcome = fetch_bulk_file(
                client, target, storage, previous=previous_version(conn, target.url), policy=policy
            )
        except (FecflowError, OSError) as exc:
            record_fetch_failure(conn, run_id, audit_id, target, exc)
            raise
        sf_id = record_fetched(conn, run_id, outcome)
        record = FetchRecord(
            target=target,
            status=outcome.status,
            reason=outcome.reason,
            source_file_id=sf_id,
            bytes=outcome.download.bytes,
            sha256=outcome.sha256,
            storage_uri=outcome.storage_uri,
            seconds=time.monotonic() - started,
        )
        ops.finish_audit(
            conn,
            audit_id,
            "succeeded" if outcome.changed else "skipped",
            source_file_id=sf_id,
            sha256=record.sha256,
            bytes=record.bytes,
            counts={
                "status": outcome.status,
                "reason": outcome.reason,
                "attempts": outcome.download.attempts,
            },
        )
        log.info("fetch %s: %s (%s)", target.file_name, outcome.status, outcome.reason)
        records.append(record)
        if on_file is not None:
            on_file(record)
    return records
