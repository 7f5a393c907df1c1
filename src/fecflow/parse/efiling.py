"""One FEC electronic filing (.fec) -> one record per physical line, nothing lost.

The bytes are cut at LF only (a ``\\x1c`` field separator or a lone CR is data, not a line end) and
every line keeps its own bytes, terminator included, so the lines joined again are the file. Fields
are mapped by the maintained `fecfile` parser (``fecfile.parse_header`` / ``parse_line``, all values
as strings): this module decides only what a line *is*:

* the header (``HDR`` line, or the ``/* Header`` ... ``/*`` block of versions 1 and 2);
* free text between ``[BEGINTEXT]`` and ``[ENDTEXT]`` (F99), kept as ``{"text": ...}``;
* a blank line (kept, so the line count and the bytes stay exact);
* a form or schedule record, mapped to named fields.

Rejected lines (a record the parser has no mapping for, a NUL byte, an undecodable header) and a whole
filing in an unknown format version are returned with a reason, never dropped.
"""

from __future__ import annotations

import csv
import hashlib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import fecfile

from fecflow.catalog.efilings import (
    BLANK_RECORD,
    HEADER_RECORD,
    KNOWN_VERSION,
    TEXT_BEGIN,
    TEXT_END,
    TEXT_RECORD,
)

_LINE = re.compile(rb"[^\n]*\n|[^\n]+\Z")

#: Reasons a line is quarantined.
UNKNOWN_VERSION = "unknown_version"
NO_HEADER = "no_header"
UNMAPPED_RECORD = "unmapped_record"
NUL_BYTE = "nul_byte"
UNPARSEABLE = "unparseable"

#: What fecfile raises on a line it cannot read (translated here, once, into a quarantined line).
_PARSER_ERRORS = (csv.Error, IndexError, KeyError, ValueError, TypeError, fecfile.FecParserMissingMappingError)


@dataclass(frozen=True)
class FilingLine:
    line_number: int  # 1-based
    raw: bytes  # the line's bytes, its LF (and a CR before it) included
    record_type: str  # HDR, TEXT, BLANK or the record's form type (F3N, SA11AI, ...)
    fields: dict[str, Any] | None  # None when rejected
    reason: str | None = None  # set when rejected
    detail: str | None = None
    recoded: bool = False  # not UTF-8: decoded as cp1252/latin-1 for the fields (raw kept as is)

    @property
    def rejected(self) -> bool:
        return self.reason is not None


@dataclass
class ParsedFiling:
    """A filing's lines and what its header says. ``lines`` holds every line, parsed or rejected."""

    sha256: str
    bytes: int
    version: str | None
    header: dict[str, Any]
    lines: list[FilingLine] = field(default_factory=list)
    error: str | None = None  # why the whole filing was quarantined

    @property
    def parsed(self) -> int:
        return sum(1 for ln in self.lines if not ln.rejected)

    @property
    def rejected(self) -> int:
        return sum(1 for ln in self.lines if ln.rejected)

    @property
    def form_line(self) -> FilingLine | None:
        """The first record after the header (the report's cover and summary page)."""
        return next(
            (ln for ln in self.lines if not ln.rejected and ln.record_type not in (HEADER_RECORD, TEXT_RECORD, BLANK_RECORD)),
            None,
        )


def split_lines(data: bytes) -> list[bytes]:
    """The physical lines of ``data`` (LF-terminated; the last one may lack its LF)."""
    return _LINE.findall(data)


def _decode(raw: bytes) -> tuple[str, bool]:
    body = raw[:-1] if raw.endswith(b"\n") else raw
    if body.endswith(b"\r"):
        body = body[:-1]
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace"), True


