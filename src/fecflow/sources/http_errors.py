"""The one boundary to httpx: its exceptions and HTTP statuses mapped into the fecflow error tree.

:class:`TransientSourceError` and :class:`RateLimited` are retryable (see :mod:`fecflow.sources.retry`),
:class:`HttpStatusError` and a plain :class:`SourceError` are not. URLs pass through
:func:`fecflow.config.redact_url` and messages through :func:`scrub_secrets` before they reach an error.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from email.utils import parsedate_to_datetime

import httpx

from fecflow.config import redact_url
from fecflow.errors import HttpStatusError, RateLimited, SourceError, TransientSourceError

_SECRET_QUERY = re.compile(r"(?i)\b(api_key|apikey|password|token)=[^&\s'\"<>]*")


def scrub_secrets(text: str) -> str:
    """Hide ``api_key=...`` (and similar) values inside free text, e.g. a third-party error message."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", text)


class _SecretScrubbingFilter(logging.Filter):
    """Logger-level filter for ``httpx``/``httpcore``, which log request URLs (with ``api_key``) at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub_secrets(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_SCRUBBER = _SecretScrubbingFilter()


def protect_http_logs() -> None:
    """Make sure the loggers of httpx/httpcore never emit an ``api_key`` value (idempotent).

    httpx logs every request URL at INFO. The CLI lowers these loggers to WARNING and redacts known
    secrets on its handlers; this filter also covers any other logging setup (tests, notebooks).
    """
    for name in ("httpx", "httpcore"):
        lg = logging.getLogger(name)
        if _SCRUBBER not in lg.filters:
            lg.addFilter(_SCRUBBER)


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date. None when absent/invalid."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(tz=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def translate_http_error(exc: httpx.HTTPError | httpx.InvalidURL, url: str) -> SourceError:
    """Map an httpx exception to the fecflow error tree (retryable or not). Never leaks secrets."""
    where = redact_url(url)
    detail = scrub_secrets(str(exc)) or type(exc).__name__
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return TransientSourceError(f"Timed out ({kind}) requesting {where}: {detail}")
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError):
        return TransientSourceError(f"Connection problem ({kind}) requesting {where}: {detail}")
    if isinstance(exc, httpx.DecodingError):
        return TransientSourceError(f"Could not decode the response from {where}: {detail}")
    return SourceError(
        f"Request to {where} failed ({kind}): {detail}",
        hint="Check the URL and base-URL settings (FECFLOW_BULK_BASE_URL, FECFLOW_OPENFEC_BASE_URL).",
    )


def error_for_status(status: int, url: str, headers: httpx.Headers) -> SourceError:
    """The error for a non-success HTTP status: 429 → RateLimited, 408/5xx → transient, else terminal."""
    where = redact_url(url)
    if status == 429:
        retry_after = parse_retry_after(headers.get("retry-after"))
        return RateLimited(f"HTTP 429 Too Many Requests from {where}", retry_after=retry_after)
    if status == 408 or 500 <= status < 600:
        return TransientSourceError(f"HTTP {status} from {where}")
    hint = None
    if status == 404:
        hint = "The file or endpoint does not exist (yet); check the cycle, file type and base URL."
    elif status in (401, 403):
        hint = "Access was refused; for OpenFEC check FECFLOW_OPENFEC_API_KEY."
    return HttpStatusError(f"HTTP {status} from {where}", status=status, hint=hint)


