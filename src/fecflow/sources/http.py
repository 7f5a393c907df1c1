"""HTTP downloads that check before they trust (the retry policy is :mod:`fecflow.sources.retry`,
the mapping of httpx errors and statuses :mod:`fecflow.sources.http_errors`).

:func:`download_file` streams a URL to a temp file next to ``dest`` while hashing it (sha256), retries
transient failures (connection errors, timeouts, 408/429/5xx) with exponential backoff and full
jitter, resumes an interrupted body with ``Range`` when the server supports it, verifies size,
checksum and (for ``.zip``) archive integrity, and only then renames the file into place. A failed
download never leaves a file at ``dest``. ``file://`` URLs are copied the same way (no retries).

httpx exceptions are translated into the fecflow error tree once, by :mod:`fecflow.sources.http_errors`:
:class:`TransientSourceError` and :class:`RateLimited` are retried, :class:`HttpStatusError` and
:class:`IntegrityError` are not. URLs are always passed through :func:`fecflow.config.redact_url`
before they reach a message or a log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from fecflow import __version__
from fecflow.config import Settings, redact_url
from fecflow.errors import (
    HttpStatusError,
    IntegrityError,
    SourceError,
    StorageError,
    TransientSourceError,
)
from fecflow.sources.archive import verify_zip
from fecflow.sources.http_errors import (
    error_for_status,
    protect_http_logs,
    scrub_secrets,
    translate_http_error,
)
from fecflow.sources.retry import RetryPolicy, call_with_retries

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
USER_AGENT = f"fecflow/{__version__}"

__all__ = [
    "DownloadResult",
    "RetryPolicy",
    "Validators",
    "build_http_client",
    "download_file",
    "error_for_status",
    "file_url_to_path",
    "protect_http_logs",
    "scrub_secrets",
    "sha256_file",
    "translate_http_error",
]


# --- results ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Validators:
    """What a previous download returned, to ask the server "only if changed"."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True)
class DownloadResult:
    url: str  # redacted
    status: int  # 200 (also when resumed with 206 responses, and for file:// copies) or 304
    bytes: int | None  # None when not_modified (no body)
    sha256: str | None
    etag: str | None
    last_modified: str | None
    attempts: int
    elapsed_s: float
    path: Path | None  # None when not_modified
    not_modified: bool = False


def build_http_client(settings: Settings) -> httpx.Client:
    """The one HTTP client of a run: timeouts from settings, ``fecflow/<version>`` user agent."""
    protect_http_logs()
    return httpx.Client(
        timeout=httpx.Timeout(settings.http_timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
    )


# --- the download ------------------------------------------------------------------------------------
class _Body:
    """The temp file being written, with its running hash and the server's validators."""

    def __init__(self, fh: IO[bytes], policy: RetryPolicy | None = None, where: str = "") -> None:
        self.fh = fh
        self.policy = policy
        self.where = where
        self.clock_started = time.monotonic()
        self.hasher = hashlib.sha256()
        self.size = 0
        self.expected_total: int | None = None
        self.accept_ranges = False
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.status = 0
        self.started = False  # a 200 body has begun (so conditional headers are no longer sent)
        self.resumes = 0
        self.attempts = 0

    def write(self, chunk: bytes) -> None:
        try:
            self.fh.write(chunk)
        except OSError as exc:
            raise _disk_error(self.fh.name, exc) from exc
        self.hasher.update(chunk)
        self.size += len(chunk)
        if self.policy is not None:
            self.check_pace()

    def check_pace(self) -> None:
        """Raise a terminal SourceError past the policy's deadline or under its minimum rate."""
        assert self.policy is not None
        elapsed = time.monotonic() - self.clock_started
        deadline = self.policy.deadline
        if deadline is not None and elapsed > deadline:
            raise SourceError(
                f"Download of {self.where} exceeded its {deadline:.0f} s deadline ({self.size:,} bytes received).",
                hint="The server is too slow; try again later, or raise FECFLOW_HTTP_DEADLINE.",
            )
        floor = self.policy.min_bytes_per_s
        if floor > 0 and elapsed > self.policy.rate_grace_s and self.size / elapsed < floor:
            raise SourceError(
                f"Download of {self.where} averaged {self.size / elapsed:,.0f} bytes/s over {elapsed:.0f} s, "
                f"under the {floor:,.0f} bytes/s minimum.",
                hint="The server is too slow; try again later, or lower FECFLOW_HTTP_MIN_RATE.",
            )

    def reset(self) -> None:
        self.fh.seek(0)
        self.fh.truncate()
        self.hasher = hashlib.sha256()
        self.size = 0
        self.expected_total = None


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def _parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    if not value:
        return None
    m = _CONTENT_RANGE.match(value)
    if not m:
        return None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), int(m.group(2)), total


