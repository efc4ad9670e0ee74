"""Arrow and Parquet input: rows of a Parquet file, a pyarrow Table, or a pandas or polars
DataFrame.

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
:class:`~collectrules.errors.InputError`, naming the column; the next row is read. So is
a timestamp in a time zone Python does not know (the error names the zone), a ``date64``
holding a time of day (a date is a whole number of days: the time is not dropped
without a word), a map naming a key twice or a record naming a field twice (which value
is meant would be a guess, as in JSON), a value nested more than :data:`MAX_DEPTH`
levels deep, and a pandas ``Period`` (Arrow holds it as a count of periods since 1970).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from os import PathLike
from pathlib import Path
from types import ModuleType
from typing import Any

from collectrules._arguments import require_paths, source_name
from collectrules.errors import FieldProblem, InputError, figure, quote

__all__ = [
    "BATCH_ROWS",
    "MAX_DEPTH",
    "PRE_BUFFER",
    "Place",
    "arrow_places",
    "arrow_rows",
    "batch_row",
    "checked_paths",
    "is_data",
    "is_frame",
    "mixed_objects",
    "not_a_path",
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

MAX_DEPTH = 64
"""The deepest nesting of a column's type read (a case's data nests 4 levels deep): a
value of a column nested deeper is its row's error, not a ``RecursionError``."""

#: Milliseconds in a day: a ``date64`` value is a whole number of them.
_DAY_MS = 86_400_000


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
    """An Arrow value as JSON-like data (see the module docstring); None stays None.

    A map naming a key twice keeps the last value; the rows of a table are read
    strictly, and such a map is the row's error."""
    return _plain(value, strict=False)


