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

A table naming a column twice is refused (which of the two values a row holds would be a
guess): a Parquet file's every row is that error, a table given in Python an
:class:`~collectrules.errors.InputError` naming the column. A row holding a value
Python cannot hold (a date or timestamp past the year 9999) is that row's
:class:`~collectrules.errors.InputError`, naming the column; the next row is read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from collectrules._arguments import source_name
from collectrules.errors import FieldProblem, InputError

__all__ = [
    "BATCH_ROWS",
    "arrow_rows",
    "batch_row",
    "is_frame",
    "pandas_problems",
    "parquet_failures",
    "parquet_rows",
    "plain",
    "repeated_columns",
    "repeated_names",
    "require_pyarrow",
    "table_rows",
    "unreadable_parquet",
]

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


#: The types :func:`plain` passes through; looked up by exact type first, as almost every
#: value Arrow gives is one of them.
_SCALARS = frozenset({str, bool, int, float, type(None)})


def plain(value: Any) -> Any:
    """An Arrow value as JSON-like data (see the module docstring); None stays None."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:  # a struct: a signal, an event
        return {
            k if type(k) is str else str(k): v if type(v) in _SCALARS else plain(v)
            for k, v in value.items()
            if v is not None
        }
    if kind is list and not (value and isinstance(value[0], tuple)):  # not an Arrow map
        return [v if type(v) in _SCALARS else plain(v) for v in value]
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


def _plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if type(v) in _SCALARS else plain(v) for k, v in row.items() if v is not None}


def _unreadable() -> tuple[type[BaseException], ...]:
    """What Arrow raises for a value Python cannot hold (a date past year 9999, …)."""
    pa, _ = require_pyarrow("Arrow data")
    return (ArithmeticError, ValueError, TypeError, NotImplementedError, pa.ArrowException)


def batch_row(batch: Any, index: int) -> dict[str, Any] | InputError:
    """Row ``index`` of an Arrow table or record batch as a plain dict, or the error
    naming each column whose value Python cannot hold (a date past the year 9999)."""
    one = batch.slice(index, 1)
    failures = _unreadable()
    try:
        return _plain_row(one.to_pylist()[0])
    except failures:
        pass
    problems = []
    for name, column in zip(one.schema.names, one.columns, strict=True):
        try:
            column.to_pylist()
        except failures as exc:
            message = f"a value Python cannot read: {str(exc)[:120]}"
            problems.append(FieldProblem(str(name), message))
    return InputError(problems or [FieldProblem("", "a row Python cannot read")])


def _rows_or_errors(batches: Any) -> Iterator[dict[str, Any] | InputError]:
    """Each row as a plain dict; a row holding a value Python cannot hold as its error."""
    failures = _unreadable()
    for batch in batches:
        try:
            rows = batch.to_pylist()
        except failures:
            yield from (batch_row(batch, i) for i in range(batch.num_rows))
            continue
        for row in rows:
            yield _plain_row(row)


def arrow_rows(table: Any) -> Iterator[dict[str, Any] | InputError]:
    """The rows of a pyarrow Table as plain dicts; a row holding a value Python cannot
    hold (a date past the year 9999) is its error, naming the column."""
    return _rows_or_errors(table.to_batches(max_chunksize=BATCH_ROWS))


def parquet_failures() -> tuple[type[BaseException], ...]:
    """What reading a damaged Parquet file raises: Arrow's errors, ``OSError``, and a
    footer's names that are not UTF-8 (``UnicodeDecodeError``, a ``ValueError``)."""
    pa, _ = require_pyarrow("Parquet")
    return (OSError, ValueError, pa.ArrowException)


def unreadable_parquet(path: Path | str, exc: BaseException) -> InputError:
    """The error of a Parquet file, or of its rest, that does not read."""
    message = f"not a readable Parquet file: {str(exc)[:200]}"
    return InputError([FieldProblem("", message, source=str(path))])


def parquet_rows(path: Path) -> Iterator[dict[str, Any] | InputError]:
    """The rows of a Parquet file as plain dicts, in order, a record batch at a time; a
    row holding a value Python cannot hold (a date past the year 9999) is its error.
    In a file naming a column twice, every row is that error (which of the two values
    the row holds would be a guess)."""
    _, pq = require_pyarrow(str(path))
    failures = parquet_failures()
    with contextlib.ExitStack() as stack:
        try:
            # Arrow cannot open a name whose bytes are not UTF-8: Python opens it.
            plain = source_name(path) == str(path)
            reader = pq.ParquetFile(path if plain else stack.enter_context(path.open("rb")))
            twice = repeated_columns(reader.schema_arrow, "")
            count = reader.metadata.num_rows
        except failures as exc:
            raise unreadable_parquet(path, exc) from None
        yield from _parquet_file_rows(reader, path, twice, count)


