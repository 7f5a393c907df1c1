"""One function per step: fetch, stage, validate, normalize, score.

Every entrance calls these: the single-step commands (``fecflow fetch``, ``stage``, ``normalize``,
``scores compute``), the flows (:mod:`fecflow.pipeline.flows`: ``backfill``, ``ingest-daily``,
``replay-range``) and ``make bench``. Each takes its typed arguments (:mod:`fecflow.pipeline.args`),
a connection of a recorded run and the run id; none builds a connection or reads the environment.
The validation gate that follows a step (:func:`validate`) runs wherever the step runs; the
single-step commands skip it only with ``--skip-gates``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from fecflow.catalog import FILES, FileSpec, get_file_spec
from fecflow.checks.gate import GateName, GateScope, run_gate, scope_of_run
from fecflow.checks.result import CheckResult
from fecflow.checks.tolerances import load_tolerances
from fecflow.config import Settings
from fecflow.db import ops
from fecflow.db.statements import one
from fecflow.errors import ConfigError, DataError
from fecflow.normalize.preliminary import supersede_preliminary
from fecflow.normalize.snapshot import current_snapshot
from fecflow.normalize.step import NormalizeResult, normalize_cycle
from fecflow.pipeline.args import ApiPullArgs, FetchArgs, NormalizeArgs, ScoreArgs, StageArgs
from fecflow.pipeline.fetch import FetchRecord, fetch_bulk
from fecflow.scores.engine import ScoreResult, compute_scores
from fecflow.sources.http import RetryPolicy, build_http_client
from fecflow.sources.openfec import ENDPOINTS, OpenFecClient
from fecflow.sources.storage import RawStorage
from fecflow.staging.load import StageResult, connection_factory, stage_source_file
from fecflow.staging.openfec import PullResult, pull_to_staging
from fecflow.staging.payload import Payload, guess_cycle, guess_file_type, open_payload, register_local_file

log = logging.getLogger(__name__)

#: The OpenFEC endpoints :func:`pull_api` knows.
OPENFEC_ENDPOINTS = tuple(ENDPOINTS)
#: Per-file progress: ``(label, payload bytes)`` -> a ``(lines, bytes read)`` callback, or None.
FileProgress = Callable[[str, int], Callable[[int, int], None] | None]


# --- fetch ------------------------------------------------------------------------------------------------
def fetch(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    run_id: int,
    args: FetchArgs,
    on_file: Callable[[FetchRecord], None] | None = None,
) -> list[FetchRecord]:
    """Download the bulk files of ``args`` (unchanged ones are not stored again)."""
    with build_http_client(settings) as client:
        return fetch_bulk(
            conn,
            settings,
            run_id=run_id,
            cycles=args.cycles,
            file_types=args.files,
            client=client,
            storage=RawStorage.from_settings(settings),
            policy=RetryPolicy.from_settings(settings),
            include_headers=args.include_headers,
            on_file=on_file,
        )


def pull_api(conn: psycopg.Connection, settings: Settings, *, run_id: int, args: ApiPullArgs) -> PullResult:
    """Pull an OpenFEC endpoint into staging.openfec_payload, resuming an unfinished pull of the same filters."""
    if args.endpoint not in ENDPOINTS:
        raise ConfigError(
            f"Unknown OpenFEC endpoint {args.endpoint!r}.", hint=f"Known: {', '.join(ENDPOINTS)}."
        )
    with build_http_client(settings) as http:
        client = OpenFecClient.from_settings(
            http, settings, purpose="backfill" if args.backfill else "incremental"
        )
        return pull_to_staging(
            conn,
            client,
            endpoint=args.endpoint,
            params=args.params,
            run_id=run_id,
            restart=args.restart,
            max_pages=args.max_pages,
            per_page=args.per_page,
        )


# --- stage ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageTarget:
    label: str
    spec: FileSpec
    cycle: int | None
    source_file_id: int | None  # None: a local path still to register
    path: Path | None
    storage_uri: str | None
    member: str | None = None  # the data member fetch recorded (the expected name, or the archive's only one)


@dataclass(frozen=True)
class StagedFile:
    target: StageTarget
    result: StageResult


def stage_targets(
    conn: psycopg.Connection, settings: Settings, *, run_id: int, args: StageArgs
) -> list[StageTarget]:
    """What ``args`` stages: its local paths (registered in ops.source_file now), or the newest
    downloaded file of each cycle x file type."""
    if not args.paths:
        return _downloaded_targets(conn, settings, args.cycles, args.files)
    targets = _local_targets([Path(p) for p in args.paths], args.files, args.cycles)
    return [
        replace(
            t,
            source_file_id=register_local_file(
                conn, t.path, file_type=t.spec.file_type, cycle=t.cycle, run_id=run_id
            ),
        )
        for t in targets
        if t.path is not None
    ]


def stage(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    db_url: str,
    run_id: int,
    args: StageArgs,
    targets: Sequence[StageTarget] | None = None,
    progress: FileProgress | None = None,
    on_file: Callable[[StagedFile], None] | None = None,
) -> list[StagedFile]:
    """COPY every target of ``args`` into staging (files staged already are skipped), then ANALYZE
    the staging tables loaded if their statistics are stale (:func:`analyze_stale`).

    ``targets``: already resolved by :func:`stage_targets` (the benchmark registers its file untimed).
    """
    staged: list[StagedFile] = []
    started = _now()
    if targets is None:
        targets = stage_targets(conn, settings, run_id=run_id, args=args)
    for target in targets:
        assert target.source_file_id is not None
        payload = _payload(settings, target)
        result = stage_source_file(
            connection_factory(db_url),
            run_id=run_id,
            source_file_id=target.source_file_id,
            spec=target.spec,
            path=payload,
            workers=args.workers,
            replace=args.replace,
            progress=progress(target.label, payload.size) if progress is not None else None,
        )
        staged.append(StagedFile(target, result))
        if on_file is not None:
            on_file(staged[-1])
    loaded = sorted({s.target.spec.staging_table for s in staged if not s.result.skipped})
    if loaded:
        analyze_stale(conn, [f"staging.{table}" for table in loaded], since=started)
    return staged


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _local_targets(paths: Sequence[Path], files: Sequence[str], cycles: Sequence[int]) -> list[StageTarget]:
    if files and len(files) not in (1, len(paths)):
        raise ConfigError(
            f"--files names {len(files)} types for {len(paths)} paths.",
            hint="Give one type for all paths, or one per path in the same order.",
        )
    targets = []
    for index, path in enumerate(paths):
        if not path.is_file():
            raise ConfigError(f"{path} is not a file.")
        file_type: str | None
        if files:
            file_type = files[0] if len(files) == 1 else files[index]
        else:
            file_type = guess_file_type(path.name)
            if file_type is None and path.suffix.lower() == ".zip":
                file_type = guess_file_type(open_payload(path).member)
            if file_type is None:
                raise ConfigError(
                    f"Cannot tell the FEC file type of {path.name} from its name.",
                    hint=f"Say it with --files (one of {', '.join(FILES)}).",
                )
        cycle = guess_cycle(path.name) or (cycles[0] if len(cycles) == 1 else None)
        targets.append(StageTarget(path.name, get_file_spec(file_type), cycle, None, path, None))
    return targets


def _downloaded_targets(
    conn: psycopg.Connection, settings: Settings, cycles: Sequence[int], files: Sequence[str]
) -> list[StageTarget]:
    targets, missing = [], []
    for cycle in cycles:
        for file_type in files:
            spec = get_file_spec(file_type)
            record = ops.last_usable_source_file(conn, spec.url(settings.bulk_base_url, cycle))
            conn.commit()
            if record is None or record.storage_uri is None:
                missing.append((cycle, file_type))
                continue
            label = spec.zip_for_cycle(cycle)
            targets.append(
                StageTarget(
                    label, spec, cycle, record.source_file_id, None, record.storage_uri, record.member
                )
            )
    if missing:
        names = ", ".join(f"{f} {c}" for c, f in missing)
        cycles_text = ",".join(sorted({str(c) for c, _ in missing}))
        files_text = ",".join(dict.fromkeys(f for _, f in missing))
        raise DataError(
            f"Never downloaded: {names}.",
            hint=f"Fetch first: fecflow fetch --cycles {cycles_text} --files {files_text}",
        )
    return targets


def _payload(settings: Settings, target: StageTarget) -> Payload:
    """The target's payload, read where it is: a local file, or streamed from S3 (no temp copy)."""
    member = target.member if target.storage_uri else None
    if target.path is not None:
        return open_payload(target.path, spec=target.spec)
    uri = target.storage_uri
    assert uri is not None
    if uri.startswith(("s3://", "s3a://")):
        bucket = uri.split("://", 1)[1].split("/", 1)[0]
        storage = RawStorage(f"s3://{bucket}", s3_endpoint_url=settings.s3_endpoint_url)
        return open_payload(uri, member=member, spec=target.spec, opener=lambda: storage.open(uri), label=uri)
    return open_payload(Path(uri.removeprefix("file://")), member=member, spec=target.spec)