def _header(texts: list[str]) -> tuple[dict[str, Any] | None, str | None, int]:
    """(header fields, version, header line count); (None, None, 0) when no header can be read."""
    for end in range(1, min(len(texts), 200) + 1):
        try:
            header, version, size = fecfile.parse_header(texts[:end])
        except _PARSER_ERRORS as exc:
            if not texts[0].startswith("/*"):
                # The parser has no mapping for this header: name its version, so the filing is
                # quarantined as an unknown version rather than as unreadable.
                fields = [f.strip().strip('"') for f in re.split(r"[\x1c,]", texts[0])]
                if len(fields) >= 3 and fields[0].upper() == "HDR" and fields[1].upper() == "FEC":
                    return {"parser_error": str(exc)}, fields[2], 1
                return None, None, 0
            continue
        if header is not None:
            return dict(header), str(version).strip(), int(size)
    return None, None, 0


def parse_filing(data: bytes) -> ParsedFiling:
    """Every line of one filing, classified and mapped (see the module docstring)."""
    raws = split_lines(data)
    decoded = [_decode(r) for r in raws]
    texts = [t for t, _ in decoded]
    filing = ParsedFiling(hashlib.sha256(data).hexdigest(), len(data), None, {})
    header, version, header_size = _header(texts) if texts else (None, None, 0)
    if header is None or version is None:
        filing.error = "no readable .fec header (HDR line or /* Header block) at the top of the file"
        filing.lines = [
            FilingLine(i, raw, "?", None, NO_HEADER, filing.error, recoded)
            for i, (raw, (_, recoded)) in enumerate(zip(raws, decoded, strict=True), start=1)
        ]
        return filing
    filing.version, filing.header = version, _jsonable(header)
    if not KNOWN_VERSION.match(version):
        filing.error = f"unknown .fec format version {version!r} (fecflow reads versions 1 through 8.5)"
        filing.lines = [
            FilingLine(i, raw, _record_type(t, version), None, UNKNOWN_VERSION, filing.error, recoded)
            for i, (raw, (t, recoded)) in enumerate(zip(raws, decoded, strict=True), start=1)
        ]
        return filing
    filing.lines = list(_iter_lines(raws, decoded, version, header_size, filing.header))
    return filing


def _iter_lines(
    raws: list[bytes], decoded: list[tuple[str, bool]], version: str, header_size: int, header: dict[str, Any]
) -> Iterator[FilingLine]:
    in_text = False
    for i, (raw, (text, recoded)) in enumerate(zip(raws, decoded, strict=True), start=1):
        if "\x00" in text:
            yield FilingLine(i, raw, "?", None, NUL_BYTE, "the line holds a NUL byte", recoded)
            continue
        if i <= header_size:
            yield FilingLine(i, raw, HEADER_RECORD, header if i == 1 else {"text": text}, recoded=recoded)
            continue
        marker = text.strip().upper()
        if marker in TEXT_BEGIN or marker in TEXT_END or in_text:
            in_text = (in_text or marker in TEXT_BEGIN) and marker not in TEXT_END
            yield FilingLine(i, raw, TEXT_RECORD, {"text": text}, recoded=recoded)
            continue
        if not text.strip():
            yield FilingLine(i, raw, BLANK_RECORD, {}, recoded=recoded)
            continue
        record_type = _record_type(text, version)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fields = fecfile.fecparser.parse_line(text, version, i, as_strings=True)
        except fecfile.FecParserMissingMappingError as exc:
            yield FilingLine(i, raw, record_type, None, UNMAPPED_RECORD, str(exc), recoded)
            continue
        except _PARSER_ERRORS as exc:
            yield FilingLine(i, raw, record_type, None, UNPARSEABLE, f"{type(exc).__name__}: {exc}", recoded)
            continue
        if not fields:
            yield FilingLine(i, raw, record_type, None, UNMAPPED_RECORD, "fewer than two fields", recoded)
            continue
        yield FilingLine(i, raw, record_type, _jsonable(fields), recoded=recoded)


def _record_type(text: str, version: str) -> str:
    first = re.split(r"[\x1c,]", text, maxsplit=1)[0] if text else ""
    return first.strip().strip('"').strip().upper() or "?"


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {str(k): (v if isinstance(v, str | int | float | type(None) | dict) else str(v)) for k, v in fields.items()}

