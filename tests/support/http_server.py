"""A real HTTP server on 127.0.0.1 that plays the FEC website and the OpenFEC API for tests.

* Static files under ``root`` in the FEC layout (``/files/bulk-downloads/2020/cm20.zip``,
  ``/files/bulk-downloads/data_dictionaries/...``) with ETag, Last-Modified, ``Accept-Ranges: bytes``,
  ``Range`` → 206 (and ``If-Range``), conditional GET → 304.
* Scripted faults, per path, consumed one per request: an error status, 429 with Retry-After, a body
  cut mid-way (full Content-Length, half the body, connection closed), a wrong Content-Length, a
  truncated file, a server ignoring Range, a wrong Content-Range.
* Recorded OpenFEC pages under ``/v1/``: ``/candidates/`` and ``/committees/`` page-numbered from the
  recorded rows, ``/schedules/schedule_a/`` keyset-paginated over the recorded rows (plus the
  ``sort_null_only`` pass), with ``X-RateLimit-*`` headers and api.data.gov style 403s. The server
  checks that every ``pagination.last_indexes`` key it handed out comes back and records violations.
* Every request is recorded (method, path, query, headers) so tests can assert on them.

The schedule_a rows are the real recorded rows of ``schedules__schedule_a.json``. The recording has
no row with a NULL ``contribution_receipt_date``; the two rows that carry FEC's ``1900-01-01``
placeholder date are served with ``null`` instead, so that the NULL-sort second pass has real rows
to return (see tests/fixtures/PROVENANCE.md).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

NULL_DATE_PLACEHOLDER = "1900-01-01"
SCHEDULE_A_PATH = "/v1/schedules/schedule_a/"
# The API's pagination.count is an estimate; the fake one is deliberately too low so that a client
# stopping on count would lose rows.
COUNT_UNDERESTIMATE = 5


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    raw: str  # path and query as received

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour for one request. Build with the class methods."""

    kind: str
    status: int = 500
    retry_after: str | None = None
    fraction: float = 0.5
    delta: int = 0

    @classmethod
    def error(cls, status: int = 500) -> Fault:
        return cls("status", status=status)

    @classmethod
    def rate_limited(cls, retry_after: str | None = "1") -> Fault:
        return cls("rate_limit", status=429, retry_after=retry_after)

    @classmethod
    def cut_body(cls, fraction: float = 0.5) -> Fault:
        """Send the full Content-Length but only ``fraction`` of the body, then close."""
        return cls("cut_body", fraction=fraction)

    @classmethod
    def wrong_length(cls, delta: int) -> Fault:
        """Declare Content-Length = real length + delta, send the real body, close."""
        return cls("wrong_length", delta=delta)

    @classmethod
    def truncated(cls, fraction: float = 0.5) -> Fault:
        """Serve only the first ``fraction`` of the file as if it were the whole file."""
        return cls("truncated", fraction=fraction)

    @classmethod
    def ignore_range(cls) -> Fault:
        """Answer a Range request with 200 and the full body."""
        return cls("ignore_range")

    @classmethod
    def drip(cls, chunk: int = 256, interval: float = 0.2) -> Fault:
        """Send the body ``chunk`` bytes every ``interval`` seconds (fast enough for any read timeout)."""
        return cls("drip", delta=chunk, fraction=interval)

    @classmethod
    def bad_content_range(cls) -> Fault:
        """Answer a Range request with a 206 whose Content-Range starts at byte 0."""
        return cls("bad_content_range")


