"""fecflow performance benchmark (``make bench``): staging, normalize and scoring against a bare COPY.

    python bench/run.py                      # 2,000,000 rows, median of 3, writes bench/results.json
    python bench/run.py --rows 200000 --repeat 1 --stages copy_baseline,stage_w1

What it does, in one run:

1. generates (or reuses, keyed by rows, seed and the generator's own sha256 via a ``.json`` sidecar)
   ``bench/data/itcont_{N}.txt`` with ``bench/gen_itcont.py``;
2. starts a private embedded PostgreSQL in a temp dir with realistic durability settings
   (``fast_unsafe=False``: fsync and synchronous_commit on) and migrates it;
3. for every selected stage, ``--repeat`` times: truncates the tables, CHECKPOINTs, and measures in a
   fresh subprocess (so ``ru_maxrss`` is the peak RSS of that load alone);
4. prints a table and writes ``bench/results.json`` (list of: stage, rows, seconds (median),
   rows_per_s, mb_per_s, ratio_to_copy, peak_rss_mb (max over runs), git_commit, runs (seconds of
   each run), cpu_client_s / cpu_server_s (median CPU seconds of the loading process / of the whole
   PostgreSQL cluster) and loadavg_1m per run: on a shared machine, CPU seconds are the steadier
   measure, and a high load average explains a slow run).

Stages: ``copy_baseline``, ``stage_w1``, ``stage_w2``, ``normalize`` (first load), ``score`` and
``normalize_diff`` (a later snapshot of the file, written next to it by :func:`write_later_snapshot`:
the diff path of a daily ingest). They are a registry (:data:`STAGES`): a step adds a :class:`BenchStage`
with a ``prepare`` run in the parent before each measurement and a ``setup`` run in the child that
returns the work to time.
``backfill`` is the end-to-end row (issue #18): ``fecflow backfill --cycles 2020 --files indiv`` through
the flow the CLI runs (fetch from a ``file://`` mirror of the zipped file, stage, normalize, score and
the three gates), with each step's seconds and share, and per-column digests of the loaded
``core.contribution`` (every run must load the same data). ``peer_copy_insert`` and ``peer_pandas``
are what a user would write instead: a typed table by COPY + ``INSERT ... SELECT`` casts, and by pandas
``read_csv`` + ``to_sql`` (the ``bench`` extra).
``--staging-without-fks`` drops the two foreign keys of ``staging.indiv`` in the benchmark database
first, to show what they cost (stage names get a ``[no-fk]`` suffix).

Timings are wall-clock: other work on the machine shows up in them (see loadavg_1m).
``FECFLOW_BENCH_RSS_TRACE=FILE`` logs where each measured child's memory grows (bench/rss_trace.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
DEFAULT_ROWS = 2_000_000
DEFAULT_SEED = 42
COPY_OPTIONS = "(FORMAT csv, DELIMITER '|', QUOTE E'\\x01', NULL '')"
BASELINE_TABLE = "public.bench_copy_baseline"
READ_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Context:
    url: str
    path: Path
    rows: int
    option: str = ""
    server_pid: int = 0


@dataclass(frozen=True)
class BenchStage:
    """One measured stage. In the child process ``setup`` runs untimed (imports, registrations) and
    returns the work; the work is timed (wall clock and CPU of this process and of the server) and
    returns the rows it loaded."""

    name: str
    description: str
    prepare: Callable[[Context], None]  # parent, before each measurement (truncate, checkpoint)
    setup: Callable[[Context], Callable[[], int]]  # child: untimed setup, returns the timed work
    option: str = ""  # passed through to setup (e.g. the number of workers)
    input_bytes: Callable[[Context], int] | None = None  # the bytes MB/s is of, when not the itcont file


STAGES: dict[str, BenchStage] = {}


def register(stage: BenchStage) -> BenchStage:
    STAGES[stage.name] = stage
    return stage


# --- baseline: a bare COPY ------------------------------------------------------------------------


def _execute(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def prepare_baseline(ctx: Context) -> None:
    columns = ", ".join(f"c{i} text" for i in range(1, 22))
    _execute(
        ctx.url,
        f"CREATE TABLE IF NOT EXISTS {BASELINE_TABLE} ({columns})",
        f"TRUNCATE {BASELINE_TABLE}",
        "CHECKPOINT",
    )


def setup_baseline(ctx: Context) -> Callable[[], int]:
    def work() -> int:
        with psycopg.connect(ctx.url) as conn:
            with conn.cursor() as cur:
                with (
                    cur.copy(f"COPY {BASELINE_TABLE} FROM STDIN {COPY_OPTIONS}") as copy,
                    ctx.path.open("rb") as fh,
                ):
                    while chunk := fh.read(READ_SIZE):
                        copy.write(chunk)
                rows = cur.rowcount
            conn.commit()
        return rows

    return work


register(
    BenchStage(
        "copy_baseline",
        "bare COPY of the file into a 21-column all-text table, one connection",
        prepare_baseline,
        setup_baseline,
    )
)


# --- fecflow staging load -------------------------------------------------------------------------

STAGING_RESET = (
    # staging.indiv has one partition per stage batch (fecflow.db.partitions): drop them, as an unstage does
    "DO $$DECLARE leaf regclass; BEGIN FOR leaf IN SELECT inhrelid::regclass FROM pg_inherits "
    "WHERE inhparent = 'staging.indiv'::regclass LOOP EXECUTE format('DROP TABLE %s', leaf); END LOOP; END $$",
    "TRUNCATE staging.indiv, staging.raw_line, ops.rejected_row, ops.ingest_run_audits, ops.source_file, "
    "ops.ingest_run CASCADE",
)


def prepare_staging(ctx: Context) -> None:
    _execute(ctx.url, *STAGING_RESET, "CHECKPOINT")


def _staging_work(
    url: str, path: Path, workers: int, *, may_skip: bool = False
) -> tuple[Callable[[], int], int]:
    """Register ``path`` as an indiv file of 2020 (untimed); return the timed stage step over it and
    the file's source_file_id. The stage step is the one ``fecflow stage`` and the flows run.
    ``may_skip``: the file may be staged already (a later repeat of the same preparation)."""
    from fecflow.config import Settings
    from fecflow.db import ops
    from fecflow.pipeline import steps
    from fecflow.pipeline.args import StageArgs

    args = StageArgs(cycles=(2020,), files=("indiv",), paths=(str(path),), workers=workers)
    settings = Settings.from_env()
    with psycopg.connect(url) as conn:
        run_id = ops.start_run(conn, "bench", {})
        targets = steps.stage_targets(conn, settings, run_id=run_id, args=args)

    def work() -> int:
        with psycopg.connect(url) as conn:
            (staged,) = steps.stage(conn, settings, db_url=url, run_id=run_id, args=args, targets=targets)
        result = staged.result
        if (result.skipped and not may_skip) or result.lines != result.loaded + result.rejected:
            raise SystemExit(f"unexpected staging result: {result}")
        return result.loaded

    (target,) = targets
    assert target.source_file_id is not None
    return work, target.source_file_id


def setup_staging(ctx: Context) -> Callable[[], int]:
    return _staging_work(ctx.url, ctx.path, int(ctx.option or 1))[0]


for _workers in (1, 2):
    register(
        BenchStage(
            f"stage_w{_workers}",
            f"fecflow staging load (parse, prefix, COPY, audits, window), workers={_workers}",
            prepare_staging,
            setup_staging,
            option=str(_workers),
        )
    )


# --- fecflow normalize (indiv) and scoring, on the staged benchmark file ------------------------------

CORE_RESET = (
    "TRUNCATE core.contribution, core.contribution_history, core.employer_industry, core.employer_alias, "
    "core.employer, core.candidate_committee_link, core.committee_history, core.candidate_history, "
    "core.committee, core.candidate, scores.leaning_score CASCADE"
)
SCORE_AS_OF = "2019-12-31"


def _ensure_staged(ctx: Context) -> None:
    """Stage the benchmark file once (untimed) if no succeeded staging of it is left."""
    from fecflow.db import ops

    with psycopg.connect(ctx.url) as conn:
        staged = ops.has_succeeded(conn, ops.Stage.STAGE, ops.FileScope("indiv"))
    if staged:
        return
    _execute(ctx.url, *STAGING_RESET)
    setup_staging(Context(ctx.url, ctx.path, ctx.rows, "2", ctx.server_pid))()


def _reset_core(ctx: Context) -> None:
    from fecflow.db import ops

    with psycopg.connect(ctx.url, autocommit=True) as conn:
        conn.execute(CORE_RESET)
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'core.contribution'::regclass AND c.relname <> 'contribution_default'"
        ).fetchall():
            conn.execute(f'DROP TABLE core."{name}"')
        ops.delete_audits(conn, [ops.Stage.NORMALIZE, ops.Stage.SCORES])
        conn.execute("CHECKPOINT")


def _normalize_indiv(url: str) -> int:
    from fecflow.db import ops
    from fecflow.pipeline import steps
    from fecflow.pipeline.args import NormalizeArgs

    with psycopg.connect(url) as conn:
        run_id = ops.start_run(conn, "bench", {})
        (result,) = steps.normalize(conn, run_id=run_id, args=NormalizeArgs((2020,), ("indiv",)))
    (unit,) = result.units
    if unit.status != "normalized":
        raise SystemExit(f"unexpected normalize result: {unit}")
    return int(unit.tables["snapshot"]["records"])


def prepare_normalize(ctx: Context) -> None:
    _ensure_staged(ctx)
    _reset_core(ctx)


def setup_normalize(ctx: Context) -> Callable[[], int]:
    # Imports are setup, not work (as for the other stages): importing the normalize package costs ~0.3 s.
    import fecflow.db.ops
    import fecflow.pipeline.steps  # noqa: F401

    return lambda: _normalize_indiv(ctx.url)


def prepare_score(ctx: Context) -> None:
    _ensure_staged(ctx)
    with psycopg.connect(ctx.url) as conn:
        row = conn.execute("SELECT count(*) FROM core.contribution").fetchone()
    if not row or not row[0]:
        _reset_core(ctx)
        _normalize_indiv(ctx.url)
    _execute(ctx.url, "TRUNCATE scores.leaning_score", "CHECKPOINT")


def setup_score(ctx: Context) -> Callable[[], int]:
    import datetime as dt

    from fecflow.db import ops
    from fecflow.pipeline import steps
    from fecflow.pipeline.args import ScoreArgs
    from fecflow.pipeline.reports import METHOD_DEFAULT

    method = ctx.option or METHOD_DEFAULT

    def work() -> int:
        with psycopg.connect(ctx.url) as conn:
            run_id = ops.start_run(conn, "bench", {})
            result = steps.score(
                conn, run_id=run_id, args=ScoreArgs(dt.date.fromisoformat(SCORE_AS_OF), method_version=method)
            )
        return int(result.fact_rows)

    return work


register(
    BenchStage(
        "normalize",
        "fecflow normalize of the staged file (first load: typing, linking, employers, partitions)",
        prepare_normalize,
        setup_normalize,
    )
)
register(
    BenchStage(
        "score",
        f"fecflow leaning scores, default method (lean-2026.2: flows through committees), all entity types, "
        f"as of {SCORE_AS_OF} (rows = counted rows in the window)",
        prepare_score,
        setup_score,
    )
)
register(
    BenchStage(
        "score_v1",
        f"fecflow leaning scores lean-2026.1 (the earlier method, for comparison), as of {SCORE_AS_OF}",
        prepare_score,
        setup_score,
        option="lean-2026.1",
    )
)


# --- fecflow normalize of a later snapshot (the diff path of a daily ingest) ------------------------

#: Bump when :func:`write_later_snapshot` changes (the cached file is then written again).
LATER_SNAPSHOT_VERSION = 1


def write_later_snapshot(path: Path) -> Path:
    """A later snapshot of the benchmark file, as FEC's daily files change: every 100th row another
    amount (1%), every 200th row gone (0.5%), as many new rows (0.5%, new SUB_IDs); cached by the
    first file's sidecar and :data:`LATER_SNAPSHOT_VERSION`."""
    later = path.with_name(path.stem + "_later.txt")
    sidecar = later.with_name(later.name + ".json")
    wanted = {
        "from": json.loads(path.with_name(path.name + ".json").read_text()),
        "version": LATER_SNAPSHOT_VERSION,
    }
    try:
        if later.exists() and json.loads(sidecar.read_text()) == wanted:
            return later
    except (OSError, ValueError):
        pass
    from fecflow.catalog import FILES

    names = [c.raw for c in FILES["indiv"].columns]
    amount, sub_id = names.index("TRANSACTION_AMT"), names.index("SUB_ID")
    added: list[bytes] = []
    with path.open("rb") as src, later.open("wb") as out:
        for i, line in enumerate(src):
            fields = line.rstrip(b"\n").split(b"|")
            if i % 200 == 7:
                continue
            if i % 100 == 3:
                fields[amount] = str(int(fields[amount] or 0) + 1).encode()
            if i % 200 == 11:
                new = list(fields)
                new[sub_id] = str(9_000_000_000_000_000_000 + i).encode()
                added.append(b"|".join(new) + b"\n")
            out.write(b"|".join(fields) + b"\n")
        out.writelines(added)
    sidecar.write_text(json.dumps(wanted) + "\n")
    return later


