"""Zip archives: safety checks and streaming access to one member, never extracting to disk.

:func:`check_zip` reads only the central directory and rejects what a hostile or broken archive could
do to us (path traversal, absolute names, symlinks, encrypted members, declared sizes or compression
ratios of a zip bomb) with :class:`UnsafeArchive`. :func:`verify_zip` adds a full CRC pass.
:func:`open_member` returns a binary stream of one member for the parsers.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from fecflow.errors import IntegrityError, UnsafeArchive

DEFAULT_MAX_RATIO = 200.0
# Recent indiv files unzip to ~15 GB; this bound only stops absurd declarations.
DEFAULT_MAX_TOTAL_BYTES = 128 * 1024**3
# Tiny members have meaningless ratios (a 2-byte stream for an empty file); only check from here up.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
DEFAULT_MAX_MEMBERS = 10_000

ZipSource = str | os.PathLike[str] | IO[bytes]


@dataclass(frozen=True)
class MemberInfo:
    name: str
    file_size: int  # declared uncompressed size
    compress_size: int
    crc: int
    date_time: dt.datetime | None
    is_dir: bool

    @property
    def ratio(self) -> float:
        return self.file_size / max(self.compress_size, 1)

    @classmethod
    def from_zipinfo(cls, info: zipfile.ZipInfo) -> MemberInfo:
        try:
            stamp: dt.datetime | None = dt.datetime(*info.date_time)
        except ValueError:
            stamp = None
        return cls(
            name=info.filename,
            file_size=info.file_size,
            compress_size=info.compress_size,
            crc=info.CRC,
            date_time=stamp,
            is_dir=info.is_dir(),
        )


def _label(source: ZipSource, label: str | None) -> str:
    if label:
        return label
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return getattr(source, "name", None) or "<zip stream>"


def _open_zip(source: ZipSource, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise IntegrityError(f"{label} is not a readable zip archive: {exc}") from exc
    except OSError as exc:
        raise IntegrityError(f"Cannot read zip archive {label}: {exc.strerror or exc}") from exc


def _unsafe_name(name: str) -> str | None:
    """Why a member name is unsafe to ever extract, or None."""
    if not name or "\x00" in name:
        return "empty name or NUL byte"
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(normalized).parts:
        return "path traversal (..)"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def check_zip(
    source: ZipSource,
    *,
    max_ratio: float = DEFAULT_MAX_RATIO,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
    label: str | None = None,
) -> list[MemberInfo]:
    """Validate an archive's central directory; return its members. Raises UnsafeArchive/IntegrityError."""
    where = _label(source, label)
    with _open_zip(source, where) as zf:
        infos = zf.infolist()
    if len(infos) > max_members:
        raise UnsafeArchive(f"{where} has {len(infos)} members (limit {max_members})")
    seen: set[str] = set()
    total = 0
    for info in infos:
        reason = _unsafe_name(info.filename)
        if reason:
            raise UnsafeArchive(f"{where}: member {info.filename!r} is unsafe: {reason}")
        if info.filename in seen:
            raise UnsafeArchive(f"{where}: member {info.filename!r} appears twice")
        seen.add(info.filename)
        if _is_symlink(info):
            raise UnsafeArchive(f"{where}: member {info.filename!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"{where}: member {info.filename!r} is encrypted")
        if info.file_size > max_total_bytes:
            raise UnsafeArchive(
                f"{where}: member {info.filename!r} declares {info.file_size} uncompressed bytes "
                f"(limit {max_total_bytes})"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_CHECK_MIN_BYTES and ratio > max_ratio:
            raise UnsafeArchive(
                f"{where}: member {info.filename!r} has compression ratio {ratio:.0f}:1 "
                f"(limit {max_ratio:.0f}:1); possible zip bomb"
            )
        total += info.file_size
    if total > max_total_bytes:
        raise UnsafeArchive(f"{where}: members declare {total} uncompressed bytes (limit {max_total_bytes})")
    return [MemberInfo.from_zipinfo(i) for i in infos]


def verify_zip(source: ZipSource, *, label: str | None = None) -> list[MemberInfo]:
    """:func:`check_zip` plus a full read of every member checking CRCs (``ZipFile.testzip``)."""
    where = _label(source, label)
    members = check_zip(source, label=where)
    if not isinstance(source, str | os.PathLike):
        source.seek(0)
    try:
        with _open_zip(source, where) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise IntegrityError(f"{where} failed the zip integrity check: {exc}") from exc
    if bad is not None:
        raise IntegrityError(f"{where} failed the zip integrity check: member {bad!r} has a bad CRC")
    return members


def member_info(source: ZipSource, member_name: str, *, label: str | None = None) -> MemberInfo:
    """Declared size, compressed size, CRC and date of one member."""
    where = _label(source, label)
    with _open_zip(source, where) as zf:
        try:
            info = zf.getinfo(member_name)
        except KeyError:
            raise IntegrityError(
                f"{where} has no member {member_name!r}", hint=f"Members: {', '.join(zf.namelist()) or 'none'}."
            ) from None
    return MemberInfo.from_zipinfo(info)


def open_member(
    source: ZipSource,
    member_name: str,
    *,
    check: bool = True,
    max_ratio: float = DEFAULT_MAX_RATIO,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    label: str | None = None,
) -> IO[bytes]:
    """A binary stream of one member, decompressed on the fly (nothing is written to disk).

    The caller closes the stream (use it as a context manager). By default the archive is checked
    first (:func:`check_zip`); zipfile itself stops at the declared size and checks the CRC at the end,
    raising ``zipfile.BadZipFile`` on a mismatch.
    """
    where = _label(source, label)
    if check:
        check_zip(source, max_ratio=max_ratio, max_total_bytes=max_total_bytes, label=where)
        if not isinstance(source, str | os.PathLike):
            source.seek(0)
    zf = _open_zip(source, where)
    try:
        try:
            info = zf.getinfo(member_name)
        except KeyError:
            raise IntegrityError(
                f"{where} has no member {member_name!r}", hint=f"Members: {', '.join(zf.namelist()) or 'none'}."
            ) from None
        try:
            # The member stream keeps its own reference to the archive file; closing the ZipFile here
            # only drops ours, so the file is closed when the caller closes the stream.
            return zf.open(info, "r")
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            raise IntegrityError(f"Cannot open member {member_name!r} of {where}: {exc}") from exc
    finally:
        zf.close()