class _Repeated(Exception):
    """A map of a row names a key twice (read strictly)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _BadBytes(Exception):
    """Binary data of a row that is not UTF-8 text (read strictly)."""

    def __init__(self, error: UnicodeDecodeError) -> None:
        super().__init__(str(error))
        self.start = error.start


def _plain(value: Any, *, strict: bool) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:  # a struct: a signal, an event
        return {
            k if type(k) is str else str(k): v if type(v) in _SCALARS else _plain(v, strict=strict)
            for k, v in value.items()
            if v is not None
        }
    if kind is list and not (value and isinstance(value[0], tuple)):  # not an Arrow map
        return [v if type(v) in _SCALARS else _plain(v, strict=strict) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): _plain(v, strict=strict) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            if strict:  # an Arrow map: a key named twice is refused, as in JSON
                seen: set[str] = set()
                for key, _ in value:
                    if str(key) in seen:
                        raise _Repeated(str(key))
                    seen.add(str(key))
            return {str(k): _plain(v, strict=strict) for k, v in value if v is not None}
        return [_plain(v, strict=strict) for v in value]
    if isinstance(value, bytes):
        if not strict:
            return value.decode("utf-8", errors="replace")
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Replaced, two ids would read as one, and a row would be decided under an
            # id its data never held: the rows of a table refuse it, as text files do.
            raise _BadBytes(exc) from None
    return str(value)


def _plain_row(
    row: Mapping[str, Any], maps: frozenset[str] = frozenset()
) -> dict[str, Any] | InputError:
    """A row Arrow gave as plain data, or the error naming each column holding a map
    that names a key twice. ``maps`` names the columns of a map type: Arrow gives an
    empty map as an empty list, which is read as the empty object it is."""
    try:
        plain = {
            k: v if type(v) in _SCALARS else _plain(v, strict=True)
            for k, v in row.items()
            if v is not None
        }
    except (_Repeated, _BadBytes):
        pass
    else:
        for name in maps:
            if plain.get(name) == []:
                plain[name] = {}
        return plain
    problems = []
    for name, value in row.items():
        try:
            _plain(value, strict=True)
        except _Repeated as exc:
            message = f"a map naming the key {quote(exc.key)} twice: expected each key once"
            problems.append(FieldProblem(str(name), message))
        except _BadBytes as exc:
            message = f"bytes not valid UTF-8 at byte {exc.start + 1}: expected text"
            problems.append(FieldProblem(str(name), message))
    return InputError(problems)


def _unreadable() -> tuple[type[BaseException], ...]:
    """What Arrow raises for a value Python cannot hold (a date past year 9999, …)."""
    pa, _ = require_pyarrow("Arrow data")
    return (ArithmeticError, ValueError, TypeError, NotImplementedError, pa.ArrowException)


def batch_row(batch: Any, index: int) -> dict[str, Any] | InputError:
    """Row ``index`` of an Arrow table or record batch as a plain dict, or the error
    naming each column whose value cannot be read (a date past the year 9999, a
    ``date64`` holding a time of day, …), as :func:`arrow_rows` reads it."""
    return next(_batch_rows(batch.slice(index, 1)))


def _batch_rows(batch: Any) -> Iterator[dict[str, Any] | InputError]:
    """Each row of an Arrow table or record batch as a plain dict, or its error."""
    failures = _unreadable()
    spoiled, keep = _spoiled(batch)
    readable = batch if keep is None else batch.select(keep)
    pa, _ = require_pyarrow("Arrow data")
    maps = frozenset(f.name for f in readable.schema if pa.types.is_map(f.type))
    try:
        rows = readable.to_pylist()
    except failures:
        rows = None
    for index in range(batch.num_rows):
        if rows is not None:
            read = _plain_row(rows[index], maps)
        else:
            read = _one_row(readable, index, maps)
        problems = spoiled.get(index)
        if problems:
            named = {p.path for p in problems}
            more = read.problems if isinstance(read, InputError) else ()
            read = InputError([*problems, *(p for p in more if p.path not in named)])
        yield read


def _one_row(batch: Any, index: int, maps: frozenset[str]) -> dict[str, Any] | InputError:
    """Row ``index`` of a table Arrow could not convert whole: the row, or the error
    naming each of its columns Python cannot read, and why."""
    one = batch.slice(index, 1)
    failures = _unreadable()
    try:
        return _plain_row(one.to_pylist()[0], maps)
    except failures:
        pass
    problems = []
    for name, column in zip(one.schema.names, one.columns, strict=True):
        try:
            column.to_pylist()
        except failures as exc:
            message = f"a value Python cannot read: {_unread(_array(column), exc)}"
            problems.append(FieldProblem(str(name), message))
    return InputError(problems or [FieldProblem("", "a row Python cannot read")])


def _rows_or_errors(batches: Any) -> Iterator[dict[str, Any] | InputError]:
    """Each row as a plain dict; a row holding a value Python cannot hold as its error."""
    for batch in batches:
        yield from _batch_rows(batch)


def arrow_rows(table: Any) -> Iterator[dict[str, Any] | InputError]:
    """The rows of a pyarrow Table as plain dicts; a row holding a value Python cannot
    hold (a date past the year 9999) is its error, naming the column."""
    return _rows_or_errors(table.to_batches(max_chunksize=BATCH_ROWS))


# -- what the types of a table hold ---------------------------------------------------


def _array(column: Any) -> Any:
    """A column of a record batch or table as one Arrow array."""
    return column.combine_chunks() if hasattr(column, "combine_chunks") else column


def _children(kind: Any) -> list[Any]:
    """The types an Arrow type holds, one level down."""
    pa, _ = require_pyarrow("Arrow data")
    if isinstance(kind, pa.BaseExtensionType):
        return [kind.storage_type]
    if pa.types.is_dictionary(kind):
        return [kind.value_type]
    return [kind.field(i).type for i in range(kind.num_fields)]


def _walk(kind: Any) -> Iterator[tuple[Any, int]]:
    """Each type within ``kind`` (itself first), with its depth, without recursion; a
    type nested past :data:`MAX_DEPTH` is given, not its children."""
    stack = [(kind, 1)]
    while stack:
        kind, depth = stack.pop()
        yield kind, depth
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in _children(kind))


def _spoiled(batch: Any) -> tuple[dict[int, list[FieldProblem]], list[int] | None]:
    """The rows of a batch that hold a value read as something it is not (a ``date64``
    with a time of day, a pandas ``Period``) or nested too deep to read, with a problem
    for each such column; and the columns to convert (None: all), without those nested
    too deep."""
    pa, _ = require_pyarrow("Arrow data")
    spoiled: dict[int, list[FieldProblem]] = {}
    keep: list[int] | None = None
    for position, field in enumerate(batch.schema):
        kinds = list(_walk(field.type))
        deepest = max(depth for _, depth in kinds)
        if deepest > MAX_DEPTH:
            _spoil(spoiled, _valid_rows(batch.column(position)), str(field.name), _nested())
            held = range(batch.num_columns) if keep is None else keep
            keep = [i for i in held if i != position]
            continue
        if any(_is_period(kind) for kind, _ in kinds):
            message = (
                "a pandas Period, which Arrow holds as a count of periods since 1970:"
                " expected a date or a timestamp (convert the column with .dt.to_timestamp())"
            )
            _spoil(spoiled, _valid_rows(batch.column(position)), str(field.name), message)
        elif any(pa.types.is_date64(kind) for kind, _ in kinds):
            for row, ms in _part_days(_array(batch.column(position))).items():
                _spoil(spoiled, [row], str(field.name), _part_day(ms))
    return spoiled, keep


def _spoil(
    spoiled: dict[int, list[FieldProblem]], rows: Iterable[int], name: str, message: str
) -> None:
    for row in rows:
        problems = spoiled.setdefault(row, [])
        if all(p.path != name for p in problems):
            problems.append(FieldProblem(name, message))


def _valid_rows(column: Any) -> list[int]:
    """The rows where a column holds a value."""
    valid = _array(column).is_valid()
    return [i for i, held in enumerate(valid.to_pylist()) if held]


def _is_period(kind: Any) -> bool:
    pa, _ = require_pyarrow("Arrow data")
    return isinstance(kind, pa.BaseExtensionType) and kind.extension_name == "pandas.period"


def _leaves(array: Any, rows: Any) -> Iterator[tuple[Any, Any]]:
    """Each array of values (not of lists, records, maps) within ``array``, with the row
    each of its values is in (``rows`` gives the row of each value of ``array``); a
    union's values are not given."""
    pa, _ = require_pyarrow("Arrow data")
    pc = importlib.import_module("pyarrow.compute")
    kind = array.type
    try:
        if isinstance(kind, pa.BaseExtensionType):
            yield from _leaves(array.storage, rows)
        elif pa.types.is_dictionary(kind):
            yield from _leaves(array.dictionary_decode(), rows)
        elif pa.types.is_map(kind):
            # (list_parent_indices aborts the process on a map: a list of its entries.)
            entries = pa.list_(pa.struct([kind.key_field, kind.item_field]))
            yield from _leaves(array.cast(entries), rows)
        elif kind.num_fields == 0:
            yield rows, array
        elif pa.types.is_struct(kind):
            for child in array.flatten():  # each field, null where its record is
                yield from _leaves(child, rows)
        elif _is_list(kind):
            parents = pc.list_parent_indices(array)
            yield from _leaves(pc.list_flatten(array), rows.take(parents))
        elif getattr(pa.types, "is_run_end_encoded", lambda _: False)(kind):
            yield from _leaves(pc.run_end_decode(array), rows)
    except (pa.ArrowException, TypeError, ValueError):
        return  # a layout Arrow cannot take apart here: its values are read as they are


