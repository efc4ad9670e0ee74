"""CSV case files read as columns, for the columnar batch.

A CSV file is read whole by Polars, every cell as text, and made into the columns
:func:`~collectrules.frame.decide.decide_rows` reads, exactly as the per-case reader
(:func:`collectrules.io.read_rows`) reads each row: an empty cell is absent, ``true``
and ``false`` are booleans, and the ``signals`` cell is a JSON list of signals. Each row
keeps the line it starts on, for the error file.

What the columns cannot read as the per-case reader would goes per case, row by row or
file by file:

* a **row** whose ``signals`` cell is not a plain JSON list of signal objects with
  text values (a number, a null or an unknown key in it), whose ``events`` or
  ``guarantors`` cell is set, or with ``true``/``false`` in a cell that is not a flag;
* a **file** that is not plain UTF-8 CSV as both readers see it the same way: a byte
  order mark, a carriage return outside a line end, a blank line or a row of empty
  cells, a header naming a column twice or a column starting with ``__``, a line
  longer than
  :data:`~collectrules.io.reader.MAX_LINE_BYTES`, a row with more values than the
  header, or anything Polars refuses (:func:`read_csv` then returns None).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import polars as pl

from collectrules.frame._inputs import ROW
from collectrules.io.reader import MAX_LINE_BYTES

__all__ = ["LINE", "csv_columns", "read_csv"]

#: The column holding the line a CSV row starts on.
LINE = "__line"

_FLAGS = ("sicr_rebutted", "default_rebutted")
_NESTED = ("signals", "events", "guarantors")
_SIGNAL = pl.Struct(
    {"kind": pl.String, "observed_at": pl.String, "value": pl.String, "note": pl.String}
)
_BLOCK = 1 << 24
#: How Polars renames a column whose name the header repeats (or a column so named).
_DUPLICATED = re.compile(r"_duplicated_\d+$")


def _plain_lines(path: Path) -> int | None:
    """The number of lines of ``path`` when it is plain UTF-8 text that both CSV readers
    split into the same lines (see the module docstring), else None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = longest = carry = 0
    last = b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if not last and block.startswith(codecs.BOM_UTF8):
                return None
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return None
            if block.count(b"\r") != block.count(b"\r\n") or block.endswith(b"\r"):
                return None  # a carriage return alone, or one a block boundary splits
            parts = block.split(b"\n")
            if len(parts) == 1:
                carry += len(parts[0])
            else:
                inner = max((len(p) for p in parts[1:-1]), default=0)
                longest = max(longest, carry + len(parts[0]), inner)
                carry = len(parts[-1])
            longest = max(longest, carry)
            newlines += len(parts) - 1
            last = block[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if longest + 2 > MAX_LINE_BYTES:
        return None
    if not last:
        return 0
    return newlines + (0 if last == b"\n" else 1)


def read_csv(path: Path) -> pl.DataFrame | None:
    """The CSV file as text columns plus ``__row`` (the row's index) and ``__line`` (the
    line it starts on), or None when the columns cannot read it as the per-case reader
    does (the file then goes per case)."""
    lines = _plain_lines(path)
    if lines is None:
        return None
    try:
        table = pl.read_csv(
            path,
            infer_schema=False,
            raise_if_empty=False,
            truncate_ragged_lines=False,
            quote_char='"',
        )
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None
    if any("\n" in name or "\r" in name for name in table.columns):
        return None
    if any(_DUPLICATED.search(name) or name.startswith("__") for name in table.columns):
        # A header naming a column twice: Polars renames the second, the per-case reader
        # keeps the last value under the one name. A name starting with ``__``: the
        # columns keep such names for themselves.
        return None
    if not table.width:
        return (
            None
            if lines
            else table.with_columns(
                pl.lit(None, pl.UInt32).alias(ROW), pl.lit(None, pl.Int64).alias(LINE)
            )
        )
    empty = pl.all_horizontal(pl.col(c).is_null() | (pl.col(c) == "") for c in table.columns)
    if table.select(empty.any()).item():
        return None  # a blank line (Polars reads a row of nulls, Python's csv none)
    embedded = pl.sum_horizontal(
        pl.col(name).str.count_matches("\n", literal=True).fill_null(0).cast(pl.Int64)
        for name in table.columns
    )
    table = table.with_row_index(ROW).with_columns(__embedded=embedded)
    inside = int(table.get_column("__embedded").sum() or 0)
    if 1 + table.height + inside != lines:
        return None  # a blank line, or something the two readers split differently
    start = 2 + pl.int_range(pl.len(), dtype=pl.Int64) + pl.col("__embedded").cum_sum()
    return table.with_columns((start - pl.col("__embedded")).alias(LINE)).drop("__embedded")


def csv_columns(raw: pl.DataFrame) -> pl.DataFrame:
    """The rows of :func:`read_csv` as :func:`~collectrules.frame.decide.decide_rows`
    reads them: empty cells null, the flags booleans, ``signals`` a list of records;
    a row the columns cannot read as the per-case reader does has a non-null
    ``__unread_*`` column (which sends it per case)."""
    text = [c for c in raw.columns if c not in (ROW, LINE)]
    table = raw.select(
        ROW,
        *(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in text),
    )
    markers: list[pl.Expr] = []
    boolean = pl.col(ROW).alias("__unread_bool")
    odd = [pl.col(c).is_in(["true", "false"]) for c in text if c not in _FLAGS and c not in _NESTED]
    if odd:
        markers.append(pl.when(pl.any_horizontal(odd)).then(boolean).otherwise(None))
    for flag in _FLAGS:
        if flag in text:
            cell = pl.col(flag)
            markers.append(
                pl.when(cell.is_not_null() & ~cell.is_in(["true", "false"]))
                .then(pl.col(ROW))
                .otherwise(None)
                .alias(f"__unread_{flag}")
            )
    if markers:
        table = table.with_columns(markers)
    for flag in _FLAGS:
        if flag in text:
            table = table.with_columns(
                pl.when(pl.col(flag) == "true")
                .then(pl.lit(value=True))
                .when(pl.col(flag) == "false")
                .then(pl.lit(value=False))
                .otherwise(None)
                .alias(flag)
            )
    if "signals" in text:
        table = _signals(table)
    return table


def _signals(table: pl.DataFrame) -> pl.DataFrame:
    """The ``signals`` cell decoded; a row whose cell the decoding may read otherwise
    than ``json.loads`` is marked ``__unread_signals``."""
    cell = pl.col("signals")
    try:
        decoded = table.select(cell.str.json_decode(pl.List(_SIGNAL))).get_column("signals")
    except pl.exceptions.PolarsError:
        return table.with_columns(
            pl.when(cell.is_not_null()).then(pl.col(ROW)).otherwise(None).alias("__unread_signals"),
            pl.lit(None, dtype=pl.List(_SIGNAL)).alias("signals"),
        )
    # The keys each row's signals hold: one row per signal, its non-null fields summed.
    held = (
        table.select(ROW, decoded.alias("__decoded"))
        .explode("__decoded")
        .select(
            ROW,
            pl.sum_horizontal(
                pl.col("__decoded").struct.field(name).is_not_null().cast(pl.Int64)
                for name in _SIGNAL.to_schema()
            ).alias("__held"),
        )
        .group_by(ROW)
        .agg(pl.col("__held").sum())
    )
    keys = cell.str.count_matches(r'"\s*:')
    # Every key is one of the four, with a text value (a string in JSON): the count of
    # keys read matches the count of keys written, and no value is a bare literal.
    plain = (
        pl.col("__decoded").is_not_null()
        & (pl.col("__held") == keys)
        & ~cell.str.contains(r'"\s*:\s*[^"\s]')
        & cell.str.starts_with("[")
    )
    return (
        table.with_columns(__decoded=decoded)
        .join(held, on=ROW, how="left", maintain_order="left")
        .with_columns(
            pl.when(cell.is_not_null() & ~plain.fill_null(value=False))
            .then(pl.col(ROW))
            .otherwise(None)
            .alias("__unread_signals")
        )
        .with_columns(
            pl.when(pl.col("__unread_signals").is_null())
            .then(pl.col("__decoded"))
            .otherwise(None)
            .alias("signals")
        )
        .drop("__decoded", "__held")
    )