def _move_later_snapshot(url: str, later_id: int, *, days: int) -> None:
    """Date the later snapshot ``days`` after the first one: normalize reads the newest staged."""
    _execute(
        url,
        f"UPDATE ops.source_file SET fetched_at = (SELECT min(fetched_at) FROM ops.source_file) "  # noqa: S608
        f"+ interval '{int(days)} days' WHERE source_file_id = {int(later_id)}",
    )


def prepare_normalize_diff(ctx: Context) -> None:
    """The first snapshot normalized (untimed), the later one staged and newest: the timed normalize diffs it."""
    _ensure_staged(ctx)
    later = write_later_snapshot(ctx.path)
    stage_later, later_id = _staging_work(ctx.url, later, workers=2, may_skip=True)
    stage_later()
    _move_later_snapshot(ctx.url, later_id, days=-1)  # older than the first: not current
    _reset_core(ctx)
    _normalize_indiv(ctx.url)
    _move_later_snapshot(ctx.url, later_id, days=1)
    _execute(ctx.url, "ANALYZE staging.indiv", "CHECKPOINT")


register(
    BenchStage(
        "normalize_diff",
        "fecflow normalize of a later snapshot of the file (1% changed, 0.5% gone, 0.5% new): the diff path",
        prepare_normalize_diff,
        setup_normalize,
    )
)