def _is_list(kind: Any) -> bool:
    pa, _ = require_pyarrow("Arrow data")
    checks = ("is_list", "is_large_list", "is_fixed_size_list", "is_list_view")
    return any(getattr(pa.types, check, lambda _: False)(kind) for check in checks) or getattr(
        pa.types, "is_large_list_view", lambda _: False
    )(kind)


def _part_days(array: Any) -> dict[int, int]:
    """The rows of a column holding a ``date64`` value that is not a whole number of
    days, each with the first such value (in milliseconds since 1970)."""
    pa, _ = require_pyarrow("Arrow data")
    pc = importlib.import_module("pyarrow.compute")
    found: dict[int, int] = {}
    every = pa.array(range(len(array)), pa.int64())
    for rows, leaf in _leaves(array, every):
        if not pa.types.is_date64(leaf.type):
            continue
        ms = leaf.cast(pa.int64())
        rest = pc.subtract(ms, pc.multiply(pc.divide(ms, _DAY_MS), _DAY_MS))
        off = pc.fill_null(pc.not_equal(rest, 0), False)
        for row, value in zip(
            rows.filter(off).to_pylist(), ms.filter(off).to_pylist(), strict=True
        ):
            found.setdefault(row, value)
    return found


def _part_day(ms: int) -> str:
    """What is wrong with a ``date64`` value of ``ms`` milliseconds, not a whole day."""
    hours, rest = divmod(ms % _DAY_MS, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1_000)
    time = f"{hours:02}:{minutes:02}:{seconds:02}" + (f".{millis:03}" if millis else "")
    return (
        f"a date64 holding the time of day {time} ({figure(ms)} ms since 1970): expected a"
        f" whole day, a multiple of {_DAY_MS:,} ms, as a date is"
    )