def etag_of(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


@dataclass
class _ApiState:
    candidates: list[dict[str, Any]]
    committees: list[dict[str, Any]]
    schedule_a: list[dict[str, Any]]
    rate_limit: int = 1000
    rate_remaining: int = 1000
    invalid_keys: set[str] = field(default_factory=set)
    # keys refused with a body that echoes them back (a hostile or careless upstream)
    echoing_keys: set[str] = field(default_factory=set)
    # every last_indexes block handed out, by its last_index value, to check it comes back whole
    issued: dict[str, dict[str, Any]] = field(default_factory=dict)


class FecHttpServer:
    """Start with ``with FecHttpServer(root, api_fixtures) as server:`` (or start()/stop())."""

    def __init__(self, root: Path, api_fixtures: Path | None = None, *, ranges: bool = True) -> None:
        self.root = Path(root)
        self.ranges = ranges
        self.requests: list[RecordedRequest] = []
        self.protocol_errors: list[str] = []
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.api = _ApiState([], [], [])
        if api_fixtures is not None:
            self.api = _load_api_state(Path(api_fixtures))
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> FecHttpServer:
        handler = type("BoundHandler", (_Handler,), {"fec": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fec-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FecHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bulk_base_url(self) -> str:
        return f"{self.base_url}/files/bulk-downloads"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/v1"

    # --- scripting and inspection --------------------------------------------------------------------
    def script(self, path: str, *faults: Fault) -> None:
        """Queue faults for ``path``: the next requests to it get them, one each, in order."""
        with self._lock:
            self._faults[path].extend(faults)

    def pending_faults(self, path: str) -> int:
        with self._lock:
            return len(self._faults[path])

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(path)
            return queue.popleft() if queue else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def file_path(self, url_path: str) -> Path:
        return self.root / url_path.lstrip("/")


def _load_api_state(folder: Path) -> _ApiState:
    def rows(name: str) -> list[dict[str, Any]]:
        path = folder / name
        if not path.exists():
            return []
        return list(json.loads(path.read_text(encoding="utf-8"))["results"])

    schedule_a = rows("schedules__schedule_a.json")
    for row in schedule_a:
        if row.get("contribution_receipt_date") == NULL_DATE_PLACEHOLDER:
            row["contribution_receipt_date"] = None
    return _ApiState(rows("candidates.json"), rows("committees.json"), schedule_a)


def _http_date_to_ts(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fec: FecHttpServer  # set on the bound subclass

    def log_message(self, format: str, *args: Any) -> None:
        return

    # --- plumbing ------------------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        declared_length: int | None = None,
        send_bytes: int | None = None,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if declared_length is None else declared_length))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            payload = body if send_bytes is None else body[:send_bytes]
            try:
                self.wfile.write(payload)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    def _drip(self, status: int, body: bytes, headers: dict[str, str], *, chunk: int, interval: float) -> None:
        """The whole Content-Length, a few bytes at a time, until done or the client hangs up."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        try:
            for start in range(0, len(body), chunk):
                self.wfile.write(body[start : start + chunk])
                self.wfile.flush()
                time.sleep(interval)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        merged = {"Content-Type": "application/json"}
        merged.update(headers or {})
        self._send(status, json.dumps(payload).encode(), merged)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            raw=self.path,
        )
        self.fec._record(request)
        fault = self.fec._next_fault(parts.path)
        if fault is not None and fault.kind == "status":
            self._send(fault.status, f"scripted {fault.status}\n".encode(), {"Content-Type": "text/plain"})
            return
        if fault is not None and fault.kind == "rate_limit":
            headers = {"Content-Type": "application/json"}
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            body = json.dumps({"error": {"code": "OVER_RATE_LIMIT", "message": "slow down"}}).encode()
            self._send(429, body, headers)
            return
        if parts.path.startswith("/v1/"):
            self._serve_api(request)
        else:
            self._serve_file(request, fault)

    # --- static files --------------------------------------------------------------------------------
    def _serve_file(self, request: RecordedRequest, fault: Fault | None) -> None:
        root = self.fec.root.resolve()
        target = (root / request.path.lstrip("/")).resolve()
        if root not in target.parents or not target.is_file():
            self._send(404, b"not found\n", {"Content-Type": "text/plain"})
            return
        data = target.read_bytes()
        mtime = int(target.stat().st_mtime)
        etag = etag_of(data)
        last_modified = formatdate(mtime, usegmt=True)
        headers = {
            "Content-Type": "application/zip" if target.suffix == ".zip" else "text/csv",
            "ETag": etag,
            "Last-Modified": last_modified,
        }
        if self.fec.ranges:
            headers["Accept-Ranges"] = "bytes"

        inm = request.headers.get("if-none-match")
        ims = request.headers.get("if-modified-since")
        if inm is not None:
            if inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]:
                self._send(304, b"", headers)
                return
        elif ims is not None:
            since = _http_date_to_ts(ims)
            if since is not None and mtime <= since:
                self._send(304, b"", headers)
                return

        if fault is not None and fault.kind == "truncated":
            cut = data[: int(len(data) * fault.fraction)]
            self._send(200, cut, headers)
            return

        status = 200
        body = data
        range_header = request.headers.get("range")
        if range_header and self.fec.ranges and not (fault is not None and fault.kind == "ignore_range"):
            if_range = request.headers.get("if-range")
            if if_range is None or if_range in (etag, last_modified):
                spec = range_header.strip()
                if not spec.startswith("bytes=") or "," in spec:
                    self.fec.protocol_errors.append(f"unsupported Range {spec!r}")
                    self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    return
                first, _, last = spec[len("bytes="):].partition("-")
                start = int(first)
                end = int(last) if last else len(data) - 1
                if start >= len(data):
                    self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    return
                status = 206
                body = data[start : end + 1]
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                if fault is not None and fault.kind == "bad_content_range":
                    body = data
                    headers["Content-Range"] = f"bytes 0-{len(data) - 1}/{len(data)}"

        if fault is not None and fault.kind == "drip":
            self._drip(status, body, headers, chunk=fault.delta, interval=fault.fraction)
            return
        if fault is not None and fault.kind == "cut_body":
            self._send(status, body, headers, send_bytes=int(len(body) * fault.fraction), close=True)
            return
        if fault is not None and fault.kind == "wrong_length":
            self._send(status, body, headers, declared_length=max(len(body) + fault.delta, 0), close=True)
            return
        self._send(status, body, headers)

    # --- the API -------------------------------------------------------------------------------------
    def _serve_api(self, request: RecordedRequest) -> None:
        api = self.fec.api
        key = request.param("api_key")
        if not key:
            self._send_json(403, {"error": {"code": "API_KEY_MISSING", "message": "No api_key was supplied."}})
            return
        if key in api.echoing_keys:
            self._send_json(
                403, {"error": {"code": f"API_KEY_INVALID {key}", "message": f"The api_key {key} is not valid."}}
            )
            return
        if key in api.invalid_keys:
            self._send_json(403, {"error": {"code": "API_KEY_INVALID", "message": "An invalid api_key."}})
            return
        with self.fec._lock:
            api.rate_remaining = max(api.rate_remaining - 1, 0)
            limit_headers = {
                "X-RateLimit-Limit": str(api.rate_limit),
                "X-RateLimit-Remaining": str(api.rate_remaining),
            }
        if request.path in ("/v1/candidates/", "/v1/committees/"):
            rows = api.candidates if request.path == "/v1/candidates/" else api.committees
            self._send_json(200, _numbered_page(rows, request), limit_headers)
        elif request.path == SCHEDULE_A_PATH:
            with self.fec._lock:
                status, payload = _keyset_page(api, request, self.fec.protocol_errors)
            self._send_json(status, payload, limit_headers)
        else:
            self._send_json(404, {"message": "not recorded"}, limit_headers)


def _int_param(request: RecordedRequest, name: str, default: int) -> int:
    value = request.param(name)
    return int(value) if value and value.isdigit() else default


def _numbered_page(rows: list[dict[str, Any]], request: RecordedRequest) -> dict[str, Any]:
    per_page = min(_int_param(request, "per_page", 20), 100)
    page = max(_int_param(request, "page", 1), 1)
    pages = math.ceil(len(rows) / per_page)
    chunk = rows[(page - 1) * per_page : page * per_page]
    return {
        "api_version": "1.0",
        "results": chunk,
        "pagination": {"count": len(rows), "page": page, "pages": pages, "per_page": per_page},
    }


def _keyset_page(api: _ApiState, request: RecordedRequest, errors: list[str]) -> tuple[int, dict[str, Any]]:
    """One schedule_a page, answered according to the last_indexes the client sent back."""
    all_rows = api.schedule_a
    per_page = _int_param(request, "per_page", 20)
    if per_page > 100:
        errors.append(f"per_page {per_page} > 100")
        return 422, {"message": "per_page must be <= 100"}
    sort = request.param("sort") or "-contribution_receipt_date"
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    null_only = (request.param("sort_null_only") or "").lower() == "true"
    committees = set(request.query.get("committee_id", []))

    rows = [r for r in all_rows if not committees or r.get("committee_id") in committees]
    sent_index = request.param("last_index")
    sent_value = request.param(f"last_{column}")
    if sent_index is not None:
        issued = api.issued.get(sent_index)
        if issued is None:
            errors.append(f"{request.raw}: last_index {sent_index} was never handed out")
            return 400, {"message": "unknown last_index"}
        for key, value in issued.items():
            expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if request.param(key) != expected:
                errors.append(f"{request.raw}: last_indexes key {key}={expected} not sent back")
                return 400, {"message": f"last_indexes key {key} missing or changed"}

    def index_of(row: dict[str, Any]) -> int:
        return int(row["sched_a_sk"])

    if null_only:
        candidates = sorted((r for r in rows if r.get(column) is None), key=index_of)
        if sent_index is not None:
            candidates = [r for r in candidates if index_of(r) > int(sent_index)]
    else:
        candidates = sorted(
            (r for r in rows if r.get(column) is not None),
            key=lambda r: (r[column], index_of(r)),
            reverse=descending,
        )
        if (sent_index is None) != (sent_value is None):
            missing = "last_index" if sent_index is None else f"last_{column}"
            errors.append(f"{request.raw}: {missing} not sent back")
            return 400, {"message": f"incomplete last_indexes: {missing} missing"}
        if sent_index is not None and sent_value is not None:
            value: Any = type(candidates[0][column])(sent_value) if candidates else sent_value
            mark = (value, int(sent_index))
            if descending:
                candidates = [r for r in candidates if (r[column], index_of(r)) < mark]
            else:
                candidates = [r for r in candidates if (r[column], index_of(r)) > mark]

    chunk = candidates[:per_page]
    last_indexes: dict[str, Any] | None = None
    if chunk:
        last = chunk[-1]
        last_indexes = {"last_index": index_of(last)}
        if null_only:
            last_indexes["sort_null_only"] = True
        else:
            last_indexes[f"last_{column}"] = last[column]
        api.issued[str(last_indexes["last_index"])] = dict(last_indexes)
    count = max(len(rows) - COUNT_UNDERESTIMATE, 0)
    return 200, {
        "api_version": "1.0",
        "results": chunk,
        "pagination": {
            "count": count,
            "pages": math.ceil(count / per_page) if per_page else 0,
            "per_page": per_page,
            "last_indexes": last_indexes,
        },
    }
