"""The e-filing step: fetch daily archives / single filings, stage every filing, record the filings,
reconcile each report with itself. One entrance (:func:`ingest_efilings`) for the CLI and the bench.

Fetch reuses the bulk download path (conditional GET against the last usable version of the URL,
sha256, raw storage) and records each download in ``ops.source_file`` (file types ``efiling_daily``
and ``efiling``) with a ``fetch`` audit. Staging reads the stored file back from raw storage, so a
later run can re-stage from what was kept. The checks' results go to a ``validate-efiling`` audit;
a failed one (a report whose itemized rows do not add up to its summary) fails the run with the
numbers, after everything is recorded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import psycopg

from fecflow.checks.efilings import check_efilings
from fecflow.checks.result import CheckResult
from fecflow.config import Settings
from fecflow.db import ops
from fecflow.errors import FecflowError, HttpStatusError, ValidationFailed
from fecflow.normalize.efilings import record_filings, summary_rows
from fecflow.normalize.preliminary import load_preliminary, supersede_preliminary
from fecflow.pipeline.fetch import previous_version, record_fetch_failure, record_fetched
from fecflow.sources.bulk import fetch_bulk_file
from fecflow.sources.efilings import (
    MAX_FILING_ID,
    EfilingTarget,
    daily_archive_url,
    iter_filings,
    parse_day_range,
    plan_efiling_downloads,
)
from fecflow.sources.http import RetryPolicy, build_http_client
from fecflow.sources.output import atomic_output, check_output_target
from fecflow.sources.storage import RawStorage
from fecflow.staging.efilings import StagedFiling, export_filing, stage_filing

# What `fecflow fetch-efilings` / `staging export-efiling` need from lower layers (cli imports pipeline only).
__all__ = [
    "MAX_FILING_ID",
    "RawStorage",
    "RetryPolicy",
    "atomic_output",
    "build_http_client",
    "check_output_target",
    "export_filing",
    "ingest_efilings",
    "UnseenDays",
    "ingest_unseen_days",
    "parse_day_range",
    "summary_rows",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EfilingFetch:
    target: EfilingTarget
    status: str  # new | changed | unchanged
    reason: str
    source_file_id: int
    bytes: int | None
    sha256: str | None
    storage_uri: str
    seconds: float


@dataclass
class EfilingRun:
    fetched: list[EfilingFetch] = field(default_factory=list)
    staged: list[StagedFiling] = field(default_factory=list)
    recorded: int = 0
    preliminary: int = 0  # e-filed schedule rows written as preliminary
    superseded: int = 0  # preliminary rows (of any filing) superseded by processed bulk rows this run
    checks: list[CheckResult] = field(default_factory=list)


def fetch_efiling_files(
    conn: psycopg.Connection,
    *,
    run_id: int,
    targets: Sequence[EfilingTarget],
    client: httpx.Client,
    storage: RawStorage,
    policy: RetryPolicy,
) -> list[EfilingFetch]:
    """Download every target (conditionally); record each in ops.source_file; stop at the first failure."""
    fetched: list[EfilingFetch] = []
    for target in targets:
        started = time.monotonic()
        audit_id = ops.start_audit(
            conn, run_id, ops.Stage.FETCH, scope=ops.NamedScope(f"{target.file_type}:{target.file_name}")
        )
        try:
            outcome = fetch_bulk_file(
                client, target, storage, previous=previous_version(conn, target.url), policy=policy
            )
        except (FecflowError, OSError) as exc:
            record_fetch_failure(conn, run_id, audit_id, target, exc)
            raise
        dl = outcome.download
        assert outcome.storage_uri is not None
        sf_id = record_fetched(conn, run_id, outcome)
        ops.finish_audit(
            conn, audit_id, "succeeded" if outcome.changed else "skipped", source_file_id=sf_id, sha256=outcome.sha256,
            bytes=outcome.bytes, counts={"status": outcome.status, "reason": outcome.reason, "attempts": dl.attempts},
        )
        target_done = dataclasses.replace(target, member=outcome.target.member)
        fetched.append(
            EfilingFetch(target_done, outcome.status, outcome.reason, sf_id, outcome.bytes, outcome.sha256,
                         outcome.storage_uri, time.monotonic() - started)
        )
    return fetched


def stage_efiling_file(
    conn: psycopg.Connection, *, run_id: int, fetched: EfilingFetch, storage: RawStorage
) -> list[StagedFiling]:
    """Stage every filing of one stored download (see :mod:`fecflow.staging.efilings`)."""
    staged = []
    with storage.open(fetched.storage_uri) as stream:
        for payload in iter_filings(
            stream, file_type=fetched.target.file_type, file_name=fetched.target.file_name,
            label=fetched.target.url,
        ):
            staged.append(
                stage_filing(conn, run_id=run_id, source_file_id=fetched.source_file_id,
                             filing_id=payload.filing_id, member=payload.member, data=payload.data)
            )
    return staged


def normalize_preliminary(conn: psycopg.Connection, filing_ids: Sequence[int], *, run_id: int) -> tuple[int, int]:
    """Write the filings' preliminary rows, then supersede every one whose bulk row has arrived."""
    audit_id = ops.start_audit(
        conn, run_id, ops.Stage.NORMALIZE_EFILING, scope=ops.NamedScope(f"{len(filing_ids)} filing(s)")
    )
    try:
        written = load_preliminary(conn, filing_ids, run_id=run_id)
        superseded = supersede_preliminary(conn, run_id=run_id)
        ops.finish_audit(conn, audit_id, "succeeded", counts={"preliminary": written, "superseded": superseded})
    except Exception as exc:
        conn.rollback()
        ops.finish_audit(conn, audit_id, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    return written, superseded


def ingest_efilings(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    run_id: int,
    days: Sequence[dt.date],
    filing_ids: Sequence[int],
    client: httpx.Client,
    storage: RawStorage,
    policy: RetryPolicy,
    stage: bool = True,
    on_fetch: Callable[[EfilingFetch], None] | None = None,
) -> EfilingRun:
    """Fetch, then (unless ``stage`` is False) stage, record and check; ValidationFailed at the end."""
    targets = plan_efiling_downloads(
        days, filing_ids, daily_base_url=settings.efiling_base_url,
        filing_base_url=settings.efiling_filing_base_url,
    )
    result = EfilingRun()
    for fetched in fetch_efiling_files(conn, run_id=run_id, targets=targets, client=client, storage=storage,
                                       policy=policy):
        result.fetched.append(fetched)
        if on_fetch is not None:
            on_fetch(fetched)
    if not stage:
        return result
    for fetched in result.fetched:
        result.staged.extend(stage_efiling_file(conn, run_id=run_id, fetched=fetched, storage=storage))
    ids = sorted({s.filing_id for s in result.staged})
    result.recorded = record_filings(conn, ids, run_id=run_id)
    # Preliminary rows are written once per version of a filing, so superseded marks are kept.
    fresh = sorted({s.filing_id for s in result.staged if s.status != "skipped"})
    result.preliminary, result.superseded = normalize_preliminary(conn, fresh, run_id=run_id)
    audit_id = ops.start_audit(
        conn, run_id, ops.Stage.VALIDATE_EFILING, scope=ops.NamedScope(f"{len(ids)} filing(s)")
    )
    result.checks = check_efilings(conn, ids)
    failed = [c for c in result.checks if c.failed]
    ops.finish_audit(
        conn, audit_id, "failed" if failed else "succeeded",
        validation=[c.to_json() for c in result.checks],
        counts={"passed": sum(c.status == "passed" for c in result.checks),
                "warning": sum(c.status == "warning" for c in result.checks), "failed": len(failed)},
    )
    if failed:
        raise ValidationFailed(
            f"{len(failed)} e-filing check(s) failed: " + "; ".join(c.describe() for c in failed[:5]),
            hint=f"See `fecflow runs show {run_id}` and docs/runbooks/ingest.md, 'A filing failed'.",
        )
    return result


def unseen_days(conn: psycopg.Connection, settings: Settings, *, day: dt.date, days: int) -> list[dt.date]:
    """The ``days`` days before ``day`` whose daily archive no run has fetched (ops.source_file), oldest first."""
    wanted = [day - dt.timedelta(days=back) for back in range(days, 0, -1)]
    unseen = [
        d for d in wanted
        if ops.last_usable_source_file(conn, daily_archive_url(settings.efiling_base_url, d)) is None
    ]
    conn.commit()
    return unseen


@dataclass
class UnseenDays:
    """What `ingest-daily`'s e-filing step did: the days it took, the days not published yet, the filings."""

    taken: list[dt.date] = field(default_factory=list)
    not_published: list[dt.date] = field(default_factory=list)
    run: EfilingRun = field(default_factory=EfilingRun)


def ingest_unseen_days(
    conn: psycopg.Connection, settings: Settings, *, run_id: int, day: dt.date, days: int
) -> UnseenDays:
    """`ingest-daily`'s e-filing step: fetch, stage, record and check the daily archives of the
    ``days`` days before ``day`` that no earlier run fetched (none when ``days`` is 0), one day at a time.

    A day whose archive the mirror answers 404 for (the FEC publishes a day's archive after it ends)
    is reported and left unseen, so the next run asks again; any other error fails the step.
    """
    done = UnseenDays()
    todo = unseen_days(conn, settings, day=day, days=days) if days > 0 else []
    if not todo:
        return done
    storage, policy = RawStorage.from_settings(settings), RetryPolicy.from_settings(settings)
    with build_http_client(settings) as client:
        for one in todo:
            try:
                result = ingest_efilings(
                    conn, settings, run_id=run_id, days=[one], filing_ids=(), client=client, storage=storage,
                    policy=policy,
                )
            except HttpStatusError as exc:
                if exc.status != 404:
                    raise
                log.warning("e-filing archive of %s is not published yet; the next run asks again", one)
                done.not_published.append(one)
                continue
            done.taken.append(one)
            _add_run(done.run, result)
    return done


def _add_run(total: EfilingRun, one: EfilingRun) -> None:
    total.fetched += one.fetched
    total.staged += one.staged
    total.recorded += one.recorded
    total.preliminary += one.preliminary
    total.superseded += one.superseded
    total.checks += one.checks
