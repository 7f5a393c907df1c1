"""``fecflow stage`` (raw payloads into staging.*) and ``fecflow staging export`` (the fidelity check)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from fecflow.catalog import FILES, FileSpec, get_file_spec
from fecflow.cli.context import AppState, open_run
from fecflow.cli.options import parse_cycles, parse_files
from fecflow.config import Settings
from fecflow.db import ops
from fecflow.db.engine import connect, require_schema, resolve_database_url
from fecflow.errors import ConfigError, DataError
from fecflow.sources.output import atomic_output, check_output_target
from fecflow.sources.storage import RawStorage
from fecflow.staging.export import export_source_file
from fecflow.staging.load import StageResult, connection_factory, stage_source_file
from fecflow.staging.payload import Payload, guess_cycle, guess_file_type, open_payload, register_local_file

console = Console(highlight=False)

staging_app = typer.Typer(
    help="Manage staged payloads: rebuild a source file from staging (fidelity check), prune old snapshots.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@dataclass(frozen=True)
class _Target:
    label: str
    spec: FileSpec
    cycle: int | None
    source_file_id: int | None  # None: a local path still to register
    path: Path | None
    storage_uri: str | None


def stage(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        None,
        help="Local files to stage (zip, .gz or text). Default: the newest downloaded file of each "
        "--cycles x --files.",
        show_default=False,
    ),
    cycles: str = typer.Option(
        None, "--cycles", help="Cycles: 2020, 2018,2020 or 2016-2020 (needed without PATHs)."
    ),
    files: str = typer.Option(
        None,
        "--files",
        help="Comma-separated file types (default cm,cn,ccl,indiv,pas2,oth). With PATHs: force the "
        "type instead of reading it from the file name (one type, or one per PATH).",
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=16, help="Load each file as this many parallel batches (connections)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Delete what is staged from these source files and load them again."
    ),
) -> None:
    """COPY raw FEC payloads into staging.* in audited batches (lines = loaded + rejected).

    Files already staged, or with the same sha256 as a staged file, are skipped (the table says why);
    a file interrupted earlier is completed. Bad lines go to ops.rejected_row, never abort the load.
    """
    state: AppState = ctx.obj
    settings = state.settings
    cycle_list = parse_cycles(cycles) if cycles else []
    if not paths and not cycle_list:
        raise ConfigError(
            "Give --cycles (to stage downloaded files) or file PATHs.", hint="fecflow stage --cycles 2020"
        )
    file_list = parse_files(files) if (files or not paths) else []
    args: dict[str, object] = {
        "cycles": cycle_list,
        "files": file_list,
        "paths": [str(p) for p in paths or []],
        "workers": workers,
    }
    if replace:
        args["replace"] = True

    table = Table(
        "file",
        "source file",
        "lines",
        "loaded",
        "rejected",
        "recoded",
        "window",
        "seconds",
        "skipped",
        title="stage",
    )

    def resolve(conn: psycopg.Connection) -> list[_Target]:
        if paths:
            return _local_targets(paths, file_list, cycle_list)
        return _downloaded_targets(conn, settings, cycle_list, file_list)

    results: list[StageResult] = []
    try:
        run_id = _stage_all(
            state, args, resolve, workers=workers, replace=replace, results=results, table=table
        )
    finally:
        if results:
            console.print(table)
    skipped = sum(r.skipped for r in results)
    console.print(
        f"{len(results) - skipped} file(s) staged, {skipped} skipped; "
        f"{sum(r.loaded for r in results if not r.skipped):,} rows loaded, "
        f"{sum(r.rejected for r in results if not r.skipped):,} rejected (run {run_id})."
    )


def _stage_all(
    state: AppState,
    args: dict[str, object],
    resolve: Callable[[psycopg.Connection], list[_Target]],
    *,
    workers: int,
    replace: bool,
    results: list[StageResult],
    table: Table,
) -> int:
    """Stage every target inside one recorded run; append to ``results`` and ``table`` as it goes."""
    settings = state.settings
    with open_run(state, "stage", args) as (conn, run_id):
        targets = resolve(conn)
        url = resolve_database_url(settings)
        with _progress() as track:
            for target in targets:
                source_file_id = target.source_file_id
                if source_file_id is None:
                    assert target.path is not None
                    source_file_id = register_local_file(
                        conn, target.path, file_type=target.spec.file_type, cycle=target.cycle, run_id=run_id
                    )
                payload = _payload(settings, target)
                result = stage_source_file(
                    connection_factory(url),
                    run_id=run_id,
                    source_file_id=source_file_id,
                    spec=target.spec,
                    path=payload,
                    workers=workers,
                    replace=replace,
                    progress=track(target.label, payload.size),
                )
                results.append(result)
                table.add_row(*_row(target.label, result))
    return run_id


def _row(label: str, r: StageResult) -> list[str]:
    window = f"{r.window_start:%Y-%m-%d}..{r.window_end:%Y-%m-%d}" if r.window_start and r.window_end else "-"
    return [
        label,
        str(r.source_file_id),
        f"{r.lines:,}",
        f"{r.loaded:,}",
        f"{r.rejected:,}",
        f"{r.recoded:,}",
        window,
        f"{r.seconds:.1f}",
        r.skip_reason or "",
    ]


def _local_targets(paths: list[Path], file_list: list[str], cycle_list: list[int]) -> list[_Target]:
    if file_list and len(file_list) not in (1, len(paths)):
        raise ConfigError(
            f"--files names {len(file_list)} types for {len(paths)} paths.",
            hint="Give one type for all paths, or one per path in the same order.",
        )
    targets = []
    for index, path in enumerate(paths):
        if not path.is_file():
            raise ConfigError(f"{path} is not a file.")
        file_type: str | None
        if file_list:
            file_type = file_list[0] if len(file_list) == 1 else file_list[index]
        else:
            file_type = guess_file_type(path.name)
            if file_type is None and path.suffix.lower() == ".zip":
                file_type = guess_file_type(open_payload(path).member)
            if file_type is None:
                raise ConfigError(
                    f"Cannot tell the FEC file type of {path.name} from its name.",
                    hint=f"Say it with --files (one of {', '.join(FILES)}).",
                )
        cycle = guess_cycle(path.name) or (cycle_list[0] if len(cycle_list) == 1 else None)
        targets.append(_Target(path.name, get_file_spec(file_type), cycle, None, path, None))
    return targets


def _downloaded_targets(
    conn: psycopg.Connection, settings: Settings, cycle_list: list[int], file_list: list[str]
) -> list[_Target]:
    targets, missing = [], []
    for cycle in cycle_list:
        for file_type in file_list:
            spec = get_file_spec(file_type)
            url = spec.url(settings.bulk_base_url, cycle)
            record = ops.last_usable_source_file(conn, url)
            conn.commit()
            if record is None or record.storage_uri is None:
                missing.append((cycle, file_type))
                continue
            label = spec.zip_for_cycle(cycle)
            targets.append(_Target(label, spec, cycle, record.source_file_id, None, record.storage_uri))
    if missing:
        names = ", ".join(f"{f} {c}" for c, f in missing)
        cycles_text = ",".join(sorted({str(c) for c, _ in missing}))
        files_text = ",".join(dict.fromkeys(f for _, f in missing))
        raise DataError(
            f"Never downloaded: {names}.",
            hint=f"Fetch first: fecflow fetch --cycles {cycles_text} --files {files_text}",
        )
    return targets


def _payload(settings: Settings, target: _Target) -> Payload:
    if target.path is not None:
        return open_payload(target.path, spec=target.spec)
    uri = target.storage_uri
    assert uri is not None
    if uri.startswith(("s3://", "s3a://")):
        bucket = uri.split("://", 1)[1].split("/", 1)[0]
        storage = RawStorage(f"s3://{bucket}", s3_endpoint_url=settings.s3_endpoint_url)
        return open_payload(uri, spec=target.spec, opener=lambda: storage.open(uri), label=uri)
    return open_payload(Path(uri.removeprefix("file://")), spec=target.spec)


@contextmanager
def _progress() -> Iterator[Callable[[str, int], Callable[[int, int], None] | None]]:
    """A factory of per-file progress callbacks: a rich bar on a terminal, nothing otherwise."""
    if not console.is_terminal:
        yield lambda _label, _total: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[lines]:>12,} lines"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:

        def track(label: str, total: int) -> Callable[[int, int], None]:
            task = bar.add_task(label, total=total or None, lines=0)

            def update(lines: int, size: int) -> None:
                bar.update(task, completed=size, lines=lines)

            return update

        yield track


@staging_app.command("export")
def export(
    ctx: typer.Context,
    source_file: int = typer.Option(..., "--source-file", help="ops.source_file id of a staged file."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the rebuilt payload."),
) -> None:
    """Rebuild a staged source file byte for byte from staging, rejects and raw lines.

    Prints the sha256 of the result and whether it matches the recorded payload sha256; exits 1 when
    it does not.
    """
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    url = resolve_database_url(state.settings)
    output = check_output_target(output)
    with connect(url) as conn:
        require_schema(conn)
        conn.commit()
        with atomic_output(output) as partial, partial.open("wb") as out:
            result = export_source_file(conn, source_file, out)
    console.print(f"Wrote {output} ({result.bytes:,} bytes, {result.lines:,} lines).")
    console.print(f"sha256 {result.sha256}")
    expected = result.payload_sha256 or result.source_file_sha256
    if result.truncated_lines:
        console.print(
            f"{result.truncated_lines} rejected line(s) were longer than the kept limit: "
            "their raw bytes are truncated, the export cannot be exact."
        )
    if expected is None:
        console.print("No sha256 was recorded for this payload: nothing to compare with.")
        return
    if result.matches:
        console.print("matches the recorded payload sha256: the staged file is byte-identical.")
        return
    raise DataError(
        f"The export differs from the recorded payload (sha256 {expected}).",
        hint=f"Restage it: fecflow stage --replace ... (source file {source_file}).",
    )
