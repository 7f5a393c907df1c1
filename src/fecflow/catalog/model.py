"""Types of the catalog: a :class:`FileSpec` per FEC bulk file, a :class:`Column` per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fecflow.catalog.ids import ID_COLUMNS

# How a raw text field is meant to be read downstream (staging keeps everything as text).
ColumnType = Literal["text", "id", "code", "date_mmddyyyy", "date_mm_dd_yyyy", "amount", "integer", "bigint"]
# master: one row per entity (snapshot); transaction: itemized money (SUB_ID); summary: FEC's totals.
FileRole = Literal["master", "transaction", "summary"]


@dataclass(frozen=True)
class Column:
    raw: str  # FEC column name, as in the header file (e.g. TRANSACTION_AMT)
    name: str  # readable name used from core up (e.g. amount)
    type: ColumnType
    description: str

    @property
    def staging_name(self) -> str:
        """Column name in the staging table: the raw FEC name, lower-cased."""
        return self.raw.lower()


@dataclass(frozen=True)
class FileSpec:
    file_type: str  # catalog key, e.g. "indiv"
    role: FileRole
    title: str
    description: str
    zip_name: str  # pattern with {yy}, e.g. "indiv{yy}.zip"
    member: str  # pattern of the text file inside the zip, e.g. "itcont.txt" or "weball{yy}.txt"
    header_file: str | None  # FEC data-dictionary header file name, if FEC publishes one
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...]  # raw column names; not enforced in staging (dupes exist)
    date_column: str | None = None  # raw column that gives the payload window
    notes: tuple[str, ...] = field(default_factory=tuple)
    required: tuple[str, ...] = ()  # raw columns that must not be empty (schema check)
    id_patterns: tuple[tuple[str, str], ...] = ()  # (raw column, pattern) beyond ids.ID_COLUMNS
    normalize_order: int | None = None  # normalized into core, in this order (None: not normalized)

    @property
    def field_count(self) -> int:
        return len(self.columns)

    @property
    def staging_table(self) -> str:
        return self.file_type

    def id_pattern(self, raw: str) -> str | None:
        """The shape a non-empty value of column ``raw`` must have, if it is an identifier."""
        return dict(self.id_patterns).get(raw) or ID_COLUMNS.get(raw)

    def zip_for_cycle(self, cycle: int) -> str:
        return self.zip_name.format(yy=f"{cycle % 100:02d}")

    def member_for_cycle(self, cycle: int) -> str:
        return self.member.format(yy=f"{cycle % 100:02d}")

    def url(self, base_url: str, cycle: int) -> str:
        """``{base}/{YEAR}/{name}{YY}.zip`` where YEAR is the even year that ends the cycle."""
        return f"{base_url.rstrip('/')}/{cycle}/{self.zip_for_cycle(cycle)}"

    def header_url(self, base_url: str) -> str | None:
        if self.header_file is None:
            return None
        return f"{base_url.rstrip('/')}/data_dictionaries/{self.header_file}"

    def column(self, raw: str) -> Column:
        for col in self.columns:
            if col.raw == raw:
                return col
        raise KeyError(f"{self.file_type} has no column {raw}")

    @property
    def raw_names(self) -> tuple[str, ...]:
        return tuple(c.raw for c in self.columns)
