"""Arrow and Parquet input: rows of a Parquet file, a pyarrow Table or a pandas DataFrame.

Needs pyarrow (the ``parquet`` extra: ``pip install 'collectrules[parquet]'``); without
it, reading Parquet fails with an :class:`~collectrules.errors.InputError` saying so.

Each row becomes the plain data :meth:`Case.from_dict
<collectrules.model.case.Case.from_dict>` reads, as if it came from JSON: timestamps
with a time zone become ISO strings with their offset (a timestamp without one stays
naive, and the case is refused for it, as in JSON), dates ISO dates, decimals their
exact text, nulls are left out (as an empty CSV cell). Lists and structs (a case's
signals and events) are converted the same way, inside. Rows are read in record
batches, so a large file is never held whole in memory.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from collectrules.errors import FieldProblem, InputError

__all__ = ["BATCH_ROWS", "is_frame", "parquet_rows", "plain", "require_pyarrow", "table_rows"]

BATCH_ROWS = 4_096
"""Rows converted at a time."""


@functools.cache
def _pyarrow() -> tuple[ModuleType, ModuleType] | None:
    """pyarrow and pyarrow.parquet, imported on first use (they cost ~150 ms), or None."""
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")
    except ImportError:  # the [parquet] extra is not installed
        return None


def require_pyarrow(what: str) -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet; an :class:`InputError` naming ``what`` when missing."""
    modules = _pyarrow()
    if modules is None:
        problem = FieldProblem(
            "", f"{what} needs pyarrow: pip install 'collectrules[parquet]'", source=what
        )
        raise InputError([problem])
    return modules


def plain(value: Any) -> Any:
    """An Arrow value as JSON-like data (see the module docstring); None stays None."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): plain(v) for k, v in value if v is not None}  # an Arrow map
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _rows_of(batches: Any) -> Iterator[dict[str, Any]]:
    for batch in batches:
        for row in batch.to_pylist():
            yield {k: plain(v) for k, v in row.items() if v is not None}


def parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet file as plain dicts, in order, a record batch at a time."""
    pa, pq = require_pyarrow(str(path))
    try:
        reader = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(
            [FieldProblem("", f"not a readable Parquet file: {str(exc)[:200]}", source=str(path))]
        ) from None
    yield from _rows_of(reader.iter_batches(batch_size=BATCH_ROWS))


def is_frame(rows: object) -> bool:
    """Whether ``rows`` is a pyarrow Table or RecordBatch, or a pandas DataFrame."""
    module = type(rows).__module__
    return (module.startswith("pyarrow") and hasattr(rows, "to_batches")) or (
        module.startswith("pandas") and hasattr(rows, "itertuples")
    )


def table_rows(frame: Any) -> Iterator[dict[str, Any]]:
    """The rows of a pyarrow Table or RecordBatch, or a pandas DataFrame, as plain dicts."""
    pa, _ = require_pyarrow(type(frame).__name__)
    if type(frame).__module__.startswith("pandas"):
        frame = pa.Table.from_pandas(frame, preserve_index=False)
    yield from _rows_of(frame.to_batches(max_chunksize=BATCH_ROWS))
