"""The inputs of the columnar engine: frames in, checked and typed columns out.

Three tables come in: the cases (one row per case), and long tables of signals and
events (one row per signal or event, with the ``case_id`` it belongs to; internally
``__row``, the case's position). Polars frames are used as they are; pandas frames and
pyarrow tables are converted.

Every row is sorted into one of two routes:

* **columnar**: every value lies in a *safe subset* that the columns below read exactly
  as :meth:`Case.from_dict <collectrules.model.case.Case.from_dict>` would (amounts
  with at most four decimals, ISO dates and instants with an offset, known products,
  signal kinds from the policy's catalogue, debtor-level shares from 0 to 1 written
  with at most twelve decimals, an account's ``opened_on`` as an ISO date and its
  ``consecutive_minimum_payments`` as a whole number from 0 to 1200, events only of
  the kinds :func:`check_events` lets through, no guarantors or contract terms);
* **per case**: anything else, decided one at a time by the per-case engine, which
  gives it its exact decision or its exact error.

The safe subset is only ever narrower than what ``Case.from_dict`` accepts, so a row it
lets through is a valid case: the checks cannot make a good row bad or a bad row good.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from collectrules.errors import FieldProblem, InputError, quote
from collectrules.io.arrow import (
    Place,
    deep_pandas_values,
    mixed_objects,
    pandas_problems,
    repeated_columns,
)
from collectrules.model.case import SHARE_FIELDS, ContactOutcome, Product, zone
from collectrules.model.limits import (
    MAX_COUNT,
    MAX_EVENTS,
    MAX_ID_LENGTH,
    MAX_SIGNALS,
    MAX_TEXT_LENGTH,
    MAX_YEAR,
    MIN_YEAR,
    NO_DATE_SENTINELS,
)

__all__ = [
    "ACCOUNT_FIELDS",
    "CASE_COLUMNS",
    "COLUMNAR_EVENT_KINDS",
    "EVENT_COLUMNS",
    "HISTORY_COLUMNS",
    "MAX_COLUMNAR_EVENTS",
    "ROW",
    "SHARE_DIGITS",
    "SIGNAL_COLUMNS",
    "UNREAD",
    "as_polars",
    "cases_polars",
    "check_cases",
    "check_events",
    "check_signals",
    "history_readable",
    "readable_arrow",
    "valid_zones",
]

ROW = "__row"
"""The internal column holding a case's position in the cases table."""

#: The account's fields a ``reage`` pack reads (US-REAGE): its opening date and its
#: consecutive minimum payments.
ACCOUNT_FIELDS = ("opened_on", "consecutive_minimum_payments")
#: The case columns the columnar route reads; others must be null for a row to take it.
CASE_COLUMNS = (
    "case_id",
    "product",
    "currency",
    "principal",
    "overdue_amount",
    "due_date",
    "timezone",
    "maturity_date",
    "sicr_rebutted",
    "default_rebutted",
    *SHARE_FIELDS,
    *ACCOUNT_FIELDS,
)
#: The columns of the signals table (besides ``case_id``).
SIGNAL_COLUMNS = ("kind", "observed_at", "value", "note")
#: The columns of the events table (besides ``case_id``). A case's events keep it on the
#: columnar route only when each is a contact attempt or a payment of the safe subset
#: (:func:`check_events`); any other event sends its case to the per-case route.
EVENT_COLUMNS = ("kind", "at", "outcome", "amount", "promised_date", "channel", "party", "note")
#: The event kinds the columns derive facts from: contact attempts and payments. (An
#: event of a kind the derivation does not read, with no field besides its kind and
#: instant, keeps its case on the columns too: it matters to the sections alone, which
#: run on the case's history; see :func:`check_events`.)
COLUMNAR_EVENT_KINDS = ("contact_attempt", "payment")
#: The columns of the signals and events tables that a row's history is read from when
#: its case has events (:func:`history_readable`).
HISTORY_COLUMNS = {"signals": SIGNAL_COLUMNS, "events": ("kind", "at", "outcome", "amount")}

_ID = r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$"
#: ASCII digits only: a regex's ``\d`` matches every Unicode digit, which Polars
#: casts to no number while ``Decimal`` reads it (``"0.\u0665"`` is 0.5).
_MONEY = r"^[0-9]{1,13}(?:\.[0-9]+)?$"
_MEASURE = r"^-?[0-9]{1,13}(?:\.[0-9]{1,12})?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: The seconds stop at 59: Polars reads a leap second (``23:59:60``) as the next
#: minute, where ``Case.from_dict`` refuses it.
_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-5][0-9])$"
)
_SCALE_DIGITS = 4
#: A count written as text, as ``Case.from_dict`` reads one: one to four ASCII digits.
_COUNT = r"^[0-9]{1,4}$"
#: A share of the debtor's debts: 0 or 1, with a fraction; read in units of 10^-12.
_SHARE = r"^[01](?:\.[0-9]+)?$"
#: The decimals of a debtor's share the columns read exactly (more go per case).
SHARE_DIGITS = 12
_MONEY_MAX = 10**12
_MEASURE_MAX = 1e12


