"""``fecflow serve``: the score explorer on 127.0.0.1 (read-only web pages and a JSON/CSV API).

Registered in ``cli/app.py`` with ``app.command("serve")(serve_commands.serve)``.
"""

from __future__ import annotations

import typer

from fecflow.cli.context import AppState, ready_database_url


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port to listen on."),
    migrate: bool = typer.Option(
        False, "--migrate", help="Apply pending migrations to an external FECFLOW_DATABASE_URL first."
    ),
    statement_timeout_ms: int = typer.Option(
        5000, "--statement-timeout-ms", min=100, max=600_000, help="Longest query a page may run."
    ),
) -> None:
    """Serve the score explorer: search, entity pages with intervals and trends, runs; JSON and CSV.

    Open http://127.0.0.1:8000/ (after `make demo`). The API's schema is /api/openapi.json.
    """
    import uvicorn

    from fecflow.web.app import create_app

    state: AppState = ctx.obj
    state.setup_logging(json_log=False)
    url = ready_database_url(state, migrate=migrate)
    typer.echo(f"fecflow explorer on http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(
        create_app(url, statement_timeout_ms=statement_timeout_ms),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