def _unread(array: Any, exc: BaseException) -> str:
    """Why Python cannot read a value of ``array`` (one row of a column), which raised
    ``exc``: the time zone it does not know, the range it holds (where Python's error
    speaks of C integers instead), or a record naming a field twice; else the text of
    ``exc`` (``date value out of range``), cut short."""
    pa, _ = require_pyarrow("Arrow data")
    failures = _unreadable()
    for kind, _ in _walk(array.type):
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            try:
                pa.lib.string_to_tzinfo(kind.tz)
            except failures:
                return (
                    f"a timestamp in the time zone {quote(kind.tz, limit=60)}, which is not a"
                    " time zone Python knows: expected an IANA name (Asia/Shanghai) or an"
                    " offset (+08:00)"
                )
        if pa.types.is_struct(kind):
            names = [kind.field(i).name for i in range(kind.num_fields)]
            twice = next((n for n in names if names.count(n) > 1), None)
            if twice is not None:
                named = quote(twice, limit=60)
                return f"a record naming the field {named} twice: expected each field named once"
    every = pa.array(range(len(array)), pa.int64())
    # Python's "date value out of range" says it; its texts of C integers and magnitudes
    # ("Python int too large to convert to C int") do not: the type's range does.
    said = "out of range" in str(exc)
    for _, leaf in () if said else _leaves(array, every):
        try:
            leaf.to_pylist()
        except failures:
            if pa.types.is_duration(leaf.type):
                return f"a {leaf.type} beyond the ±999,999,999 days Python holds"
            if pa.types.is_timestamp(leaf.type) or pa.types.is_date(leaf.type):
                return f"a {leaf.type} outside the years 1 to 9999 that Python holds"
    return str(exc)[:120]


def parquet_failures() -> tuple[type[BaseException], ...]:
    """What reading a damaged Parquet file raises: Arrow's errors, ``OSError``, and a
    footer's names that are not UTF-8 (``UnicodeDecodeError``, a ``ValueError``)."""
    pa, _ = require_pyarrow("Parquet")
    return (OSError, ValueError, pa.ArrowException)


def unreadable_parquet(path: Path | str, exc: BaseException) -> InputError:
    """The error of a Parquet file, or of its rest, that does not read."""
    message = f"not a readable Parquet file: {str(exc)[:200]}"
    return InputError([FieldProblem("", message, source=str(path))])


#: Whether a Parquet reader reads each row group's column chunks ahead, whole
#: (pyarrow's default): it holds them until the row group is read, 36 MiB of Arrow
#: memory for the first 4,096-row batch of the 50,000-row row groups of
#: ``python -m collectrules.frame.bench``'s portfolio, against 8 MiB reading page by
#: page, for the same CPU time on a local file (1,000,000 rows decided by the
#: columnar engine: 8.1 to 8.4 s of CPU either way).
PRE_BUFFER = False


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
            reader = pq.ParquetFile(
                path if plain else stack.enter_context(path.open("rb")), pre_buffer=PRE_BUFFER
            )
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
    """Whether ``rows`` is a pyarrow Table or RecordBatch, a pandas DataFrame or a polars
    DataFrame (not a LazyFrame: its rows are not there until it is collected)."""
    module = type(rows).__module__
    if module.startswith("pyarrow"):
        return type(rows).__name__ in ("Table", "RecordBatch")
    if module.startswith("polars"):
        return type(rows).__name__ == "DataFrame" and hasattr(rows, "to_arrow")
    return module.startswith("pandas") and hasattr(rows, "itertuples")


#: The libraries whose tables and arrays are not paths: compared with a text, such an
#: object answers with an array, or raises.
_DATA_LIBRARIES = frozenset({"numpy", "pandas", "polars", "pyarrow"})


def is_data(item: object) -> bool:
    """Whether ``item`` is an object of a data library (a pandas or polars DataFrame, an
    Arrow array, a NumPy array), not a text or a path."""
    if isinstance(item, str | bytes | PathLike):
        return False
    return type(item).__module__.partition(".")[0] in _DATA_LIBRARIES


def _data_kind(item: object) -> str:
    """``a pandas DataFrame``: the library and the type of an object, for an error."""
    return f"a {type(item).__module__.partition('.')[0]} {type(item).__name__}"


def _is_table(item: object) -> bool:
    """Whether ``item`` is a table of rows: a pandas, Arrow or polars one."""
    module = type(item).__module__
    return is_frame(item) or (
        module.startswith("polars") and type(item).__name__ in ("DataFrame", "LazyFrame")
    )


