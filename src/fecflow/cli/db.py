"""``fecflow db``: the database server and schema."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from fecflow.cli.context import AppState
from fecflow.config import redact_url
from fecflow.db import migrate
from fecflow.db.embedded import default_bin_dir
from fecflow.db.engine import connect, embedded_server, libpq_url, resolve_database_url
from fecflow.errors import ConfigError
from fecflow.pipeline.reports import database_summary

app = typer.Typer(
    help="Start, stop and inspect the database; apply migrations.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
console = Console(highlight=False)


def _state(ctx: typer.Context) -> AppState:
    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    return state


@app.command("start")
def start(ctx: typer.Context) -> None:
    """Start the embedded PostgreSQL (initialising it on first use); reuse it if it runs."""
    settings = _state(ctx).settings
    if settings.database_url is not None:
        console.print("FECFLOW_DATABASE_URL is set: using that server, nothing to start.")
        return
    status = embedded_server(settings).start()
    console.print(
        f"Embedded PostgreSQL {status.version} running on 127.0.0.1:{status.port} (pid {status.pid})."
    )
    console.print(f"Data directory: {status.data_dir}")


@app.command("stop")
def stop(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL server."""
    settings = _state(ctx).settings
    if settings.database_url is not None:
        console.print("FECFLOW_DATABASE_URL is set: fecflow does not manage that server.")
        return
    was_running = embedded_server(settings).stop()
    console.print("Stopped." if was_running else "Not running.")


@app.command("url")
def url(ctx: typer.Context) -> None:
    """Print the database URL (starting the embedded server if needed); passwords are hidden."""
    settings = _state(ctx).settings
    typer.echo(redact_url(resolve_database_url(settings)))


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("head", help="Target Alembic revision."),
) -> None:
    """Apply the schema migrations (Alembic) up to REVISION (default: head)."""
    settings = _state(ctx).settings
    db_url = resolve_database_url(settings, migrate=False)
    before = migrate.current_revision(db_url)
    migrate.upgrade(db_url, revision)
    after = migrate.current_revision(db_url)
    console.print(f"Schema at revision {after} (was {before or 'empty'}).")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show the server, the schema revision and row counts of the main tables.

    Starts the embedded server if it is not running (recovering from a killed server).
    """
    settings = _state(ctx).settings
    db_url = resolve_database_url(settings, migrate=False)
    table = Table(title="fecflow database", show_header=False)
    if settings.database_url is None:
        st = embedded_server(settings).status()
        table.add_row("server", f"embedded PostgreSQL {st.version}, pid {st.pid}, 127.0.0.1:{st.port}")
        table.add_row("data directory", str(st.data_dir))
    with connect(db_url) as conn:
        summary = database_summary(conn)
    table.add_row("url", redact_url(db_url))
    table.add_row("server version", summary.server_version)
    head = migrate.head_revision()
    rev = summary.revision or "none (run `fecflow db upgrade`)"
    table.add_row("schema revision", f"{rev} (code head {head})")
    for name, count in summary.table_counts.items():
        table.add_row(name, f"{count:,} rows")
    console.print(table)


@app.command(
    "psql",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def psql(ctx: typer.Context) -> None:
    """Open psql on the fecflow database; extra arguments go to psql (e.g. -c "SELECT 1").

    Uses the psql shipped with the embedded PostgreSQL, or the one on PATH for an external server.
    """
    settings = _state(ctx).settings
    db_url = resolve_database_url(settings)
    candidates = [settings.pg_bin_dir / "psql"] if settings.pg_bin_dir else []
    candidates.append(default_bin_dir() / "psql")
    on_path = shutil.which("psql")
    if on_path:
        candidates.append(Path(on_path))
    binary = next((c for c in candidates if c.exists()), None)
    if binary is None:
        raise ConfigError("No psql binary found.", hint="Install the PostgreSQL client (psql).")
    completed = subprocess.run([str(binary), libpq_url(db_url), *ctx.args], check=False)
    raise typer.Exit(completed.returncode)