# --- end to end: `fecflow backfill` of the benchmark file (issue #18) ---------------------------------

#: Per-run details a stage's work may add to its report (e.g. the end-to-end row's step seconds).
EXTRA: dict[str, Any] = {}


def mirror_zip(path: Path) -> Path:
    """``bench/data/mirror_{N}/2020/indiv20.zip`` holding the benchmark file as ``itcont.txt``, the
    layout of FEC's bulk site (deflated, as FEC's are); cached by the file's sidecar."""
    import zipfile

    mirror = path.with_name(f"mirror_{path.stem.split('_', 1)[1]}")
    target = mirror / "2020" / "indiv20.zip"
    sidecar = target.with_name(target.name + ".json")
    wanted = path.with_name(path.name + ".json").read_text()
    if target.exists() and sidecar.exists() and sidecar.read_text() == wanted:
        return mirror
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "itcont.txt")
    sidecar.write_text(wanted)
    return mirror


def _backfill_home(server_pid: int) -> Path:
    return Path(tempfile.gettempdir()) / f"fecflow-bench-home-{server_pid}"


def _backfill_env(ctx: Context) -> dict[str, str]:
    return {
        "FECFLOW_HOME": str(_backfill_home(ctx.server_pid)),
        "FECFLOW_BULK_BASE_URL": mirror_zip(ctx.path).as_uri(),
        "FECFLOW_DATABASE_URL": ctx.url,
    }


