"""The e-filing rows of ``make bench`` (issue #21), registered by bench/run.py.

* ``efilings_day``: the FEC's daily electronic-filing archive of 2018-06-16 (52 filings, 123 kB
  zipped, ``tests/fixtures/efilings/20180616.zip``) end to end as ``fecflow fetch-efilings --date``
  runs it: fetch from a ``file://`` mirror (copied and hashed into raw storage), stage every line,
  record the filings, write preliminary rows, supersede, reconcile. Rows: lines staged; MB/s: of
  the uncompressed filings.
* ``efilings_parse``: parse + stage of the two largest sample filings (27789, 771 kB and 1544132,
  692 kB) from the stored copies, the step whose speed decides a large filing's wait. MB/s of the
  ``.fec`` bytes.

Each measurement starts from empty e-filing tables and an empty raw store.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "efilings"
DAY = dt.date(2018, 6, 16)
DAY_ARCHIVE = FIXTURES / "20180616.zip"
LARGEST = (27789, 1544132)
RESET = (
    "TRUNCATE staging.efiling, staging.efiling_line, staging.efiling_reject, core.efiling, "
    "core.efiling_summary, core.efiling_transaction, ops.source_file, ops.ingest_run CASCADE"
)


def _home(ctx: Any) -> Path:
    return Path(tempfile.gettempdir()) / f"fecflow-bench-efilings-{ctx.server_pid}"


def prepare_efilings(ctx: Any) -> None:
    """Empty e-filing tables and raw store; a ``file://`` mirror holding the day and the two filings."""
    home = _home(ctx)
    shutil.rmtree(home, ignore_errors=True)
    mirror = home / "mirror"
    mirror.mkdir(parents=True)
    shutil.copy(DAY_ARCHIVE, mirror / "20180616.zip")
    for filing_id in LARGEST:
        shutil.copy(FIXTURES / f"{filing_id}.fec", mirror / f"{filing_id}.fec")
    with psycopg.connect(ctx.url, autocommit=True) as conn:
        conn.execute(RESET)
        conn.execute("CHECKPOINT")


def day_bytes(ctx: Any) -> int:
    with zipfile.ZipFile(DAY_ARCHIVE) as archive:
        return sum(i.file_size for i in archive.infolist())


def largest_bytes(ctx: Any) -> int:
    return sum((FIXTURES / f"{i}.fec").stat().st_size for i in LARGEST)


def _settings(ctx: Any) -> Any:
    from fecflow.config import Settings

    home = _home(ctx)
    os.environ.update(
        {
            "FECFLOW_HOME": str(home),
            "FECFLOW_DATABASE_URL": ctx.url,
            "FECFLOW_EFILING_BASE_URL": (home / "mirror").as_uri(),
            "FECFLOW_EFILING_FILING_BASE_URL": (home / "mirror").as_uri(),
        }
    )
    return Settings.from_env()


def setup_efilings_day(ctx: Any) -> Callable[[], int]:
    from fecflow.db import ops
    from fecflow.pipeline.efilings import ingest_efilings
    from fecflow.sources.http import RetryPolicy, build_http_client
    from fecflow.sources.storage import RawStorage

    settings = _settings(ctx)

    def work() -> int:
        with psycopg.connect(ctx.url) as conn, build_http_client(settings) as client:
            run_id = ops.start_run(conn, "bench efilings_day", {})
            result = ingest_efilings(
                conn, settings, run_id=run_id, days=[DAY], filing_ids=(), client=client,
                storage=RawStorage.from_settings(settings), policy=RetryPolicy.from_settings(settings),
            )  # fmt: skip
        if len(result.staged) != 52:
            raise SystemExit(f"expected 52 filings staged, got {len(result.staged)}")
        return sum(s.lines for s in result.staged)

    return work


def setup_efilings_parse(ctx: Any) -> Callable[[], int]:
    """Untimed: fetch the two filings into raw storage. Timed: parse + stage them from there."""
    from fecflow.db import ops
    from fecflow.pipeline.efilings import fetch_efiling_files, stage_efiling_file
    from fecflow.sources.efilings import plan_efiling_downloads
    from fecflow.sources.http import RetryPolicy, build_http_client
    from fecflow.sources.storage import RawStorage

    settings = _settings(ctx)
    storage = RawStorage.from_settings(settings)
    targets = plan_efiling_downloads(
        [], LARGEST, daily_base_url=settings.efiling_base_url, filing_base_url=settings.efiling_filing_base_url
    )
    with psycopg.connect(ctx.url) as conn, build_http_client(settings) as client:
        run_id = ops.start_run(conn, "bench efilings_parse", {})
        fetched = fetch_efiling_files(
            conn, run_id=run_id, targets=targets, client=client, storage=storage,
            policy=RetryPolicy.from_settings(settings),
        )  # fmt: skip

    def work() -> int:
        with psycopg.connect(ctx.url) as conn:
            staged = [s for f in fetched for s in stage_efiling_file(conn, run_id=run_id, fetched=f, storage=storage)]
        if [s.status for s in staged] != ["staged", "staged"]:
            raise SystemExit(f"expected both filings staged: {staged}")
        return sum(s.lines for s in staged)

    return work
