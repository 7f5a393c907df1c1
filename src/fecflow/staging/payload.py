"""Raw payloads: a plain text file, a ``.gz`` file or one member of a zip, read as bytes from any line.

A :class:`Payload` knows how to open its bytes from the start (zip members and gzip streams are
decompressed on the fly, nothing is extracted to disk) and how to position a stream inside them:

* :meth:`Payload.open_at` opens at an exact byte offset that is a line start (a seek for plain files,
  decompress-and-discard for compressed ones);
* :meth:`Payload.open_after` opens at the first line start at or after a byte *hint* and says which
  line number that is: it reads the bytes before it, counting LFs in C (``bytearray.count``), so two
  workers can split one payload without scanning it first. The cut is deterministic:
  ``boundary(h)`` is the offset just after the first LF at or after ``h - 1`` (the end of the
  payload when there is none), and :func:`limit_to_boundary` stops a reader at the same place.

:func:`register_local_file` records a file that was not downloaded (``status='local'``) in
``ops.source_file``; :func:`guess_file_type` and :func:`guess_cycle` read the catalog file type and
cycle out of names like ``indiv20.zip``, ``itcont.txt`` or ``weball22.txt``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import logging
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal, Protocol

import psycopg

from fecflow.catalog import FILES, FileSpec
from fecflow.db import ops
from fecflow.errors import DataError, IntegrityError, StorageError
from fecflow.sources.archive import check_zip, open_member

log = logging.getLogger(__name__)

PayloadKind = Literal["plain", "gzip", "zip"]
READ_SIZE = 4 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_GZIP_MAGIC = b"\x1f\x8b\x08"  # gzip, deflate

Opener = Callable[[], IO[bytes]]


class ByteStream(Protocol):
    """What the loader reads: ``read(size)`` and ``close()``."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Payload:
    """The text bytes of one source file. ``size`` is the uncompressed size (estimated for gzip)."""

    label: str
    kind: PayloadKind
    member: str | None
    size: int
    size_exact: bool
    opener: Opener

    def open(self) -> ByteStream:
        """A fresh binary stream of the payload at byte 0. The caller closes it."""
        raw = self._open_raw()
        try:
            if self.kind == "plain":
                return raw
            if self.kind == "gzip":
                return _ClosingStream(gzip.GzipFile(fileobj=raw, mode="rb"), raw)
            assert self.member is not None
            return _ClosingStream(open_member(raw, self.member, check=False, label=self.label), raw)
        except BaseException:
            raw.close()
            raise

    def open_at(self, offset: int) -> ByteStream:
        """A stream positioned at byte ``offset`` (which the caller knows to be a line start)."""
        stream = self.open()
        if offset <= 0:
            return stream
        try:
            if self.kind == "plain" and isinstance(stream, io.IOBase) and stream.seekable():
                stream.seek(offset)
                return stream
            skipped = _discard(stream, offset)
            if skipped != offset:
                raise IntegrityError(
                    f"{self.label} has {skipped} bytes, fewer than the {offset} already staged from it",
                    hint="The stored file changed; stage it again with --replace.",
                )
            return stream
        except BaseException:
            stream.close()
            raise

    def open_after(self, hint: int, *, hasher: Any | None = None) -> tuple[ByteStream, int, int]:
        """Open at ``boundary(hint)``: returns ``(stream, boundary offset, LFs before it)``.

        Reads every byte before the boundary (feeding ``hasher`` if given), counting LFs in C.
        """
        stream = self.open()
        try:
            leftover, boundary, lines = _skip_to_boundary(stream, hint, hasher)
        except BaseException:
            stream.close()
            raise
        return (_PrefixedStream(leftover, stream) if leftover else stream), boundary, lines

    def _open_raw(self) -> IO[bytes]:
        try:
            return self.opener()
        except OSError as exc:
            raise StorageError(f"Cannot open {self.label}: {exc.strerror or exc}") from exc


def open_payload(
    path: str | os.PathLike[str],
    *,
    member: str | None = None,
    spec: FileSpec | None = None,
    opener: Opener | None = None,
    label: str | None = None,
) -> Payload:
    """Describe the payload at ``path`` (or behind ``opener``, e.g. raw storage on S3).

    The kind comes from the name: ``.zip``, ``.gz``, ``.txt`` (plain); any other name is sniffed (zip
    or gzip signature, else plain text). A ``.txt`` file is never sniffed: FEC text can start with
    any bytes. For a zip, ``member`` is the text file inside; without it, the member matching
    ``spec``'s catalog pattern, or the only member. The archive is checked for safety
    (:func:`~fecflow.sources.archive.check_zip`) once here.
    """
    where = label or os.fspath(path)
    open_raw: Opener = opener or (lambda: open(path, "rb"))
    suffix = PurePosixPath(where.replace("\\", "/")).suffix.lower()
    try:
        with open_raw() as raw:
            kind = _KIND_BY_SUFFIX.get(suffix) or _sniff(raw)
            if kind == "zip":
                raw.seek(0)
                members = [m for m in check_zip(raw, label=where) if not m.is_dir]
                chosen = _choose_member(members, member, spec, where)
                return Payload(where, "zip", chosen.name, chosen.file_size, True, open_raw)
            raw.seek(0, io.SEEK_END)
            stored = raw.tell()
            if kind == "gzip":
                return Payload(where, "gzip", None, _gzip_size_estimate(raw, stored), False, open_raw)
            return Payload(where, "plain", None, stored, True, open_raw)
    except OSError as exc:
        raise StorageError(f"Cannot read {where}: {exc.strerror or exc}") from exc


