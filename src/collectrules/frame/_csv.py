"""CSV case files read as columns, for the columnar batch.

A CSV file is read by Polars a chunk at a time (after a first pass has checked it
whole), every cell as text, and made into the columns
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
  order mark, a carriage return outside a line end, a quote where RFC 4180 puts none
  (closing a field before something other than a comma or a line end, or inside an
  unquoted field), a blank line or a row of empty cells, a header naming a column
  twice or a column starting with ``__``, a line longer than
  :data:`~collectrules.io.reader.MAX_LINE_BYTES`, a row with more values than the
  header, a file whose first read fails (an I/O error, which the per-case reader makes
  a bad row naming the file), or anything Polars refuses (:func:`read_csv` then
  returns None).
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

from collectrules.errors import FieldProblem, InputError
from collectrules.frame._inputs import ROW
from collectrules.io.reader import MAX_LINE_BYTES, source_name

__all__ = ["LINE", "MAX_COLUMNS", "csv_columns", "read_csv"]

#: The column holding the line a CSV row starts on.
LINE = "__line"

_FLAGS = ("sicr_rebutted", "default_rebutted")
_NESTED = ("signals", "events", "guarantors")
_SIGNAL = pl.Struct(
    {"kind": pl.String, "observed_at": pl.String, "value": pl.String, "note": pl.String}
)
#: The bytes read at a time; a line inside one block is shorter than any line refused.
_BLOCK = 1 << 22
assert _BLOCK + 2 <= MAX_LINE_BYTES
#: The fewest records the first pass reads at a time: on a million rows (473 MB) it
#: took 3.6 s and peaked at 172 MiB with 2,000 records a chunk, 2.3 s and 184 MiB with
#: 10,000.
_COUNT_ROWS = 10_000
#: The bytes read at a time when a checked file is cut into chunks of records.
_CUT_BLOCK = 1 << 20
_QUOTE = ord('"')
_NEWLINE = ord("\n")
#: How Polars renames a column whose name the header repeats (or a column so named).
_DUPLICATED = re.compile(r"_duplicated_\d+\Z")


#: A field, unquoted (no quote in it) or quoted (its quotes doubled), as RFC 4180 has it.
_FIELD = r'(?:[^",]*|"(?:[^"]|"")*")'
#: A quoted field that a line ends inside (it goes on after the newline).
_OPEN = r'"(?:[^"]|"")*'
#: A line that starts outside quotes: fields separated by commas, the last one maybe
#: open.
_STARTS_OUTSIDE = rf"^(?:{_FIELD},)*(?:{_FIELD}\r?|{_OPEN})$"
#: A line that starts inside a quoted field: the rest of it, maybe closed and followed
#: by more fields.
_STARTS_INSIDE = rf'^(?:[^"]|"")*(?:"(?:,{_FIELD})*(?:\r?|,{_OPEN}))?$'


class _Quotes:
    """Whether every quote of a file stands where RFC 4180 puts it: opening a field,
    doubled inside one, or closing one before a comma or a line end. Python's ``csv``
    and Polars split such a file the same way; elsewhere they part (Python's reader
    goes on with the field unquoted after a quote that closes it early, Polars quotes
    again), and the file goes per case.

    Fed the file's bytes a block at a time; each line is matched in Polars, knowing from
    the count of quotes before it whether it starts inside a quoted field.
    """

    def __init__(self) -> None:
        self.tail = b""
        self.quotes = 0
        self.conform = True

    def feed(self, block: bytes, *, final: bool = False) -> None:
        """Check the whole lines of ``block`` (the file's next bytes); the last, partial
        line waits for the next block, or for ``final``."""
        data = self.tail + block
        cut = len(data) if final else data.rfind(b"\n")
        if cut < 0 or not self.conform:
            self.tail = data if self.conform else b""
            return
        self.tail = data[cut + 1 :]
        whole = data[:cut]
        if b'"' not in whole:
            return
        lines = pl.Series(whole.decode("utf-8").split("\n"), dtype=pl.String)
        counts = lines.str.count_matches('"', literal=True).cast(pl.Int64)
        inside = ((counts.cum_sum() - counts + self.quotes) % 2) == 1
        # Each line against the one pattern of the state it starts in.
        matched = (
            lines.filter(~inside).str.contains(_STARTS_OUTSIDE).all()
            and lines.filter(inside).str.contains(_STARTS_INSIDE).all()
        )
        self.quotes += int(counts.sum())
        self.conform = bool(matched)

    def done(self) -> bool:
        """Whether the file conforms, its last line checked and every quote closed."""
        if self.tail:
            self.feed(b"", final=True)
        return self.conform and self.quotes % 2 == 0


def _plain_lines(path: Path) -> int | None:
    """The number of lines of ``path`` when it is plain UTF-8 text that both CSV readers
    split into the same lines and fields (see the module docstring), else None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    quotes = _Quotes()
    newlines = longest = carry = 0
    last = b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if not last and block.startswith(codecs.BOM_UTF8):
                return None
            # ASCII is UTF-8: only a block with other bytes, or after a character a
            # block boundary split, needs decoding.
            if not block.isascii() or decoder.getstate()[0]:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    return None
            if block.count(b"\r") != block.count(b"\r\n") or block.endswith(b"\r"):
                return None  # a carriage return alone, or one a block boundary splits
            # A line within one block is shorter than the limit: only the lines that
            # cross a block's ends are measured.
            first = block.find(b"\n")
            if first < 0:
                carry += len(block)
            else:
                longest = max(longest, carry + first)
                carry = len(block) - block.rfind(b"\n") - 1
            longest = max(longest, carry)
            newlines += block.count(b"\n")
            last = block[-1:]
            quotes.feed(block)
            if not quotes.conform:
                return None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if not quotes.done():
        return None
    if longest + 2 > MAX_LINE_BYTES:
        return None
    if not last:
        return 0
    return newlines + (0 if last == b"\n" else 1)


#: The most columns a CSV file the columns read may have; a wider one goes per case.
#: Polars plans each column: 50,000 columns took 18 s and 1.7 GiB for 50 rows, where
#: the per-case reader took 4.9 s and 152 MiB; at 2,000 columns the columns still win
#: (2,000 rows: 3.9 s against 5.6 s).
MAX_COLUMNS = 2_000


def read_csv(path: Path, rows: int) -> Iterator[pl.DataFrame] | None:
    """The CSV file as text columns plus ``__row`` (the row's index) and ``__line`` (the
    line it starts on), ``rows`` rows at a time, or None when the columns cannot read it
    as the per-case reader does (the file then goes per case).

    A file of more than :data:`MAX_COLUMNS` columns goes per case. The file is checked
    whole before any of it is given: a first pass counts what Polars reads (rows,
    newlines inside cells, blank rows) against the lines of the file; the second gives
    the rows. Each pass cuts the file into chunks of ``rows`` records
    (:func:`_record_chunks`) and has Polars read one chunk at a time, so memory stays
    bounded by a chunk whatever the size of the file. (Polars' own streaming reader
    reads ahead of the rows taken: a million rows, 473 MB, held about 250 MiB ahead of
    chunks of 2,000 rows, and its counting pass peaked at 414 MiB.)
    """
    if source_name(path) != str(path):
        return None  # a name whose bytes are not UTF-8, which Polars cannot open
    try:
        lines = _plain_lines(path)
    except OSError:
        return None  # a read that fails (a disk's EIO): the per-case reader names it
    if lines is None:
        return None
    scan = pl.scan_csv(
        path,
        infer_schema=False,
        raise_if_empty=False,
        truncate_ragged_lines=False,
        quote_char='"',
    )
    try:
        names = scan.collect_schema().names()
        if not names:
            return None if lines else iter(())
        if len(names) > MAX_COLUMNS:
            return None
        if any("\n" in name or "\r" in name for name in names):
            return None
        if any(_DUPLICATED.search(name) or name.startswith("__") for name in names):
            # A header naming a column twice: Polars renames the second; the per-case
            # reader makes every row a bad row naming it. A name starting with
            # ``__``: the columns keep such names for themselves.
            return None
        # One expression over the columns, not one per column: a header of 50,000
        # names built a million expressions in Python (25 s for 50 rows).
        every = pl.col(names)
        empty = pl.all_horizontal(every.is_null() | (every == ""))
        count = [
            pl.len().alias("rows"),
            _embedded(names).sum().alias("inside"),
            empty.any().alias("blank"),
        ]
        read = inside = 0
        for chunk in _record_chunks(path, max(rows, _COUNT_ROWS)):
            frame = _parsed(chunk)
            if frame.columns != names:
                return None
            counted = frame.select(count)
            if counted.item(0, "blank"):
                return None  # a blank line (Polars reads a row of nulls, Python's csv none)
            read += counted.item(0, "rows")
            inside += int(counted.item(0, "inside") or 0)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None
    if 1 + read + inside != lines:
        return None  # a blank line, or something the two readers split differently
    return _chunks(names, rows, path)


def _parsed(chunk: bytes) -> pl.DataFrame:
    """A chunk of :func:`_record_chunks` read as :func:`read_csv` reads the file: every
    cell as text."""
    return pl.read_csv(
        io.BytesIO(chunk),
        infer_schema=False,
        raise_if_empty=False,
        truncate_ragged_lines=False,
        quote_char='"',
    )


def _record_chunks(path: Path, rows: int) -> Iterator[bytes]:
    """The records of a file :func:`_plain_lines` passed, ``rows`` at a time (the last
    chunk fewer), each chunk the header line followed by its records' bytes. In such a
    file every quote stands where RFC 4180 puts it, so a newline ends a record exactly
    when an even number of quotes comes before it; the header holds no quoted newline
    (:func:`read_csv` sends a file whose column names hold one per case)."""
    with path.open("rb") as fh:
        header = fh.readline()
        odd = 0  # the quotes before the block, modulo 2
        held: list[bytes] = []  # the bytes of the records of the chunk so far
        count = 0  # the records they end
        while block := fh.read(_CUT_BLOCK):
            data = np.frombuffer(block, dtype=np.uint8)
            quotes = np.cumsum(data == _QUOTE, dtype=np.int64)
            newlines = np.flatnonzero(data == _NEWLINE)
            ends = newlines[((quotes[newlines] + odd) & 1) == 0]
            odd = int((quotes[-1] + odd) & 1)
            start = taken = 0
            while ends.size - taken >= rows - count:
                taken += rows - count
                cut = int(ends[taken - 1]) + 1
                held.append(block[start:cut])
                yield header + b"".join(held)
                held, count, start = [], 0, cut
            held.append(block[start:])
            count += ends.size - taken
        if any(held):
            yield header + b"".join(held)


def _embedded(names: list[str]) -> pl.Expr:
    """The newlines inside a row's cells."""
    return pl.sum_horizontal(
        pl.col(names).str.count_matches("\n", literal=True).fill_null(0).cast(pl.Int64)
    )


def _chunks(names: list[str], rows: int, path: Path) -> Iterator[pl.DataFrame]:
    """The rows of a checked file, each with its index and the line it starts on."""
    done = 0  # rows given so far
    inside = 0  # newlines inside the cells of those rows
    try:
        for chunk in _record_chunks(path, rows):
            batch = _parsed(chunk)
            if batch.columns != names:
                raise pl.exceptions.ComputeError(f"the columns read are {batch.columns}")
            if not batch.height:
                continue
            embedded = batch.select(_embedded(names).alias("__embedded")).get_column("__embedded")
            before = embedded.cum_sum() - embedded
            line = 2 + done + inside + pl.int_range(pl.len(), dtype=pl.Int64) + before
            yield batch.with_row_index(ROW, offset=done).with_columns(line.alias(LINE))
            done += batch.height
            inside += int(embedded.sum() or 0)
    except (pl.exceptions.PolarsError, OSError) as exc:  # the file changed under the run
        msg = f"the CSV file could not be read again as first read: {str(exc)[:200]}"
        raise InputError([FieldProblem("", msg, source=str(path))]) from None


def csv_columns(raw: pl.DataFrame) -> pl.DataFrame:
    """The rows of :func:`read_csv` as :func:`~collectrules.frame.decide.decide_rows`
    reads them: empty cells null, the flags booleans, ``signals`` a list of records;
    a row the columns cannot read as the per-case reader does has a non-null
    ``__unread_*`` column (which sends it per case)."""
    text = [c for c in raw.columns if c not in (ROW, LINE)]
    # Expressions over many columns at once (Polars expands them), not one per column.
    cells = [pl.when(pl.col(text) != "").then(pl.col(text))] if text else []
    table = raw.select(ROW, *cells)
    markers: list[pl.Expr] = []
    boolean = pl.col(ROW).alias("__unread_bool")
    odd = [c for c in text if c not in _FLAGS and c not in _NESTED]
    if odd:
        held = pl.any_horizontal(pl.col(odd).is_in(["true", "false"]))
        markers.append(pl.when(held).then(boolean).otherwise(None))
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
        decoded = None
    if decoded is None or len(decoded) != table.height:
        # Polars failed, or lost rows: a cell of white space alone decodes to no row at
        # all (Polars 2.1). Every row with a cell goes to the per-case reader.
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
        # A surrogate escape (\ud800 to \udfff): Polars reads a lone one as valid text,
        # where json.loads gives the lone surrogate that the per-case reader refuses.
        & ~cell.str.contains(r"\\[uU][dD][89a-fA-F][0-9a-fA-F]{2}")
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
