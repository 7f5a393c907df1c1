"""The ``fecflow`` command. Only this layer prints and catches :class:`FecflowError`."""

from __future__ import annotations

import sys

import psycopg
import typer
from rich.console import Console
from rich.markup import escape

from fecflow import __version__
from fecflow.cli import db as db_commands
from fecflow.cli import efilings as efiling_commands
from fecflow.cli import fetch as fetch_commands
from fecflow.cli import normalize as normalize_commands
from fecflow.cli import pipeline as pipeline_commands
from fecflow.cli import prune as prune_commands
from fecflow.cli import report as report_commands
from fecflow.cli import runs as runs_commands
from fecflow.cli import scores as scores_commands
from fecflow.cli import serve as serve_commands
from fecflow.cli import stage as stage_commands
from fecflow.cli import validate as validate_commands
from fecflow.cli.context import AppState
from fecflow.errors import DatabaseError, FecflowError
from fecflow.log import redact_secrets

app = typer.Typer(
    name="fecflow",
    help="FEC campaign-finance data into audited PostgreSQL tables and 0-1 partisan leaning scores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(db_commands.app, name="db")
app.command("fetch")(fetch_commands.fetch)
app.command("fetch-api")(fetch_commands.fetch_api)
app.command("fetch-efilings")(efiling_commands.fetch_efilings)
app.command("stage")(stage_commands.stage)
app.add_typer(stage_commands.staging_app, name="staging")
stage_commands.staging_app.command("prune")(prune_commands.prune)
stage_commands.staging_app.command("export-efiling")(efiling_commands.export_efiling)
app.add_typer(runs_commands.app, name="runs")
app.command("backfill")(pipeline_commands.backfill)
app.command("ingest-daily")(pipeline_commands.ingest_daily)
app.command("replay-range")(pipeline_commands.replay_range)
runs_commands.app.command("resume")(pipeline_commands.resume_run)
app.add_typer(report_commands.app, name="report")
app.add_typer(scores_commands.app, name="scores")
app.command("explain")(scores_commands.explain)
app.command("validate")(validate_commands.validate)
app.command("normalize")(normalize_commands.normalize)
app.command("serve")(serve_commands.serve)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"fecflow {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level on stdout."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """FEC campaign-finance data into audited PostgreSQL tables and 0-1 partisan leaning scores.

    Configuration comes from FECFLOW_* environment variables or a .env file (see .env.example).
    Without FECFLOW_DATABASE_URL, an embedded PostgreSQL is started under FECFLOW_HOME/pg.
    """
    ctx.obj = AppState(verbose=verbose)


def main() -> None:
    """Console-script entry point: run the app, print FecflowErrors as Error/Hint, set exit codes."""
    try:
        app()  # standalone: typer handles usage errors and exits itself
    except FecflowError as exc:
        err_console.print(f"[bold red]Error:[/] {escape(redact_secrets(exc.message))}", markup=True)
        if exc.hint:
            err_console.print(f"[bold]Hint:[/] {escape(redact_secrets(exc.hint))}", markup=True)
        sys.exit(exc.exit_code)
    except psycopg.OperationalError as exc:  # the server went away mid-command (killed, restarted)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        err_console.print(f"[bold red]Error:[/] {escape(redact_secrets(f'Lost the database connection: {first}'))}")
        err_console.print(
            "[bold]Hint:[/] Check the server (`fecflow db status`; FECFLOW_HOME/pg/server.log for the embedded "
            "one), then resume the run: `fecflow runs` lists it, `fecflow runs resume RUN_ID` finishes it."
        )
        sys.exit(DatabaseError.exit_code)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