def not_a_path(item: object, *, tables: bool = False) -> str:
    """Why an object of a data library is refused where a path (or, with ``tables``, a
    pandas DataFrame or an Arrow table) is expected."""
    expected = f"a file's path, {_TABLES}" if tables else "a file's path"
    message = f"expected {expected}, got {_data_kind(item)}"
    if tables and _is_table(item) and hasattr(item, "collect"):  # a polars LazyFrame
        message += ": pass frame.collect()"
    return message


#: The tables read as rows wherever a case file is (:func:`is_frame`).
_TABLES = "a pandas DataFrame, a polars DataFrame or a pyarrow Table"


def checked_paths(value: object, name: str, *, tables: bool = False) -> list[Any]:
    """The items of ``value``, a list of paths, each made a Path (see
    :func:`~collectrules._arguments.require_paths`); with ``tables``, a pandas
    DataFrame or an Arrow table among them is kept as it is.

    A table given alone (its column names would be read as paths), or an item that is
    another object of a data library (a polars DataFrame, a pandas Series, an Arrow
    array), is an :class:`InputError` naming its library and type."""
    if _is_table(value):
        what = "paths and tables" if tables else "paths"
        hint = ": pass [frame] to read its rows" if tables and is_frame(value) else ""
        message = f"expected a list of {what}, got {_data_kind(value)} alone{hint}"
        raise InputError([FieldProblem(name, message)])
    items = require_paths(value, name, also=is_data)
    for index, item in enumerate(items):
        if is_data(item) and not (tables and is_frame(item)):
            problem = FieldProblem(f"{name}[{index}]", not_a_path(item, tables=tables))
            raise InputError([problem])
    return items


def refuse_table(value: object, name: str, *, frames: bool) -> None:
    """An :class:`InputError` for a table given where rows are drawn one by one from an
    iterable: iterating a polars DataFrame gives its columns, and a pandas DataFrame its
    column names, each of which would be a bad row while no case was read. With
    ``frames`` the caller reads pandas and polars DataFrames and Arrow tables as rows
    (:func:`table_rows`), and only a polars LazyFrame is refused."""
    if not _is_table(value) or (frames and is_frame(value)):
        return
    later = ".collect()" if hasattr(value, "collect") else ""
    if frames:
        expected = f"an iterable of cases or dicts, {_TABLES}"
        hint = ": pass frame.collect()"
    else:
        expected = "an iterable of rows, cases or mappings"
        library = type(value).__module__.partition(".")[0]
        rows = {"pandas": "to_dict('records')", "pyarrow": "to_pylist()"}.get(library, "to_dicts()")
        hint = f": pass its rows as dicts, frame{later}.{rows}"
    raise InputError([FieldProblem(name, f"expected {expected}, got {_data_kind(value)}{hint}")])


def table_rows(frame: Any, label: str = "rows") -> Iterator[dict[str, Any] | InputError]:
    """The rows of a pyarrow Table or RecordBatch, a pandas DataFrame or a polars
    DataFrame (read through Arrow, ``frame.to_arrow()``), as plain dicts; a row holding a
    value Python cannot hold (a date past the year 9999) is its error.

    A table that names a column twice, or a pandas or polars DataFrame holding a column
    Arrow cannot hold, is an :class:`InputError` naming each such column after ``label``
    (the table, as the caller passed it).
    """
    require_pyarrow(type(frame).__name__)
    if type(frame).__module__.startswith("polars"):
        frame = _polars_arrow(frame, label)
    twice = repeated_columns(frame, label)
    if twice:
        raise InputError(twice, subject=f"the {label} table")
    if type(frame).__module__.startswith("pandas"):
        yield from _pandas_rows(frame, label)
    elif hasattr(frame, "to_batches"):
        yield from _rows_or_errors(frame.to_batches(max_chunksize=BATCH_ROWS))
    else:  # a record batch
        starts = range(0, frame.num_rows, BATCH_ROWS)
        yield from _rows_or_errors(frame.slice(start, BATCH_ROWS) for start in starts)


def _polars_arrow(frame: Any, label: str) -> Any:
    """A polars DataFrame as an Arrow table; a column Arrow cannot hold (polars'
    ``Object`` type, of Python objects) is an :class:`InputError` naming it."""
    held = [name for name, dtype in frame.schema.items() if type(dtype).__name__ == "Object"]
    if held:
        message = "a column of Python objects, which Arrow cannot hold: expected values of a type"
        problems = [FieldProblem(f"{label}.{name}", message) for name in held]
        raise InputError(problems, subject=f"the {label} table")
    return frame.to_arrow()


