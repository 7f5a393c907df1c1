"""FEC data-dictionary header files: one comma-separated line of raw column names."""

from __future__ import annotations

from collections.abc import Sequence

from fecflow.catalog.model import FileSpec
from fecflow.errors import DataError


def read_header_file(data: bytes) -> list[str]:
    """Column names from the bytes of an FEC ``*_header_file.csv``.

    Tolerates what real copies differ in: CRLF or LF or no line end, a UTF-8 BOM, spaces around
    names, trailing blank lines. Raises :class:`~fecflow.errors.DataError` when the file is empty,
    not text, or has more than one non-blank line.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"Header file is not UTF-8 text: {exc}") from exc
    lines = [line for line in text.replace("\r", "").split("\n") if line.strip()]
    if not lines:
        raise DataError("Header file is empty.")
    if len(lines) > 1:
        raise DataError(f"Header file has {len(lines)} non-blank lines, expected 1.")
    names = [name.strip() for name in lines[0].split(",")]
    if any(not name for name in names):
        raise DataError(f"Header file has an empty column name: {lines[0]!r}")
    return names


def check_header_matches(spec: FileSpec, names: Sequence[str]) -> None:
    """Raise :class:`~fecflow.errors.DataError` unless ``names`` are the catalog's raw columns, in order.

    Names are compared case-insensitively (FEC writes them upper case). The message lists every
    position that differs, so a renamed, added or dropped column is easy to spot.
    """
    expected = spec.raw_names
    got = tuple(names)
    if tuple(n.upper() for n in got) == tuple(n.upper() for n in expected):
        return
    diffs = [
        f"#{i + 1}: expected {e!r}, got {g!r}"
        for i, (e, g) in enumerate(zip(expected, got, strict=False))
        if e.upper() != g.upper()
    ]
    if len(got) != len(expected):
        diffs.insert(0, f"expected {len(expected)} columns, got {len(got)}")
    raise DataError(
        f"The FEC header for {spec.file_type!r} does not match the catalog: " + "; ".join(diffs[:10]),
        hint=(
            f"FEC changed the {spec.file_type} layout: update fecflow/catalog/files.py "
            "and the staging schema."
        ),
    )
