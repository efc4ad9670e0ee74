"""Reading cases from files: JSON, JSON Lines, CSV, or directories of them."""

from __future__ import annotations

from collectrules.io.reader import (
    CASE_SUFFIXES,
    MAX_LINE_BYTES,
    Row,
    case_files,
    check_encoding,
    read_rows,
)

__all__ = ["CASE_SUFFIXES", "MAX_LINE_BYTES", "Row", "case_files", "check_encoding", "read_rows"]