def _pandas_rows(frame: Any, label: str) -> Iterator[dict[str, Any] | InputError]:
    """:func:`table_rows` of a pandas DataFrame."""
    pa, _ = require_pyarrow(type(frame).__name__)
    subject = f"the {label} table"
    twice = _arrow_names(list(frame.columns), label)
    if twice:
        raise InputError(twice, subject=subject)
    if frame.shape[1] == 0:  # rows without columns: each an empty row, as in JSON
        yield from ({} for _ in range(frame.shape[0]))
        return
    deep = deep_pandas_values(frame, label)
    if deep:
        raise InputError(deep, subject=subject)
    failures = (pa.ArrowException, TypeError, ValueError, *_CONVERTER_FAILURES)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except failures:
        problems = pandas_problems(frame, label, pa.Array.from_pandas, failures)
        raise InputError(problems, subject=subject) from None
    problems = repeated_columns(table, label) or mixed_objects(frame, arrow_places(table), label)
    if problems:
        raise InputError(problems, subject=subject)
    yield from _rows_or_errors(table.to_batches(max_chunksize=BATCH_ROWS))


def _arrow_names(names: Sequence[Any], label: str) -> list[FieldProblem]:
    """A problem for each name Arrow gives more than one column of a pandas DataFrame
    whose names differ (``1`` and ``"1"``, two NaNs): Arrow names a column the text of
    its name."""
    places: dict[str, list[tuple[int, Any]]] = {}
    for place, name in enumerate(names, start=1):
        places.setdefault(_arrow_name(name), []).append((place, name))
    return [
        FieldProblem(
            f"{label}.{text}",
            f"the name Arrow gives {len(found)} columns (columns"
            f" {_listed([str(place) for place, _ in found])}, named"
            f" {_listed([quote(name, limit=40) for _, name in found])}):"
            " expected each column named once",
        )
        for text, found in places.items()
        if len(found) > 1
    ]


def _listed(items: Sequence[str], most: int = 5) -> str:
    """The first ``most`` of ``items``, and how many others."""
    shown = ", ".join(items[:most])
    return shown if len(items) <= most else f"{shown} and {len(items) - most:,} more"


def _arrow_name(name: Any) -> str:
    """The name Arrow gives a pandas column named ``name`` (as pyarrow names it)."""
    if isinstance(name, str):
        return name
    if isinstance(name, bytes):
        return name.decode("utf-8", errors="replace")
    if isinstance(name, tuple):  # a level of a MultiIndex
        return str(tuple(map(_arrow_name, name)))
    return str(name)


#: A place of a column's values: the steps from a cell to them, each a record's key or
#: ``"[]"`` for every item of a list (Arrow gives all the items of a list one type).
Place = tuple[str, ...]


def mixed_objects(frame: Any, places: Sequence[Sequence[Place]], label: str) -> list[FieldProblem]:
    """A problem for each column of Python objects of the pandas DataFrame ``frame`` whose
    conversion lost what some of its values say, at its first such row. ``places``
    gives, for each column in order, the places of its values that the conversion
    (Arrow's, or Polars' through it) made timestamps or dates (:func:`arrow_places`):
    ``()`` for the column itself, ``("[]", "observed_at")`` for a field of the records
    of a list. Only those values are looked at.

    - Timestamps with a time zone and without one at one place: Arrow gives them all
      one zone, or none, where the case needs each one's own (a naive one would be
      read as UTC, where alone it is refused as naive).
    - Dates and datetimes at one place: Arrow reads them all as dates and drops each
      datetime's time of day and zone, where a case refuses a datetime for a date.
    """
    problems = []
    for position, found in enumerate(places):
        column = frame.iloc[:, position]
        if not found or column.dtype != object:
            continue
        for place in found:
            problem = _mixed_times(column, place)
            if problem is not None:
                problems.append(FieldProblem(f"{label}.{column.name}", problem))
                break
    return problems


def arrow_places(table: Any) -> list[list[Place]]:
    """For each column of an Arrow ``table``, the places of its timestamps and dates
    (see :func:`mixed_objects`)."""
    pa, _ = require_pyarrow("Table")

    def places(dtype: Any, here: Place) -> list[Place]:
        if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
            return [here]
        if len(here) > MAX_DEPTH:
            return []
        if pa.types.is_struct(dtype):
            fields = [dtype.field(i) for i in range(dtype.num_fields)]
            return [p for f in fields for p in places(f.type, (*here, f.name))]
        if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
            return places(dtype.value_type, (*here, "[]"))
        if pa.types.is_fixed_size_list(dtype):
            return places(dtype.value_type, (*here, "[]"))
        return []

    return [places(field.type, ()) for field in table.schema]


