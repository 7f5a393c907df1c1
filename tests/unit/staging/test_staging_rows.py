"""The per-block work of the loader: row prefixes, side rows, dates, the split plan."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from fecflow.catalog import FILES
from fecflow.parse import iter_blocks
from fecflow.staging.coverage import fresh_plan
from fecflow.staging.payload import Payload
from fecflow.staging.rows import (
    DateCounter,
    SideRows,
    block_rows,
    date_window,
    parse_fec_date,
    prefix_rows,
    split_rows,
)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=40),
    first=st.integers(min_value=1, max_value=10**12),
)
def test_prefix_rows_matches_the_naive_version(lines: list[bytes], first: int) -> None:
    data = b"".join(line + b"\n" for line in lines)
    expected = b"".join(b"7|42|%d|" % (first + i) + line + b"\n" for i, line in enumerate(lines))
    assert prefix_rows(split_rows(data), range(first, first + len(lines)), "7|42|") == expected


def test_side_rows_keep_original_bytes_of_recoded_and_crlf_lines() -> None:
    raw = b"a|b\r\n" + b"caf\xe9|x\r\n" + b"ok|y\n" + b"bad\n" + b"na\xefve|z\n"
    side = SideRows()
    for block in iter_blocks(io.BytesIO(raw), 2):
        side.add(block)
    assert side.rejects == [(4, "field_count", "expected 2 fields, got 1", b"bad")]
    assert sorted(side.raw_lines) == [
        (1, "crlf", b"a|b\r"),
        (2, "recoded,crlf", b"caf\xe9|x\r"),
        (5, "recoded", b"na\xefve|z"),
    ]


def test_side_rows_of_an_all_crlf_block() -> None:
    raw = b"a|b\r\nc|d\r\n"
    side = SideRows()
    for block in iter_blocks(io.BytesIO(raw), 2):
        side.add(block)
    assert side.raw_lines == [(1, "crlf", b"a|b\r"), (2, "crlf", b"c|d\r")]


def test_parse_fec_date_is_strict() -> None:
    # The latest valid year is passed explicitly (the default, next year, depends on today's date).
    last_year = 2021
    assert parse_fec_date("03042019", last_year=last_year) == dt.date(2019, 3, 4)
    assert parse_fec_date("01011975", last_year=last_year) == dt.date(1975, 1, 1)
    assert parse_fec_date("12312021", last_year=last_year) == dt.date(2021, 12, 31)
    assert parse_fec_date("03042019") == dt.date(2019, 3, 4)  # default: through next year
    assert parse_fec_date("01012916") is None
    for bad in (
        None,
        "",
        "0304201",
        "030420190",
        "02302019",
        "13012019",
        "01011918",
        "01012916",
        "01012022",
        "2019-03-04",
        "0304２019",
        " 3042019",
    ):
        assert parse_fec_date(bad, last_year=last_year) is None, bad


def test_date_window_counts_invalid_and_blank() -> None:
    window = date_window(
        [("03042019", 5), ("11212017", 1), ("02302019", 2), (None, 3), ("  ", 1), ("01012916", 1)]
    )
    assert (window.start, window.end) == (dt.date(2017, 11, 21), dt.date(2019, 3, 4))
    assert (window.invalid, window.blank) == (3, 4)
    empty = date_window([])
    assert (empty.start, empty.end, empty.invalid, empty.blank) == (None, None, 0, 0)


def _payload(size: int) -> Payload:
    return Payload("x", "plain", None, size, True, lambda: io.BytesIO(b""))


def test_fresh_plan_splits_only_big_payloads() -> None:
    single = fresh_plan(_payload(1000), 4)
    assert len(single) == 1 and single[0].hashes_payload and single[0].end is None
    parts = fresh_plan(_payload(30_000_000), 3)
    assert [s.start for s in parts] == [0, 10_000_000, 20_000_000]
    assert [s.end for s in parts] == [10_000_000, 20_000_000, None]
    assert [s.start_line for s in parts] == [1, None, None]
    assert [s.hashes_payload for s in parts] == [False, False, True]
    assert not any(s.end_exact for s in parts[:-1])


def test_first_staging_column_can_hold_the_placeholder_marker() -> None:
    # Placeholder rows are found by their first column; every catalog file must have one.
    for spec in FILES.values():
        assert spec.field_count >= 2 and spec.columns[0].staging_name.isidentifier()


@settings(max_examples=50, deadline=None)
@given(
    column=st.sampled_from([c.raw for c in FILES["indiv"].columns]),
    rows=st.lists(
        st.lists(
            st.binary(max_size=5).map(lambda b: b.replace(b"|", b"").replace(b"\n", b"")),
            min_size=21,
            max_size=21,
        ),
        max_size=20,
    ),
    placeholders=st.integers(min_value=0, max_value=3),
)
def test_date_counter_picks_the_column_wherever_it_is(
    column: str, rows: list[list[bytes]], placeholders: int
) -> None:
    spec = dataclasses.replace(FILES["indiv"], date_column=column)
    index = [c.raw for c in spec.columns].index(column)
    lines = [b"|".join(r) for r in rows]
    counter = DateCounter(spec)
    counter.add(lines)
    expected = Counter(r[index] for r in rows)
    assert counter.counts == expected


def test_block_rows_leave_placeholders_out() -> None:
    raw = b"a|b\nbad\nc|d\n\x00|x\ne|f\n"
    (block,) = iter_blocks(io.BytesIO(raw), 2)
    rows, numbers = block_rows(block)
    assert rows == [b"a|b", b"c|d", b"e|f"] and list(numbers) == [1, 3, 5]
    assert prefix_rows(rows, numbers, "1|2|") == b"1|2|1|a|b\n1|2|3|c|d\n1|2|5|e|f\n"
    (clean,) = iter_blocks(io.BytesIO(b"a|b\nc|d\n"), 2, start_line=7)
    assert block_rows(clean) == ([b"a|b", b"c|d"], range(7, 9))
