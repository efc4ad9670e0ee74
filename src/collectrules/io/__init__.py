"""Reading cases from files: JSON, JSON Lines, CSV, Parquet, directories of them, or
pandas and Arrow frames; shaped by a column map, money units and long tables."""

from __future__ import annotations

from collectrules.io.reader import (
    CASE_SUFFIXES,
    FRAME_SOURCE,
    MAX_LINE_BYTES,
    Row,
    case_files,
    check_encoding,
    read_rows,
)
from collectrules.io.shapes import MONEY_FIELDS, MoneyUnit, RowShape, load_column_map

__all__ = [
    "CASE_SUFFIXES",
    "FRAME_SOURCE",
    "MAX_LINE_BYTES",
    "MONEY_FIELDS",
    "MoneyUnit",
    "Row",
    "RowShape",
    "case_files",
    "check_encoding",
    "load_column_map",
    "read_rows",
]
