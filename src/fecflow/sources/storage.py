"""Raw storage: where downloaded source files are kept, on local disk or in S3 (via fsspec/s3fs).

Keys are content-addressed (``bulk/{cycle}/{zipname}/{sha256[:16]}-{zipname}``) so every published
version of a file is kept side by side and a re-download of the same bytes is stored once. Writes are
atomic: local files go to a temp file in the target directory and are renamed; an S3 PUT only becomes
visible when complete. Local URIs are absolute paths; S3 URIs are ``s3://bucket/prefix/key``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import IO, Any

import fsspec
from fsspec.core import split_protocol

from fecflow.config import Settings
from fecflow.errors import ConfigError, StorageError

logger = logging.getLogger(__name__)

_LOCAL_PROTOCOLS = {None, "file", "local"}
_S3_PROTOCOLS = {"s3", "s3a"}

try:  # botocore errors that s3fs may let through untranslated
    from botocore.exceptions import BotoCoreError, ClientError

    _BACKEND_ERRORS: tuple[type[BaseException], ...] = (OSError, BotoCoreError, ClientError)
except ImportError:  # pragma: no cover - s3fs is a dependency, botocore comes with it
    _BACKEND_ERRORS = (OSError,)


def bulk_key(cycle: int | None, file_name: str, sha256: str) -> str:
    """Content-addressed key of a bulk file; header files (no cycle) go under ``data_dictionaries``."""
    if len(sha256) < 16:
        raise ValueError("sha256 must be a hex digest")
    folder = str(cycle) if cycle is not None else "data_dictionaries"
    return f"bulk/{folder}/{file_name}/{sha256[:16].lower()}-{file_name}"


def _check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or "\\" in key or ".." in parts or "." in parts:
        raise StorageError(f"Invalid storage key {key!r}: use a relative key like bulk/2020/cm20.zip/...")
    return key


class RawStorage:
    """A local directory or an ``s3://bucket/prefix`` holding raw downloads."""

    def __init__(
        self,
        root_uri: str,
        *,
        s3_endpoint_url: str | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = split_protocol(root_uri)
        self.protocol = "file" if protocol in _LOCAL_PROTOCOLS else protocol
        options = dict(storage_options or {})
        if self.protocol == "file":
            self._root = str(Path(path).expanduser().resolve())
            self.root_uri = self._root
            self._fs = fsspec.filesystem("file")
        elif protocol in _S3_PROTOCOLS:
            if s3_endpoint_url:
                options.setdefault("endpoint_url", s3_endpoint_url)
            options.setdefault("use_listings_cache", False)
            self._root = path.strip("/")
            if not self._root:
                raise ConfigError(f"Raw storage {root_uri!r} names no bucket (use s3://bucket/prefix).")
            self.root_uri = f"s3://{self._root}"
            self._fs = fsspec.filesystem("s3", **options)
        else:
            raise ConfigError(
                f"Unsupported raw storage {root_uri!r}: use a local path or s3://bucket/prefix.",
                hint="Set FECFLOW_RAW_STORAGE to a directory or an s3:// URI.",
            )

    @classmethod
    def from_settings(cls, settings: Settings, **storage_options: Any) -> RawStorage:
        return cls(
            settings.raw_storage_uri,
            s3_endpoint_url=settings.s3_endpoint_url,
            storage_options=storage_options or None,
        )

    @property
    def is_local(self) -> bool:
        return self.protocol == "file"

    def __repr__(self) -> str:
        return f"RawStorage({self.root_uri!r})"

    # --- addressing -----------------------------------------------------------------------------------
    def uri_for(self, key: str) -> str:
        return f"{self.root_uri}/{_check_key(key)}"

    def _path_of(self, uri: str) -> str:
        """The filesystem path behind a URI of this storage's kind (any location, not only the root)."""
        protocol, path = split_protocol(uri)
        if self.is_local:
            if protocol not in _LOCAL_PROTOCOLS:
                raise StorageError(f"{uri!r} is not a local path (raw storage is {self.root_uri})")
            return str(Path(path).expanduser())
        if protocol not in _S3_PROTOCOLS:
            raise StorageError(f"{uri!r} is not an s3:// URI (raw storage is {self.root_uri})")
        return path.lstrip("/")

    def _error(self, action: str, uri: str, exc: BaseException) -> StorageError:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        hint = None
        if isinstance(exc, FileNotFoundError):
            hint = "Check FECFLOW_RAW_STORAGE (for S3: does the bucket exist?)."
        elif isinstance(exc, PermissionError):
            hint = "Check permissions / credentials for the raw storage."
        return StorageError(f"Could not {action} {uri}: {detail}", hint=hint)

    # --- operations -------------------------------------------------------------------------------------
    def exists(self, uri: str) -> bool:
        path = self._path_of(uri)
        try:
            if not self.is_local:
                self._fs.invalidate_cache(path)
            return bool(self._fs.exists(path))
        except _BACKEND_ERRORS as exc:
            raise self._error("check", uri, exc) from exc

    def size(self, uri: str) -> int:
        path = self._path_of(uri)
        try:
            if not self.is_local:
                self._fs.invalidate_cache(path)
            return int(self._fs.size(path))
        except _BACKEND_ERRORS as exc:
            raise self._error("stat", uri, exc) from exc

    def put_file(self, local_path: Path, key: str) -> str:
        """Store a local file under ``key`` atomically; return its URI."""
        local_path = Path(local_path)
        uri = self.uri_for(key)
        size = local_path.stat().st_size
        try:
            if self.is_local:
                target = Path(self._path_of(uri))
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
                try:
                    with os.fdopen(fd, "wb") as out, local_path.open("rb") as src:
                        shutil.copyfileobj(src, out, 1024 * 1024)
                        out.flush()
                        os.fsync(out.fileno())
                    os.replace(tmp_name, target)
                except BaseException:
                    Path(tmp_name).unlink(missing_ok=True)
                    raise
            else:
                self._fs.put_file(str(local_path), self._path_of(uri))
        except _BACKEND_ERRORS as exc:
            raise self._error("store", uri, exc) from exc
        stored = self.size(uri)
        if stored != size:
            raise StorageError(f"Stored {uri} has {stored} bytes, the local file {size}")
        logger.info("stored %s (%d bytes)", uri, size)
        return uri

    def open(self, uri: str) -> IO[bytes]:
        """Open a stored file for binary reading (seekable). The caller closes it."""
        path = self._path_of(uri)
        try:
            return self._fs.open(path, "rb")
        except _BACKEND_ERRORS as exc:
            raise self._error("open", uri, exc) from exc

    def get_to_local(self, uri: str, dest: Path) -> Path:
        """Copy a stored file to a local path atomically (temp file + rename); return ``dest``."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                with self.open(uri) as src:
                    try:
                        shutil.copyfileobj(src, out, 1024 * 1024)
                    except _BACKEND_ERRORS as exc:
                        raise self._error("read", uri, exc) from exc
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return dest
