"""Payloads (plain, gzip, zip member) opened at exact offsets and at line boundaries; name guessing."""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fecflow.catalog import FILES
from fecflow.errors import DataError, IntegrityError
from fecflow.staging.payload import (
    guess_cycle,
    guess_file_type,
    limit_to_boundary,
    limit_to_offset,
    open_payload,
)

CONTENT = b"".join(b"line %d|a|b\n" % i for i in range(1, 2001)) + b"tail without newline"


def read_all(stream) -> bytes:
    chunks = []
    while chunk := stream.read(777):
        chunks.append(chunk)
    stream.close()
    return b"".join(chunks)


@pytest.fixture(params=["plain", "gzip", "zip"])
def payload_path(request, tmp_path: Path) -> Path:
    kind = request.param
    if kind == "plain":
        path = tmp_path / "cm.txt"
        path.write_bytes(CONTENT)
    elif kind == "gzip":
        path = tmp_path / "cm.txt.gz"
        path.write_bytes(gzip.compress(CONTENT))
    else:
        path = tmp_path / "cm20.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("cm.txt", CONTENT)
    return path


def boundary(data: bytes, hint: int) -> int:
    """The reference definition: just after the first LF at or after hint - 1 (end when none)."""
    if hint <= 0:
        return 0
    at = data.find(b"\n", hint - 1)
    return len(data) if at < 0 else at + 1


def test_kind_size_and_full_read(payload_path: Path) -> None:
    payload = open_payload(payload_path, spec=FILES["cm"])
    assert payload.kind in ("plain", "gzip", "zip")
    assert payload.size == len(CONTENT)  # gzip: ISIZE is exact below 4 GiB
    assert read_all(payload.open()) == CONTENT
    if payload.kind == "zip":
        assert payload.member == "cm.txt"


@pytest.mark.parametrize("offset", [0, 1, 12, 5000, len(CONTENT)])
def test_open_at_exact_offsets(payload_path: Path, offset: int) -> None:
    payload = open_payload(payload_path)
    assert read_all(payload.open_at(offset)) == CONTENT[offset:]


def test_open_at_past_the_end_of_a_compressed_payload(payload_path: Path) -> None:
    payload = open_payload(payload_path)
    if payload.kind == "plain":
        assert read_all(payload.open_at(len(CONTENT) + 10)) == b""
        return
    with pytest.raises(IntegrityError, match="fewer than"):
        payload.open_at(len(CONTENT) + 10)


@pytest.mark.parametrize(
    "hint", [0, 1, 2, 13, 14, 15, 4096, len(CONTENT) - 25, len(CONTENT) - 1, len(CONTENT)]
)
def test_open_after_finds_the_boundary_counts_lines_and_hashes(payload_path: Path, hint: int) -> None:
    payload = open_payload(payload_path)
    hasher = hashlib.sha256()
    stream, start, lines = payload.open_after(hint, hasher=hasher)
    expected = boundary(CONTENT, hint)
    assert start == expected
    assert lines == CONTENT[:expected].count(b"\n")
    rest = read_all(stream)
    assert rest == CONTENT[expected:]
    hasher.update(rest)
    assert hasher.hexdigest() == hashlib.sha256(CONTENT).hexdigest()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=300).map(lambda b: b"x" + b.replace(b"\x00", b"\n")),
    cuts=st.lists(st.integers(min_value=0, max_value=320), max_size=4),
)
def test_ranges_between_hints_tile_the_payload(tmp_path_factory, data: bytes, cuts: list[int]) -> None:
    path = tmp_path_factory.mktemp("p") / "x.txt"
    path.write_bytes(data)
    payload = open_payload(path)
    hints = sorted(set(cuts))
    pieces, line_numbers = [], []
    starts = [0, *hints]
    ends = [*hints, None]
    for start_hint, end_hint in zip(starts, ends, strict=True):
        stream, start, before = payload.open_after(start_hint)
        if end_hint is not None:
            stream = limit_to_boundary(stream, start, end_hint)
        pieces.append(read_all(stream))
        line_numbers.append(before)
    assert b"".join(pieces) == data
    offset = 0
    for piece, before in zip(pieces, line_numbers, strict=True):
        assert data[:offset].count(b"\n") == before
        offset += len(piece)


def test_limit_to_offset_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(CONTENT)
    payload = open_payload(path)
    assert read_all(limit_to_offset(payload.open_at(10), 10, 30)) == CONTENT[10:30]
    assert read_all(limit_to_offset(payload.open_at(30), 30, 30)) == b""


def test_zip_member_choice(tmp_path: Path) -> None:
    path = tmp_path / "weball22.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", b"x")
        zf.writestr("weball22.txt", b"a|b\n")
    assert open_payload(path, spec=FILES["weball"]).member == "weball22.txt"
    assert open_payload(path, member="readme.txt").member == "readme.txt"
    with pytest.raises(DataError, match="2 members"):
        open_payload(path)
    with pytest.raises(IntegrityError, match="no member"):
        open_payload(path, member="nope.txt")


@pytest.mark.parametrize(
    ("name", "file_type", "cycle"),
    [
        ("indiv20.zip", "indiv", 2020),
        ("itcont.txt", "indiv", None),
        ("itcont.txt.gz", "indiv", None),
        ("itcont_head10000.txt", "indiv", None),
        ("itcont_insight_sample.txt", "indiv", None),
        ("cm18.zip", "cm", 2018),
        ("cm.txt", "cm", None),
        ("ccl.txt", "ccl", None),
        ("pas220.zip", "pas2", 2020),
        ("itpas2.txt", "pas2", None),
        ("itoth.txt.gz", "oth", None),
        ("weball22.txt", "weball", 2022),
        ("webl20.zip", "webl", 2020),
        ("webk20.txt", "webk", 2020),
        ("0123456789abcdef-cm20.zip", None, None),
        ("notes.txt", None, None),
    ],
)
def test_guess_file_type_and_cycle(name: str, file_type: str | None, cycle: int | None) -> None:
    assert guess_file_type(name) == file_type
    assert guess_cycle(name) == cycle


@pytest.mark.parametrize("start", [b"PK\x05\x06" + b"\x00" * 30, b"PK\x03\x04|a", b"\x1f\x8b\x08|b"])
def test_a_txt_file_is_text_whatever_its_first_bytes(tmp_path: Path, start: bytes) -> None:
    path = tmp_path / "ccl.txt"
    path.write_bytes(start + b"\nnext|line\n")
    payload = open_payload(path)
    assert payload.kind == "plain"
    assert read_all(payload.open()) == path.read_bytes()


def test_other_names_are_sniffed(tmp_path: Path) -> None:
    zipped = tmp_path / "download.bin"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("cn.txt", b"a|b\n")
    gzipped = tmp_path / "download.data"
    gzipped.write_bytes(gzip.compress(b"a|b\n"))
    assert open_payload(zipped).kind == "zip"
    assert open_payload(gzipped).kind == "gzip"
    assert (
        open_payload(tmp_path / "download.data", opener=lambda: open(gzipped, "rb"), label="s3://b/x").kind
        == "gzip"
    )
