"""Reading cases from files, folders and frames, in the shapes lenders hold them.

JSON, JSON Lines, CSV and Parquet files, folders of them, and pandas or Arrow frames
(:func:`read_rows`); a :class:`RowShape` maps columns, reads money in minor units and
joins long tables of signals and events.
"""

from __future__ import annotations

from collectrules.io.reader import (
    CASE_SUFFIXES,
    FRAME_SOURCE,
    MAX_JSON_FILE_BYTES,
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
    "MAX_JSON_FILE_BYTES",
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