#: Statistics count as stale when more than this share of a table's rows changed since its last
#: ANALYZE (autovacuum's default ``autovacuum_analyze_scale_factor``).
STALE_SHARE = 0.1

_LEAVES_NEEDING_ANALYZE = sql.SQL(
    """
    WITH target AS (
        SELECT c.oid FROM pg_class c WHERE c.oid = ANY (%(tables)s::regclass[]) AND c.relkind = 'r'
        UNION ALL
        SELECT t.relid FROM unnest(%(tables)s::regclass[]) AS p(oid)
        CROSS JOIN LATERAL pg_partition_tree(p.oid) AS t
        WHERE t.isleaf
    )
    SELECT DISTINCT n.nspname AS schema_name, c.relname AS table_name
    FROM target JOIN pg_class c ON c.oid = target.oid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE s.n_live_tup + s.n_mod_since_analyze > 0
      AND (
        coalesce(s.last_analyze, s.last_autoanalyze) IS NULL
        OR (s.n_mod_since_analyze > %(share)s * greatest(s.n_live_tup, 1000)
            AND NOT (s.last_analyze >= %(since)s
                     AND abs(s.n_live_tup - c.reltuples) <= %(share)s * greatest(s.n_live_tup, 1000)))
      )
    ORDER BY 1, 2
    """
)