class _NotModified(Exception):
    def __init__(self, etag: str | None, last_modified: str | None) -> None:
        super().__init__("304")
        self.etag = etag
        self.last_modified = last_modified


def _request_headers(body: _Body, conditional: Validators | None, where: str) -> tuple[dict[str, str], bool]:
    """The headers of the next attempt, and whether it resumes the body received so far (Range)."""
    headers = {"Accept-Encoding": "identity"}
    if body.size > 0 and not body.accept_ranges:
        logger.info("%s: server does not accept ranges; restarting from byte 0", where)
        body.reset()
    resuming = body.size > 0
    if resuming:
        headers["Range"] = f"bytes={body.size}-"
        validator = body.etag if body.etag and not body.etag.startswith("W/") else body.last_modified
        if validator:
            headers["If-Range"] = validator
    elif conditional and not body.started:
        if conditional.etag:
            headers["If-None-Match"] = conditional.etag
        if conditional.last_modified:
            headers["If-Modified-Since"] = conditional.last_modified
    return headers, resuming


def _continue_partial(body: _Body, resp: httpx.Response, resuming: bool, where: str) -> None:
    """A 206 must continue exactly where the body stopped; anything else restarts from byte 0."""
    content_range = _parse_content_range(resp.headers.get("content-range"))
    if not resuming or content_range is None:
        body.reset()
        raise TransientSourceError(f"Unexpected partial response from {where}; restarting")
    start, _end, total = content_range
    if start != body.size or (body.expected_total is not None and total != body.expected_total):
        body.reset()
        raise TransientSourceError(
            f"Content-Range {resp.headers.get('content-range')!r} from {where} does not continue "
            f"the {body.size} bytes already received; restarting from byte 0"
        )
    body.expected_total = total
    body.resumes += 1
    logger.info("%s: resuming at byte %d of %s", where, start, total)


def _start_full(body: _Body, resp: httpx.Response, resuming: bool, where: str) -> None:
    """A 200: the whole body from byte 0, with the validators and length to expect."""
    if resuming:
        logger.info("%s: server answered the Range request with a full body; restarting", where)
        body.reset()
    body.started = True
    body.status = 200
    body.etag = resp.headers.get("etag")
    body.last_modified = resp.headers.get("last-modified")
    length = resp.headers.get("content-length")
    encoded = resp.headers.get("content-encoding", "identity").lower() not in ("", "identity")
    body.expected_total = int(length) if length and length.isdigit() and not encoded else None