_KIND_BY_SUFFIX: dict[str, PayloadKind] = {".zip": "zip", ".gz": "gzip", ".txt": "plain"}


def _sniff(raw: IO[bytes]) -> PayloadKind:
    raw.seek(0)
    magic = raw.read(4)
    raw.seek(0)
    if magic in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC) and zipfile.is_zipfile(raw):
        return "zip"
    return "gzip" if magic[:3] == _GZIP_MAGIC else "plain"


def _choose_member(members: list[Any], member: str | None, spec: FileSpec | None, where: str) -> Any:
    names = [m.name for m in members]
    if member is not None:
        for m in members:
            if m.name == member:
                return m
        raise IntegrityError(
            f"{where} has no member {member!r}", hint=f"Members: {', '.join(names) or 'none'}."
        )
    if spec is not None:
        pattern = _name_pattern(spec.member)
        matching = [m for m in members if pattern.fullmatch(PurePosixPath(m.name).name.lower())]
        if len(matching) == 1:
            return matching[0]
    if len(members) == 1:
        return members[0]
    if not members:
        raise DataError(
            f"{where} is an empty archive: nothing to stage.",
            hint="The FEC sometimes publishes an empty file while it regenerates it: fetch it again later.",
        )
    raise DataError(
        f"{where} has {len(members)} members and none is clearly the data file: {', '.join(names)}.",
        hint="Unzip it and stage the data file by path (`fecflow stage --files TYPE PATH`).",
    )


def _gzip_size_estimate(raw: IO[bytes], stored: int) -> int:
    """Uncompressed size from the gzip trailer (ISIZE is the size mod 2**32; only used to split work)."""
    if stored < 18:
        return 0
    raw.seek(stored - 4)
    size = int.from_bytes(raw.read(4), "little")
    while size < stored:
        size += 2**32
    return size


# --- streams ----------------------------------------------------------------------------------------


def _discard(stream: ByteStream, count: int) -> int:
    """Read and drop ``count`` bytes; return how many there were."""
    done = 0
    while done < count:
        chunk = stream.read(min(READ_SIZE, count - done))
        if not chunk:
            break
        done += len(chunk)
    return done


def _skip_to_boundary(stream: ByteStream, hint: int, hasher: Any | None) -> tuple[bytes, int, int]:
    """Consume up to ``boundary(hint)``; return (bytes read past it, boundary, LFs before it)."""
    if hint <= 0:
        return b"", 0, 0
    look_from = hint - 1  # the first LF at or after this offset ends the previous range
    position = 0
    lines = 0
    while chunk := stream.read(READ_SIZE):
        end = position + len(chunk)
        if end > look_from:
            newline = chunk.find(b"\n", max(0, look_from - position))
            if newline >= 0:
                cut = newline + 1
                lines += chunk.count(b"\n", 0, cut)
                if hasher is not None:
                    hasher.update(memoryview(chunk)[:cut])
                return chunk[cut:], position + cut, lines
        lines += chunk.count(b"\n")
        if hasher is not None:
            hasher.update(chunk)
        position = end
    return b"", position, lines