#: The Polars engine every query of the columnar engine is collected on. Polars 2 runs
#: a query on its streaming engine unless told otherwise; on chunks of 50,000 rows the
#: in-memory engine is the faster: a million rows from Parquet, three runs each way in
#: turn, took 8.6 to 10.9 s and 16.0 to 19.1 s of CPU in memory, against 11.3 to
#: 12.1 s and 20.3 to 21.8 s streaming, and a sixth less peak memory. (Polars 1 runs
#: in memory by default: naming the engine changes nothing there.)
COLLECT_ENGINE: Final = "in-memory"


def as_polars(frame: Any, name: str) -> pl.DataFrame:
    """``frame`` as a Polars DataFrame: Polars as is; pandas and pyarrow converted.

    A column that Arrow cannot hold (Python objects of no Arrow type, or of several), or
    whose name starts with ``__``, is an :class:`InputError` naming the table and the
    column.
    """
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect(engine=COLLECT_ENGINE)
    if isinstance(frame, pl.DataFrame):
        return _checked_polars(frame, name)
    module = type(frame).__module__
    if module.startswith("pyarrow") and isinstance(frame, pa.Table | pa.RecordBatch):
        return _checked_polars(arrow_frame(frame, name), name)
    if module.startswith("pandas") and hasattr(frame, "columns"):
        return _checked_polars(_from_pandas(frame, name), name)
    msg = f"expected a Polars, pandas or pyarrow table, got {type(frame).__name__}"
    raise InputError([FieldProblem(name, msg)])


#: The column :func:`cases_polars` marks, True, the rows holding a value in a column the
#: columns cannot read: such rows go per case (a column not read is not null).
UNREAD = "__unread"


def cases_polars(frame: Any, name: str) -> tuple[pl.DataFrame, pa.Table | pa.RecordBatch | None]:
    """:func:`as_polars` of a cases table, which sends rather than refuses the rows of an
    Arrow table that the columns cannot read: the columns they cannot read (see
    :func:`readable_arrow`) are left out of the frame, whose column :data:`UNREAD` is
    True in each row holding a value in one of them (null elsewhere). Returned with the
    frame: the Arrow table, from which the per-case engine reads its rows as
    ``decide_many`` reads them, when any column was left out; else None."""
    module = type(frame).__module__
    if not (module.startswith("pyarrow") and isinstance(frame, pa.Table | pa.RecordBatch)):
        return as_polars(frame, name), None
    readable, unread = readable_arrow(frame, name)
    if not unread:
        return _checked_polars(readable, name), None
    held = pa.repeat(False, frame.num_rows)
    for column in unread:
        try:
            valid = pc.is_valid(frame.column(column))
        except (pa.ArrowException, TypeError, ValueError):  # a type it takes no validity of
            valid = pa.repeat(True, frame.num_rows)
        held = pc.or_(held, valid)
    # True where held, null elsewhere, in Arrow (no Python per row).
    marks = pl.Series(UNREAD, pc.if_else(held, True, pa.scalar(None, pa.bool_())), pl.Boolean)
    checked = _checked_polars(readable, name)
    if checked.width == 0:  # every column left out: the rows are there still
        return pl.DataFrame({UNREAD: marks}), frame
    return checked.with_columns(marks), frame


