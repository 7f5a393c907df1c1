"""The score explorer: a read-only ASGI app (FastAPI + Jinja2), HTML pages and a JSON/CSV API.

Pages (no JavaScript): ``/`` home, ``/search``, ``/entity/{type}/{id}`` (``/committee/{id}`` and
``/industry/{code}`` lead there), ``/runs``, and ``/chart/trend/{type}/{id}.svg``. The same data is
under ``/api/...`` as JSON, or CSV with ``?format=csv`` (``&table=NAME`` picks a table of the page);
the OpenAPI schema is ``/api/openapi.json``. Money and scores are JSON strings, exactly as stored.

Safety: one rolled-back transaction per request with a statement timeout (:mod:`.database`), SQL
only through parameterized query functions, autoescaped templates, security headers on every
answer, and errors as friendly pages (never a traceback). ``fecflow serve`` runs it with uvicorn.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import quote

import psycopg
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from fecflow import __version__
from fecflow.pipeline.reports import ENTITY_TYPES, METHOD_DEFAULT, METHOD_VERSIONS, SEARCH_KINDS
from fecflow.web import charts, views
from fecflow.web.database import AnswerCache, ConnectionPool, DataVersion
from fecflow.web.rendered import RenderedCache

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
MAX_TEXT = 200  # longest search text or id accepted
MAX_PAGE = 10_000
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class BadInput(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, default=_json_default, ensure_ascii=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return to_json(value)
    return str(value)


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        # A cell starting with = + - @ is data here, but spreadsheets would run it: prefix a quote.
        writer.writerow(
            [
                "'" + c if c[:1] in ("=", "+", "@") or c.startswith("-=") else c
                for c in map(_cell, (row.get(k) for k in columns))
            ]
        )
    return out.getvalue()


def _money(value: Any) -> str:
    return f"${value:,.2f}" if value is not None else "-"


def _share(value: Any) -> str:
    return f"{value:.1%}" if value is not None else "-"


def entity_url(entity_type: str, entity_id: str) -> str:
    return f"/entity/{quote(entity_type, safe='')}/{quote(str(entity_id), safe='')}"


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    env.filters["share"] = _share
    env.globals["entity_url"] = entity_url
    env.globals["version"] = __version__
    env.globals["side_label"] = {"D": "D", "R": "R", "O": "other party", None: "undetermined"}
    env.globals["chart_interval"] = lambda s, lo, hi: Markup(charts.interval_bar(s, lo, hi))
    env.globals["chart_histogram"] = lambda bins: Markup(charts.histogram(bins, ("employer", "industry")))
    env.globals["chart_trend"] = lambda points: Markup(charts.trend(points))
    env.globals["quote"] = lambda s: quote(str(s), safe="")
    return env


def _clean_text(value: str | None, what: str) -> str:
    """Search text or an id: at most MAX_TEXT characters, no control characters (NUL breaks SQL text)."""
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise BadInput(f"The {what} is {len(text):,} characters long; at most {MAX_TEXT} are accepted.")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise BadInput(f"The {what} contains control characters; type plain text.")
    if "\ufffd" in text:
        raise BadInput(f"The {what} is not valid UTF-8 text.")
    return text


def _check_method(method: str | None) -> str:
    chosen = method or METHOD_DEFAULT
    if chosen not in METHOD_VERSIONS:
        raise BadInput(f"Unknown method {chosen[:40]!r}; use one of: {', '.join(METHOD_VERSIONS)}.")
    return chosen


def _check_entity_type(entity_type: str) -> str:
    if entity_type not in ENTITY_TYPES:
        raise views.NotFound(
            f"Unknown entity type {entity_type[:40]!r}.", hint=f"Use one of: {', '.join(ENTITY_TYPES)}."
        )
    return entity_type


Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
Method = Annotated[str | None, Query(max_length=40, description=f"Score method (default {METHOD_DEFAULT})")]
Format = Annotated[str, Query(pattern="^(json|csv)$", description="json or csv")]
Table = Annotated[str | None, Query(max_length=40, description="CSV: which table of the page")]


def create_app(database_url: str, *, statement_timeout_ms: int = 5000, pool_size: int = 8) -> SecurityHeaders:
    """The explorer over ``database_url`` (the schema must be migrated; ``fecflow serve`` sees to it)."""
    pool = ConnectionPool(database_url, size=pool_size, statement_timeout_ms=statement_timeout_ms)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()

    app = FastAPI(
        title="fecflow score explorer",
        version=__version__,
        description="Read-only partisan leaning scores (0 = all Democratic, 1 = all Republican) with "
        "intervals and provenance. Money and scores are strings, exactly as stored.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads scripts from a CDN: not offline, and the CSP forbids it
        redoc_url=None,
        lifespan=lifespan,
    )
    cache = AnswerCache(size=4096)
    data_version = DataVersion()
    env = _templates()
    app.state.pool = pool

    def wants_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(**context), status_code=status_code)

    def error(request: Request, status: int, message: str, hint: str | None = None) -> Response:
        if wants_api(request):
            body = {"error": message, "status": status} | ({"hint": hint} if hint else {})
            answer: Response = Response(to_json(body), status_code=status, media_type="application/json")
        else:
            answer = render("error.html", status, status=status, message=message, hint=hint)
        answer.headers.update(SECURITY_HEADERS)  # a 500 is answered outside the header middleware
        return answer

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput) -> Response:
        return error(request, 400, exc.message)

    @app.exception_handler(views.NotFound)
    async def _not_found(request: Request, exc: views.NotFound) -> Response:
        return error(request, 404, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors()[:3]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return error(request, 400, "Invalid request: " + "; ".join(parts) + ".")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "No such page.", 405: "Only GET is served here: the explorer is read-only."}.get(
            exc.status_code, str(exc.detail)
        )
        return error(request, exc.status_code, message)

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def _timeout(request: Request, exc: Exception) -> Response:
        return error(request, 503, "The query took too long and was stopped. Try a narrower search.")

    @app.exception_handler(psycopg.OperationalError)
    async def _db_down(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", type(exc).__name__)
        return error(request, 503, "The database is not reachable right now.", "Check `fecflow db status`.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error(request, 500, "Something went wrong on our side; the error was logged.")

    def respond(page: str, data: dict[str, Any], fmt: str, table: str | None) -> Response:
        if fmt == "csv":
            tables = views.CSV_TABLES[page]
            chosen = table or tables[0]
            if chosen not in tables:
                raise BadInput(f"Unknown table {chosen!r} for this page; use one of: {', '.join(tables)}.")
            return Response(
                to_csv(views.csv_table(page, data, chosen)),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{page}-{chosen}.csv"'},
            )
        return Response(to_json(data), media_type="application/json")

    # --- data --------------------------------------------------------------------------------------------
    def answer(
        key: tuple[Any, ...],
        compute: Callable[[psycopg.Connection], dict[str, Any]],
    ) -> dict[str, Any]:
        """A cached answer without touching the database while the data version is fresh; else one
        transaction (rolled back) that reads the version and computes what is missing."""
        version = data_version.fresh()
        if version is not None:
            hit = cache.get((*key, version))
            if hit is not None:
                return cast(dict[str, Any], hit)
        with pool.transaction() as conn:
            return cache.get_or_compute((*key, data_version(conn)), lambda: compute(conn))

    def home_data(method: str) -> dict[str, Any]:
        return answer(("home", method), lambda conn: views.home(conn, method))

    def search_data(q: str | None, kind: str | None, page: int) -> dict[str, Any]:
        text = _clean_text(q, "search text")
        if kind and kind not in SEARCH_KINDS:
            raise BadInput(f"Unknown kind {kind[:40]!r}; use one of: {', '.join(SEARCH_KINDS)}.")
        return answer(
            ("search", text.upper(), kind, page), lambda conn: views.search(conn, text, kind or None, page)
        )

    def entity_data(entity_type: str, entity_id: str, method: str | None, page: int) -> dict[str, Any]:
        _check_entity_type(entity_type)
        ident = _clean_text(entity_id, "id")
        chosen = _check_method(method)
        key = ("entity", entity_type, ident.upper(), chosen, page)
        return answer(key, lambda conn: views.entity(conn, entity_type, ident, chosen, page))

    def runs_data(page: int) -> dict[str, Any]:
        return answer(("runs", page), lambda conn: views.runs(conn, page))

    # --- HTML pages --------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home_page(method: Method = None) -> Response:
        chosen = _check_method(method)
        return render("home.html", data=home_data(chosen), method=chosen)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        q: Annotated[str | None, Query()] = None, kind: str | None = None, page: Page = 1
    ) -> Response:
        data = search_data(q, kind, page)
        return render("search.html", data=data, kinds=SEARCH_KINDS)

    @app.get("/entity/{entity_type}/{entity_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def entity_page(entity_type: str, entity_id: str, method: Method = None, page: Page = 1) -> Response:
        data = entity_data(entity_type, entity_id, method, page)
        return render("entity.html", data=data, method=_check_method(method))

    @app.get("/committee/{committee_id}", include_in_schema=False)
    def committee_page(committee_id: str) -> Response:
        return RedirectResponse(entity_url("committee", _clean_text(committee_id, "id")), status_code=307)

    @app.get("/industry/{naics_code}", include_in_schema=False)
    def industry_page(naics_code: str) -> Response:
        return RedirectResponse(entity_url("industry", _clean_text(naics_code, "id")), status_code=307)

    @app.get("/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(page: Page = 1) -> Response:
        return render("runs.html", data=runs_data(page))

    @app.get("/chart/trend/{entity_type}/{entity_id:path}", include_in_schema=False)
    def trend_chart(entity_type: str, entity_id: str, method: Method = None) -> Response:
        if not entity_id.endswith(".svg"):
            raise views.NotFound("Charts end in .svg.")
        data = entity_data(entity_type, entity_id.removesuffix(".svg"), method, 1)
        return Response(charts.trend(data["trend"]), media_type="image/svg+xml")

    @app.get("/static/style.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response((HERE / "static" / "style.css").read_text(), media_type="text/css")

    # --- JSON / CSV API ----------------------------------------------------------------------------------
    @app.get("/api/home", summary="Freshness, score distribution and the entities with most evidence")
    def api_home(method: Method = None, format: Format = "json", table: Table = None) -> Response:
        return respond("home", home_data(_check_method(method)), format, table)

    @app.get(
        "/api/search",
        summary="Employers, committees, candidates, industries by id, name prefix or similar name",
    )
    def api_search(
        q: Annotated[str, Query(description="Text to search (at most 200 characters)")],
        kind: Annotated[str | None, Query(description="employer, committee, candidate or industry")] = None,
        page: Page = 1,
        format: Format = "json",
        table: Table = None,
    ) -> Response:
        return respond("search", search_data(q, kind, page), format, table)

    @app.get(
        "/api/entity/{entity_type}/{entity_id:path}",
        summary="An entity's score, interval, support, components, recipients, trend and history",
    )
    def api_entity(
        entity_type: str,
        entity_id: str,
        method: Method = None,
        page: Page = 1,
        format: Format = "json",
        table: Table = None,
    ) -> Response:
        return respond("entity", entity_data(entity_type, entity_id, method, page), format, table)

    @app.get("/api/runs", summary="Recent runs, their validation results and rejected-row counts")
    def api_runs(page: Page = 1, format: Format = "json", table: Table = None) -> Response:
        return respond("runs", runs_data(page), format, table)

    return SecurityHeaders(RenderedCache(app, data_version))


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every answer (cheaper than BaseHTTPMiddleware)."""

    def __init__(self, app: RenderedCache) -> None:
        self.app = app
        self.state = app.state
        self._headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self._headers if k not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