def prepare_backfill(ctx: Context) -> None:
    """Empty staging, core, scores and the raw store; the zip in a local mirror (so the timed fetch
    copies and hashes it, as from any mirror)."""
    import shutil

    shutil.rmtree(_backfill_home(ctx.server_pid), ignore_errors=True)
    _execute(ctx.url, *STAGING_RESET)
    _reset_core(ctx)
    _execute(ctx.url, "TRUNCATE scores.leaning_score", "CHECKPOINT")
    os.environ.update(_backfill_env(ctx))


def setup_backfill(ctx: Context) -> Callable[[], int]:
    """Timed: the backfill flow of ``fecflow backfill --cycles 2020 --files indiv --as-of SCORE_AS_OF``
    (fetch from a file:// mirror, stage, gate, normalize, gate, score, gate), through the same
    :func:`~fecflow.pipeline.runner.run_steps` and :func:`~fecflow.pipeline.flows.steps_for` the CLI
    calls. Rows: the contributions loaded."""
    import datetime as dt

    os.environ.update(_backfill_env(ctx))
    from fecflow.config import Settings
    from fecflow.pipeline.args import DEFAULT_LOOKBACK_MONTHS
    from fecflow.pipeline.flows import backfill_args, steps_for
    from fecflow.pipeline.runner import run_steps

    settings = Settings.from_env()
    args = backfill_args(
        [2020],
        ["indiv"],
        as_of=dt.date.fromisoformat(SCORE_AS_OF),
        lookback_months=DEFAULT_LOOKBACK_MONTHS,
        workers=1,
    )

    def work() -> int:
        summary = run_steps(
            ctx.url, settings, command="backfill", args=args.to_json(), steps=steps_for("backfill", args)
        )
        EXTRA["steps"] = {o.name: round(o.seconds, 3) for o in summary.steps}
        with psycopg.connect(ctx.url) as conn:
            row = conn.execute("SELECT count(*) FROM core.contribution").fetchone()
        return int(row[0]) if row else 0

    return work


