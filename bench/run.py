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
``--staging-without-fks`` drops the two foreign keys of ``staging.indiv`` in the benchmark database
first, to show what they cost (stage names get a ``[no-fk]`` suffix).

Timings are wall-clock: other work on the machine shows up in them (see loadavg_1m).
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
    "TRUNCATE staging.indiv, staging.raw_line, ops.rejected_row, ops.ingest_run_audits, ops.source_file, "
    "ops.ingest_run CASCADE"
)


def prepare_staging(ctx: Context) -> None:
    _execute(ctx.url, STAGING_RESET, "CHECKPOINT")


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
    _execute(ctx.url, STAGING_RESET)
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


def drop_staging_fks(url: str) -> None:
    _execute(
        url,
        "ALTER TABLE staging.indiv DROP CONSTRAINT IF EXISTS fk_indiv__batch_id_ingest_run_audits",
        "ALTER TABLE staging.indiv DROP CONSTRAINT IF EXISTS fk_indiv__source_file_id_source_file",
    )


# --- the parent: data, server, repetitions, report --------------------------------------------------


def ensure_data(rows: int, seed: int) -> Path:
    path = DATA_DIR / f"itcont_{rows}.txt"
    sidecar = path.with_name(path.name + ".json")
    generator = BENCH_DIR / "gen_itcont.py"
    wanted = {
        "rows": rows,
        "seed": seed,
        "generator_sha256": hashlib.sha256(generator.read_bytes()).hexdigest(),
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
    report = {
        "rows": loaded,
        "seconds": seconds,
        "peak_rss_mb": peak_kb / 1024,
        "cpu_client_s": client_after - client_before,
        "cpu_server_s": server_after - server_before,
        "loadavg_1m": os.getloadavg()[0],
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
    path = ensure_data(args.rows, args.seed)
    size = path.stat().st_size
    commit = git_commit()
    root = Path(tempfile.mkdtemp(prefix="fecflow-bench-pg-"))
    server = EmbeddedServer(root, fast_unsafe=False)
    results: list[dict[str, Any]] = []
    try:
        status = server.start()
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
            results.append(
                {
                    "stage": name if name == "copy_baseline" else name + suffix,
                    "rows": rows,
                    "seconds": round(seconds, 3),
                    "rows_per_s": round(rate),
                    "mb_per_s": round(size / seconds / 1e6, 1),
                    "ratio_to_copy": round(rate / baseline_rate, 3) if baseline_rate else None,
                    "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
                    "git_commit": commit,
                    "runs": [round(r["seconds"], 3) for r in runs],
                    "cpu_client_s": round(statistics.median(r["cpu_client_s"] for r in runs), 2),
                    "cpu_server_s": round(statistics.median(r["cpu_server_s"] for r in runs), 2),
                    "loadavg_1m": [round(r["loadavg_1m"], 1) for r in runs],
                }
            )
    finally:
        server.destroy()
    print_table(results, path, size, args.repeat)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")
    if args.explorer:
        import explorer  # bench/explorer.py, beside this file: writes bench/explorer.json

        explorer.main([])
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
