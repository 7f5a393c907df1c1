"""Hostile lines through the real loader into PostgreSQL: each line is loaded byte-exact or rejected
with its exact raw bytes and a reason, whatever the split between parallel batches."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fecflow.staging.coverage as coverage_module

pytestmark = pytest.mark.integration

FIELDS = 7  # ccl

TOKENS = [
    b"",
    b"H0AK00014",
    b'ROBERT E "BUD" JR',
    b'"',
    b"'",
    b"N\\A",
    b"ACME CORP\\",
    b"\\",
    b"\\.",
    b"\\N",
    b" padded ",
    b"caf\xc3\xa9",  # UTF-8
    b"\xf0\x9f\x98\x80",  # 4-byte UTF-8
    b"\xe9",  # latin-1 / cp1252
    b"\x93quoted\x94",  # cp1252 curly quotes
    b"\x81\x8d\x8f\x90\x9d",  # undefined in cp1252
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate: invalid
    b"\x00",
    b"\x01",
    b"\x02REJECTED",
    b"\r",
    b"x" * 3000,
    b",;\t",
]

field = st.one_of(
    st.sampled_from(TOKENS), st.binary(max_size=12).map(lambda b: b.replace(b"|", b"").replace(b"\n", b""))
)
normal_line = st.lists(field, min_size=FIELDS, max_size=FIELDS).map(b"|".join)
odd_line = st.one_of(
    st.lists(field, min_size=1, max_size=FIELDS + 2).map(b"|".join),  # too few / too many pipes
    st.sampled_from([b"", b"\\.", b"\r", b"|" * (FIELDS - 1), b"\\.|" + b"|" * (FIELDS - 2)]),
)
line = st.one_of(normal_line, normal_line, normal_line, odd_line)
document = st.tuples(
    st.lists(st.tuples(line, st.sampled_from([b"\n", b"\n", b"\r\n"])), min_size=1, max_size=40),
    st.booleans(),  # final newline
    st.sampled_from([1, 2, 3]),  # workers
)


def build(lines: list[tuple[bytes, bytes]], final_newline: bool) -> bytes:
    data = b"".join(text + end for text, end in lines)
    if not final_newline:
        data = data[: -len(lines[-1][1])]
    return data


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=document)
def test_each_line_is_loaded_exactly_or_rejected_with_its_raw_bytes(
    stager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doc
) -> None:
    monkeypatch.setattr(coverage_module, "MIN_PART_BYTES", 1)  # split even tiny payloads between workers
    lines, final_newline, workers = doc
    data = build(lines, final_newline)
    path = tmp_path / f"ccl-{uuid.uuid4().hex}.txt"
    path.write_bytes(data)

    result = stager.stage(path, "ccl", workers=workers, replace=True)
    sfid = result.source_file_id
    assert result.batches == max(1, min(workers, len(data)))

    # The file's physical lines, as the loader must see them.
    physical = data.split(b"\n")
    if physical[-1] == b"":
        physical.pop()
    assert result.lines == len(physical) == result.loaded + result.rejected
    stager.assert_balanced("ccl", sfid)
    with psycopg.connect(stager.db_url) as conn:
        rejected = {
            n: (reason, bytes(raw))
            for n, reason, raw in conn.execute(
                "SELECT line_number, reason, raw FROM ops.rejected_row WHERE source_file_id = %s", (sfid,)
            )
        }
        staged = {
            n
            for (n,) in conn.execute(
                "SELECT _line_number FROM staging.ccl WHERE _source_file_id = %s", (sfid,)
            )
        }
    assert staged.isdisjoint(rejected) and staged | set(rejected) == set(range(1, len(physical) + 1))
    for number, (reason, raw) in rejected.items():
        assert raw == physical[number - 1], number  # exact bytes, CR of a CRLF line included
        assert reason
    for number, text in enumerate(physical, start=1):
        if b"\x00" in text:
            assert rejected[number][0] == "nul_byte"
        body = text[:-1] if text.endswith(b"\r") else text
        if b"\x00" not in body and b"\r" not in body and body.count(b"|") != FIELDS - 1 and body:
            assert number in rejected
    # Accepted lines are byte-exact: the export rebuilds the whole file.
    assert stager.export(sfid) == data


def test_a_line_over_the_limit_is_rejected_and_reported_as_truncated(stager, tmp_path: Path) -> None:
    long_line = b"|".join([b"y" * (1024 * 1024 + 10)] + [b"a"] * (FIELDS - 1))
    good = b"|".join([b"b"] * FIELDS)
    path = tmp_path / "ccl.txt"
    path.write_bytes(good + b"\n" + long_line + b"\n" + good + b"\n")
    result = stager.stage(path, "ccl")
    assert (result.lines, result.loaded, result.rejected) == (3, 2, 1)
    exported = stager.export(result.source_file_id)
    assert exported != path.read_bytes()  # only the first MiB of the long line is kept
    assert exported.startswith(good + b"\n" + b"y" * 1000)
    assert exported.endswith(b"\n" + good + b"\n")