def _mixed_times(column: Any, place: Place) -> str | None:
    """What :func:`mixed_objects` finds at one place of one column, or None."""
    seen: dict[str, tuple[int, str]] = {}
    for row, value in enumerate(column):
        for item, where in _at_place(value, place):
            # pandas' NaT is a datetime too, and a missing value: not equal to itself
            if isinstance(item, dt.datetime) and item == item:
                marks: tuple[str, ...] = (
                    "datetime",
                    "naive" if item.utcoffset() is None else "aware",
                )
            elif isinstance(item, dt.date) and not isinstance(item, dt.datetime):
                marks = ("date",)
            else:
                continue
            for mark in marks:
                seen.setdefault(mark, (row, where))
            if "aware" in seen and "naive" in seen:
                row, at = seen["naive"]
                return (
                    f"timestamps with a time zone and without a time zone (row {row}"
                    f"{_at(at)} has none): expected each timestamp with its time zone"
                )
            if "date" in seen and "datetime" in seen:
                row, at = seen["datetime"]
                return (
                    f"dates and datetimes in one place (row {row}{_at(at)} holds a datetime):"
                    " expected dates only, as YYYY-MM-DD; a date keeps no time of day"
                )
    return None


def _at_place(value: Any, place: Place) -> list[tuple[Any, str]]:
    """The values at ``place`` of one cell, each with where it is (``[0].observed_at``)."""
    items: list[tuple[Any, str]] = [(value, "")]
    for step in place:
        deeper: list[tuple[Any, str]] = []
        for item, where in items:
            if step != "[]":
                if isinstance(item, Mapping) and step in item:
                    deeper.append((item[step], f"{where}.{step}"))
            elif isinstance(item, list | tuple) or type(item).__name__ == "ndarray":
                deeper.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
        items = deeper
    return items


def _at(where: str) -> str:
    return f" at {quote(where.lstrip('.'), limit=60)}" if where else ""


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

#: What a converter of pandas columns raises besides its own errors: an integer past 64
#: bits (``OverflowError``), a value nested past the stack (``RecursionError``, and the
#: ``KeyError`` pyarrow raises while handling it).
_CONVERTER_FAILURES: tuple[type[BaseException], ...] = (
    ArithmeticError,
    RecursionError,
    LookupError,
)

#: The integers Arrow holds: 64 bits, signed or not.
_SMALLEST_INTEGER, _LARGEST_INTEGER = -(2**63), 2**64 - 1

#: The most digits of a decimal Arrow holds (``decimal256``).
_DECIMAL_DIGITS = 76


def pandas_problems(
    frame: Any, label: str, convert: Any, failures: tuple[type[BaseException], ...]
) -> list[FieldProblem]:
    """A problem for each column of a pandas DataFrame (named once each) that
    ``convert`` fails on (raising one of ``failures``, an integer past 64 bits or a
    value nested too deep), naming the column after ``label`` and what it holds that
    cannot be held: a sparse column, text that is not Unicode, an integer past 64 bits,
    values of several Python types (not the converter's text, which quotes the values,
    and the memory addresses of objects)."""
    problems = []
    caught = (*failures, *_CONVERTER_FAILURES)
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        try:
            convert(column)
        except caught as exc:
            problems.append(FieldProblem(f"{label}.{column.name}", _unheld(column, exc)))
    if not problems:  # each column converts alone: one nested too deep for the table's
        problems = [
            FieldProblem(f"{label}.{column.name}", found)
            for column in (frame.iloc[:, i] for i in range(frame.shape[1]))
            if column.dtype == object
            for found in [next(filter(None, map(_cell_problem, column, itertools.count())), None)]
            if found is not None
        ]
    if not problems:
        message = f"expected a table Arrow can hold (columns of one type each: {_ARROW_KINDS})"
        problems.append(FieldProblem(label, message))
    return problems


def _unheld(column: Any, exc: BaseException) -> str:
    """What a pandas column that does not convert holds that Arrow cannot hold."""
    if type(column.dtype).__name__ == "SparseDtype":
        return (
            f"a sparse column ({column.dtype}): expected a dense one (convert the frame"
            " with DataFrame.sparse.to_dense())"
        )
    if isinstance(exc, RecursionError | LookupError):
        for row, value in enumerate(column):
            if found := _cell_problem(value, row):
                return found
    for row, value in enumerate(column):
        found = _unheld_value(value, row)
        if found is not None:
            return found
    sample = column.dropna().head(1_000)
    kinds = sorted({type(v).__name__ for v in sample})
    what = ", ".join(kinds) or "none"
    if kinds == ["dict"]:
        what = _records(list(sample)) or what
    elif kinds == ["list"]:
        inner = sorted({type(v).__name__ for item in sample for v in item if v is not None})
        what = f"lists holding {', '.join(inner)}" if len(inner) > 1 else what
    return f"expected values of one type Arrow can hold ({_ARROW_KINDS}), got {what}"