def _checked_polars(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """``frame``, when each of its columns has a type Arrow holds (the rows sent per case
    are read through Arrow), and no name starts with ``__`` (the columnar engine's own);
    else an :class:`InputError` naming each such column."""
    problems = []
    for column, dtype in frame.schema.items():
        if column.startswith("__"):
            msg = "a column name starting with __ (the columnar engine keeps those names)"
            problems.append(FieldProblem(f"{name}.{column}", msg))
            continue
        try:
            if dtype == pl.Object:
                raise TypeError(dtype)
            frame.select(column).head(0).to_arrow()
        except (TypeError, ValueError, pa.ArrowException, pl.exceptions.PolarsError):
            msg = (
                "expected values of a type Arrow can hold (text, numbers, booleans,"
                f" dates, lists, records), got {dtype}"
            )
            problems.append(FieldProblem(f"{name}.{column}", msg))
    if problems:
        raise InputError(problems, subject=f"the {name} table")
    return frame


def arrow_frame(table: pa.Table | pa.RecordBatch, label: str = "") -> pl.DataFrame:
    """An Arrow table as a Polars frame. A name the table gives two columns is an
    :class:`InputError` naming it (after ``label``, the table), and so is each column the
    columns cannot read (see :func:`readable_arrow`). A column of 256-bit decimals, which
    Polars cannot hold, is read as its values' exact text (:func:`_decimals_as_text`),
    as the per-case engine reads every decimal; a column of UUIDs as their canonical
    text (:func:`_uuids_as_text`), as the per-case engine reads them too."""
    frame, unread = _arrow_columns(table, label)
    if unread:
        raise InputError(unread, subject=f"the {label or 'given'} table")
    return frame


def readable_arrow(
    table: pa.Table | pa.RecordBatch, label: str = ""
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """The columns of an Arrow table that the columns read, as a Polars frame, and the
    names of those they cannot read; a name given to two columns is an
    :class:`InputError`, as in :func:`arrow_frame`.

    The columns cannot read a type Polars lacks (a union, a decimal of negative scale, a
    256-bit decimal or a UUID inside a list or record), timestamps in a zone Polars or
    Python does not know (``+0800``, ``localtime``, ``+23:59``), an instant or date
    further away than Polars holds, or field metadata that is not UTF-8. The per-case
    engine reads each of their rows from the Arrow table itself, as ``decide_many``
    does, and gives its exact decision or error.
    """
    frame, unread = _arrow_columns(table, label)
    return frame, tuple(_bare(label, p.path) for p in unread)


def _arrow_columns(
    table: pa.Table | pa.RecordBatch, label: str
) -> tuple[pl.DataFrame, list[FieldProblem]]:
    """The columns of ``table`` the columns read, as a Polars frame, and a problem for
    each column they cannot read (see :func:`readable_arrow`), named after ``label``."""
    twice = repeated_columns(table, label)
    if twice:
        raise InputError(twice, subject=f"the {label or 'given'} table")
    if table.schema.metadata is not None:
        # The columns read none of it (pandas' or Arrow's own schema, as a Parquet file
        # keeps them), and Polars panics on metadata that is not UTF-8 (a damaged file).
        table = table.replace_schema_metadata(None)
    table = _uuids_as_text(_decimals_as_text(table))
    order = {name: place for place, name in enumerate(table.schema.names)}
    problems: dict[str, FieldProblem] = {}
    for field in table.schema:
        problem = _type_problem(field)
        if problem is not None:
            problems[field.name] = FieldProblem(_path(label, field.name), problem)
    table = _without(table, problems)
    table, far = _in_polars_units(table, label)
    problems |= {_bare(label, p.path): p for p in far}
    table = _without(table, problems)
    try:
        frame = pl.from_arrow(table)
    except (pl.exceptions.PolarsError, pa.ArrowException):
        unreadable = _unreadable_columns(table, label)
        if unreadable[0].path == label:  # no column alone: the table as a whole
            raise InputError(unreadable, subject=f"the {label or 'given'} table") from None
        problems |= {_bare(label, p.path): p for p in unreadable}
        table = _without(table, problems)
        frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame, [problems[name] for name in sorted(problems, key=order.__getitem__)]


def _bare(label: str, path: str) -> str:
    """The column name of a problem's ``path`` (``cases.principal``: ``principal``)."""
    return path.removeprefix(f"{label}.") if label else path


def _without(
    table: pa.Table | pa.RecordBatch, names: Mapping[str, object]
) -> pa.Table | pa.RecordBatch:
    """``table`` without the columns ``names`` names."""
    if not names:
        return table
    keep = [i for i, name in enumerate(table.schema.names) if name not in names]
    return table.select(keep)


def _type_problem(field: pa.Field) -> str | None:
    """Why the columns cannot read the column ``field``, by its type alone; None when they
    can (as far as its type says)."""
    dtype = field.type
    if _holds_decimal256(dtype):  # inside a list or record: Polars panics on reading it
        return "expected a type the columns can read, got a 256-bit decimal"
    if not _utf8_metadata(field):  # Polars panics on reading it too
        return "expected a column whose metadata is UTF-8 text"
    if _holds_uuid(dtype):  # inside a list or record: Polars reads its 16 bytes
        return "expected a type the columns can read, got a UUID inside a list or record"
    if _time_zones(dtype) and not _zones_read(dtype):
        zones = ", ".join(quote(z) for z in sorted(set(_time_zones(dtype))))
        return (
            "expected timestamps in a time zone of the IANA database or at an offset"
            f" (such as 'Asia/Shanghai', 'UTC' or '+08:00'), got {zones}"
        )
    return None


#: The days since 1970 that a Polars date holds (a 32-bit count), in milliseconds.
_DATE64_LIMIT = (2**31 - 1) * 86_400_000


def _in_polars_units(
    table: pa.Table | pa.RecordBatch, label: str
) -> tuple[pa.Table | pa.RecordBatch, list[FieldProblem]]:
    """``table`` with its timestamps in seconds as milliseconds, which Polars reads them
    as, and its ``date64`` columns of whole days as ``date32`` (which Polars reads as
    dates, as Python does, not as instants). Polars wraps an instant whose milliseconds
    overflow (the year 146,000,000,000 read as 1970), and a ``date64`` past its 32-bit
    days: a problem names each such column (left as it is)."""
    problems = []
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_date64(field.type):
            lowest, highest = pc.min_max(column.cast(pa.int64())).values()
            if lowest.is_valid and not (
                -_DATE64_LIMIT <= lowest.as_py() <= highest.as_py() <= _DATE64_LIMIT
            ):
                problems.append(FieldProblem(_path(label, field.name), _FAR))
                continue
            with contextlib.suppress(pa.ArrowInvalid):  # whole days: dates, as Python reads
                table = table.set_column(index, field.name, column.cast(pa.date32(), safe=True))
            continue
        target = _in_milliseconds(field.type)
        if target == field.type:
            continue
        try:
            table = table.set_column(index, field.name, column.cast(target, safe=True))
        except pa.ArrowInvalid:
            problems.append(FieldProblem(_path(label, field.name), _FAR))
        except pa.ArrowNotImplementedError:  # a type Arrow casts no further; Polars refuses it
            continue
    return table, problems


_FAR = "expected dates and instants within the years 1–9999, got one millions of years away"


def _path(label: str, name: str) -> str:
    return f"{label}.{name}" if label else name


def _in_milliseconds(dtype: pa.DataType) -> pa.DataType:
    """``dtype`` with every timestamp in seconds, also inside lists and records, in
    milliseconds."""
    if pa.types.is_timestamp(dtype):
        return pa.timestamp("ms", dtype.tz) if dtype.unit == "s" else dtype
    if pa.types.is_struct(dtype):
        return pa.struct([f.with_type(_in_milliseconds(f.type)) for f in dtype])
    if pa.types.is_large_list(dtype):
        return pa.large_list(dtype.value_field.with_type(_in_milliseconds(dtype.value_type)))
    if pa.types.is_list(dtype):
        return pa.list_(dtype.value_field.with_type(_in_milliseconds(dtype.value_type)))
    if pa.types.is_fixed_size_list(dtype):
        field = dtype.value_field.with_type(_in_milliseconds(dtype.value_type))
        return pa.list_(field, dtype.list_size)
    return dtype


def _unreadable_columns(table: pa.Table | pa.RecordBatch, label: str) -> list[FieldProblem]:
    """A problem for each column of ``table`` that Polars cannot read (a union, a
    decimal of negative scale, …)."""
    problems = []
    for index, field in enumerate(table.schema):
        try:
            pl.from_arrow(pa.table({"probe": table.column(index)}))
        except (pl.exceptions.PolarsError, pa.ArrowException):
            msg = f"expected a type the columns can read, got {field.type}"
            problems.append(FieldProblem(_path(label, field.name), msg))
    return problems or [FieldProblem(label, "expected a table the columns can read")]


def _zones_read(dtype: pa.DataType) -> bool:
    """Whether both Polars (tried on one null) and Python (through Arrow, on one instant)
    read the timestamps of ``dtype``: Polars and Arrow each know zones the other does not
    (Polars reads ``+0800``, Arrow ``+23:59``)."""
    try:
        pl.from_arrow(pa.table({"probe": pa.nulls(1, dtype)}))
        for name in _time_zones(dtype):
            pa.scalar(0, pa.timestamp("us", name)).as_py()
    except (pl.exceptions.PolarsError, pa.ArrowException, ValueError, TypeError, LookupError):
        return False
    return True


def _time_zones(dtype: pa.DataType) -> list[str]:
    """The time zones of the timestamps in ``dtype``, and in every type inside it."""
    if pa.types.is_timestamp(dtype):
        return [dtype.tz] if dtype.tz else []
    if pa.types.is_dictionary(dtype):
        return _time_zones(dtype.value_type)
    return [zone for i in range(dtype.num_fields) for zone in _time_zones(dtype.field(i).type)]


def _utf8_metadata(field: pa.Field) -> bool:
    """Whether the metadata of ``field``, and of every field inside its type, is UTF-8."""
    try:
        for key, value in (field.metadata or {}).items():
            key.decode("utf-8")
            value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    dtype = field.type
    if pa.types.is_dictionary(dtype):
        return _utf8_metadata(pa.field("", dtype.value_type))
    return all(_utf8_metadata(dtype.field(i)) for i in range(dtype.num_fields))


def _decimals_as_text(table: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """``table`` with each column of 256-bit decimals as text: each value written as
    ``format(value, "f")``, the text the per-case engine reads a decimal as
    (:func:`~collectrules.io.arrow.arrow_rows`), so that both read the same number, or
    refuse it alike, row by row. Polars cannot hold such a column."""
    for index, field in enumerate(table.schema):
        if pa.types.is_decimal256(field.type):
            values = table.column(index).to_pylist()
            text = pa.array([None if v is None else format(v, "f") for v in values], pa.string())
            table = table.set_column(index, field.with_type(pa.string()), text)
    return table


def _holds_decimal256(dtype: pa.DataType) -> bool:
    if pa.types.is_decimal256(dtype):
        return True
    if pa.types.is_dictionary(dtype):
        return _holds_decimal256(dtype.value_type)
    return any(_holds_decimal256(dtype.field(i).type) for i in range(dtype.num_fields))


def _is_uuid(dtype: pa.DataType) -> bool:
    """Whether ``dtype`` is Arrow's canonical UUID type (``pa.uuid()``)."""
    return isinstance(dtype, pa.BaseExtensionType) and dtype.extension_name == "arrow.uuid"


def _holds_uuid(dtype: pa.DataType) -> bool:
    """Whether a UUID lies anywhere within ``dtype``, itself or inside it."""
    if _is_uuid(dtype):
        return True
    if isinstance(dtype, pa.BaseExtensionType):
        return _holds_uuid(dtype.storage_type)
    if pa.types.is_dictionary(dtype):
        return _holds_uuid(dtype.value_type)
    return any(_holds_uuid(dtype.field(i).type) for i in range(dtype.num_fields))


def _uuids_as_text(table: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """``table`` with each column of UUIDs (Arrow's canonical ``arrow.uuid`` type) as
    text: each value written in its canonical form (``str(uuid.UUID(bytes=...))``,
    ``00000000-0000-0000-0000-000000000001``), the text the per-case engine reads a UUID
    as (:func:`~collectrules.io.arrow.arrow_rows`). Polars reads such a column as its 16
    raw bytes."""
    for index, field in enumerate(table.schema):
        if _is_uuid(field.type):
            column = table.column(index)
            chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
            values = [b for chunk in chunks for b in chunk.storage.to_pylist()]
            text = pa.array([None if b is None else str(uuid.UUID(bytes=b)) for b in values])
            table = table.set_column(index, field.with_type(pa.string()), text.cast(pa.string()))
    return table


_PANDAS_FAILURES = (pa.ArrowException, pl.exceptions.PolarsError, TypeError, ValueError)


def _from_pandas(frame: Any, name: str) -> pl.DataFrame:
    twice = repeated_columns(frame, name) or deep_pandas_values(frame, name)
    if twice:
        raise InputError(twice, subject=f"the {name} table")
    try:
        converted = pl.from_pandas(frame)
    except (*_PANDAS_FAILURES, OverflowError, RecursionError):  # pandas_problems names it
        problems = pandas_problems(frame, name, pl.from_pandas, _PANDAS_FAILURES)
        raise InputError(problems, subject=f"the {name} table") from None
    places = [_places(dtype, ()) for dtype in converted.schema.values()]
    lost = mixed_objects(frame, places, name)
    if lost:
        raise InputError(lost, subject=f"the {name} table")
    return converted


def _places(dtype: object, here: Place) -> list[Place]:
    """The places of a column's instants and dates, itself or in its lists or records
    (see :func:`~collectrules.io.arrow.mixed_objects`)."""
    if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
        return [here]
    if isinstance(dtype, pl.List | pl.Array):
        return _places(dtype.inner, (*here, "[]"))
    if isinstance(dtype, pl.Struct):
        return [p for field in dtype.fields for p in _places(field.dtype, (*here, field.name))]
    return []


def _text(column: str, frame: pl.DataFrame) -> pl.Expr:
    """The column as strings (null when absent); a number as the shortest text of the
    double it is read as per case (a single-precision float widened first)."""
    if column not in frame.columns:
        return pl.lit(None, dtype=pl.String)
    dtype = frame.schema[column]
    if dtype == pl.String:
        return pl.col(column)
    if dtype == pl.Float32:
        # The number a single-precision float holds, as Python reads it (a Float32 0.1
        # is 0.100000001490116…): its own shortest text ("0.1") is another number.
        return pl.col(column).cast(pl.Float64).cast(pl.String)
    if _is_text(dtype) or dtype.is_numeric() or isinstance(dtype, pl.Decimal):
        return pl.col(column).cast(pl.String)
    return pl.lit(None, dtype=pl.String)


def _is_text(dtype: pl.DataType) -> bool:
    """Whether the column holds text: a string, or a dictionary of strings (Arrow's
    dictionary type, a Polars categorical), which Python reads as strings too."""
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def _money(column: str, frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """An amount in ten-thousandths (Int64), and whether it is exactly readable.

    The amount is read from its decimal text (shortest round-trip text for floats,
    which is the value ``Case.from_dict`` reads): at most four decimals, below
    10^12, not negative.
    """
    text = _text(column, frame)
    whole = text.str.extract(r"^([0-9]+)", 1)
    frac = text.str.extract(r"\.([0-9]+)$", 1).fill_null("").str.strip_chars_end("0")
    good = text.str.contains(_MONEY).fill_null(value=False) & (
        frac.str.len_chars() <= _SCALE_DIGITS
    )
    units = whole.cast(pl.Int64, strict=False) * 10**_SCALE_DIGITS + frac.str.pad_end(
        _SCALE_DIGITS, "0"
    ).str.slice(0, _SCALE_DIGITS).cast(pl.Int64, strict=False).fill_null(0)
    good = good & (units <= _MONEY_MAX * 10**_SCALE_DIGITS).fill_null(value=False)
    return units, good


def _share(column: str, frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """A share of the debtor's debts (``debtor_npl_share`` …) in units of 10^-12
    (Int64, null when absent), and whether the row may go columnar: the share is absent,
    or its decimal text (shortest round-trip text for floats, the value
    ``Case.from_dict`` reads) is from 0 to 1 with at most :data:`SHARE_DIGITS` decimals.
    Anything else (a share out of range, NaN, an exponent, text that is no number) goes
    per case, which gives its exact error."""
    if column not in frame.columns:
        return pl.lit(None, dtype=pl.Int64), pl.lit(value=True)
    text = _text(column, frame)
    whole = text.str.extract(r"^([0-9]+)", 1)
    frac = text.str.extract(r"\.([0-9]+)$", 1).fill_null("").str.strip_chars_end("0")
    units = whole.cast(pl.Int64, strict=False) * 10**SHARE_DIGITS + frac.str.pad_end(
        SHARE_DIGITS, "0"
    ).str.slice(0, SHARE_DIGITS).cast(pl.Int64, strict=False).fill_null(0)
    good = (
        text.str.contains(_SHARE)
        & (frac.str.len_chars() <= SHARE_DIGITS)
        & (units <= 10**SHARE_DIGITS)
    ).fill_null(value=False)
    return pl.when(good).then(units), pl.col(column).is_null() | good


def _count(column: str, frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """A count (``consecutive_minimum_payments``) as Int64 (null when absent), and
    whether the row may go columnar: the count is absent, or a whole number from 0 to
    :data:`~collectrules.model.limits.MAX_COUNT` held in an integer column or written
    as one to four ASCII digits in a text column, as ``Case.from_dict`` reads it.
    Anything else (a float, even 3.0, a boolean, a sign, a number out of range) goes
    per case, which gives its exact error."""
    if column not in frame.columns:
        return pl.lit(None, dtype=pl.Int64), pl.lit(value=True)
    dtype = frame.schema[column]
    raw = pl.col(column)
    if dtype.is_integer():
        good = raw.is_between(0, MAX_COUNT).fill_null(value=False)
        value = pl.when(good).then(raw.cast(pl.Int64, strict=False))
    elif _is_text(dtype):
        text = raw.cast(pl.String)
        number = text.cast(pl.Int64, strict=False)
        good = (text.str.contains(_COUNT) & (number <= MAX_COUNT)).fill_null(value=False)
        value = pl.when(good).then(number)
    else:
        return pl.lit(None, dtype=pl.Int64), raw.is_null()
    return value, raw.is_null() | good


def _date(column: str, frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The column as a date; whether it is readable; whether it is absent (null)."""
    if column not in frame.columns:
        return pl.lit(None, dtype=pl.Date), pl.lit(value=False), pl.lit(value=True)
    dtype = frame.schema[column]
    raw = pl.col(column)
    if dtype == pl.Date:
        day = raw
        readable = raw.is_not_null()
    elif dtype == pl.String:
        day = raw.str.to_date("%Y-%m-%d", strict=False)
        readable = raw.str.contains(_DATE).fill_null(value=False) & day.is_not_null()
    else:
        return pl.lit(None, dtype=pl.Date), pl.lit(value=False), raw.is_null()
    in_range = day.dt.year().is_between(MIN_YEAR, MAX_YEAR).fill_null(value=False)
    return day, readable & in_range, raw.is_null()


def instant(column: str, frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """The column as an instant in UTC, and whether it is readable (aware, in range)."""
    if column not in frame.columns:
        return pl.lit(None, dtype=pl.Datetime("us", "UTC")), pl.lit(value=False)
    dtype = frame.schema[column]
    raw = pl.col(column)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        # An instant far outside the years read is null before its unit changes: Polars
        # panics on one the microsecond cannot hold (the year 146,000,000).
        first, last = _epoch_bounds(dtype.time_unit)
        inside = pl.when(raw.cast(pl.Int64).is_between(first, last)).then(raw)
        at = inside.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        readable = raw.is_not_null()
    elif dtype == pl.String:
        zulu = raw.str.ends_with("Z")
        offset = pl.when(zulu).then(raw.str.head(-1) + "+00:00").otherwise(raw)
        at = offset.str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC", time_unit="us", strict=False
        )
        readable = raw.str.contains(_INSTANT).fill_null(value=False) & at.is_not_null()
    else:
        return pl.lit(None, dtype=pl.Datetime("us", "UTC")), pl.lit(value=False)
    # The year at the instant's own offset must lie in range too: a day's margin.
    years = at.dt.year().is_between(MIN_YEAR + 1, MAX_YEAR - 1).fill_null(value=False)
    return at, readable & years


def _epoch_bounds(unit: str) -> tuple[int, int]:
    """The instants that start the year before :data:`MIN_YEAR` and end the year after
    :data:`MAX_YEAR`, in ``unit`` (``ms``, ``us`` or ``ns``) since the epoch."""
    per_second = {"ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    first = dt.datetime(MIN_YEAR - 1, 1, 1, tzinfo=dt.UTC) - epoch
    last = dt.datetime(MAX_YEAR + 2, 1, 1, tzinfo=dt.UTC) - epoch
    return (
        int(first.total_seconds()) * per_second,
        int(last.total_seconds()) * per_second,
    )


def valid_zones(names: Iterable[object]) -> list[str]:
    """The names among ``names`` that ``Case.from_dict`` accepts as a time zone."""
    good = []
    for name in names:
        if not isinstance(name, str) or not 0 < len(name) <= 64 or not name.isprintable():
            continue
        try:
            zone(name)
        except Exception:  # pendulum raises its own InvalidTimezone
            continue
        good.append(name)
    return good


def _flag(column: str, frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    if column not in frame.columns:
        return pl.lit(value=False), pl.lit(value=True)
    raw = pl.col(column)
    if frame.schema[column] == pl.Boolean:
        return raw.fill_null(value=False), pl.lit(value=True)
    return pl.lit(value=False), raw.is_null()


def check_cases(cases: pl.DataFrame, extra_null: Iterable[str] = ()) -> pl.DataFrame:
    """The cases with typed columns and ``__ok``: whether the row may go columnar.

    Adds ``principal``/``overdue_amount`` in ten-thousandths, ``due_date``,
    ``maturity_date`` and ``opened_on`` as dates, the flags as booleans, the debtor's
    shares in units of 10^-12 (:func:`_share`), ``consecutive_minimum_payments`` as an
    integer (:func:`_count`). ``extra_null`` names further
    columns that must be null for the columnar route.
    """
    principal, principal_ok = _money("principal", cases)
    overdue, overdue_ok = _money("overdue_amount", cases)
    due, due_ok, _ = _date("due_date", cases)
    maturity, maturity_ok, maturity_absent = _date("maturity_date", cases)
    sentinel = maturity.is_in(list(NO_DATE_SENTINELS)).fill_null(value=False)
    opened, opened_ok, opened_absent = _date("opened_on", cases)
    payments, payments_ok = _count("consecutive_minimum_payments", cases)
    sicr, sicr_ok = _flag("sicr_rebutted", cases)
    default, default_ok = _flag("default_rebutted", cases)
    shares = {name: _share(name, cases) for name in SHARE_FIELDS}
    text = {name: _text(name, cases) for name in ("case_id", "product", "currency", "timezone")}
    zones = (
        valid_zones(cases.select(text["timezone"].unique()).to_series().to_list())
        if "timezone" in cases.columns and _is_text(cases.schema["timezone"])
        else []
    )
    ok = (
        pl.lit("case_id" in cases.columns and _is_text(cases.schema["case_id"]))
        & text["case_id"].str.contains(_ID).fill_null(value=False)
        & (text["case_id"].str.len_chars() <= MAX_ID_LENGTH).fill_null(value=False)
        & text["product"].is_in([p.value for p in Product]).fill_null(value=False)
        & text["currency"].str.contains(r"^[A-Z]{3}$").fill_null(value=False)
        & principal_ok
        & overdue_ok
        & due_ok
        & (maturity_ok | maturity_absent | sentinel)
        & (opened_ok | opened_absent)
        & payments_ok
        & text["timezone"].is_in(zones).fill_null(value=False)
        & sicr_ok
        & default_ok
    )
    for _, share_ok in shares.values():
        ok = ok & share_ok
    others = [c for c in cases.columns if c not in CASE_COLUMNS and c != ROW]
    for name in (*others, *extra_null):
        if name in cases.columns:
            ok = ok & pl.col(name).is_null()
    # The text columns as strings; one the table lacks is null in every row (``ok`` is
    # then false for a required one, and the per-case engine names it missing).
    texts = [expr.alias(name) for name, expr in text.items()]
    # Lazily, so that the subexpressions shared by several checks are computed once.
    return (
        cases.lazy()
        .with_columns(
            principal=principal,
            overdue_amount=overdue,
            due_date=due,
            maturity_date=pl.when(sentinel).then(None).otherwise(maturity),
            opened_on=opened,
            consecutive_minimum_payments=payments,
            sicr_rebutted=sicr,
            default_rebutted=default,
            **{name: units for name, (units, _) in shares.items()},
            __ok=ok.fill_null(value=False),
        )
        .with_columns(texts)
        .select(ROW, *CASE_COLUMNS, "__ok")
        .collect(engine=COLLECT_ENGINE)
    )


def check_signals(signals: pl.DataFrame, kinds: Iterable[str]) -> pl.DataFrame:
    """The signals with ``observed_at`` in UTC, ``value`` as a float, and ``__ok``.

    A signal is fit for the columnar route when its kind is in the policy's catalogue,
    its instant is aware and readable, its value (if any) is a plain decimal within the
    measured limits, its note short enough, and it has no other field.
    """
    at, at_ok = instant("observed_at", signals)
    text = _text("value", signals)
    value = text.cast(pl.Float64, strict=False)
    value_ok = text.is_null() | (
        text.str.contains(_MEASURE).fill_null(value=False)
        & (text.str.len_chars() <= 20).fill_null(value=False)
        & (value.abs() <= _MEASURE_MAX).fill_null(value=False)
    )
    if "value" in signals.columns and signals.schema["value"] not in (pl.String, pl.Null):
        dtype = signals.schema["value"]
        if not (dtype.is_numeric() or isinstance(dtype, pl.Decimal)):
            value_ok = pl.col("value").is_null()
    kind = _text("kind", signals)
    note_ok = pl.lit(value=True)
    if "note" in signals.columns:
        note_ok = pl.col("note").is_null() | (
            (signals.schema["note"] == pl.String)
            & (_text("note", signals).str.len_chars() <= MAX_TEXT_LENGTH).fill_null(value=False)
        )
    ok = kind.is_in(list(kinds)).fill_null(value=False) & at_ok & value_ok & note_ok
    ok, seq = _nothing_else(signals, ok, SIGNAL_COLUMNS)
    # Lazily, so that the subexpressions shared by several checks are computed once.
    return (
        signals.lazy()
        .select(
            pl.col(ROW),
            seq.cast(pl.Int64),
            kind.alias("kind"),
            at.alias("observed_at"),
            value.alias("value"),
            ok.fill_null(value=False).alias("__ok"),
        )
        .collect(engine=COLLECT_ENGINE)
    )


#: The most signals a case may have on the columnar route (the model's own limit).
MAX_COLUMNAR_SIGNALS = MAX_SIGNALS


#: The most events a case may have on the columnar route (the model's own limit).
MAX_COLUMNAR_EVENTS = MAX_EVENTS

_OUTCOMES = tuple(outcome.value for outcome in ContactOutcome)


def check_events(events: pl.DataFrame, bare: Iterable[str] = ()) -> pl.DataFrame:
    """The events with ``at`` in UTC, ``amount`` in ten-thousandths, and ``__ok``.

    An event is fit for the columnar route when it is a contact attempt with a known
    ``outcome`` and no amount, a payment with an ``amount`` written as a plain decimal
    of at most four decimals below 10^12 and no outcome, or an event of one of the
    ``bare`` kinds (those the derivation of the core facts does not read) with neither;
    its instant is an ISO text with an offset; every other field (``party``,
    ``channel``, ``note``, ``promised_date`` …) is null. The kind, instant and outcome
    must be text columns, the amount text or a double or whole number: the sections
    read the row's history from them (see :func:`history_readable`).
    """
    text = {name: pl.col(name) for name in ("kind", "at", "outcome", "amount")}
    texts = all(
        name in events.columns and events.schema[name] in (pl.String, pl.Null)
        for name in ("kind", "at")
    )
    for name in ("outcome", "amount"):
        if name not in events.columns:
            text[name] = pl.lit(None, dtype=pl.String)
        elif not _history_type(name, events.schema[name]):
            texts = False
    if not texts:
        return events.select(
            pl.col(ROW),
            pl.int_range(pl.len()).cast(pl.Int64).alias("__seq"),
            pl.lit(None, dtype=pl.String).alias("kind"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("at"),
            pl.lit(None, dtype=pl.String).alias("outcome"),
            pl.lit(None, dtype=pl.Int64).alias("__amount"),
            pl.lit(value=False).alias("__ok"),
        )
    at, at_ok = instant("at", events)
    units, money_ok = (
        _money("amount", events)
        if "amount" in events.columns
        else (
            pl.lit(None, dtype=pl.Int64),
            pl.lit(value=False),
        )
    )
    kind = text["kind"].cast(pl.String)
    outcome = text["outcome"].cast(pl.String)
    amount = text["amount"].cast(pl.String)
    contact = (kind == "contact_attempt") & outcome.is_in(list(_OUTCOMES)) & amount.is_null()
    payment = (kind == "payment") & outcome.is_null() & amount.is_not_null() & money_ok
    plain = kind.is_in(list(bare)) & outcome.is_null() & amount.is_null()
    ok = (contact | payment | plain) & at_ok
    ok, seq = _nothing_else(events, ok, HISTORY_COLUMNS["events"])
    return (
        events.lazy()
        .select(
            pl.col(ROW),
            seq.cast(pl.Int64),
            kind.alias("kind"),
            at.alias("at"),
            outcome.alias("outcome"),
            pl.when(payment).then(units).cast(pl.Int64).alias("__amount"),
            ok.fill_null(value=False).alias("__ok"),
        )
        .collect(engine=COLLECT_ENGINE)
    )


def history_readable(table: pl.DataFrame | None, name: str) -> bool:
    """Whether the long table ``name`` (``"signals"`` or ``"events"``) holds the columns a
    row's history is read from as text (or not at all): the sections of a case with
    events run on its signals and events as the per-case engine reads them, from that
    text. A number, a date or an instant in another column type sends the cases with
    events per case."""
    if table is None:
        return True
    return all(
        _history_type(column, table.schema[column])
        for column in HISTORY_COLUMNS[name]
        if column in table.columns
    )


#: The columns of a history that may hold numbers: a double or a whole number is written
#: as the shortest text that reads back as the same number, the number the per-case
#: engine reads (a single-precision float or a decimal column is not: its text is
#: another number).
_NUMBERS = ("value", "amount")


def _history_type(column: str, dtype: pl.DataType) -> bool:
    """Whether a history's ``column`` of ``dtype`` is written as the per-case engine
    reads it: text, nulls, or (for a value or an amount) a double or a whole number."""
    if dtype in (pl.String, pl.Null):
        return True
    return column in _NUMBERS and (dtype == pl.Float64 or dtype.is_integer())


def _nothing_else(table: pl.DataFrame, ok: pl.Expr, read: Sequence[str]) -> tuple[pl.Expr, pl.Expr]:
    """``ok`` where every column of ``table`` besides ``read`` (and the row, the case id
    and the order) is empty, and the rows' order (``__seq``, or their place)."""
    known = (*read, ROW, "case_id", "__seq")
    for name in (c for c in table.columns if c not in known):
        ok = ok & pl.col(name).is_null()
    seq = pl.col("__seq") if "__seq" in table.columns else pl.int_range(pl.len()).alias("__seq")
    return ok, seq