class _PrefixedStream(io.RawIOBase):
    """``prefix`` bytes, then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: ByteStream) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0 or size >= len(self._prefix):
                head, self._prefix = self._prefix, b""
                return head
            head, self._prefix = self._prefix[:size], self._prefix[size:]
            return head
        return self._stream.read(size)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


class _ClosingStream(io.RawIOBase):
    """A decompressing stream that also closes the container file it reads from."""

    def __init__(self, stream: ByteStream, raw: IO[bytes]) -> None:
        self._stream = stream
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def close(self) -> None:
        try:
            self._stream.close()
            self._raw.close()
        finally:
            super().close()


class BoundedStream(io.RawIOBase):
    """Read ``stream`` (positioned at ``start``) up to an exact ``end`` offset, or up to
    ``boundary(hint)`` (see the module docstring), never past it."""

    def __init__(
        self, stream: ByteStream, start: int, *, end: int | None = None, hint: int | None = None
    ) -> None:
        self._stream = stream
        self._position = start
        self._end = end
        self._look_from = None if hint is None else hint - 1
        # A range that starts at or after the hint is empty: the previous LF already ended it.
        self._done = (end is not None and start >= end) or (hint is not None and start >= hint)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._done:
            return b""
        want = READ_SIZE if size is None or size < 0 else size
        if self._end is not None:
            want = min(want, self._end - self._position)
        chunk = self._stream.read(want)
        if not chunk:
            self._done = True
            return b""
        if self._end is not None:
            self._position += len(chunk)
            self._done = self._position >= self._end
            return chunk
        assert self._look_from is not None
        if self._position + len(chunk) > self._look_from:
            newline = chunk.find(b"\n", max(0, self._look_from - self._position))
            if newline >= 0:
                chunk = chunk[: newline + 1]
                self._done = True
        self._position += len(chunk)
        return chunk

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


def limit_to_boundary(stream: ByteStream, start: int, hint: int) -> BoundedStream:
    """``stream`` (at ``start``) cut at ``boundary(hint)``."""
    return BoundedStream(stream, start, hint=hint)


def limit_to_offset(stream: ByteStream, start: int, end: int) -> BoundedStream:
    """``stream`` (at ``start``) cut at the exact offset ``end``."""
    return BoundedStream(stream, start, end=end)


# --- names ------------------------------------------------------------------------------------------


def _name_pattern(template: str) -> re.Pattern[str]:
    """``weball{yy}.txt`` -> a regex matching ``weball22.txt``."""
    return re.compile(re.escape(template.lower()).replace(r"\{yy\}", r"(\d\d)"))


def _stem_pattern(template: str) -> re.Pattern[str]:
    """Names like ``itcont_head10000.txt`` or ``cm20.zip`` for the stem of ``itcont.txt`` / ``cm{yy}.zip``."""
    stem = template.lower().split(".", 1)[0]
    body = re.escape(stem).replace(r"\{yy\}", r"(\d\d)")
    if "{yy}" not in stem:
        body += r"(\d\d)?"
    return re.compile(body + r"(?:[_\-][^.]*)?(?:\..*)?")


def guess_file_type(*names: str | None) -> str | None:
    """The catalog file type named by a zip/member/file name (``indiv20.zip``, ``itcont.txt.gz``)."""
    for name in names:
        if not name:
            continue
        base = PurePosixPath(name.replace("\\", "/")).name.lower()
        found = {
            spec.file_type
            for spec in FILES.values()
            for template in (spec.zip_name, spec.member)
            if _stem_pattern(template).fullmatch(base)
        }
        if len(found) == 1:
            return found.pop()
    return None


def guess_cycle(*names: str | None) -> int | None:
    """The cycle in a name such as ``indiv20.zip`` or ``weball22.txt`` (``{yy}`` of the catalog)."""
    this_year = dt.date.today().year
    for name in names:
        if not name:
            continue
        base = PurePosixPath(name.replace("\\", "/")).name.lower()
        for spec in FILES.values():
            for template in (spec.zip_name, spec.member):
                if "{yy}" not in template:
                    continue
                match = _stem_pattern(template).fullmatch(base)
                if match and match.group(1):
                    yy = int(match.group(1))
                    year = 2000 + yy if 2000 + yy <= this_year + 2 else 1900 + yy
                    return year if year % 2 == 0 else None
    return None


# --- local files ------------------------------------------------------------------------------------


def file_sha256(path: Path) -> tuple[str, int]:
    """sha256 hex digest and size of a file, read in blocks."""
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(READ_SIZE):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def register_local_file(
    conn: psycopg.Connection,
    path: str | os.PathLike[str],
    *,
    file_type: str,
    cycle: int | None,
    run_id: int | None,
    member: str | None = None,
) -> int:
    """Record a file that was not downloaded (``status='local'``, ``url`` = its ``file://`` URI).

    The same path with the same sha256 and file type registered before is reused (its id is
    returned), so staging a local file twice finds its earlier audits. Commits.
    """
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise StorageError(f"{resolved} is not a readable file")
    sha256, size = file_sha256(resolved)
    if member is None:
        spec = FILES.get(file_type)
        payload = open_payload(resolved, spec=spec)
        member = payload.member
    url = resolved.as_uri()
    row = conn.execute(
        "SELECT source_file_id FROM ops.source_file WHERE url = %s AND status = 'local' AND sha256 = %s "
        "AND file_type = %s AND member IS NOT DISTINCT FROM %s ORDER BY source_file_id DESC LIMIT 1",
        (url, sha256, file_type, member),
    ).fetchone()
    if not conn.autocommit:
        conn.commit()
    if row is not None:
        return int(row[0])
    source_file_id = ops.record_source_file(
        conn,
        url=url,
        cycle=cycle,
        file_type=file_type,
        member=member,
        status="local",
        bytes=size,
        sha256=sha256,
        storage_uri=str(resolved),
        run_id=run_id,
    )
    log.info(
        "registered local file %s as source file %d (%s, %d bytes)", resolved, source_file_id, file_type, size
    )
    return source_file_id