def _unheld_value(value: Any, row: int) -> str | None:
    """What is wrong with one value of a pandas column Arrow cannot hold, or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not _SMALLEST_INTEGER <= value <= _LARGEST_INTEGER:
            return (
                f"a whole number past 64 bits ({figure(value)} in row {row}): expected"
                " integers Arrow holds (-2**63 to 2**64 - 1); write larger numbers as text"
            )
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (
                f"text holding a lone surrogate, U+{ord(value[exc.start]):04X} (row {row},"
                f" character {exc.start + 1}): expected text UTF-8 can encode"
            )
    elif isinstance(value, Decimal):
        digits = value.as_tuple()
        exponent = digits.exponent
        if not value.is_finite() or (
            isinstance(exponent, int)
            and max(len(digits.digits), -exponent, len(digits.digits) + exponent) > _DECIMAL_DIGITS
        ):
            return (
                f"the decimal {quote(value, limit=40)} (row {row}): expected a finite"
                f" decimal of at most {_DECIMAL_DIGITS} digits; write others as text"
            )
    return None


def _nested(row: int | None = None) -> str:
    """The problem of a value nested past :data:`MAX_DEPTH` (in ``row`` of a column)."""
    where = "" if row is None else f" (row {row})"
    return f"a value nested more than {MAX_DEPTH} levels deep{where}: expected at most {MAX_DEPTH}"


_CONTAINERS = (list, tuple, dict)


def deep_pandas_values(frame: Any, label: str) -> list[FieldProblem]:
    """A problem for each object column of a pandas DataFrame holding a value nested
    past :data:`MAX_DEPTH`, or holding more than :data:`MAX_CELL_VALUES` values, at its
    first such row: checked before pyarrow or Polars convert the frame, whose
    converters recurse natively (a list nested 100,000 deep crashed the process) or
    raise ``RecursionError`` (3,000 deep), and copy a list as often as it is held (a
    list holding one list a thousand times, which holds one list of a thousand numbers
    a thousand times, is a few kilobytes in Python and a billion numbers to convert).
    Only lists, tuples and mappings are walked: a column of text costs a type test per
    row."""
    problems = []
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype != object:
            continue
        for row, value in enumerate(column):
            if isinstance(value, _CONTAINERS) and (found := _cell_problem(value, row)):
                problems.append(FieldProblem(f"{label}.{column.name}", found))
                break
    return problems


#: The most values (items of lists, values of mappings, at any depth, each counted as
#: often as it is held) one cell of a pandas frame may hold: a case's signals or events
#: at their most (1,000 each) with some fifty fields each.
MAX_CELL_VALUES = 100_000


def _cell_problem(value: Any, row: int) -> str | None:
    """Why one cell cannot be converted: nested past :data:`MAX_DEPTH`, or holding more
    than :data:`MAX_CELL_VALUES` values; None when neither. At most that many steps."""
    stack = [(value, 0)]
    held = 0
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return _nested(row)
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        held += len(children)
        if held > MAX_CELL_VALUES:
            return (
                f"a value holding more than {MAX_CELL_VALUES:,} values (row {row}; a list "
                f"held in several places counts each time): expected at most {MAX_CELL_VALUES:,}"
            )
        stack.extend((v, depth + 1) for v in children)
    return None


def _records(values: list[dict[Any, Any]]) -> str | None:
    """What records mix that Arrow cannot hold in one column: keys that are not text,
    or a field holding values of several types; None when neither is found."""
    keys = sorted({type(k).__name__ for v in values for k in v if not isinstance(k, str)})
    if keys:
        return f"records whose keys are not text ({', '.join(keys)})"
    fields: dict[str, set[str]] = {}
    for record in values:
        for key, item in record.items():
            if item is not None:
                fields.setdefault(key, set()).add(type(item).__name__)
    for key, kinds in fields.items():
        if len(kinds) > 1:
            return f"records whose field {quote(key, limit=40)} holds {', '.join(sorted(kinds))}"
    return None