def _request_once(
    client: httpx.Client,
    url: str,
    body: _Body,
    policy: RetryPolicy,
    conditional: Validators | None,
) -> None:
    where = redact_url(url)
    if body.policy is not None:
        body.check_pace()  # a retry after the deadline is not made
    body.attempts += 1
    headers, resuming = _request_headers(body, conditional, where)
    try:
        with client.stream("GET", url, headers=headers, timeout=policy.timeout) as resp:
            status = resp.status_code
            if status == 304 and ("If-None-Match" in headers or "If-Modified-Since" in headers):
                raise _NotModified(
                    resp.headers.get("etag") or (conditional.etag if conditional else None),
                    resp.headers.get("last-modified") or (conditional.last_modified if conditional else None),
                )
            if status == 416 and resuming:
                body.reset()
                raise TransientSourceError(f"HTTP 416 for a resumed range of {where}; restarting from byte 0")
            if status not in (200, 206):
                raise error_for_status(status, url, resp.headers)
            if status == 206:
                _continue_partial(body, resp, resuming, where)
            else:
                _start_full(body, resp, resuming, where)
            advertises_ranges = resp.headers.get("accept-ranges", "").strip().lower() == "bytes"
            body.accept_ranges = advertises_ranges or (status == 206 and body.accept_ranges)

            # No chunk_size: httpx would buffer up to it and lose the buffer if the connection drops.
            for chunk in resp.iter_bytes():
                body.write(chunk)
    except httpx.HTTPError as exc:
        body.fh.flush()
        raise translate_http_error(exc, url) from exc
    except httpx.InvalidURL as exc:
        raise translate_http_error(exc, url) from exc

    body.fh.flush()
    if body.expected_total is not None and body.size != body.expected_total:
        if body.size < body.expected_total:
            raise TransientSourceError(
                f"Incomplete body from {where}: received {body.size} of {body.expected_total} bytes"
            )
        body.reset()
        raise IntegrityError(f"{where} sent {body.size} bytes, more than the declared {body.expected_total}")


def _verify_and_place(
    tmp_path: Path, dest: Path, *, url: str, sha256: str, size: int, expected_sha256: str | None
) -> None:
    where = redact_url(url)
    if expected_sha256 is not None and sha256.lower() != expected_sha256.lower():
        raise IntegrityError(
            f"Checksum mismatch for {where}: expected sha256 {expected_sha256}, got {sha256} ({size} bytes)"
        )
    if dest.suffix.lower() == ".zip":
        verify_zip(tmp_path, label=where)
    os.replace(tmp_path, dest)


def _new_temp(dest: Path) -> tuple[IO[bytes], Path]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    return os.fdopen(fd, "w+b"), Path(name)


def download_file(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    policy: RetryPolicy,
    expected_sha256: str | None = None,
    conditional: Validators | None = None,
) -> DownloadResult:
    """Download ``url`` to ``dest`` atomically; see the module docstring for the guarantees.

    With ``conditional`` (the ETag / Last-Modified of the previous download) a ``304 Not Modified``
    answer returns a result with ``not_modified=True`` and no file. An existing file at ``dest`` is
    only ever replaced by a fully verified download.
    """
    dest = Path(dest)
    protect_http_logs()
    if urlsplit(url).scheme == "file":
        return _copy_file_url(url, dest, expected_sha256=expected_sha256, conditional=conditional)

    started = time.monotonic()
    where = redact_url(url)
    fh, tmp_path = _new_temp(dest)
    try:
        body = _Body(fh, policy, where)
        try:
            _, attempts = call_with_retries(
                lambda _attempt: _request_once(client, url, body, policy, conditional),
                policy,
                what=f"GET {where}",
            )
        except _NotModified as nm:
            fh.close()
            tmp_path.unlink(missing_ok=True)
            elapsed = time.monotonic() - started
            logger.info("%s: not modified (304) in %.2fs", where, elapsed)
            return DownloadResult(
                url=where, status=304, bytes=None, sha256=None, etag=nm.etag, last_modified=nm.last_modified,
                attempts=body.attempts, elapsed_s=elapsed, path=None, not_modified=True,
            )
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        sha256 = body.hasher.hexdigest()
        _verify_and_place(tmp_path, dest, url=url, sha256=sha256, size=body.size, expected_sha256=expected_sha256)
    except BaseException:
        fh.close()
        tmp_path.unlink(missing_ok=True)
        raise

    elapsed = time.monotonic() - started
    logger.info(
        "downloaded %s: %d bytes, sha256 %s, %d attempt(s)%s in %.2fs",
        where, body.size, sha256[:16], attempts,
        f", {body.resumes} resume(s)" if body.resumes else "", elapsed,
    )
    return DownloadResult(
        url=where, status=body.status or 200, bytes=body.size, sha256=sha256, etag=body.etag,
        last_modified=body.last_modified, attempts=attempts, elapsed_s=elapsed, path=dest,
    )


