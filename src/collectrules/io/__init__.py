"""Reading cases from files: JSON, JSON Lines, CSV, or a directory of JSON files."""

from __future__ import annotations

from collectrules.io.reader import Row, read_rows

__all__ = ["Row", "read_rows"]
