"""The real FEC samples used here, and hand computations straight from the raw files (pure Python)."""

from __future__ import annotations

import datetime as dt
import gzip
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from fecflow.catalog import FILES
from fecflow.normalize.rules import rule_for
from support.samples import SAMPLES

EARLY_2020 = SAMPLES / "bulk-2020-early-snapshot-2019-03" / "extracted"
LATE_2020 = SAMPLES / "masters-2020-late-snapshot-2020-11"
BULK_2018 = SAMPLES / "bulk-2018-cycle" / "extracted"

# Snapshot times: the early 2020 files were downloaded in March 2019, the late masters in November 2020.
EARLY_AT = dt.datetime(2019, 3, 19, 12, 0, tzinfo=dt.UTC)
LATE_AT = dt.datetime(2020, 11, 7, 12, 0, tzinfo=dt.UTC)

Stager = Callable[..., int]


def read_rows(path: Path, file_type: str) -> list[list[str]]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = data.decode("utf-8")
    rows = [line.split("|") for line in text.split("\n") if line]
    width = FILES[file_type].field_count
    assert all(len(r) == width for r in rows)
    return rows


def col(file_type: str, raw_name: str) -> int:
    return FILES[file_type].raw_names.index(raw_name)


def master_records(path: Path, file_type: str) -> dict[str, tuple[str, ...]]:
    """id -> the content of its last line (what normalization keeps)."""
    out: dict[str, tuple[str, ...]] = {}
    for row in read_rows(path, file_type):
        out[row[0]] = tuple(row)
    return out


def counted_total(rows: list[list[str]], file_type: str, committee_id: str) -> Decimal:
    """Net counted money of a filer: sum(sign * amount) over rows whose rule counts (refunds net)."""
    i_cmte, i_tp = col(file_type, "CMTE_ID"), col(file_type, "TRANSACTION_TP")
    i_memo, i_amt = col(file_type, "MEMO_CD"), col(file_type, "TRANSACTION_AMT")
    total = Decimal(0)
    for row in rows:
        if row[i_cmte] != committee_id:
            continue
        rule = rule_for(row[i_tp], row[i_memo])
        if rule.counts_as_contribution:
            total += rule.sign * Decimal(row[i_amt])
    return total


def type_counts(rows: list[list[str]], file_type: str) -> Counter[str]:
    return Counter(r[col(file_type, "TRANSACTION_TP")] for r in rows)