def stale_tables(conn: psycopg.Connection, tables: Sequence[str], *, since: dt.datetime) -> list[str]:
    """The tables of ``tables`` (the leaf partitions of a partitioned one) whose planner statistics
    are stale: never analyzed, or more than :data:`STALE_SHARE` of their rows changed since the last
    ANALYZE. A table analyzed after ``since`` whose row count still matches that ANALYZE is fresh
    even though its change counter says otherwise: a first load ANALYZEs the partitions it attaches
    inside its own transaction, and the rows it inserted are only counted as changes at commit.

    Reads the cumulative statistics after flushing this session's pending counts.
    """
    conn.commit()
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.commit()  # the flush happens when the session goes idle
    conn.execute("SELECT pg_stat_clear_snapshot()")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _LEAVES_NEEDING_ANALYZE, {"tables": list(tables), "share": STALE_SHARE, "since": since}
        ).fetchall()
    conn.commit()
    return [f"{r['schema_name']}.{r['table_name']}" for r in rows]


def analyze(conn: psycopg.Connection, tables: Iterable[str]) -> None:
    """Fresh planner statistics after a bulk load: stale ones gave a 14-minute nested-loop plan."""
    conn.commit()
    for table in tables:
        schema, name = table.split(".")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, name)))
    conn.commit()


def analyze_stale(conn: psycopg.Connection, tables: Sequence[str], *, since: dt.datetime) -> list[str]:
    """ANALYZE what :func:`stale_tables` finds among ``tables``; return what was analyzed.

    A partitioned table's leaves are analyzed one by one, never through the parent: an ANALYZE of
    the parent samples every partition again (it doubled a first normalize, which analyzes the
    partitions it attaches already). The parent's own statistics (the table as a whole, which the
    planner uses for joins over all partitions) come from ``ANALYZE ONLY`` (PostgreSQL 17 or newer,
    one sample), when any of its partitions was analyzed since ``since``. PostgreSQL 15 and 16 have
    no ``ANALYZE ONLY``: there the parent gets a whole ``ANALYZE`` (which samples the partitions
    again, as before this function existed) rather than no table-wide statistics at all.
    """
    stale = stale_tables(conn, tables, since=since)
    analyze(conn, stale)
    parents = _parents_analyzed_since(conn, tables, since)
    statement = sql.SQL("ANALYZE ONLY {}" if conn.info.server_version >= 170000 else "ANALYZE {}")
    for parent in parents:
        schema, name = parent.split(".")
        conn.execute(statement.format(sql.Identifier(schema, name)))
    conn.commit()
    if stale or parents:
        log.info("analyzed %s", ", ".join(stale + [f"{p} (only)" for p in parents]))
    return stale + parents


def _parents_analyzed_since(conn: psycopg.Connection, tables: Sequence[str], since: dt.datetime) -> list[str]:
    """The partitioned tables of ``tables`` with a partition analyzed since ``since``."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
        SELECT n.nspname AS schema_name, c.relname AS table_name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = ANY (%(tables)s::regclass[]) AND c.relkind = 'p'
          AND EXISTS (SELECT 1 FROM pg_partition_tree(c.oid) t
                      JOIN pg_stat_user_tables s ON s.relid = t.relid
                      WHERE t.isleaf AND s.last_analyze >= %(since)s)
        ORDER BY 1, 2
        """,
            {"tables": list(tables), "since": since},
        ).fetchall()
    conn.commit()
    return [f"{r['schema_name']}.{r['table_name']}" for r in rows]