#: Columns whose values are serials of this database (ids, runs), not loaded data.
def contribution_digests(url: str) -> dict[str, str]:
    """md5 of each column of core.contribution in SUB_ID order (fecflow.checks.digests)."""
    from fecflow.checks.digests import contribution_digests as digests

    with psycopg.connect(url) as conn:
        return digests(conn)


#: Schemas whose bytes the backfill row reports (tables with their indexes and TOAST).
SIZE_SCHEMAS = ("staging", "core", "scores")
_SCHEMA_BYTES_SQL = (
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')"
)


def database_bytes(url: str) -> dict[str, int]:
    """Bytes of the whole database and of each of SIZE_SCHEMAS' tables, after a load."""
    with psycopg.connect(url) as conn:
        queries: dict[str, tuple[str, tuple[str, ...]]] = {"database": ("SELECT pg_database_size(current_database())", ())}
        queries |= {schema: (_SCHEMA_BYTES_SQL, (schema,)) for schema in SIZE_SCHEMAS}
        return {name: int(_scalar(conn.execute(sql, params).fetchone())) for name, (sql, params) in queries.items()}


def _scalar(row: tuple[Any, ...] | None) -> Any:
    if row is None:
        raise RuntimeError("the query returned no row")
    return row[0]


def setup_backfill_checked(ctx: Context) -> Callable[[], int]:
    """:func:`setup_backfill`, then (untimed) the per-column digests and the bytes of what it loaded."""
    timed = setup_backfill(ctx)

    def work() -> int:
        rows = timed()
        EXTRA["untimed_after"] = lambda: {
            "digests": contribution_digests(ctx.url),
            "db_bytes": database_bytes(ctx.url),
        }
        return rows

    return work


register(
    BenchStage(
        "backfill",
        "fecflow backfill --cycles 2020 --files indiv (fetch from a file:// mirror, stage, normalize, "
        "score, all gates): the end-to-end row; rows = contributions loaded",
        prepare_backfill,
        setup_backfill_checked,
    )
)


# --- what users would do instead (issue #18): typed loads without fecflow ----------------------------

PEER_TABLE = "public.bench_peer_typed"
#: The itcont columns, readable names and the types a user would give them.
PEER_COLUMNS = (
    ("committee_id", "text"),
    ("amendment_indicator", "text"),
    ("report_type", "text"),
    ("election_type", "text"),
    ("image_number", "text"),
    ("transaction_type", "text"),
    ("entity_type", "text"),
    ("contributor_name", "text"),
    ("city", "text"),
    ("state", "text"),
    ("zip_code", "text"),
    ("employer", "text"),
    ("occupation", "text"),
    ("transaction_date", "date"),
    ("amount", "numeric(14,2)"),
    ("other_id", "text"),
    ("transaction_id", "text"),
    ("file_number", "bigint"),
    ("memo_code", "text"),
    ("memo_text", "text"),
    ("sub_id", "bigint"),
)


def prepare_peer(ctx: Context) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in PEER_COLUMNS)
    prepare_baseline(ctx)
    _execute(
        ctx.url, f"DROP TABLE IF EXISTS {PEER_TABLE}", f"CREATE TABLE {PEER_TABLE} ({columns})", "CHECKPOINT"
    )


def setup_peer_copy_insert(ctx: Context) -> Callable[[], int]:
    """A hand-written typed load: COPY into an all-text table, one ``INSERT ... SELECT`` with casts
    (dates MMDDYYYY, amounts numeric), no cleaning, no audit, no gate."""
    casts = ", ".join(
        f"to_date(nullif(c{i}, ''), 'MMDDYYYY')"
        if kind == "date"
        else (f"nullif(c{i}, '')::{kind}" if kind != "text" else f"c{i}")
        for i, (_, kind) in enumerate(PEER_COLUMNS, start=1)
    )
    copy = setup_baseline(ctx)

    def work() -> int:
        copy()
        with psycopg.connect(ctx.url) as conn:
            rows = conn.execute(
                f"INSERT INTO {PEER_TABLE} SELECT {casts} FROM {BASELINE_TABLE}"  # noqa: S608 (fixed text)
            ).rowcount
            conn.execute(f"TRUNCATE {BASELINE_TABLE}")
        return rows

    return work


