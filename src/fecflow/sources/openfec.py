"""OpenFEC API client: page-numbered and keyset pagination, resumable cursors, rate-limit manners.

``/candidates/`` and ``/committees/`` are page-numbered (``page``, ``per_page``; stop at
``pagination.pages`` or an empty page). ``/schedules/schedule_a/`` is keyset-paginated: every key of
``pagination.last_indexes`` is sent back as a query parameter; when a pass returns an empty page, a
second pass with ``sort_null_only=true`` fetches the rows whose sort key is NULL; ``count`` is an
estimate and is never used to stop.

:meth:`OpenFecClient.iter_pages` yields one :class:`Page` per request. Each page carries the
:class:`Cursor` for the *next* request; persisting ``page.next_cursor`` together with the page and
later calling ``iter_pages(..., cursor=that)`` continues without gaps or duplicates. Empty pages are
yielded too (they move the cursor to the null pass or mark it done).

The API key is sent as the ``api_key`` query parameter and is kept out of pages, cursors, exception
messages and log lines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from fecflow.config import Settings
from fecflow.errors import ApiKeyError, ConfigError, SourceError, TransientSourceError
from fecflow.sources.http_errors import error_for_status, protect_http_logs, translate_http_error
from fecflow.sources.retry import RetryPolicy, call_with_retries

logger = logging.getLogger(__name__)

DEMO_KEY = "DEMO_KEY"
MAX_PER_PAGE = 100
Purpose = Literal["backfill", "incremental", "adhoc"]
Paging = Literal["page", "keyset"]
ParamValue = str | list[str]

# Query parameters the client manages itself; callers pass filters only.
_API_KEY_CODE = re.compile(r"API_KEY_[A-Z]+(?:_[A-Z]+)*")
_MANAGED_PARAMS = {"api_key", "page", "per_page", "sort_null_only", "last_index"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    paging: Paging


ENDPOINTS: dict[str, Endpoint] = {
    "candidates": Endpoint("candidates", "/candidates/", "page"),
    "committees": Endpoint("committees", "/committees/", "page"),
    "schedule_a": Endpoint("schedule_a", "/schedules/schedule_a/", "keyset"),
}


@dataclass(frozen=True)
class Cursor:
    """Where the next request of a pull starts. Round-trips through JSON (:meth:`to_json`)."""

    endpoint: str
    pass_number: int = 1  # keyset: 1 = main pass, 2 = rows whose sort key is NULL (sort_null_only)
    last_indexes: dict[str, Any] | None = None  # keyset: pagination.last_indexes of the last page
    page: int = 1  # page-numbered: the next page to request
    done: bool = False
    params_digest: str | None = None  # the filters this cursor belongs to

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cursor:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown or "endpoint" not in data:
            raise SourceError(f"Not an OpenFEC cursor: unexpected keys {sorted(unknown)}" if unknown
                              else "Not an OpenFEC cursor: no endpoint")
        last = data.get("last_indexes")
        return cls(
            endpoint=str(data["endpoint"]),
            pass_number=int(data.get("pass_number", 1)),
            last_indexes=dict(last) if last else None,
            page=int(data.get("page", 1)),
            done=bool(data.get("done", False)),
            params_digest=data.get("params_digest"),
        )

    @classmethod
    def from_json(cls, text: str) -> Cursor:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SourceError(f"Invalid cursor JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise SourceError("Invalid cursor JSON: not an object")
        return cls.from_dict(data)


@dataclass(frozen=True)
class Page:
    """One API response. ``params``/``url`` are the request as sent, without the API key."""

    endpoint: str
    params: dict[str, ParamValue]
    url: str
    data: dict[str, Any]  # the raw JSON body
    results: list[dict[str, Any]]
    cursor: Cursor  # the position this page was requested at
    next_cursor: Cursor  # persist this with the page to resume after it
    rate_limit_remaining: int | None = field(default=None, compare=False)

    @property
    def pass_number(self) -> int:
        return self.cursor.pass_number


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def normalize_params(params: Mapping[str, Any] | None) -> dict[str, ParamValue]:
    """Filters as query strings: None dropped, booleans ``true``/``false``, dates ISO, lists kept."""
    out: dict[str, ParamValue] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            items = [_format_value(v) for v in value if v is not None]
            if items:
                out[key] = sorted(items) if isinstance(value, set | frozenset) else items
        else:
            out[key] = _format_value(value)
    return out


def params_digest(endpoint: str, params: Mapping[str, ParamValue]) -> str:
    text = json.dumps({"endpoint": endpoint, "params": params}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class OpenFecClient:
    """A small client for the OpenFEC endpoints fecflow pulls. Give it the run's httpx client."""

    def __init__(
        self,
        http_client: httpx.Client,
        base_url: str,
        api_key: SecretStr | None,
        *,
        purpose: Purpose = "incremental",
        min_remaining: int = 10,
        low_quota_pause: float = 60.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        key = api_key.get_secret_value().strip() if api_key is not None else ""
        if not key:
            raise ApiKeyError("No OpenFEC API key is configured.")
        if key == DEMO_KEY and purpose == "backfill":
            raise ApiKeyError(
                "DEMO_KEY is not allowed for a backfill: its rate limit is far too low for a full pull.",
                hint="Get a personal key at https://api.data.gov/signup/ and set FECFLOW_OPENFEC_API_KEY.",
            )
        self._http = http_client
        self._base_url = base_url.rstrip("/")
        self._api_key = SecretStr(key)
        self.purpose = purpose
        self.min_remaining = min_remaining
        self.low_quota_pause = low_quota_pause
        self._policy = policy or RetryPolicy()
        self._sleep = sleep or self._policy.sleep
        if sleep is not None:
            self._policy = dataclasses.replace(self._policy, sleep=sleep)
        self.rate_limit_remaining: int | None = None
        self.requests_made = 0
        protect_http_logs()

    @classmethod
    def from_settings(
        cls,
        http_client: httpx.Client,
        settings: Settings,
        *,
        purpose: Purpose = "incremental",
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> OpenFecClient:
        return cls(
            http_client,
            settings.openfec_base_url,
            settings.openfec_api_key,
            purpose=purpose,
            policy=RetryPolicy.from_settings(settings, sleep=sleep),
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"OpenFecClient({self._base_url!r}, purpose={self.purpose!r})"

    # --- one request ----------------------------------------------------------------------------------
    def _respect_rate_limit(self) -> None:
        remaining = self.rate_limit_remaining
        if remaining is not None and remaining < self.min_remaining:
            logger.warning(
                "OpenFEC rate limit nearly used up (%d requests left); pausing %.0fs",
                remaining, self.low_quota_pause,
            )
            self._sleep(self.low_quota_pause)
            self.rate_limit_remaining = None  # unknown until the next response says

    def _note_rate_limit(self, headers: httpx.Headers) -> None:
        value = headers.get("x-ratelimit-remaining")
        if value is not None and value.strip().lstrip("-").isdigit():
            self.rate_limit_remaining = int(value)

    def _fetch_attempt(self, url: str, params: dict[str, ParamValue], _attempt: int) -> dict[str, Any]:
        return self._request_once(url, params)

    def _request_once(self, url: str, params: dict[str, ParamValue]) -> dict[str, Any]:
        self._respect_rate_limit()
        query: list[tuple[str, str | int | float | bool | None]] = []
        for key, value in params.items():
            if isinstance(value, list):
                query.extend((key, v) for v in value)
            else:
                query.append((key, value))
        query.append(("api_key", self._api_key.get_secret_value()))
        display = f"{url}?{urlencode(params, doseq=True)}"
        self.requests_made += 1
        try:
            resp = self._http.get(url, params=query, timeout=self._policy.timeout)
        except httpx.HTTPError as exc:
            raise translate_http_error(exc, display) from exc
        except httpx.InvalidURL as exc:
            raise translate_http_error(exc, display) from exc
        self._note_rate_limit(resp.headers)
        if resp.status_code != 200:
            problem = _api_key_problem(resp) if resp.status_code == 403 else None
            if problem:
                raise ApiKeyError(f"OpenFEC refused the API key (HTTP 403, {problem}).")
            raise error_for_status(resp.status_code, display, resp.headers)
        try:
            data = resp.json()
        except ValueError as exc:
            raise TransientSourceError(f"OpenFEC answered {display} with a body that is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise TransientSourceError(f"OpenFEC answered {display} without a results list")
        return data

    # --- pagination -----------------------------------------------------------------------------------
    def iter_pages(
        self,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        cursor: Cursor | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
        null_pass: bool = True,
    ) -> Iterator[Page]:
        """Yield every page of ``endpoint`` with the given filters, starting at ``cursor``.

        Arguments are validated at once (not at the first ``next()``); requests happen while iterating.
        """
        ep = ENDPOINTS.get(endpoint)
        if ep is None:
            raise ConfigError(
                f"Unknown OpenFEC endpoint {endpoint!r}.", hint=f"Known endpoints: {', '.join(ENDPOINTS)}."
            )
        filters = normalize_params(params)
        managed = sorted(
            k for k in filters if k in _MANAGED_PARAMS or (ep.paging == "keyset" and k.startswith("last_"))
        )
        if managed:
            raise ConfigError(
                f"Parameters {managed} are managed by the OpenFEC client; pass filters only "
                "(the API key goes to OpenFecClient, paging goes through the cursor)."
            )
        if per_page < 1:
            raise ConfigError(f"per_page must be >= 1, got {per_page}")
        if per_page > MAX_PER_PAGE:
            logger.warning("per_page %d is above the OpenFEC maximum; using %d", per_page, MAX_PER_PAGE)
        filters["per_page"] = str(min(per_page, MAX_PER_PAGE))
        digest = params_digest(endpoint, filters)

        if cursor is None:
            cursor = Cursor(endpoint=endpoint, params_digest=digest)
        elif cursor.endpoint != endpoint or (cursor.params_digest not in (None, digest)):
            raise SourceError(
                f"The cursor belongs to another pull ({cursor.endpoint}, params {cursor.params_digest}); "
                f"this one is {endpoint} with params {digest}.",
                hint="Resume with the same endpoint and filters, or start without a cursor.",
            )

        return self._iter_pages(ep, filters, cursor, null_pass=null_pass)

    def _iter_pages(
        self, ep: Endpoint, filters: dict[str, ParamValue], cursor: Cursor, *, null_pass: bool
    ) -> Iterator[Page]:
        endpoint = ep.name
        url = f"{self._base_url}{ep.path}"
        pages = rows = 0
        started = time.monotonic()
        while not cursor.done:
            request_params = dict(filters)
            if ep.paging == "page":
                request_params["page"] = str(cursor.page)
            else:
                if cursor.pass_number == 2:
                    request_params["sort_null_only"] = "true"
                for key, value in (cursor.last_indexes or {}).items():
                    if value is not None:  # a NULL sort value is expressed by sort_null_only
                        request_params[key] = _format_value(value)
            data, _attempts = call_with_retries(
                functools.partial(self._fetch_attempt, url, request_params), self._policy, what=f"GET {ep.path}"
            )
            results: list[dict[str, Any]] = data["results"]
            next_cursor = (
                self._next_page_cursor(cursor, data, results)
                if ep.paging == "page"
                else self._next_keyset_cursor(cursor, data, results, null_pass=null_pass)
            )
            pages += 1
            rows += len(results)
            logger.debug(
                "OpenFEC %s pass %d: %d rows (cursor %s)", endpoint, cursor.pass_number, len(results),
                next_cursor.to_json(),
            )
            yield Page(
                endpoint=endpoint,
                params=request_params,
                url=f"{url}?{urlencode(request_params, doseq=True)}",
                data=data,
                results=results,
                cursor=cursor,
                next_cursor=next_cursor,
                rate_limit_remaining=self.rate_limit_remaining,
            )
            cursor = next_cursor
        logger.info(
            "OpenFEC %s: %d pages, %d rows in %.1fs", endpoint, pages, rows, time.monotonic() - started
        )

    @staticmethod
    def _next_page_cursor(cursor: Cursor, data: dict[str, Any], results: list[dict[str, Any]]) -> Cursor:
        pagination = data.get("pagination") or {}
        total_pages = pagination.get("pages") if isinstance(pagination, dict) else None
        done = not results or (isinstance(total_pages, int) and cursor.page >= total_pages)
        return dataclasses.replace(cursor, page=cursor.page + 1, done=done)

    @staticmethod
    def _next_keyset_cursor(
        cursor: Cursor, data: dict[str, Any], results: list[dict[str, Any]], *, null_pass: bool
    ) -> Cursor:
        if not results:
            if cursor.pass_number == 1 and null_pass:
                return dataclasses.replace(cursor, pass_number=2, last_indexes=None)
            return dataclasses.replace(cursor, done=True)
        pagination = data.get("pagination") or {}
        last = pagination.get("last_indexes") if isinstance(pagination, dict) else None
        if not isinstance(last, dict) or not last:
            raise SourceError(
                f"OpenFEC {cursor.endpoint} page has rows but no pagination.last_indexes; "
                "cannot continue without a gap."
            )
        if last == cursor.last_indexes:
            raise SourceError(f"OpenFEC {cursor.endpoint} returned the same last_indexes twice: {last}")
        return dataclasses.replace(cursor, last_indexes=dict(last))

    # --- endpoints ------------------------------------------------------------------------------------
    def iter_candidates(
        self, *, cursor: Cursor | None = None, per_page: int = MAX_PER_PAGE, **filters: Any
    ) -> Iterator[Page]:
        """``/candidates/`` (filters e.g. cycle, party, office, state, min_first_file_date)."""
        return self.iter_pages("candidates", filters, cursor, per_page=per_page)

    def iter_committees(
        self, *, cursor: Cursor | None = None, per_page: int = MAX_PER_PAGE, **filters: Any
    ) -> Iterator[Page]:
        """``/committees/`` (filters e.g. cycle, committee_type, designation, state, committee_id)."""
        return self.iter_pages("committees", filters, cursor, per_page=per_page)

    def iter_schedule_a(
        self,
        *,
        committee_id: str | list[str] | None = None,
        two_year_transaction_period: int | list[int] | None = None,
        min_date: dt.date | str | None = None,
        max_date: dt.date | str | None = None,
        min_load_date: dt.date | str | None = None,
        max_load_date: dt.date | str | None = None,
        sort: str | None = None,
        cursor: Cursor | None = None,
        per_page: int = MAX_PER_PAGE,
        null_pass: bool = True,
        **filters: Any,
    ) -> Iterator[Page]:
        """``/schedules/schedule_a/`` itemized receipts, keyset-paginated (plus the NULL-sort pass)."""
        params = {
            "committee_id": committee_id,
            "two_year_transaction_period": two_year_transaction_period,
            "min_date": min_date,
            "max_date": max_date,
            "min_load_date": min_load_date,
            "max_load_date": max_load_date,
            "sort": sort,
            **filters,
        }
        return self.iter_pages("schedule_a", params, cursor, per_page=per_page, null_pass=null_pass)


def _api_key_problem(resp: httpx.Response) -> str | None:
    """api.data.gov's error code (API_KEY_MISSING / API_KEY_INVALID / ...) of a 403, if any."""
    try:
        body = resp.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    # Only the bare code such as API_KEY_INVALID: a body may echo the key back, and its text must not
    # reach an error message, a log or ops.ingest_run.error.
    found = _API_KEY_CODE.match(code) if isinstance(code, str) else None
    return found.group(0) if found else None