# --- validate ---------------------------------------------------------------------------------------------
def staging_scope(
    conn: psycopg.Connection, args: StageArgs, staged: Sequence[StagedFile] = ()
) -> GateScope | None:
    """What the staging gate checks: the current snapshots of the cycles x file types (so a resumed
    run checks them too), or the local files just staged."""
    if args.paths:
        ids = [s.result.source_file_id for s in staged]
    else:
        ids = []
        for cycle in args.cycles:
            for file_type in args.files:
                snap = current_snapshot(conn, cycle=cycle, file_type=file_type)
                if snap is not None:
                    ids.append(snap.source_file_id)
    return GateScope(source_file_ids=tuple(sorted(set(ids)))) if ids else None


def normalize_scope(args: NormalizeArgs) -> GateScope | None:
    """What the normalize gate checks: the cycles and file types just normalized."""
    return GateScope(cycles=tuple(args.cycles), file_types=tuple(args.files)) if args.files else None


def scores_scope(conn: psycopg.Connection, run_id: int) -> GateScope | None:
    """What the scores gate checks: the (method, as_of) slots the run scored."""
    return scope_of_run(conn, run_id).get("scores")


def validate(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    run_id: int,
    gate: GateName,
    scope: GateScope,
    tolerances: Sequence[str] = (),
) -> list[CheckResult]:
    """Run ``gate`` over ``scope`` and record it; a failed check alerts and raises ValidationFailed."""
    return run_gate(
        conn,
        run_id=run_id,
        gate=gate,
        scope=scope,
        tolerances=load_tolerances(settings, list(tolerances)),
        settings=settings,
    )


def gate_counts(results: Sequence[CheckResult]) -> dict[str, int]:
    return {
        "checks": len(results),
        "failed": sum(1 for r in results if r.status == "failed"),
        "warnings": sum(1 for r in results if r.status == "warning"),
    }


# --- normalize --------------------------------------------------------------------------------------------
def normalize(
    conn: psycopg.Connection, *, run_id: int, args: NormalizeArgs, settings: Settings | None = None
) -> list[NormalizeResult]:
    """Normalize the current staged snapshots of ``args`` into core, cycle by cycle, then ANALYZE
    what is stale (:func:`analyze_stale`: a first load analyzed the partitions it attached already).

    What one snapshot may remove comes from the tolerances (``settings``' checks file, then
    ``args.tolerances``) and ``args.accept_shrink``. When core changed, preliminary e-filed rows whose
    processed bulk row has now arrived are superseded (:func:`supersede_efiled`), so every entrance
    that normalizes bulk files counts each dollar once.
    """
    results: list[NormalizeResult] = []
    if not args.files:
        return results
    shrink = load_tolerances(settings, args.tolerances).shrink_policy(accept=args.accept_shrink)
    started = _now()
    for cycle in args.cycles:
        results.append(
            normalize_cycle(
                conn, run_id=run_id, cycle=cycle, file_types=args.files, force=args.force, shrink=shrink
            )
        )
        conn.commit()
    if any(u.status in ("normalized", "remapped") for r in results for u in r.units):
        analyze_stale(
            conn, ["core.contribution", "core.committee", "core.candidate", "core.employer"], since=started
        )
        supersede_efiled(conn, run_id=run_id)
    return results


def supersede_efiled(conn: psycopg.Connection, *, run_id: int) -> int:
    """Mark preliminary e-filed rows superseded by the processed bulk rows now in core, with a
    ``normalize-efiling`` audit (scope ``supersede``); returns how many were marked."""
    audit_id = ops.start_audit(conn, run_id, ops.Stage.NORMALIZE_EFILING, scope=ops.NamedScope("supersede"))
    try:
        superseded = supersede_preliminary(conn, run_id=run_id)
    except Exception as exc:
        conn.rollback()
        ops.finish_audit(conn, audit_id, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    ops.finish_audit(conn, audit_id, "succeeded", counts={"superseded": superseded})
    conn.commit()
    return superseded


# --- score ------------------------------------------------------------------------------------------------
def latest_transaction_date(conn: psycopg.Connection, today: dt.date | None = None) -> dt.date:
    """The newest transaction date loaded, not after today (today when nothing is loaded)."""
    today = today or dt.date.today()
    row = one(
        conn,
        "SELECT max(transaction_date) AS latest FROM core.contribution "
        "WHERE deleted_at IS NULL AND transaction_date <= %(today)s",
        {"today": today},
    )
    return row["latest"] if row and row["latest"] else today


def score(conn: psycopg.Connection, *, run_id: int, args: ScoreArgs) -> ScoreResult:
    """Leaning scores for the window of ``args`` (as of the latest transaction date when not given)."""
    as_of = args.as_of or latest_transaction_date(conn)
    result = compute_scores(
        conn,
        run_id=run_id,
        as_of=as_of,
        lookback_months=args.lookback_months,
        method_version=args.method_version,
        include_preliminary=args.include_preliminary,
    )
    conn.commit()
    return result