def _parquet_file_rows(
    reader: Any, path: Path, twice: list[FieldProblem], count: int
) -> Iterator[dict[str, Any] | InputError]:
    failures = parquet_failures()
    if twice:
        error = InputError(twice, subject=f"the columns of {path}")
        yield from (error for _ in range(count))
        return

    def batches() -> Iterator[Any]:
        pages = reader.iter_batches(batch_size=BATCH_ROWS)
        while True:
            try:
                batch = next(pages)
            except StopIteration:
                return
            except failures as exc:  # a page that does not decode
                raise unreadable_parquet(path, exc) from None
            yield batch

    yield from _rows_or_errors(batches())


def is_frame(rows: object) -> bool:
    """Whether ``rows`` is a pyarrow Table or RecordBatch, or a pandas DataFrame."""
    module = type(rows).__module__
    return (module.startswith("pyarrow") and hasattr(rows, "to_batches")) or (
        module.startswith("pandas") and hasattr(rows, "itertuples")
    )


def table_rows(frame: Any, label: str = "rows") -> Iterator[dict[str, Any] | InputError]:
    """The rows of a pyarrow Table or RecordBatch, or a pandas DataFrame, as plain dicts;
    a row holding a value Python cannot hold (a date past the year 9999) is its error.

    A table that names a column twice, or a pandas DataFrame holding a column Arrow
    cannot hold, is an :class:`InputError` naming each such column after ``label`` (the
    table, as the caller passed it).
    """
    pa, _ = require_pyarrow(type(frame).__name__)
    twice = repeated_columns(frame, label)
    if twice:
        raise InputError(twice, subject=f"the {label} table")
    if type(frame).__module__.startswith("pandas"):
        try:
            frame = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            failures = (pa.ArrowException, TypeError, ValueError)
            problems = pandas_problems(frame, label, pa.Array.from_pandas, failures)
            raise InputError(problems, subject=f"the {label} table") from None
    yield from _rows_or_errors(frame.to_batches(max_chunksize=BATCH_ROWS))


def repeated_columns(frame: Any, label: str) -> list[FieldProblem]:
    """A problem for each column name a table (a pandas DataFrame, an Arrow table,
    record batch or schema) gives more than one column: which value a row holds would be a guess.
    Each is named after ``label`` (``cases.principal``; the bare name when ``label`` is
    empty), with the columns' places, counted from 1."""
    if type(frame).__module__.startswith("pandas"):
        names = list(frame.columns)
    else:  # an Arrow schema, or a table or record batch holding one
        names = list(getattr(frame, "schema", frame).names)
    return repeated_names(names, label)


def repeated_names(names: Sequence[Any], label: str, *, fold: bool = False) -> list[FieldProblem]:
    """:func:`repeated_columns` on a table's column ``names``; with ``fold``, names
    that differ only in case are the same name (as Spark resolves them by default)."""
    places: dict[Any, list[int]] = {}
    first: dict[Any, Any] = {}
    for place, name in enumerate(names, start=1):
        key = name.casefold() if fold and isinstance(name, str) else name
        places.setdefault(key, []).append(place)
        first.setdefault(key, name)
    return [
        FieldProblem(
            f"{label}.{first[key]}" if label else str(first[key]),
            f"a name given to {len(at)} columns (columns {', '.join(map(str, at))}):"
            " expected each column named once",
        )
        for key, at in places.items()
        if len(at) > 1
    ]


#: What the columns of a pandas DataFrame hold, said in an error.
_ARROW_KINDS = "text, numbers, booleans, dates, lists, records"


def pandas_problems(
    frame: Any, label: str, convert: Any, failures: tuple[type[BaseException], ...]
) -> list[FieldProblem]:
    """A problem for each column of a pandas DataFrame (named once each) that
    ``convert`` fails on (raising one of ``failures``), naming the column after
    ``label`` and the Python types of its values (not the converter's text, which
    quotes the values, and the memory addresses of objects)."""
    problems = []
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        try:
            convert(column)
        except failures:
            kinds = sorted({type(v).__name__ for v in column.dropna().head(1000)})
            message = (
                f"expected values of one type Arrow can hold ({_ARROW_KINDS}),"
                f" got {', '.join(kinds) or 'none'}"
            )
            problems.append(FieldProblem(f"{label}.{column.name}", message))
    if not problems:
        message = f"expected a table Arrow can hold (columns of one type each: {_ARROW_KINDS})"
        problems.append(FieldProblem(label, message))
    return problems