def _disk_error(path: str, exc: OSError) -> StorageError:
    """A local write failed (disk full, permissions): a terminal storage error with a hint."""
    return StorageError(
        f"Cannot write the download to {path}: {exc.strerror or exc}.",
        hint="Free space (or fix permissions) in that directory or TMPDIR, then run the same command again.",
    )


def file_url_to_path(url: str) -> Path:
    """``file:///a/b`` → ``Path('/a/b')`` (only local ``file://`` URLs)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise SourceError(f"Only local file:// URLs are supported, got {redact_url(url)}")
    return Path(url2pathname(parts.path))


def _copy_hashed(src: Path, out: IO[bytes], *, where: str, tmp_path: Path) -> tuple[int, str]:
    """Copy ``src`` into ``out`` in chunks; return (bytes, sha256). Read and write errors are told
    apart: a read error is the source's, a write error the disk's."""
    hasher = hashlib.sha256()
    size = 0
    try:
        fin = src.open("rb")
    except OSError as exc:
        raise SourceError(f"Cannot read {where}: {exc.strerror}") from exc
    with fin:
        while True:
            try:
                chunk = fin.read(CHUNK_SIZE)
            except OSError as exc:
                raise SourceError(f"Cannot read {where}: {exc.strerror}") from exc
            if not chunk:
                return size, hasher.hexdigest()
            try:
                out.write(chunk)
            except OSError as exc:
                raise _disk_error(str(tmp_path), exc) from exc
            hasher.update(chunk)
            size += len(chunk)


def _copy_file_url(
    url: str, dest: Path, *, expected_sha256: str | None, conditional: Validators | None
) -> DownloadResult:
    started = time.monotonic()
    where = redact_url(url)
    src = file_url_to_path(url)
    try:
        stat = src.stat()
    except FileNotFoundError as exc:
        raise HttpStatusError(  # what an HTTP mirror answers for a file it does not have
            f"{where} does not exist", status=404, hint="Check the mirror directory and FECFLOW_BULK_BASE_URL."
        ) from exc
    except OSError as exc:
        raise SourceError(f"Cannot read {where}: {exc.strerror}") from exc
    last_modified = formatdate(stat.st_mtime, usegmt=True)
    if conditional and conditional.last_modified and not conditional.etag:
        try:
            since = parsedate_to_datetime(conditional.last_modified).timestamp()
        except (TypeError, ValueError, IndexError):
            since = None
        if since is not None and int(stat.st_mtime) <= since:
            elapsed = time.monotonic() - started
            logger.info("%s: not modified since %s", where, conditional.last_modified)
            return DownloadResult(
                url=where, status=304, bytes=None, sha256=None, etag=None, last_modified=last_modified,
                attempts=1, elapsed_s=elapsed, path=None, not_modified=True,
            )

    fh, tmp_path = _new_temp(dest)
    try:
        size, sha256 = _copy_hashed(src, fh, where=where, tmp_path=tmp_path)
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        if size != stat.st_size:
            raise IntegrityError(f"{where} changed while it was copied ({stat.st_size} → {size} bytes)")
        _verify_and_place(tmp_path, dest, url=url, sha256=sha256, size=size, expected_sha256=expected_sha256)
    except BaseException:
        fh.close()
        tmp_path.unlink(missing_ok=True)
        raise
    elapsed = time.monotonic() - started
    logger.info("copied %s: %d bytes, sha256 %s in %.2fs", where, size, sha256[:16], elapsed)
    return DownloadResult(
        url=where, status=200, bytes=size, sha256=sha256, etag=None, last_modified=last_modified,
        attempts=1, elapsed_s=elapsed, path=dest,
    )


def sha256_file(path: Path) -> str:
    """sha256 of a local file, read in chunks."""
    hasher = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            hasher.update(chunk)
    return hasher.hexdigest()