def setup_peer_pandas(ctx: Context) -> Callable[[], int]:
    """pandas as its documentation shows it: ``read_csv`` (typed columns, dates parsed) then
    ``DataFrame.to_sql`` (SQLAlchemy + psycopg, default insert method, chunks of 10,000) into the typed
    table. Needs the ``bench`` extra (``pip install -e '.[bench]'``)."""
    import pandas as pd
    import sqlalchemy

    names = [name for name, _ in PEER_COLUMNS]
    text = {name: "string" for name, kind in PEER_COLUMNS if kind == "text"}
    engine = sqlalchemy.create_engine(ctx.url.replace("postgresql://", "postgresql+psycopg://", 1))

    def work() -> int:
        frame = pd.read_csv(
            ctx.path, sep="|", header=None, names=names, quoting=3, dtype=text, encoding_errors="replace"
        )
        frame["transaction_date"] = pd.to_datetime(
            frame["transaction_date"], format="%m%d%Y", errors="coerce"
        ).dt.date
        schema, table = PEER_TABLE.split(".")
        with engine.begin() as conn:
            frame.to_sql(table, conn, schema=schema, if_exists="append", index=False, chunksize=10_000)
        return len(frame)

    return work


register(
    BenchStage(
        "peer_copy_insert",
        "what a user would write: COPY to text + one INSERT ... SELECT with casts into a typed table",
        prepare_peer,
        setup_peer_copy_insert,
    )
)
register(
    BenchStage(
        "peer_pandas",
        "what a user would write: pandas read_csv + to_sql into the same typed table",
        prepare_peer,
        setup_peer_pandas,
    )
)


# --- the employer matching step alone (issue #19) --------------------------------------------------


def prepare_nothing(ctx: Context) -> None:
    """A pure-Python stage: no table to reset."""


def setup_employer_match(ctx: Context) -> Callable[[], int]:
    """Untimed: the file's counted rows (employer, occupation, state, ZIP, recipient) as normalize
    groups them. Timed: the per-string map plus similar-name candidates and decisions
    (``cluster_rows``, the decisions normalize stores). Rows reported: distinct EMPLOYER strings."""
    from fecflow.normalize.employer_similarity import cluster_rows, count_itcont_rows

    with ctx.path.open(encoding="utf-8", errors="replace") as fh:
        rows = count_itcont_rows(fh)
    strings = len({r[0] for r in rows})

    def work() -> int:
        cluster_rows(rows)
        return strings

    return work


register(
    BenchStage(
        "employer_match",
        "employer matching alone (per-string map + similar names from strings and rows), "
        "rows = distinct EMPLOYER strings; no database",
        prepare_nothing,
        setup_employer_match,
    )
)


# --- e-filings (issue #21): bench/efilings.py --------------------------------------------------------
import efilings  # noqa: E402 - bench/efilings.py, beside this file

register(
    BenchStage(
        "efilings_day",
        "fecflow fetch-efilings of one daily archive (2018-06-16, 52 filings) from a file:// mirror: "
        "fetch, stage, record, preliminary rows, reconcile (rows = lines; MB/s of the .fec bytes)",
        efilings.prepare_efilings,
        efilings.setup_efilings_day,
        input_bytes=efilings.day_bytes,
    )
)
register(
    BenchStage(
        "efilings_parse",
        "parse + stage of the two largest sample filings (27789, 1544132) from raw storage "
        "(rows = lines; MB/s of the .fec bytes)",
        efilings.prepare_efilings,
        efilings.setup_efilings_parse,
        input_bytes=efilings.largest_bytes,
    )
)


def drop_staging_fks(url: str) -> None:
    _execute(
        url,
        "ALTER TABLE staging.indiv DROP CONSTRAINT IF EXISTS fk_indiv__batch_id_ingest_run_audits",
        "ALTER TABLE staging.indiv DROP CONSTRAINT IF EXISTS fk_indiv__source_file_id_source_file",
    )


# --- the parent: data, server, repetitions, report --------------------------------------------------


def ensure_data(rows: int, seed: int, vocabulary: str = "sample") -> Path:
    path = DATA_DIR / (f"itcont_{rows}.txt" if vocabulary == "sample" else f"itcont_{rows}_{vocabulary}.txt")
    sidecar = path.with_name(path.name + ".json")
    generator = BENCH_DIR / "gen_itcont.py"
    wanted = {
        "rows": rows,
        "seed": seed,
        "generator_sha256": hashlib.sha256(generator.read_bytes()).hexdigest(),
        **({"vocabulary": vocabulary} if vocabulary != "sample" else {}),
    }
    try:
        if path.exists() and json.loads(sidecar.read_text()) == wanted:
            return path
    except (OSError, ValueError):
        pass
    print(f"generating {path.name} ({rows:,} rows, seed {seed}) ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            str(BENCH_DIR / "gen_itcont.py"),
            "--rows",
            str(rows),
            "--seed",
            str(seed),
            "--out",
            str(path),
            "--vocabulary",
            vocabulary,
        ],
        check=True,
    )
    sidecar.write_text(json.dumps(wanted) + "\n")
    return path


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def cluster_cpu_seconds(postmaster_pid: int) -> float:
    """CPU seconds used so far by the PostgreSQL cluster: postmaster, its reaped and live children."""
    import psutil

    try:
        postmaster = psutil.Process(postmaster_pid)
        times = postmaster.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        children = postmaster.children(recursive=True)
    except psutil.Error:
        return 0.0
    for child in children:
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_child(stage: BenchStage, ctx: Context) -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            stage.name,
            "--url",
            ctx.url,
            "--path",
            str(ctx.path),
            "--rows",
            str(ctx.rows),
            "--server-pid",
            str(ctx.server_pid),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{stage.name} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def child_main(name: str, url: str, path: Path, rows: int, server_pid: int) -> int:
    import rss_trace  # bench/rss_trace.py, beside this file

    rss_trace.start_from_env(f"{name}, {rows:,} rows")
    stage = STAGES[name.split("[", 1)[0]]
    work = stage.setup(Context(url, path, rows, stage.option, server_pid))
    server_before, client_before = cluster_cpu_seconds(server_pid), process_cpu_seconds()
    started = time.perf_counter()
    loaded = work()
    seconds = time.perf_counter() - started
    client_after = process_cpu_seconds()
    time.sleep(0.3)  # let the backends of closed connections exit and be reaped
    server_after = cluster_cpu_seconds(server_pid)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    untimed_after = EXTRA.pop("untimed_after", None)
    if untimed_after is not None:
        EXTRA.update(untimed_after())
    report = {
        "rows": loaded,
        "seconds": seconds,
        "peak_rss_mb": peak_kb / 1024,
        "cpu_client_s": client_after - client_before,
        "cpu_server_s": server_after - server_before,
        "loadavg_1m": os.getloadavg()[0],
        **EXTRA,
    }
    print(json.dumps(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fecflow benchmark: staging load vs a bare COPY.")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the generated itcont file")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per stage (median reported)")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated: {', '.join(STAGES)}")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.json")
    parser.add_argument(
        "--vocabulary", choices=("sample", "heaps"), default="sample",
        help="generated file: the sample's employers and donors, or growing as in a real cycle (bench/gen_itcont.py)",
    )
    parser.add_argument(
        "--staging-without-fks", action="store_true", help="drop staging.indiv's foreign keys first"
    )
    parser.add_argument(
        "--explorer", action=argparse.BooleanOptionalAction, default=True,
        help="also the explorer row (bench/explorer.py: page latency and 50 clients for 30 s)",
    )  # fmt: skip
    parser.add_argument("--explorer-only", action="store_true", help="only the explorer row")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child, args.url, args.path, args.rows, args.server_pid)
    if args.explorer_only:
        import explorer  # bench/explorer.py, beside this file

        return explorer.main([])

    from fecflow.db import migrate
    from fecflow.db.embedded import EmbeddedServer

    names = [n.strip() for n in args.stages.split(",") if n.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        parser.error(f"unknown stages {unknown}; known: {', '.join(STAGES)}")
    path = ensure_data(args.rows, args.seed, args.vocabulary)
    size = path.stat().st_size
    commit = git_commit()
    root = Path(tempfile.mkdtemp(prefix="fecflow-bench-pg-"))
    server = EmbeddedServer(root, fast_unsafe=False)
    results: list[dict[str, Any]] = []
    server_pid = 0
    try:
        status = server.start()
        server_pid = status.pid or 0
        url = status.url()
        assert url is not None and status.pid is not None
        migrate.upgrade(url)
        if args.staging_without_fks:
            drop_staging_fks(url)
        suffix = "[no-fk]" if args.staging_without_fks else ""
        baseline_rate: float | None = None
        for name in names:
            stage = STAGES[name]
            ctx = Context(url, path, args.rows, stage.option, status.pid)
            runs = []
            for _ in range(args.repeat):
                stage.prepare(ctx)
                runs.append(run_child(stage, ctx))
                last = runs[-1]
                print(
                    f"  {name}: {last['rows']:,} rows in {last['seconds']:.2f}s (cpu client "
                    f"{last['cpu_client_s']:.2f}s, server {last['cpu_server_s']:.2f}s, load {last['loadavg_1m']:.1f})",
                    flush=True,
                )
            seconds = statistics.median(r["seconds"] for r in runs)
            rows = runs[0]["rows"]
            rate = rows / seconds
            if name == "copy_baseline":
                baseline_rate = rate
            stage_bytes = stage.input_bytes(ctx) if stage.input_bytes else size
            results.append(
                {
                    "stage": name if name == "copy_baseline" else name + suffix,
                    "rows": rows,
                    "seconds": round(seconds, 3),
                    "rows_per_s": round(rate),
                    "mb_per_s": round(stage_bytes / seconds / 1e6, 2),
                    "ratio_to_copy": round(rate / baseline_rate, 3) if baseline_rate and not stage.input_bytes else None,
                    "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
                    "git_commit": commit,
                    "runs": [round(r["seconds"], 3) for r in runs],
                    "cpu_client_s": round(statistics.median(r["cpu_client_s"] for r in runs), 2),
                    "cpu_server_s": round(statistics.median(r["cpu_server_s"] for r in runs), 2),
                    "loadavg_1m": [round(r["loadavg_1m"], 1) for r in runs],
                    **_step_shares(runs),
                }
            )
    finally:
        server.destroy()
        if server_pid:  # the backfill row's FECFLOW_HOME (its raw store holds a copy of the zip)
            import shutil

            shutil.rmtree(_backfill_home(server_pid), ignore_errors=True)
    print_table(results, path, size, args.repeat)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")
    if args.explorer:
        import explorer  # bench/explorer.py, beside this file: writes bench/explorer.json

        explorer.main([])
    return 0


def _step_shares(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A flow's steps: median seconds of each and its share of the median total (end-to-end rows);
    the loaded data's digests, the same in every run (or the benchmark fails)."""
    if any(r.get("digests") != runs[0].get("digests") for r in runs):
        raise SystemExit("the runs loaded different data: per-column digests differ")
    extra: dict[str, Any] = {k: runs[0][k] for k in ("digests", "db_bytes") if k in runs[0]}
    if not all("steps" in r for r in runs):
        return extra
    names = list(runs[0]["steps"])
    seconds = {n: statistics.median(r["steps"][n] for r in runs) for n in names}
    total = sum(seconds.values()) or 1.0
    return {
        **extra,
        "steps": {n: {"seconds": round(s, 3), "share": round(s / total, 3)} for n, s in seconds.items()},
    }


def print_table(results: list[dict[str, Any]], path: Path, size: int, repeat: int) -> None:
    print(f"\n{path.name}: {size / 1e6:,.0f} MB; median of {repeat}; wall-clock, expect a few % of noise")
    header = (
        f"{'stage':<18} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'MB/s':>6} {'x copy':>6} "
        f"{'RSS MB':>6} {'cpu client s':>12} {'cpu server s':>12} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r['ratio_to_copy']:.2f}" if r["ratio_to_copy"] is not None else "-"
        print(
            f"{r['stage']:<18} {r['rows']:>10,} {r['seconds']:>8.2f} {r['rows_per_s']:>9,} {r['mb_per_s']:>6.1f} "
            f"{ratio:>6} {r['peak_rss_mb']:>6.0f} {r['cpu_client_s']:>12.2f} {r['cpu_server_s']:>12.2f} "
            f"{max(r['loadavg_1m']):>5.1f}"
        )
    print("cpu server s: the whole PostgreSQL cluster; load: the highest 1-minute load average seen")
    for r in results:
        if "steps" in r:
            shares = ", ".join(f"{n} {v['seconds']:.2f}s ({v['share']:.0%})" for n, v in r["steps"].items())
            print(f"{r['stage']} steps (median s, share): {shares}")


if __name__ == "__main__":
    sys.exit(main())
